#!/usr/bin/env bash
# Every test of the workspace, with the emulators running: starts them, runs the tests, stops
# them (also on failure or Ctrl-C). Exit code = the tests' exit code. Arguments go to the test
# binaries' run, e.g. `scripts/test.sh -- --nocapture`.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

# Our Databricks emulator is built by the very build `cargo test --workspace --all-targets` needs
# (same command, so one feature resolution and every crate, the AWS SDK included, compiled once).
# `cargo build -p brickstack-databricks-emulator` would resolve features for that crate alone and
# compile hyper, syn, serde and their dependents a second time.
export BRICKSTACK_EMULATOR_BUILD="test --workspace --all-targets --no-run"
scripts/emulators.sh start
trap 'scripts/emulators.sh stop' EXIT
# shellcheck source=/dev/null
source .emulators.env

cargo test --workspace --all-targets "$@"
# Doctests need no extra dependency build; a few seconds.
cargo test --workspace --doc
