#!/bin/bash
# Faults: when one rank of `tailflow als` dies (kill -9), the job fails within 30 s with a message naming
# that rank, never hanging; rerunning with --resume continues from the last checkpoint and ends with the
# same embeddings as an uninterrupted run.
#
# A first short run leaves a checkpoint after iteration 3; the second run resumes from it, checkpointing
# every iteration, and rank 1 is killed as soon as the resume shows in the log (a few iterations later: rank
# output reaches the log through mpirun with some delay), while rank 0 waits for it in a collective.
source "$(dirname "$0")/cli_test_lib.sh" fault
source "$(dirname "$0")/als_interruption_lib.sh"

make_interactions "$work/interactions.csv"
input=(--interactions "$work/interactions.csv")
limit_s=30

"$MPIEXEC" -n 2 "${MPI_FLAGS[@]}" "$TAILFLOW" als "${ALS_SETTINGS[@]}" "${input[@]}" --iterations 30 \
  --out "$work/reference" -q || fail "uninterrupted run failed"

# A checkpoint after iteration 3 (the iteration count is not part of the checkpoint's settings).
"$MPIEXEC" -n 2 "${MPI_FLAGS[@]}" "$TAILFLOW" als "${ALS_SETTINGS[@]}" "${input[@]}" --iterations 3 \
  --checkpoint-every 1 --out "$work/out" -q || fail "first run failed"

# Kill rank 1 while the job runs; time until mpirun gives up.
start_als "$work/killed.log" "${input[@]}" --iterations 30 --checkpoint-every 1 --out "$work/out" --resume
if wait_for_line "resumed from .* after iteration 3" "$work/killed.log"; then
  victim=$(rank_pid 1) || fail "no process of rank 1 under mpirun $job"
  killed_at=$(date +%s.%N)
  kill -KILL "${victim:-$job}"
  # Give up waiting well after the limit, so that a hang fails the test instead of hanging it.
  for _ in $(seq $((limit_s * 4 * 10))); do kill -0 "$job" 2>/dev/null || break; sleep 0.1; done
  ended_at=$(date +%s.%N)
  if kill -0 "$job" 2>/dev/null; then
    fail "the job still runs $((limit_s * 4)) s after rank 1 was killed: it hangs"
    for child in $(pgrep -P "$job"); do kill -KILL "$child"; done
    kill -KILL "$job"
  fi
  wait "$job"
  status=$?
  seconds=$("$PYTHON" -c "print(f'{$ended_at - $killed_at:.1f}')")
  echo "fault test: the job failed ${seconds} s after rank 1 was killed (exit status $status)"
  "$PYTHON" -c "import sys; sys.exit(0 if $ended_at - $killed_at <= $limit_s else 1)" ||
    fail "the job took ${seconds} s to fail, more than $limit_s s"
  [[ $status -ne 0 ]] || fail "the job with a killed rank exited 0"
  if message=$(grep -E "rank 1\b.*(signal 9|Killed)" "$work/killed.log"); then
    echo "fault test: the job said: $message"
  else
    fail "no message names rank 1 as killed:"
    cat "$work/killed.log"
  fi
fi

# Rerun: resumes from the newest complete checkpoint (3 or later) and ends as the uninterrupted run did.
"$MPIEXEC" -n 2 "${MPI_FLAGS[@]}" "$TAILFLOW" als "${ALS_SETTINGS[@]}" "${input[@]}" --iterations 30 \
  --checkpoint-every 1 --out "$work/out" --resume >"$work/rerun.log" 2>&1 ||
  fail "rerun failed: $(tail -n 5 "$work/rerun.log")"
grep -Eq "resumed from .* after iteration ([3-9]|[12][0-9])$" "$work/rerun.log" ||
  fail "rerun did not resume from a checkpoint: $(grep resum "$work/rerun.log")"
same_embeddings "$work/reference/embeddings.h5" "$work/out/embeddings.h5" ||
  fail "resumed embeddings differ from the uninterrupted run"

finish "fault test"
