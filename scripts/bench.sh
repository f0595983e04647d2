#!/usr/bin/env bash
# Benchmarks (never timed assertions in tests). Results are recorded in docs/benchmarks.md.
#   scripts/bench.sh          every benchmark
#   scripts/bench.sh plan     planning a generated 10,000-resource environment, no network
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-all}

if [[ $which == all || $which == plan ]]; then
  echo "==> plan_10k: planning 10,000 resources against the in-memory provider (release build)"
  cargo bench --quiet -p brickstack-exec --bench plan_10k 2>/dev/null \
    || cargo bench -p brickstack-exec --bench plan_10k
fi
