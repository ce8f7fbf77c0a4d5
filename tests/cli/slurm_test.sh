#!/bin/bash
# Slurm integration: starts a private one-node cluster (cluster/slurm/local_cluster.sh, installing the Debian
# packages when missing), then through the batch templates, the four jobs side by side (8 advertised CPUs):
#   1. the pipeline on a small fashion shop as one 2-task job: COMPLETED, outputs present, written by 2 ranks;
#   2. requeue: `scontrol requeue` while ALS runs → the tasks checkpoint on SIGTERM, Slurm requeues the job,
#      the next run resumes and ends with the embeddings of an uninterrupted run;
#   3. preemption warning: SIGUSR1 to the batch shell (what `--signal=B:USR1@120` sends) → forwarded to the
#      step, status 75, the script requeues the job itself, the next run resumes, same embeddings;
#   4. fault: kill -9 of one task → the job FAILS within 30 s and its output names the task.
#
# When it runs: as root (the daemons need it) with Slurm installed or apt-get to install it, or whenever
# TAILFLOW_SLURM_TESTS=1 (then a cluster that cannot start is a failure, root or not). TAILFLOW_SLURM_TESTS=0
# skips it. Otherwise it prints SKIPPED and why. Once it runs, a cluster that cannot start fails the test
# with the reason; it never passes silently.
source "$(dirname "$0")/cli_test_lib.sh" slurm
source "$(dirname "$0")/als_interruption_lib.sh"
ROOT=$(cd "${SOURCE_DIR:-$(dirname "$0")/../..}" && pwd)
CLUSTER=$ROOT/cluster/slurm
TAILFLOW=$(realpath "$TAILFLOW")
export TAILFLOW

case ${TAILFLOW_SLURM_TESTS:-auto} in
  0)
    echo "slurm test: SKIPPED (TAILFLOW_SLURM_TESTS=0)"
    exit 0
    ;;
  1) ;;
  *)
    if [[ $(id -u) -ne 0 ]]; then
      echo "slurm test: SKIPPED: not root (the local cluster's daemons need root); TAILFLOW_SLURM_TESTS=1 forces it"
      exit 0
    fi
    if ! command -v slurmctld >/dev/null && [[ ! -x /usr/sbin/slurmctld ]] && ! command -v apt-get >/dev/null; then
      echo "slurm test: SKIPPED: no Slurm and no apt-get to install it; TAILFLOW_SLURM_TESTS=1 forces it"
      exit 0
    fi
    ;;
esac

# A cluster of its own: own state folder (munge and the job's user must reach it), own ports, room for the
# four 2-task jobs at once.
chmod 0755 "$work"
export TAILFLOW_SLURM_STATE=$work/slurm TAILFLOW_SLURM_PORT=${TAILFLOW_SLURM_TEST_PORT:-16917}
export TAILFLOW_SLURM_CPUS=8
export SLURM_CONF=$TAILFLOW_SLURM_STATE/slurm.conf
trap '"$CLUSTER/local_cluster.sh" stop 2>/dev/null; rm -rf "$work"' EXIT
test_started=$SECONDS
if ! "$CLUSTER/local_cluster.sh" start; then
  echo "FAIL: the local Slurm cluster did not start (reason above): the Slurm integration test cannot run"
  exit 1
fi
echo "slurm test: cluster up in $((SECONDS - test_started)) s"
cd "$work" || exit 1

# Runs submit_and_wait.sh; the job's output goes to $work/NAME.out, its final state to $work/NAME.result.
# Returns submit_and_wait's status (the job's exit code).
submit() {
  local name=$1 status=0
  shift
  "$CLUSTER/submit_and_wait.sh" --timeout 170 --start-requeued --job-id-file "$work/$name.id" \
    --output="$work/$name.out" "$@" >"$work/$name.result" 2>"$work/$name.wait" || status=$?
  return $status
}

# Waits until FILE has a line matching PATTERN while process WAITER runs.
wait_for_output() {
  local pattern=$1 file=$2 waiter=$3
  for _ in $(seq 900); do
    grep -q -- "$pattern" "$file" 2>/dev/null && return 0
    kill -0 "$waiter" 2>/dev/null || break
    sleep 0.2
  done
  fail "no '$pattern' in $file"
  return 1
}

# Each check below runs in its own background shell; its exit status is its number of failed checks.
check_pipeline() {
  local started=$SECONDS status=0
  submit pipeline --ntasks=2 "$CLUSTER/pipeline.sbatch" --config "$ROOT/cluster/configs/fashion_shop.ini" \
    --out "$work/pipeline" --set generate.users=2000 --set generate.items=1000 --set als.iterations=4 \
    --set als.factors=16 --set train.epochs=2 --set evaluate.bootstrap=0 --set report.figures=no -q ||
    status=$?
  echo "pipeline: $(cat "$work/pipeline.result") after $((SECONDS - started)) s"
  if ((status != 0)) || ! grep -q "COMPLETED, exit code 0" "$work/pipeline.result"; then
    fail "pipeline job: status $status; its output:"
    tail -n 30 "$work/pipeline.out" "$work/pipeline.wait"
  fi
  for output in data/interactions.csv split/train.csv als/embeddings.h5 features/features.h5 \
    embeddings/blend.h5 evaluation/protocol-b.json report/results.md; do
    [[ -s $work/pipeline/$output ]] || fail "pipeline job: no $output"
  done
  "$PYTHON" -c "import h5py, sys; sys.exit(int(h5py.File(sys.argv[1]).attrs['ranks'] != 2))" \
    "$work/pipeline/als/embeddings.h5" 2>/dev/null ||
    fail "pipeline job: ALS did not run as one job of 2 ranks (srun --mpi=${TAILFLOW_SRUN_MPI:-pmix})"
  exit $failures
}

# als.sbatch interrupted once ALS iterates (HOW: requeue or usr1); it must resume and match the reference.
check_interrupted_als() {
  local name=$1 how=$2 started=$SECONDS status=0
  submit "$name" --ntasks=2 "$CLUSTER/als.sbatch" "${als_args[@]}" --out "$work/$name" &
  local waiter=$!
  if wait_for_output "als iteration" "$work/$name.out" "$waiter"; then
    local id
    id=$(cat "$work/$name.id")
    case $how in
      requeue) scontrol requeue "$id" || fail "$name: scontrol requeue $id refused" ;;
      usr1) scancel --batch --signal=USR1 "$id" || fail "$name: scancel --batch --signal=USR1 $id refused" ;;
    esac
  fi
  wait "$waiter" || status=$?
  echo "$name: $(cat "$work/$name.result") after $((SECONDS - started)) s"
  if ((status != 0)) || ! grep -q "COMPLETED, exit code 0, restarts 1" "$work/$name.result"; then
    fail "$name: expected COMPLETED after 1 restart, got status $status; its output:"
    tail -n 30 "$work/$name.out" "$work/$name.wait"
    controller_log_of "$(cat "$work/$name.id")"
    exit $failures
  fi
  grep -q "stopped: stop signal after ALS iteration" "$work/$name.out" || fail "$name: ALS did not stop cleanly"
  grep -q "resumed from .* after iteration" "$work/$name.out" || fail "$name: the requeued run did not resume"
  if [[ $how == usr1 ]]; then
    grep -q "requeued, the next run resumes" "$work/$name.out" || fail "usr1: the batch script did not requeue itself"
  fi
  wait_for_reference
  echo -n "$name: "
  same_embeddings "$work/reference/embeddings.h5" "$work/$name/embeddings.h5" ||
    fail "$name: resumed embeddings differ from the uninterrupted run"
  exit $failures
}

# What slurmctld and slurmd logged about job ID: the reason behind an unexpected state.
controller_log_of() {
  echo "--- slurmctld/slurmd on job $1:"
  grep -h -E "JobId=$1\b|job_id $1\b|StepId=$1\.|job $1\b" "$TAILFLOW_SLURM_STATE"/log/slurm{ctld,d}.log | tail -n 40
}

wait_for_reference() {
  for _ in $(seq 900); do
    [[ -e $work/reference.done ]] && break
    sleep 0.2
  done
  [[ -s $work/reference/embeddings.h5 ]] || fail "no reference embeddings (uninterrupted srun step failed)"
}

# A task killed with SIGKILL: srun --kill-on-bad-exit ends the step; the other rank, blocked in a collective,
# leaves after the grace deadline; the job FAILS within 30 s and its output names the task.
check_fault() {
  local status=0 killed_at="" id victim proc environment
  submit fault --ntasks=2 "$CLUSTER/als.sbatch" "${data_args[@]}" --iterations 400 --out "$work/fault" &
  local waiter=$!
  if wait_for_output "als iteration" "$work/fault.out" "$waiter"; then
    id=$(cat "$work/fault.id")
    # Task 1: the tailflow process (named "exe": tailflow re-executes itself) of this job with SLURM_PROCID=1.
    victim=""
    for proc in /proc/[0-9]*; do
      [[ $(readlink "$proc/exe" 2>/dev/null) == "$TAILFLOW" ]] || continue
      environment=$(tr '\0' '\n' <"$proc/environ" 2>/dev/null)
      if grep -qx "SLURM_JOB_ID=$id" <<<"$environment" && grep -qx "SLURM_PROCID=1" <<<"$environment"; then
        victim=${proc#/proc/}
      fi
    done
    if [[ -z $victim ]]; then
      fail "fault: no process of task 1 of job $id"
      scancel "$id"
    else
      killed_at=$SECONDS
      kill -KILL "$victim"
    fi
  fi
  wait "$waiter" || status=$?
  [[ -n $killed_at ]] || exit $failures
  local seconds=$((SECONDS - killed_at))
  echo "fault: $(cat "$work/fault.result"), ${seconds} s after task 1 was killed"
  ((seconds <= 30)) || fail "fault: the job took $seconds s to fail, more than 30 s"
  grep -q "FAILED" "$work/fault.result" || fail "fault: the job did not end FAILED"
  if message=$(grep -E "task 1\b.*(Killed|signal 9)" "$work/fault.out"); then
    echo "fault: the job said: $message"
  else
    fail "fault: the job's output does not name task 1:"
    tail -n 20 "$work/fault.out"
  fi
  exit $failures
}

if ! "$TAILFLOW" pipeline --help >/dev/null 2>&1; then
  fail "this tailflow has no 'pipeline' subcommand: cannot submit the pipeline"
fi
make_interactions "$work/interactions.csv"
data_args=(--interactions "$work/interactions.csv" "${ALS_SETTINGS[@]}")
als_args=("${data_args[@]}" --iterations 20)

# The reference for the interrupted runs: the same ALS, uninterrupted, as a plain srun step.
(
  srun -n 2 --mpi="${TAILFLOW_SRUN_MPI:-pmix}" "$TAILFLOW" als "${als_args[@]}" --out "$work/reference" -q \
    >"$work/reference.log" 2>&1
  touch "$work/reference.done"
) &
checks=(pipeline requeue usr1 fault)
check_pipeline >"$work/check-pipeline.log" 2>&1 &
pids=($!)
check_interrupted_als requeue requeue >"$work/check-requeue.log" 2>&1 &
pids+=($!)
check_interrupted_als usr1 usr1 >"$work/check-usr1.log" 2>&1 &
pids+=($!)
check_fault >"$work/check-fault.log" 2>&1 &
pids+=($!)
for i in "${!checks[@]}"; do
  wait "${pids[$i]}" || failures=$((failures + $?))
  sed "s/^/slurm test: /" "$work/check-${checks[$i]}.log"
done
wait
echo "slurm test: $((SECONDS - test_started)) s in all"

finish "slurm test"
