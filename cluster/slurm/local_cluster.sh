#!/usr/bin/env bash
# A private one-node Slurm cluster (munged + slurmctld + slurmd) for tests and for trying the batch templates.
#
#   cluster/slurm/local_cluster.sh start    install what is missing (as root), write the config, start, wait idle
#   cluster/slurm/local_cluster.sh stop     stop the daemons this state directory started
#   cluster/slurm/local_cluster.sh status   daemons, node state, and the SLURM_CONF line to use
#   cluster/slurm/local_cluster.sh env      prints `export SLURM_CONF=…` (eval "$(… env)")
#
# Everything lives in one state directory ($TAILFLOW_SLURM_STATE, default /tmp/tailflow-slurm): slurm.conf,
# the munge key and socket, spool and state folders, PID files and logs. Nothing is written to /etc, and the
# daemons listen on private ports ($TAILFLOW_SLURM_PORT and the next one, default 16817), so a machine's own
# Slurm is left alone. Clients find the cluster through SLURM_CONF=<state>/slurm.conf.
#
# Slurm needs root here (SlurmUser=root, slurmd launches jobs as their owner). Facts behind the settings:
# shared/design/SLURM.md. Any failure ends with a message naming the step and the log to read.
set -euo pipefail

STATE=${TAILFLOW_SLURM_STATE:-/tmp/tailflow-slurm}
PORT=${TAILFLOW_SLURM_PORT:-16817}
# CPUs the node advertises: at least 4 so that `-n 4` jobs run on a 2-core machine (config_overrides).
NODE_CPUS=${TAILFLOW_SLURM_CPUS:-$(($(nproc) > 4 ? $(nproc) : 4))}
HOST=$(hostname -s)
CONF=$STATE/slurm.conf
MUNGE_SOCKET=$STATE/munge/munge.socket
PACKAGES=(slurmctld slurmd slurm-client munge)

die() {
  echo "local_cluster: $*" >&2
  exit 1
}

pid_alive() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

install_packages() {
  local missing=()
  for program in slurmctld slurmd sbatch munged; do
    command -v "$program" >/dev/null 2>&1 || [[ -x /usr/sbin/$program ]] || missing+=("$program")
  done
  ((${#missing[@]} == 0)) && return 0
  if [[ $(id -u) -ne 0 ]]; then
    die "missing ${missing[*]}; as root run: apt-get install -y --no-install-recommends ${PACKAGES[*]}"
  fi
  command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install ${PACKAGES[*]}"
  echo "local_cluster: installing ${PACKAGES[*]} (missing: ${missing[*]})" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" >"$STATE/apt.log" 2>&1; then
    apt-get update -q >>"$STATE/apt.log" 2>&1 || true
    apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" >>"$STATE/apt.log" 2>&1 ||
      die "apt-get install ${PACKAGES[*]} failed; see $STATE/apt.log"
  fi
}

memory_mb() { awk '/MemTotal/ {printf "%d", $2 / 1024 * 0.8}' /proc/meminfo; }

write_config() {
  mkdir -p "$STATE"/{ctld,spool,log}
  cat >"$CONF" <<EOF
# Written by cluster/slurm/local_cluster.sh: a private one-node cluster (see shared/design/SLURM.md).
ClusterName=tailflow-local
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
CredType=cred/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=pmix
SwitchType=switch/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
SlurmdParameters=config_overrides
EnforcePartLimits=ALL
# Finished jobs stay visible to scontrol (there is no slurmdbd for sacct).
MinJobAge=3600
ReturnToService=2
# Seconds between SIGTERM and SIGKILL when a job is cancelled, requeued or preempted: time to checkpoint.
KillWait=30
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$NODE_CPUS RealMemory=$(memory_mb) State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
}

start_munge() {
  local dir=$STATE/munge
  if pid_alive "$dir/munged.pid"; then return 0; fi
  id munge >/dev/null 2>&1 || die "user 'munge' does not exist (the munge package creates it)"
  mkdir -p "$dir"
  # munged checks ownership and modes: key and folder owned by munge, key 0400, and the socket folder
  # reachable by every user (slurm clients of any user talk to the socket), writable by none but munge.
  chmod 0755 "$STATE"
  chown munge:munge "$dir"
  chmod 0755 "$dir"
  if [[ ! -s $dir/munge.key ]]; then
    dd if=/dev/urandom of="$dir/munge.key" bs=1024 count=1 status=none
  fi
  chown munge:munge "$dir/munge.key"
  chmod 0400 "$dir/munge.key"
  runuser -u munge -- /usr/sbin/munged --key-file="$dir/munge.key" --socket="$MUNGE_SOCKET" \
    --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munged.seed" ||
    die "munged did not start; see $dir/munged.log"
  for _ in $(seq 50); do [[ -S $MUNGE_SOCKET ]] && return 0; sleep 0.1; done
  die "munged started but made no socket at $MUNGE_SOCKET; see $dir/munged.log"
}

node_state() { SLURM_CONF=$CONF sinfo -h -n "$HOST" -o %T 2>/dev/null | head -1 || true; }

start() {
  [[ $(id -u) -eq 0 ]] || die "must run as root (slurmd starts jobs as their owner); try: sudo $0 start"
  mkdir -p "$STATE"
  install_packages
  if pid_alive "$STATE/slurmctld.pid" && pid_alive "$STATE/slurmd.pid"; then
    echo "local_cluster: already running ($CONF)" >&2
  else
    write_config
    start_munge
    # A second daemon with the same PID file would kill the first: start only what is not running.
    if ! pid_alive "$STATE/slurmctld.pid"; then
      rm -f "$STATE/slurmctld.pid"
      /usr/sbin/slurmctld -f "$CONF" -c || die "slurmctld did not start; see $STATE/log/slurmctld.log"
    fi
    if ! pid_alive "$STATE/slurmd.pid"; then
      rm -f "$STATE/slurmd.pid"
      /usr/sbin/slurmd -f "$CONF" -N "$HOST" || die "slurmd did not start; see $STATE/log/slurmd.log"
    fi
  fi
  # The daemons write their PID files once they run in the background; one that died (a port taken, a bad
  # setting) has a PID file naming a process that is gone, or none.
  local state="" started=$SECONDS
  while ((SECONDS - started < 30)); do
    for daemon in slurmctld slurmd; do
      if { [[ -s $STATE/$daemon.pid ]] && ! pid_alive "$STATE/$daemon.pid"; } ||
        { [[ ! -s $STATE/$daemon.pid ]] && ((SECONDS - started > 5)); }; then
        tail -n 3 "$STATE/log/$daemon.log" >&2 2>/dev/null || true
        die "$daemon exited right after starting (port $PORT or $((PORT + 1)) taken? set TAILFLOW_SLURM_PORT); see $STATE/log/$daemon.log"
      fi
    done
    state=$(node_state)
    case $state in idle* | mixed* | allocated*) break ;; esac
    sleep 0.2
  done
  case $state in
    idle* | mixed* | allocated*) ;;
    *)
      tail -n 5 "$STATE/log/slurmctld.log" "$STATE/log/slurmd.log" >&2 2>/dev/null || true
      die "node $HOST is '${state:-unreachable}' after 30 s, not idle; logs in $STATE/log"
      ;;
  esac
  echo "local_cluster: node $HOST $state with $NODE_CPUS CPUs; use: export SLURM_CONF=$CONF" >&2
}

stop_daemon() {
  local name=$1 pid_file=$2
  pid_alive "$pid_file" || return 0
  local pid
  pid=$(cat "$pid_file")
  kill "$pid"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  echo "local_cluster: $name ($pid) did not stop in 10 s; killing it" >&2
  kill -9 "$pid" 2>/dev/null || true
}

stop() {
  stop_daemon slurmd "$STATE/slurmd.pid"
  stop_daemon slurmctld "$STATE/slurmctld.pid"
  stop_daemon munged "$STATE/munge/munged.pid"
  echo "local_cluster: stopped ($STATE)" >&2
}

status() {
  local running=0
  for daemon in munge/munged slurmctld slurmd; do
    if pid_alive "$STATE/$daemon.pid"; then
      echo "${daemon#munge/}: running (pid $(cat "$STATE/$daemon.pid"))"
    else
      echo "${daemon#munge/}: stopped"
      running=1
    fi
  done
  if ((running == 0)); then
    echo "node $HOST: $(node_state)"
    echo "export SLURM_CONF=$CONF"
  fi
  return $running
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) echo "export SLURM_CONF=$CONF" ;;
  *)
    echo "usage: $0 start|stop|status|env   (state in \$TAILFLOW_SLURM_STATE, default /tmp/tailflow-slurm)" >&2
    exit 2
    ;;
esac
