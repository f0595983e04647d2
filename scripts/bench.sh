#!/usr/bin/env bash
# Benchmarks (never timed assertions in tests). Results are recorded in docs/benchmarks.md.
#   scripts/bench.sh          every benchmark
#   scripts/bench.sh plan     planning a generated 10,000-resource environment, no network
#   scripts/bench.sh calls    AWS calls of a no-op plan of the reference environment on moto
#   scripts/bench.sh kill     30 rounds of kill -9 at a random moment of a whole-environment apply,
#                             then one re-apply: duplicates, orphans, empty next plan (ROUNDS=N, SEED=S)
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-all}

if [[ $which == all || $which == plan ]]; then
  echo "==> plan_10k: planning 10,000 resources against the in-memory provider (release build)"
  cargo bench --quiet -p brickstack-exec --bench plan_10k 2>/dev/null \
    || cargo bench -p brickstack-exec --bench plan_10k
fi

if [[ $which == all || $which == calls ]]; then
  echo "==> calls: AWS API calls of a no-op plan of the reference environment's AWS part, on moto"
  # A copy of environments/reference.toml under a fresh prefix, with local state in a scratch
  # directory; Databricks resources excluded (they arrive with issue #5). Applied, planned twice
  # (full and minimal refresh, --stats), destroyed.
  started_here=false
  if ! scripts/emulators.sh status >/dev/null 2>&1; then
    scripts/emulators.sh start
    started_here=true
  fi
  # shellcheck disable=SC1091
  source .emulators.env
  cargo build --quiet -p brickstack-cli
  bin=target/debug/brickstack
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"; if $started_here; then scripts/emulators.sh stop; fi' EXIT
  prefix="bench-$(date +%s)"
  sed -e "s/^prefix = \"cm-vpc\"/prefix = \"$prefix\"/" environments/reference.toml >"$scratch/reference.toml"
  printf '\n[state]\nbackend = "local"\npath = "%s/reference.json"\n' "$scratch" >>"$scratch/reference.toml"
  excludes=()
  while read -r address; do excludes+=(--exclude "$address"); done < <(
    "$bin" graph --file "$scratch/reference.toml" --format json |
      python3 -c 'import json,sys; [print(r["address"]) for r in json.load(sys.stdin)["resources"] if r["kind"].startswith("databricks_")]'
  )
  "$bin" apply --file "$scratch/reference.toml" "${excludes[@]}" --auto-approve >/dev/null
  echo "--- full refresh (brickstack plan --stats)"
  "$bin" plan --file "$scratch/reference.toml" "${excludes[@]}" --stats >/dev/null
  echo "--- minimal refresh (brickstack plan --refresh=minimal --stats)"
  "$bin" plan --file "$scratch/reference.toml" "${excludes[@]}" --refresh=minimal --stats >/dev/null
  "$bin" destroy --file "$scratch/reference.toml" --auto-approve --destroy-data >/dev/null
fi

if [[ $which == all || $which == kill ]]; then
  echo "==> kill: ${ROUNDS:-30} rounds of kill -9 during an apply of the local environment, then one re-apply"
  started_here=false
  if ! scripts/emulators.sh status >/dev/null 2>&1; then
    scripts/emulators.sh start
    started_here=true
  fi
  trap 'if $started_here; then scripts/emulators.sh stop; fi' EXIT
  report=$(mktemp)
  # `--workspace`: the test suite's feature resolution, so the build is shared.
  env BRICKSTACK_KILL_ROUNDS="${ROUNDS:-30}" BRICKSTACK_KILL_REPORT="$report" ${SEED:+BRICKSTACK_KILL_SEED=$SEED} \
    cargo test --workspace --quiet --test kill9 -- --nocapture || true
  cat "$report"
fi
