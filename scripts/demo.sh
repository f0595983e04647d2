#!/usr/bin/env bash
# The main job on the embedded default, from a fresh clone: build brickstack, validate every
# environment, and compile the reference environment into its resource graph.
# Later issues grow this into a full local deployment against the emulators (see README).
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

cat <<'MSG'

Written to target/demo/: reference.txt (resources and their dependencies), reference.json,
reference.dot (render with `dot -Tsvg target/demo/reference.dot > graph.svg`), reference-bootstrap.txt.
Try it on your own file: target/debug/brickstack validate --file my-env.toml
Nothing was created anywhere: deploying (plan/apply/destroy) arrives with the engine.
MSG
