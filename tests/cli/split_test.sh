#!/usr/bin/env bash
# `tailflow split`: the same seed gives the same train/test files alone and under mpiexec -n 3; train and
# test together are the input; few-shot writes its probe items; a bad method is one clear error.
# Environment (set by ctest): TAILFLOW, MPIEXEC, MPIEXEC_FLAGS.
source "$(dirname "$0")/cli_test_lib.sh" split

# 40 users with 1..25 ratings each; items 1..10 are popular.
{
  echo "userId,movieId,rating,timestamp"
  for u in $(seq 1 40); do
    n=$(((u * 7) % 25 + 1))
    for i in $(seq 1 "$n"); do
      if ((i % 3 == 0)); then item=$(((u + i) % 10 + 1)); else item=$(((u * 13 + i * 31) % 90 + 1)); fi
      echo "$u,$item,$(((u + i) % 5 + 1)),$((1500000000 + u * 1000 + i * 7919))"
    done
  done
} >"$work/in.csv"
rows=$(($(wc -l <"$work/in.csv") - 1))

for method in random leave-k-out temporal few-shot; do
  extra=()
  [[ $method == few-shot ]] && extra=(--shots 1 --max-shots 3 --probe-fraction 0.5)
  "$TAILFLOW" split --interactions "$work/in.csv" --out "$work/$method-1" --method "$method" --seed 4 -q \
    "${extra[@]}" || fail "$method: one rank failed"
  "$MPIEXEC" -n 3 "${MPI_FLAGS[@]}" "$TAILFLOW" split --interactions "$work/in.csv" --out "$work/$method-3" \
    --method "$method" --seed 4 -q "${extra[@]}" || fail "$method: three ranks failed"
  for side in train test; do
    if ! cmp -s <(sort "$work/$method-1/$side.csv") <(sort "$work/$method-3/$side.csv"); then
      fail "$method: $side.csv differs between 1 and 3 ranks"
    fi
    [[ $(head -1 "$work/$method-1/$side.csv") == "userId,movieId,rating,timestamp" ]] ||
      fail "$method: $side.csv lacks the input's header"
  done
  both=$(cat <(tail -n +2 "$work/$method-1/train.csv") <(tail -n +2 "$work/$method-1/test.csv") | sort | md5sum)
  [[ $both == $(tail -n +2 "$work/in.csv" | sort | md5sum) ]] || fail "$method: train + test is not the input"
  test_rows=$(($(wc -l <"$work/$method-1/test.csv") - 1))
  ((test_rows > 0 && test_rows < rows)) || fail "$method: $test_rows of $rows rows in test"
done
[[ -s $work/few-shot-1/probe_items.csv ]] || fail "few-shot: no probe_items.csv"

output=$("$TAILFLOW" split --interactions "$work/in.csv" --out "$work/bad" --method sideways 2>&1)
status=$?
((status != 0)) || fail "unknown method: exit status 0"
[[ $(grep -c "error" <<<"$output") -eq 1 && $output == *"unknown split method 'sideways'"* ]] ||
  fail "unknown method: expected one clear error line, got: $output"

if ((failures > 0)); then
  echo "$failures failure(s)"
  exit 1
fi
echo "split: all checks passed"
