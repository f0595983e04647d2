#!/usr/bin/env bash
# Local emulators for brickstack's tests: moto (AWS), minilake (Databricks workspace API) and
# brickstack-databricks-emulator (our Databricks account API, plus the API of every workspace it
# creates, under /w/<workspace_id>), all on free 127.0.0.1 ports.
#
#   scripts/emulators.sh start   install (into .venv, pinned) and start them; write .emulators.env
#   scripts/emulators.sh stop    stop exactly the processes `start` recorded; remove .emulators.env
#   scripts/emulators.sh status  show what runs where; exit 1 unless all three are healthy
#
# After `start`, `source .emulators.env` exports AWS_ENDPOINT_URL (moto, over https),
# AWS_CA_BUNDLE (the CA that signed moto's certificate), BRICKSTACK_MINILAKE_URL,
# DATABRICKS_ACCOUNT_HOST and DATABRICKS_HOST (both our emulator) and friends; tests also find the
# file on their own.
# Runtime files (logs, PIDs, minilake's data) live in .emulators/. moto serves TLS with a server
# certificate for 127.0.0.1 and localhost signed by a CA generated once per checkout and kept in
# .emulators/tls/ (ca.pem is the bundle to trust; ca.key never leaves that directory). moto also
# listens on plain http (BRICKSTACK_MOTO_PLAIN_HTTP_URL), on the same backends, only for the test
# that the state bucket's TLS-only policy refuses such a request; see scripts/moto_tls.py.
#
# Knobs: BRICKSTACK_EMULATOR_TIMEOUT (seconds to wait for each server, default 60);
# BRICKSTACK_EMULATOR_BUILD (the cargo command that builds our Databricks emulator, default
# `build -p brickstack-databricks-emulator --bin brickstack-databricks-emulator`; scripts/test.sh
# passes its own test build so that everything is compiled once, in one feature resolution).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"
RUN="$ROOT/.emulators"
ENV_FILE="$ROOT/.emulators.env"
PIDS="$RUN/pids"
TLS="$RUN/tls"
CA_BUNDLE="$TLS/ca.pem"
TIMEOUT=${BRICKSTACK_EMULATOR_TIMEOUT:-60}

MOTO_VERSION=5.2.5
MINILAKE_VERSION=1.9.0
SERVERS=(moto minilake databricks)

say() { printf 'emulators: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# --- records --------------------------------------------------------------------------------
# $RUN/pids holds one "name pid url" line per started server.

recorded() { # name field(2=pid,3=url)
    [[ -f $PIDS ]] || return 0
    awk -v n="$1" -v f="$2" '$1 == n { print $f }' "$PIDS"
}

record() { # name pid url
    local tmp="$PIDS.tmp"
    { [[ -f $PIDS ]] && awk -v n="$1" '$1 != n' "$PIDS"; echo "$1 $2 $3"; } >"$tmp"
    mv "$tmp" "$PIDS"
}

alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }

# Refuse to signal a recorded PID that now belongs to some other program (PID reuse after a
# reboot or a crash): check its command line for the program we started.
is_ours() { # name pid
    local expected cmd
    case $1 in
        moto) expected=moto_tls.py ;;
        minilake) expected=minilake ;;
        databricks) expected=brickstack-databricks-emulator ;;
    esac
    if [[ -r /proc/$2/cmdline ]]; then
        cmd=$(tr '\0' ' ' <"/proc/$2/cmdline")
    else
        cmd=$(ps -o command= -p "$2" 2>/dev/null || true)
    fi
    [[ $cmd == *"$expected"* ]]
}

health_path() {
    case $1 in
        moto) echo /moto-api/ ;;
        minilake) echo /_minilake/health ;;
        databricks) echo /health ;;
    esac
}

# GET url, success on HTTP 200. Python is always there (we need it for the venv anyway), curl
# may not be; proxies are bypassed because every URL is 127.0.0.1. An https URL must present a
# certificate signed by our CA.
http_ok() {
    python3 - "$1" "$CA_BUNDLE" <<'PY'
import ssl, sys, urllib.request
handlers = [urllib.request.ProxyHandler({})]
if sys.argv[1].startswith("https://"):
    handlers.append(urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=sys.argv[2])))
opener = urllib.request.build_opener(*handlers)
try:
    with opener.open(sys.argv[1], timeout=2) as r:
        sys.exit(0 if r.status == 200 else 1)
except Exception:
    sys.exit(1)
PY
}

healthy() { # name
    local pid url
    pid=$(recorded "$1" 2)
    url=$(recorded "$1" 3)
    alive "$pid" && is_ours "$1" "$pid" && [[ -n $url ]] && http_ok "$url$(health_path "$1")"
}

all_healthy() {
    local s
    [[ -f $ENV_FILE ]] || return 1
    for s in "${SERVERS[@]}"; do healthy "$s" || return 1; done
}

# --- stop -----------------------------------------------------------------------------------

stop_one() { # name
    local pid i
    pid=$(recorded "$1" 2)
    if alive "$pid"; then
        if ! is_ours "$1" "$pid"; then
            say "not stopping PID $pid: it is no longer $1"
            return 0
        fi
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do # up to 10 s; minilake shuts down in 2-3 s
            alive "$pid" || break
            sleep 0.1
        done
        if alive "$pid"; then
            say "$1 (PID $pid) ignored SIGTERM; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        say "stopped $1 (PID $pid)"
    fi
}

stop() {
    local s
    for s in "${SERVERS[@]}"; do stop_one "$s"; done
    rm -f "$PIDS" "$ENV_FILE"
}

# --- start ----------------------------------------------------------------------------------

ensure_venv() {
    if [[ ! -x $VENV/bin/python ]]; then
        say "creating $VENV"
        python3 -m venv "$VENV"
    fi
    # Reinstall only when a pinned version (or moto's server extra) is missing: re-runs stay fast.
    if ! "$VENV/bin/python" - "$MOTO_VERSION" "$MINILAKE_VERSION" <<'PY'; then
import sys
from importlib.metadata import version, PackageNotFoundError
try:
    ok = version("moto") == sys.argv[1] and version("minilake") == sys.argv[2]
    version("flask"); version("flask-cors"); version("openapi-spec-validator")
except PackageNotFoundError:
    ok = False
sys.exit(0 if ok else 1)
PY
        say "installing moto[server]==$MOTO_VERSION and minilake==$MINILAKE_VERSION into $VENV"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
            "moto[server]==$MOTO_VERSION" "minilake==$MINILAKE_VERSION"
    fi
}

# The CA (once per checkout, ten years) and moto's server certificate for 127.0.0.1, ::1 and
# localhost (renewed when missing, unreadable, or within a week of expiry), with the venv's
# `cryptography` (a moto dependency), so a fresh machine needs no openssl.
ensure_certificates() {
    mkdir -p "$TLS"
    chmod 700 "$TLS"
    "$VENV/bin/python" - "$TLS" <<'PY' || die "could not generate the TLS certificates in $TLS"
import datetime, ipaddress, os, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

tls = sys.argv[1]
now = datetime.datetime.now(datetime.timezone.utc)
paths = {name: os.path.join(tls, name) for name in ("ca.pem", "ca.key", "server.pem", "server.key")}

def write(path, data, private=False):
    fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)

def load(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None

def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())

def still_valid(cert_pem):
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
    except Exception:
        return None
    return cert if cert.not_valid_after_utc > now + datetime.timedelta(days=7) else None

ca_cert = still_valid(load(paths["ca.pem"]) or b"")
ca_key_pem = load(paths["ca.key"])
if ca_cert is None or ca_key_pem is None:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "brickstack emulators CA (local, test only)")])
    ca_cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=True, crl_sign=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    write(paths["ca.key"], key_pem(ca_key), private=True)
    write(paths["ca.pem"], ca_cert.public_bytes(serialization.Encoding.PEM))
    for stale in ("server.pem", "server.key"):
        if os.path.exists(paths[stale]):
            os.remove(paths[stale])
    print("emulators: generated a CA in " + paths["ca.pem"], file=sys.stderr)
else:
    ca_key = serialization.load_pem_private_key(ca_key_pem, password=None)

server = still_valid(load(paths["server.pem"]) or b"")
if server is None or load(paths["server.key"]) is None or server.issuer != ca_cert.subject:
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1")),
            x509.DNSName("localhost"),
        ]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    write(paths["server.key"], key_pem(key), private=True)
    write(paths["server.pem"], server.public_bytes(serialization.Encoding.PEM))
    print("emulators: generated moto's server certificate in " + paths["server.pem"], file=sys.stderr)
PY
}

build_databricks_emulator() {
    local args
    # A list of cargo arguments: word splitting of the override is intended.
    read -r -a args <<<"${BRICKSTACK_EMULATOR_BUILD:-build -p brickstack-databricks-emulator --bin brickstack-databricks-emulator}"
    say "building the Databricks emulator: cargo ${args[*]}"
    (cd "$ROOT" && cargo "${args[@]}")
    DATABRICKS_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/brickstack-databricks-emulator"
    [[ -x $DATABRICKS_BIN ]] || die "cargo ${args[*]} did not produce $DATABRICKS_BIN"
}

fail_start() { # name message
    local log="$RUN/$1.log"
    say "error: $1 $2"
    if [[ -f $log ]]; then
        say "last lines of $log:"
        tail -n 30 "$log" | sed 's/^/    /' >&2
    fi
    stop
    exit 1
}

# Waits until `name`'s log shows its URL and its health check answers 200; records it.
wait_ready() { # name pid url-regex
    local name=$1 pid=$2 pattern=$3 log="$RUN/$1.log" url="" deadline=$((SECONDS + TIMEOUT))
    while ((SECONDS < deadline)); do
        alive "$pid" || fail_start "$name" "exited during startup"
        if [[ -z $url ]]; then
            url=$(grep -Eo "$pattern" "$log" | head -n 1 | grep -Eo 'https?://127\.0\.0\.1:[0-9]+' || true)
            [[ -n $url ]] && record "$name" "$pid" "$url"
        fi
        if [[ -n $url ]] && http_ok "$url$(health_path "$name")"; then
            say "$name ready at $url (PID $pid)"
            printf -v "${name^^}_URL" '%s' "$url"
            return 0
        fi
        sleep 0.2
    done
    fail_start "$name" "not ready after ${TIMEOUT}s (url: ${url:-not printed yet})"
}

start() {
    local pid
    if all_healthy; then
        say "already running and healthy; nothing to do (see .emulators.env, or run: $0 status)"
        return 0
    fi
    if [[ -f $PIDS ]]; then
        say "found a partial or stale run; stopping what is left of it"
        stop
    fi
    command -v python3 >/dev/null || die "python3 is required (3.11 or newer)"
    ensure_venv
    ensure_certificates
    build_databricks_emulator

    mkdir -p "$RUN"
    rm -rf "$RUN/minilake-data" "$RUN/duckdb-extensions"
    mkdir -p "$RUN/minilake-data" "$RUN/duckdb-extensions"
    : >"$PIDS"

    # Each server gets stdin from /dev/null and its own log, so nothing keeps the caller's pipes open.
    "$VENV/bin/python" -u "$ROOT/scripts/moto_tls.py" "$TLS/server.pem" "$TLS/server.key" \
        </dev/null >"$RUN/moto.log" 2>&1 &
    pid=$!
    record moto "$pid" ""

    # Offline settings from docs: no DuckDB extension download, no Docker, no notebook proxy;
    # MINILAKE_VERBOSE=1 makes uvicorn print the port it bound.
    (cd "$RUN" && exec env \
        MINILAKE_DATA_DIR="$RUN/minilake-data" \
        MINILAKE_DUCKDB_EXTENSION_DIR="$RUN/duckdb-extensions" \
        MINILAKE_NOTEBOOK=0 \
        MINILAKE_SPARK_PREWARM=0 \
        MINILAKE_JOB_EXECUTOR=subprocess \
        MINILAKE_VERBOSE=1 \
        MINILAKE_CLUSTER_START_DELAY=0.05 \
        MINILAKE_CLUSTER_TERMINATE_DELAY=0.05 \
        "$VENV/bin/minilake" --host 127.0.0.1 --port 0) </dev/null >"$RUN/minilake.log" 2>&1 &
    pid=$!
    record minilake "$pid" ""

    "$DATABRICKS_BIN" 0 </dev/null >"$RUN/databricks.log" 2>&1 &
    pid=$!
    record databricks "$pid" ""

    wait_ready moto "$(recorded moto 2)" 'moto https on https://127\.0\.0\.1:[0-9]+'
    MOTO_PLAIN_URL=$(grep -Eo 'moto http on http://127\.0\.0\.1:[0-9]+' "$RUN/moto.log" | grep -Eo 'http://.*' | head -n 1)
    [[ -n $MOTO_PLAIN_URL ]] || fail_start moto "printed no plain-http URL"
    wait_ready minilake "$(recorded minilake 2)" 'running on http://127\.0\.0\.1:[0-9]+'
    wait_ready databricks "$(recorded databricks 2)" 'listening on http://127\.0\.0\.1:[0-9]+'

    local tmp="$ENV_FILE.tmp"
    cat >"$tmp" <<EOF
# Written by scripts/emulators.sh start; removed by stop. Use: source .emulators.env
export AWS_ENDPOINT_URL=$MOTO_URL
export AWS_CA_BUNDLE=$CA_BUNDLE
export BRICKSTACK_MOTO_PLAIN_HTTP_URL=$MOTO_PLAIN_URL
export AWS_ACCESS_KEY_ID=testing
export AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=eu-west-1
export AWS_DEFAULT_REGION=eu-west-1
export AWS_EC2_METADATA_DISABLED=true
export BRICKSTACK_MINILAKE_URL=$MINILAKE_URL
export DATABRICKS_ACCOUNT_HOST=$DATABRICKS_URL
export DATABRICKS_HOST=$DATABRICKS_URL
export DATABRICKS_CLIENT_ID=brickstack-test-client
export DATABRICKS_CLIENT_SECRET=brickstack-test-secret
EOF
    mv "$tmp" "$ENV_FILE"
    say "wrote .emulators.env"
}

status() {
    local s pid url state rc=0
    for s in "${SERVERS[@]}"; do
        pid=$(recorded "$s" 2)
        url=$(recorded "$s" 3)
        if [[ -z $pid ]]; then
            state="not started"
            rc=1
        elif healthy "$s"; then
            state="healthy"
        elif alive "$pid" && is_ours "$s" "$pid"; then
            state="running, not answering $(health_path "$s")"
            rc=1
        else
            state="not running"
            rc=1
        fi
        printf '%-10s %-8s %-24s %s\n' "$s" "${pid:--}" "${url:--}" "$state"
    done
    [[ -f $ENV_FILE ]] || { echo "(no .emulators.env)"; rc=1; }
    return "$rc"
}

case ${1:-} in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *)
        echo "usage: $0 start|stop|status" >&2
        exit 2
        ;;
esac
