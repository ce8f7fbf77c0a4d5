#!/usr/bin/env bash
# Submits a batch job, waits for it to end, and reports its final state and exit code.
#
#   cluster/slurm/submit_and_wait.sh [--timeout S] [--start-requeued] [sbatch options] SCRIPT [script args]
#
# Prints "job ID: STATE, exit code N" per job (one line per array task) and exits with the job's exit code
# (the largest over array tasks; 1 for a job that ended badly without one, e.g. CANCELLED or NODE_FAIL; 124
# when --timeout passed first: the job is then cancelled). A requeued job is not over: it is waited for.
#
#   --timeout S        give up (and scancel) after S seconds (default: wait for ever)
#   --start-requeued   start a requeued job as soon as its previous run has left this machine: Slurm
#                      otherwise holds it ~2 minutes (BeginTime). Needs an operator or root; for tests on
#                      the local cluster (its only node is this machine).
#   --job-id-file F    write the job id to F as soon as it is known (to signal or requeue it meanwhile)
#
# sbatch --wait polls slowly (2 s, 8 s, then every 32 s); this polls `scontrol show job` every second, which
# also works without accounting, and falls back to sacct once the controller has forgotten the job.
# The templates source tailflow_step.sh from $TAILFLOW_SLURM_DIR: it is set to this folder for them.
set -euo pipefail

timeout=0
start_requeued=0
job_id_file=""
while (($# > 0)); do
  case $1 in
    --timeout) timeout=$2 && shift 2 ;;
    --start-requeued) start_requeued=1 && shift ;;
    --job-id-file) job_id_file=$2 && shift 2 ;;
    -h | --help)
      sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) break ;;
  esac
done
(($# > 0)) || {
  echo "usage: $0 [--timeout S] [--start-requeued] [sbatch options] SCRIPT [args]" >&2
  exit 2
}
command -v sbatch >/dev/null || {
  echo "submit_and_wait: sbatch not found: no Slurm client here (cluster/slurm/local_cluster.sh start)" >&2
  exit 2
}

export TAILFLOW_SLURM_DIR=${TAILFLOW_SLURM_DIR:-$(cd "$(dirname "$0")" && pwd)}
submitted=$(sbatch --parsable "$@") || {
  echo "submit_and_wait: sbatch refused the job" >&2
  exit 2
}
job=${submitted%%;*}
[[ -n $job_id_file ]] && echo "$job" >"$job_id_file"
echo "submit_and_wait: submitted job $job" >&2

# One line per job (array tasks included): "ID STATE EXITCODE RESTARTS REASON", from scontrol or sacct.
job_lines() {
  local text
  if text=$(scontrol show job -o "$job" 2>/dev/null) && [[ -n $text ]]; then
    awk '{
      id = ""; state = ""; code = ""; restarts = 0; reason = ""; array = ""; task = ""
      for (i = 1; i <= NF; i++) {
        split($i, kv, "=")
        if (kv[1] == "JobId") id = kv[2]
        else if (kv[1] == "ArrayJobId") array = kv[2]
        else if (kv[1] == "ArrayTaskId") task = kv[2]
        else if (kv[1] == "JobState") state = kv[2]
        else if (kv[1] == "ExitCode") code = kv[2]
        else if (kv[1] == "Restarts") restarts = kv[2]
        else if (kv[1] == "Reason") reason = kv[2]
      }
      if (array != "" && task != "") id = array "_" task
      print id, state, code, restarts, reason
    }' <<<"$text"
  else
    sacct -X -n -P -j "$job" -o JobID,State,ExitCode 2>/dev/null | awk -F'|' '{print $1, $2, $3, 0, "-"}'
  fi
}

is_final() {
  case $1 in
    COMPLETED | FAILED | CANCELLED* | TIMEOUT | NODE_FAIL | PREEMPTED | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE)
      return 0
      ;;
    *) return 1 ;;
  esac
}

# Is a process of job ID's previous run still alive here (its slurmstepd, "slurmstepd: [ID.batch]")? Slurm
# shows a requeued job PENDING while the node may still be tearing its last run down; starting the same job
# id again at that moment can fail the new run at launch (its end status then reads FAILED).
previous_run_present() {
  local job_id=${1%%_*}
  pgrep -f "^slurmstepd: \[${job_id}\." >/dev/null 2>&1
}

start=$SECONDS
last_report=""
while :; do
  lines=$(job_lines || true)
  if [[ -z $lines ]]; then
    echo "submit_and_wait: job $job is unknown to scontrol and sacct" >&2
    exit 1
  fi
  if [[ $lines != "$last_report" ]]; then
    while read -r id state code restarts reason; do
      echo "submit_and_wait: job $id $state (restarts $restarts, reason $reason)" >&2
    done <<<"$lines"
    last_report=$lines
  fi
  all_final=1
  while read -r id state code restarts reason; do
    is_final "$state" || all_final=0
    if ((start_requeued)) && [[ $state == PENDING && $reason == BeginTime ]] && ((restarts > 0)) &&
      ! previous_run_present "$id"; then
      scontrol update JobId="$id" StartTime=now >/dev/null 2>&1 || true
    fi
  done <<<"$lines"
  ((all_final)) && break
  if ((timeout > 0 && SECONDS - start >= timeout)); then
    echo "submit_and_wait: job $job still not finished after $timeout s: cancelling it" >&2
    scancel "$job" || true
    exit 124
  fi
  sleep 1
done

worst=0
while read -r id state code restarts reason; do
  exit_code=${code%%:*}
  signal=${code##*:}
  echo "job $id: $state, exit code $exit_code$( ((signal > 0)) && echo ", signal $signal"), restarts $restarts"
  if [[ $state != COMPLETED ]] && ((exit_code == 0)); then exit_code=1; fi
  ((exit_code > worst)) && worst=$exit_code
done <<<"$lines"
exit "$worst"
