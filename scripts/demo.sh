#!/usr/bin/env bash
# The main job on the embedded default, from a fresh clone: build brickstack, validate every
# environment, compile the reference environment into its resource graph, then, against the
# local emulators (moto), bootstrap the local environment's state backend twice (the second run
# changes nothing) and plan the whole local environment.
# Later issues grow this into a full local deployment (see README).
# KEEP_EMULATORS=1 leaves the emulators running afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> building brickstack"
cargo build --quiet -p brickstack-cli
brickstack=target/debug/brickstack

echo "==> validating every environment"
for spec in environments/*.toml; do
  "$brickstack" validate --file "$spec"
done

echo "==> the reference environment as a resource graph"
mkdir -p target/demo
"$brickstack" graph -e reference --format text > target/demo/reference.txt
"$brickstack" graph -e reference --format json > target/demo/reference.json
"$brickstack" graph -e reference --format dot > target/demo/reference.dot
"$brickstack" graph -e reference --bootstrap --format text > target/demo/reference-bootstrap.txt
tail -n 1 target/demo/reference.txt
python3 - target/demo/reference.json <<'PY'
import collections, json, sys
resources = json.load(open(sys.argv[1]))["resources"]
kinds = collections.Counter(r["kind"] for r in resources)
for provider in ("aws", "databricks"):
    picked = {k: n for k, n in kinds.items() if k.startswith(provider + "_")}
    print(f"    {provider}: {sum(picked.values())} resources of {len(picked)} kinds")
PY
echo "    bootstrap graph: $(tail -n 1 target/demo/reference-bootstrap.txt)"

echo "==> starting the local emulators (installs pinned moto and minilake into .venv the first time)"
started_here=0
if ! scripts/emulators.sh status >/dev/null 2>&1; then
  scripts/emulators.sh start
  started_here=1
fi
stop_emulators() {
  if [[ $started_here == 1 && ${KEEP_EMULATORS:-0} != 1 ]]; then
    scripts/emulators.sh stop >/dev/null
  fi
}
trap stop_emulators EXIT
# shellcheck disable=SC1091
source .emulators.env

echo "==> bootstrapping the state backend of environments/local.toml in moto"
"$brickstack" bootstrap -e local --auto-approve | tail -n 2
echo "==> bootstrapping again: nothing to do"
"$brickstack" bootstrap -e local --auto-approve

echo "==> planning the whole local environment"
"$brickstack" plan -e local > target/demo/local-plan.txt || true
tail -n 1 target/demo/local-plan.txt

cat <<'MSG'

Written to target/demo/: reference.txt (resources and their dependencies), reference.json,
reference.dot (render with `dot -Tsvg target/demo/reference.dot > graph.svg`),
reference-bootstrap.txt, local-plan.txt (the full plan of the local environment).
Bootstrap state: state/local.bootstrap.json; `target/debug/brickstack state list -e local` lists
what the plan and apply record, `brickstack destroy -e local` tears an environment down.
Applying the whole environment needs the Databricks kinds too (issue #5); the AWS provider serves
every AWS kind of the reference architecture (`scripts/bench.sh calls` applies that part to moto).
Try it on your own file: target/debug/brickstack validate --file my-env.toml
MSG
