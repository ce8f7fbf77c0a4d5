# Shared set-up of the command tests (sourced, not run; ctest runs only *_test.sh).
#
#   source "$(dirname "$0")/cli_test_lib.sh" NAME
#
# Gives: $TAILFLOW, $MPIEXEC, the MPI_FLAGS array, $PYTHON, a scratch folder $work (removed on exit),
# fail MESSAGE (counts a failure and goes on), run1 / run2 ARGS (tailflow quietly on 1 rank / on 2 ranks),
# and finish LABEL (reports and exits non-zero if anything failed).
set -u
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
: "${TAILFLOW:?set TAILFLOW to the tailflow binary}"
MPIEXEC=${MPIEXEC:-mpiexec}
read -r -a MPI_FLAGS <<<"${MPIEXEC_FLAGS:-}"
# ctest hands a CMake list over: "a;b".
MPI_FLAGS=("${MPI_FLAGS[@]//;/ }")
PYTHON=/usr/bin/python3

work=$(mktemp -d "${TMPDIR:-/tmp}/tailflow-${1:-cli}-XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
run1() { "$TAILFLOW" "$@" -q; }
run2() { "$MPIEXEC" -n 2 "${MPI_FLAGS[@]}" "$TAILFLOW" "$@" -q; }
finish() {
  if ((failures > 0)); then
    echo "$failures check(s) failed"
    exit 1
  fi
  echo "$1: all checks passed"
}
