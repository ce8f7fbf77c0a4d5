#!/usr/bin/env bash
# Sets up (packages + build), then runs every test: unit tests on the threads backend, the same tests under
# mpiexec with 1, 2 and 4 ranks, and the end-to-end command tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# mpiexec refuses to run as root unless told this is intended (containers, CI).
if [[ $(id -u) -eq 0 ]]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
BUILD_DIR=${BUILD_DIR:-build}
cd "$BUILD_DIR"
ctest --output-on-failure --timeout 900 -j "${TEST_JOBS:-2}" "$@"
