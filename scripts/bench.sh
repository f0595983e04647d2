#!/usr/bin/env bash
# Benchmarks (never timed assertions in tests). Results are recorded in docs/benchmarks.md.
#   scripts/bench.sh          every benchmark
#   scripts/bench.sh plan     planning a generated 10,000-resource environment, no network
#   scripts/bench.sh commit   one committed operation at 100 and 20,000 resources, local backend
#   scripts/bench.sh calls    AWS calls of a no-op plan of the reference environment on moto
#   scripts/bench.sh faults   lost answers per AWS kind and 20% throttling, through the fault proxy
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

if [[ $which == all || $which == commit ]]; then
  echo "==> commit_cost: one StateWriter::commit at 100 and 20,000 resources, local backend (release build)"
  cargo bench --quiet -p brickstack-exec --bench commit_cost 2>/dev/null \
    || cargo bench -p brickstack-exec --bench commit_cost
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

if [[ $which == all || $which == faults ]]; then
  echo "==> faults: a lost create answer per AWS kind, and 20% throttling, on moto behind the fault proxy"
  # The moto tests under crates/brickstack-aws/tests/moto/faults/ print one `fault-figures:` line
  # each; a failing test still prints its figures (duplicates, failed plans), so the run goes on.
  started_here_faults=false
  if ! scripts/emulators.sh status >/dev/null 2>&1; then
    scripts/emulators.sh start
    started_here_faults=true
  fi
  log=$(mktemp)
  status=0
  cargo test --workspace --test moto faults:: -- --nocapture >"$log" 2>&1 || status=$?
  python3 - "$log" <<'PY'
import sys
rows, throttling = [], []
for line in open(sys.argv[1]):
    if line.startswith("fault-figures: lost-answer "):
        rows.append(dict(f.split("=", 1) for f in line.split()[2:]))
    elif line.startswith("fault-figures: throttling "):
        throttling.append(dict(f.split("=", 1) for f in line.split()[2:]))
rows.sort(key=lambda r: r["kind"])
print("| kind | answer lost | requests of it | resources | duplicates | apply | plan empty | seconds |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    print("| {kind} | {operation} | {sent} | {resources} | {duplicates} | {apply} | {plan_empty} | {seconds} |".format(**r))
passing = sum(r["apply"] == "ok" and r["duplicates"] == "0" and r["plan_empty"] == "true" for r in rows)
print(f"duplicates: {sum(int(r['duplicates']) for r in rows)}; rows passing: {passing} of {len(rows)}")
print()
print("| resources | apply | plans ok | requests | throttled | SDK resends | apply s | 5 plans s |")
print("|---|---|---|---|---|---|---|---|")
for t in throttling:
    print("| {resources} | {apply} | {plans_ok} | {requests} | {throttled} | {sdk_resends} | {apply_seconds} | {plan_seconds} |".format(**t))
PY
  grep -E '^test result:' "$log" || true
  rm -f "$log"
  if $started_here_faults; then scripts/emulators.sh stop; fi
  [[ $status == 0 ]] || echo "(some fault tests failed: exit $status; the figures above say which)"
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
