# shellcheck shell=bash
# Sourced by the batch templates in this folder: runs `tailflow <subcommand>` as one srun step over the job's
# tasks, with the preemption wiring (docs/slurm.md).
#
#   source "$TAILFLOW_SLURM_DIR/tailflow_step.sh"
#   tailflow_run als "$@" $(tailflow_resume_flag als "$@")
#
# tailflow_run runs the step and ends the batch script with the step's status. Status 75 means the step
# stopped on a signal after writing its checkpoint: then, unless Slurm itself is ending the job, this job is
# requeued (`scontrol requeue`) and its next run resumes.
#
# Signals: the templates ask for `--signal=B:USR1@120`, so the batch shell gets SIGUSR1 two minutes before
# the time limit; it forwards SIGUSR1 and SIGTERM to srun, which passes them to every task. When Slurm
# cancels, requeues or preempts the job, every task gets SIGTERM from Slurm directly, then SIGKILL after
# KillWait (30 s by default); srun does not send a second one, so the tasks' checkpoint is not cut short.
#
# Environment (sbatch exports the submitting shell's environment by default):
#   TAILFLOW           the tailflow binary (default: `tailflow` on PATH, else build/jobs/tailflow under the
#                      submit folder)
#   TAILFLOW_SRUN_MPI  srun's --mpi plugin (default pmix: Debian's OpenMPI 4 supports PMIx only)
#   TAILFLOW_RESUME=1  pass --resume on the first run too (requeued runs always resume)

if [[ -z ${TAILFLOW:-} ]]; then
  if command -v tailflow >/dev/null 2>&1; then
    TAILFLOW=$(command -v tailflow)
  else
    TAILFLOW=${SLURM_SUBMIT_DIR:-.}/build/jobs/tailflow
  fi
fi
TAILFLOW_SRUN_MPI=${TAILFLOW_SRUN_MPI:-pmix}
# Running as root under OpenMPI needs these; harmless otherwise.
if [[ $(id -u) -eq 0 ]]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi

tailflow_log() { echo "[$(date '+%F %T')] job ${SLURM_JOB_ID:-?}: $*" >&2; }

# The signal the batch shell last received (USR1 or TERM), and the srun step to forward it to.
TAILFLOW_BATCH_SIGNAL=""
TAILFLOW_STEP_PID=""
tailflow_forward() {
  TAILFLOW_BATCH_SIGNAL=$1
  if [[ -n $TAILFLOW_STEP_PID ]] && kill -0 "$TAILFLOW_STEP_PID" 2>/dev/null; then
    tailflow_log "SIG$1: asking the step to checkpoint and stop"
    kill -s "$1" "$TAILFLOW_STEP_PID" 2>/dev/null || true
  else
    tailflow_log "SIG$1 between steps: stopping"
  fi
}
trap 'tailflow_forward USR1' USR1
trap 'tailflow_forward TERM' TERM

# "--resume" for a subcommand that has it, on a requeued run (SLURM_RESTART_COUNT > 0) or when
# TAILFLOW_RESUME=1, unless the arguments after the subcommand already say it; nothing otherwise.
#   tailflow_run als "$@" $(tailflow_resume_flag als "$@")
tailflow_resume_flag() {
  local subcommand=$1
  shift
  tailflow_has_option --resume "$@" && return 0
  if ((${SLURM_RESTART_COUNT:-0} > 0)) || [[ ${TAILFLOW_RESUME:-0} == 1 ]]; then
    if "$TAILFLOW" "$subcommand" --help 2>/dev/null | grep -q -- '--resume'; then echo --resume; fi
  fi
}

# Does the argument list name this option (--name or --name=…)?
tailflow_has_option() {
  local name=$1
  shift
  for argument in "$@"; do [[ $argument == "$name" || $argument == "$name="* ]] && return 0; done
  return 1
}

# Runs `tailflow ARGS` as an srun step in the background and waits for it. A trapped signal interrupts
# `wait` (status > 128) while the step goes on checkpointing: wait again until the step itself has ended.
tailflow_step() {
  if [[ ! -x $TAILFLOW ]]; then
    tailflow_log "error: no tailflow binary at '$TAILFLOW' (set TAILFLOW, or put tailflow on PATH)"
    return 127
  fi
  if [[ -n $TAILFLOW_BATCH_SIGNAL ]]; then
    tailflow_log "not starting 'tailflow $1': the job was asked to stop (SIG$TAILFLOW_BATCH_SIGNAL)"
    return 75
  fi
  tailflow_log "start: tailflow $* (${SLURM_NTASKS:-1} tasks, restart ${SLURM_RESTART_COUNT:-0})"
  srun --mpi="$TAILFLOW_SRUN_MPI" --kill-on-bad-exit=1 "$TAILFLOW" "$@" &
  TAILFLOW_STEP_PID=$!
  local status
  while :; do
    wait "$TAILFLOW_STEP_PID"
    status=$?
    ((status > 128)) && kill -0 "$TAILFLOW_STEP_PID" 2>/dev/null || break
  done
  TAILFLOW_STEP_PID=""
  tailflow_log "end: tailflow $1: exit status $status"
  return "$status"
}

# Ends the batch script after a step's status: 0 → done, 75 → requeue (unless Slurm is already ending the
# job), anything else → the job fails with that status.
tailflow_finish() {
  local status=$1
  if ((status == 75)); then
    if [[ $TAILFLOW_BATCH_SIGNAL == TERM ]]; then
      # Slurm is cancelling, requeueing or preempting the job (or it hit its time limit): a requeue or a
      # preemption puts it back in the queue by itself, a cancel must stay a cancel.
      tailflow_log "stopped on SIGTERM with a checkpoint; Slurm decides whether the job runs again"
    elif [[ -n ${SLURM_JOB_ID:-} ]] && scontrol requeue "$SLURM_JOB_ID"; then
      tailflow_log "stopped with a checkpoint; requeued, the next run resumes"
    else
      tailflow_log "stopped with a checkpoint but could not requeue; resubmit with TAILFLOW_RESUME=1"
    fi
  fi
  exit "$status"
}

# tailflow_step, then tailflow_finish.
tailflow_run() {
  local status=0
  tailflow_step "$@" || status=$?
  tailflow_finish "$status"
}
