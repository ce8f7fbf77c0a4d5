#!/bin/bash
# Preemption: `tailflow als` on 2 ranks that gets SIGUSR1 or SIGTERM stops after the iteration it is in,
# writes a checkpoint and exits with status 75; `--resume` continues, and the final embeddings equal those of
# an uninterrupted run.
#
# The signals go where a scheduler sends them: SIGUSR1 to mpirun (which forwards it to every rank, as srun
# does), SIGTERM to one rank's process only (as Slurm signals each task; the other rank learns it through the
# collective stop check). SIGTERM to mpirun itself is not used: OpenMPI's mpirun answers it by killing the
# ranks a second later, like any OpenMPI job (docs/slurm.md). Rank output reaches the log through mpirun with
# some delay, so the iteration a run stops after is read from its log, not assumed.
source "$(dirname "$0")/cli_test_lib.sh" preemption
source "$(dirname "$0")/als_interruption_lib.sh"

make_interactions "$work/interactions.csv"
iterations=100
common=(--interactions "$work/interactions.csv" --iterations "$iterations")

# The iteration a stopped run names in its "stopped" line, and a check that LATEST is its checkpoint.
stopped_after() {
  local iteration
  iteration=$(sed -n "s/.*stopped: stop signal after ALS iteration \([0-9]*\) of $iterations.*/\1/p" "$1")
  if [[ -z $iteration ]]; then
    fail "$2: no 'stopped: stop signal after ALS iteration N' line"
    return 1
  fi
  local latest
  latest=$(cat "$work/out/checkpoints/LATEST" 2>/dev/null)
  [[ $latest == $(printf 'checkpoint-%06d' "$iteration") ]] ||
    fail "$2: stopped after iteration $iteration but LATEST is '$latest'"
  echo "$iteration"
}

# The reference: no interruption.
"$MPIEXEC" -n 2 "${MPI_FLAGS[@]}" "$TAILFLOW" als "${ALS_SETTINGS[@]}" "${common[@]}" --out "$work/reference" -q ||
  fail "uninterrupted run failed"

# 1. SIGUSR1 to mpirun once the trainer is set up.
start_als "$work/run1.log" "${common[@]}" --out "$work/out"
if wait_for_line "users × .* items" "$work/run1.log"; then
  kill -USR1 "$job"
fi
wait "$job"
status=$?
[[ $status -eq 75 ]] || fail "SIGUSR1: exit status $status, expected 75"
first=$(stopped_after "$work/run1.log" SIGUSR1) || first=0
[[ ! -e $work/out/embeddings.h5 ]] || fail "SIGUSR1: a stopped run wrote embeddings.h5"
echo "SIGUSR1 to mpirun: exit $status after iteration $first"

# 2. Resume, and SIGTERM to rank 1's process only: both ranks stop after the same, later iteration.
start_als "$work/run2.log" "${common[@]}" --out "$work/out" --resume
if wait_for_line "resumed from .* after iteration $first\$" "$work/run2.log"; then
  rank1=$(rank_pid 1) || fail "no process of rank 1 under mpirun $job"
  kill -TERM "${rank1:-$job}"
fi
wait "$job"
status=$?
[[ $status -eq 75 ]] || fail "SIGTERM to rank 1: exit status $status, expected 75"
second=$(stopped_after "$work/run2.log" "SIGTERM to rank 1") || second=0
((second > first)) || fail "SIGTERM to rank 1: stopped after iteration $second, not after $first"
echo "SIGTERM to rank 1: exit $status after iteration $second"

# 3. Resume to the end: the same embeddings as the uninterrupted run.
"$MPIEXEC" -n 2 "${MPI_FLAGS[@]}" "$TAILFLOW" als "${ALS_SETTINGS[@]}" "${common[@]}" --out "$work/out" --resume \
  >"$work/run3.log" 2>&1 || fail "final resume failed: $(tail -n 5 "$work/run3.log")"
grep -q "resumed from .* after iteration $second\$" "$work/run3.log" ||
  fail "final run did not resume after iteration $second"
same_embeddings "$work/reference/embeddings.h5" "$work/out/embeddings.h5" ||
  fail "resumed embeddings differ from the uninterrupted run"
"$PYTHON" -c "import h5py, sys; f = h5py.File(sys.argv[1]); sys.exit(len(f.attrs['loss_history']) != $iterations)" \
  "$work/out/embeddings.h5" || fail "resumed run's loss history does not cover $iterations iterations"

finish "preemption test"
