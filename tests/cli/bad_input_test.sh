#!/usr/bin/env bash
# `tailflow stats` on bad input: every case must end non-zero with ONE clear error line naming file:line,
# alone and under mpiexec -n 2 (where the bad line lies in one rank's byte range only).
# Environment (set by ctest): TAILFLOW, MPIEXEC, MPIEXEC_FLAGS, SHARED_DIR.
set -u
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
: "${TAILFLOW:?set TAILFLOW to the tailflow binary}"
MPIEXEC=${MPIEXEC:-mpiexec}
MPIEXEC_FLAGS=${MPIEXEC_FLAGS:-}
read -r -a MPI_FLAGS <<<"${MPIEXEC_FLAGS//;/ }"  # ctest passes a CMake list

work=$(mktemp -d "${TMPDIR:-/tmp}/tailflow-bad-input-XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# expect_error NAME EXPECTED_TEXT COMMAND...: non-zero exit, exactly one error line, containing EXPECTED_TEXT.
expect_error() {
  local name=$1 expected=$2
  shift 2
  local output status lines
  output=$("$@" 2>&1)
  status=$?
  lines=$(grep -c "error" <<<"$output")
  if [[ $status -eq 0 ]]; then
    fail "$name: exit status 0, expected an error"
  elif [[ $lines -ne 1 ]]; then
    fail "$name: expected one error line, got $lines:"$'\n'"$output"
  elif ! grep -q -- "$expected" <<<"$output"; then
    fail "$name: the error does not name '$expected':"$'\n'"$output"
  else
    echo "ok: $name -> $(grep error <<<"$output")"
  fi
}

# A long file, so that with 2 ranks the bad line lies in the second rank's range.
good_rows() { for ((i = 1; i <= 2000; i++)); do echo "$((i % 97)),$((i % 31)),4.0,$((964982703 + i))"; done; }
{ echo "userId,movieId,rating,timestamp"; good_rows; echo "5,6,3.0"; good_rows; } >"$work/short_row.csv"
{ echo "userId,movieId,rating,timestamp"; good_rows; echo "5,6,four,964982703"; good_rows; } >"$work/non_numeric.csv"
{ echo "person,movieId,rating"; echo "1,2,3"; } >"$work/no_user.csv"
: >"$work/empty.csv"
{ echo "userId,movieId,rating,timestamp"; good_rows; good_rows; echo '7,"unclosed,4.0,1'; } >"$work/quote.csv"

for launcher in serial mpi2; do
  if [[ $launcher == serial ]]; then
    run=("$TAILFLOW")
  else
    if ! command -v "$MPIEXEC" >/dev/null; then
      echo "skip: no $MPIEXEC for the 2-rank runs"
      continue
    fi
    run=("$MPIEXEC" -n 2 "${MPI_FLAGS[@]}" "$TAILFLOW")
  fi
  expect_error "$launcher wrong field count" "short_row.csv:2002: expected 4 fields" \
    "${run[@]}" stats --interactions "$work/short_row.csv"
  expect_error "$launcher non-numeric value" "non_numeric.csv:2002: field 'rating': 'four' is not a number" \
    "${run[@]}" stats --interactions "$work/non_numeric.csv"
  expect_error "$launcher missing column" "no_user.csv: no user column" \
    "${run[@]}" stats --interactions "$work/no_user.csv"
  expect_error "$launcher empty file" "empty.csv:1: the file is empty" \
    "${run[@]}" stats --interactions "$work/empty.csv"
  expect_error "$launcher unclosed quote" "quote.csv:4002: field 2 opens a quote" \
    "${run[@]}" stats --interactions "$work/quote.csv"
  expect_error "$launcher missing file" "cannot open '$work/missing.csv'" \
    "${run[@]}" stats --interactions "$work/missing.csv"
  output=$("${run[@]}" stats --interactions "$work/short_row.csv" --on-bad-row skip 2>&1)
  if [[ $? -ne 0 ]] || ! grep -q "skipped rows       1" <<<"$output"; then
    fail "$launcher --on-bad-row skip: expected success and 1 skipped row:"$'\n'"$output"
  else
    echo "ok: $launcher --on-bad-row skip reports 1 skipped row"
  fi
done

# The real MovieLens file has a malformed timestamp (a URL) at line 522.
ratings="${SHARED_DIR:-/nonexistent}/datasets/ml-latest-small/ratings.csv"
if [[ -f $ratings ]]; then
  expect_error "MovieLens default" "ratings.csv:522: field 'timestamp'" "$TAILFLOW" stats --interactions "$ratings"
  if command -v "$MPIEXEC" >/dev/null; then
    expect_error "MovieLens default, 2 ranks" "ratings.csv:522: field 'timestamp'" \
      "$MPIEXEC" -n 2 "${MPI_FLAGS[@]}" "$TAILFLOW" stats --interactions "$ratings"
  fi
  output=$("$TAILFLOW" stats --interactions "$ratings" --on-bad-row skip 2>&1)
  if [[ $? -ne 0 ]] || ! grep -q "skipped rows       1" <<<"$output" || ! grep -q "interactions       100835" <<<"$output"; then
    fail "MovieLens --on-bad-row skip: expected success, 100835 interactions and 1 skipped row:"$'\n'"$output"
  else
    echo "ok: MovieLens --on-bad-row skip: 100835 interactions, 1 skipped row"
  fi
else
  echo "skip: $ratings is absent (shared datasets not installed); MovieLens checks not run"
fi

if [[ $failures -gt 0 ]]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all bad-input checks passed"
