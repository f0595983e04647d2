#!/usr/bin/env bash
# The main job on the embedded default, from a fresh clone: deploy the whole local environment
# (environments/local.toml: the reference architecture's AWS network, keys, buckets and roles,
# and its Databricks workspace with everything in it) against local emulators, then prove a
# second plan changes nothing.
#
#   scripts/demo.sh           build; validate every environment; start moto, minilake and
#                             brickstack's Databricks emulator; bootstrap the state backend; apply
#                             the local environment; plan again (no changes); show what exists.
#                             The emulators keep running so you can look around.
#   scripts/demo.sh destroy   destroy the local environment, then stop the emulators.
#
# State is local (state/local.json); tokens brickstack mints go to SSM SecureString parameters in
# moto, never to state or output.
set -euo pipefail
cd "$(dirname "$0")/.."

brickstack=target/debug/brickstack

if [[ ${1:-} == destroy ]]; then
    cargo build --quiet -p brickstack-cli
    if scripts/emulators.sh status >/dev/null 2>&1; then
        # shellcheck disable=SC1091
        source .emulators.env
        echo "==> destroying the local environment"
        "$brickstack" destroy -e local --auto-approve --destroy-data | tail -n 3
    else
        echo "==> the emulators are not running: nothing to destroy (the objects went with them)"
        rm -f state/local.json state/local.bootstrap.json
    fi
    scripts/emulators.sh stop
    exit 0
fi

echo "==> building brickstack"
cargo build --quiet -p brickstack-cli

echo "==> validating every environment"
for spec in environments/*.toml; do
    "$brickstack" validate --file "$spec"
done

echo "==> the reference environment as a resource graph"
mkdir -p target/demo
"$brickstack" graph -e reference --format text > target/demo/reference.txt
"$brickstack" graph -e reference --format json > target/demo/reference.json
"$brickstack" graph -e reference --format dot > target/demo/reference.dot
tail -n 1 target/demo/reference.txt

echo "==> starting the local emulators (installs pinned moto and minilake into .venv the first time)"
scripts/emulators.sh start
# shellcheck disable=SC1091
source .emulators.env

# Objects recorded by an earlier run whose emulators have since stopped are gone; brickstack
# notices (each reads as deleted) and creates them again.
echo "==> bootstrapping the state backend of environments/local.toml in moto"
"$brickstack" bootstrap -e local --auto-approve | tail -n 1

echo "==> applying the whole local environment"
"$brickstack" apply -e local --auto-approve > target/demo/local-apply.txt
grep -E '^Plan:|operation\(s\) done' target/demo/local-apply.txt || tail -n 3 target/demo/local-apply.txt

echo "==> planning again: nothing to change"
if "$brickstack" plan -e local --detailed-exitcode > target/demo/local-replan.txt; then
    tail -n 1 target/demo/local-replan.txt
else
    echo "error: the second plan is not empty (see target/demo/local-replan.txt)" >&2
    exit 1
fi

echo "==> what exists now"
python3 - state/local.json <<'PY'
import collections, json, sys
state = json.load(open(sys.argv[1]))
resources = state["resources"]
kinds = collections.Counter(r["kind"] for r in resources.values())
for provider in ("aws", "databricks"):
    picked = {k: n for k, n in kinds.items() if k.startswith(provider + "_")}
    print(f"    {provider}: {sum(picked.values())} objects of {len(picked)} kinds")
workspace = resources.get("databricks_mws_workspaces.main", {}).get("attributes", {})
print(f"    workspace {workspace.get('workspace_name')} (id {workspace.get('workspace_id')}) at {workspace.get('workspace_url')}")
vpc = resources.get("aws_vpc.main", {})
print(f"    VPC {vpc.get('object_id')} ({vpc.get('attributes', {}).get('cidr_block')})")
for address in ("databricks_token.deployer", "databricks_obo_token.deployer"):
    token = resources.get(address, {}).get("attributes", {})
    print(f"    {address}: value in SSM `{token.get('value_parameter')}` version {token.get('value_parameter_version')}")
print(f"    state: {sys.argv[1]} (serial {state['serial']})")
PY
cat <<MSG

Emulators (still running): AWS at $AWS_ENDPOINT_URL (moto, over TLS: its CA is $AWS_CA_BUNDLE,
which brickstack and the AWS CLI trust once .emulators.env is sourced), Databricks at $DATABRICKS_HOST.
Written to target/demo/: reference.txt/.json/.dot (the reference graph; render the dot file with
\`dot -Tsvg target/demo/reference.dot > graph.svg\`), local-apply.txt, local-replan.txt.
Look around:   source .emulators.env && $brickstack state list -e local
Tear it down:  scripts/demo.sh destroy     (destroys the environment, then stops the emulators)
MSG
