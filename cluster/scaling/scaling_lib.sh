# shellcheck shell=bash
# Shared by strong_scaling.sh and weak_scaling.sh: options, one benchmark run per rank count, the report.
#
# A run is `$MPIEXEC -n R $MPIEXEC_FLAGS $TAILFLOW bench <what> … --json OUT/<name>-r<R>.json`. Next to each
# JSON the driver writes <name>-r<R>.meta.json: the machine's load average before and after, the cores, the
# wall time of the whole command (process start-up included, which the benchmark's own times exclude) and the
# scaling mode. scripts/plots/scaling_plots.py turns the folder into PNG plots and scaling.md.
#
# Environment (every size can also be given as an option; see the drivers' --help):
#   TAILFLOW       the binary (default: build/jobs/tailflow under the repository)
#   MPIEXEC        launcher (default mpirun; srun on a cluster, see slurm_scaling.sbatch)
#   MPIEXEC_FLAGS  launcher flags (default --oversubscribe for mpirun, nothing otherwise)
#   PYTHON         a python3 with numpy and matplotlib (default /usr/bin/python3)

scaling_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TAILFLOW=${TAILFLOW:-$scaling_root/build/jobs/tailflow}
MPIEXEC=${MPIEXEC:-mpirun}
if [[ -z ${MPIEXEC_FLAGS+set} ]]; then
  if [[ $(basename "$MPIEXEC") == mpirun || $(basename "$MPIEXEC") == mpiexec ]]; then
    MPIEXEC_FLAGS=--oversubscribe
  else
    MPIEXEC_FLAGS=
  fi
fi
PYTHON=${PYTHON:-/usr/bin/python3}
if [[ $(id -u) -eq 0 ]]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi

scaling_log() { echo "[$(date '+%T')] $*" >&2; }

scaling_die() {
  echo "error: $*" >&2
  exit 2
}

# The 1-minute load average, from /proc/loadavg (0 where there is none).
scaling_load() { cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0; }

scaling_cores() { nproc 2>/dev/null || getconf _NPROCESSORS_ONLN; }

# scaling_run OUT MODE NAME RANKS bench-subcommand-and-options...
# One benchmark run; its log goes to OUT/NAME-rRANKS.log. Stops the driver when the run fails.
scaling_run() {
  local out=$1 mode=$2 name=$3 ranks=$4
  shift 4
  local stem=$out/$name-r$ranks
  local load_before start end status command=${*//\"/\\\"}
  load_before=$(scaling_load)
  start=$(date +%s.%N)
  scaling_log "$name on $ranks rank(s) (load $load_before): $*"
  # shellcheck disable=SC2086  # MPIEXEC_FLAGS holds several words on purpose
  "$MPIEXEC" -n "$ranks" $MPIEXEC_FLAGS "$TAILFLOW" "$@" --json "$stem.json" >"$stem.log" 2>&1
  status=$?
  end=$(date +%s.%N)
  if ((status != 0)); then
    tail -n 20 "$stem.log" >&2
    scaling_die "$name on $ranks rank(s) failed with status $status (log: $stem.log)"
  fi
  cat >"$stem.meta.json" <<EOF
{"name": "$name", "mode": "$mode", "ranks": $ranks, "load_before": $load_before, "load_after": $(scaling_load),
 "cores": $(scaling_cores), "command_seconds": $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }'),
 "host": "$(hostname)", "launcher": "$MPIEXEC $MPIEXEC_FLAGS", "command": "$command"}
EOF
}

# scaling_parse_options DRIVER "$@": sets out (--out), RANKS (--ranks), BENCHMARKS (--benchmarks), full
# (--full), and every size option --als-x / --shuffle-x / --train-x VALUE as the variable ALS_X etc. (those
# the driver lists in SCALING_SIZES); --help prints the DRIVER's header comment.
scaling_parse_options() {
  local driver=$1 name
  shift
  RANKS=${RANKS:-"1 2 4"}
  BENCHMARKS=${BENCHMARKS:-"als shuffle train"}
  # shellcheck disable=SC2034  # read by the driver
  full=0
  while (($# > 0)); do
    case $1 in
      --out | --ranks | --benchmarks | --als-* | --shuffle-* | --train-*)
        [[ $# -ge 2 ]] || scaling_die "$1 needs a value"
        case $1 in
          --out) out=$2 ;;
          --ranks) RANKS=$2 ;;
          --benchmarks) BENCHMARKS=$2 ;;
          *)
            name=$(echo "${1#--}" | tr 'a-z-' 'A-Z_')
            scaling_has "$name" "$SCALING_SIZES" || scaling_die "unknown option $1 (see --help)"
            printf -v "$name" '%s' "$2"
            ;;
        esac
        shift 2
        ;;
      --full)
        # shellcheck disable=SC2034
        full=1
        shift
        ;;
      -h | --help)
        sed -n '2,/^set /p' "$driver" | grep '^#' | sed 's/^# \{0,1\}//'
        exit 0
        ;;
      *) scaling_die "unknown option $1 (see --help)" ;;
    esac
  done
  for name in $RANKS; do [[ $name =~ ^[1-9][0-9]*$ ]] || scaling_die "--ranks: '$name' is not a rank count"; done
}

# scaling_als OUT MODE RANKS USERS ITEMS NNZ: one run per exchange mode in ALS_EXCHANGES (with ALS_FACTORS,
# ALS_ITERATIONS, CG with 3 steps). One rank exchanges nothing, so its single run is the baseline of every
# mode (copied, and marked so in the meta file).
scaling_als() {
  local out=$1 mode=$2 ranks=$3 users=$4 items=$5 nnz=$6 exchange first=${ALS_EXCHANGES%% *}
  for exchange in $ALS_EXCHANGES; do
    if ((ranks == 1)) && [[ $exchange != "$first" ]]; then
      cp "$out/als-$first-r1.json" "$out/als-$exchange-r1.json"
      sed "s/\"name\": \"als-$first\"/\"name\": \"als-$exchange\", \"copied_from\": \"als-$first-r1\"/" \
        "$out/als-$first-r1.meta.json" >"$out/als-$exchange-r1.meta.json"
      continue
    fi
    scaling_run "$out" "$mode" "als-$exchange" "$ranks" bench als --users "$users" --items "$items" \
      --nnz "$nnz" --factors "$ALS_FACTORS" --iterations "$ALS_ITERATIONS" --solver cg --cg-steps 3 \
      --exchange "$exchange" -q
  done
}

# scaling_shuffle OUT MODE RANKS ROWS: reduce_by_key over ROWS rows with as many keys (nothing combines).
scaling_shuffle() {
  scaling_run "$1" "$2" shuffle "$3" bench shuffle --rows "$4" --keys "$4" --repeats "$SHUFFLE_REPEATS" -q
}

# scaling_train OUT MODE RANKS ITEMS BATCH: the regressor, one LibTorch thread per rank, global batch BATCH.
scaling_train() {
  scaling_run "$1" "$2" train "$3" bench train --items "$4" --epochs "$TRAIN_EPOCHS" --batch "$5" \
    --threads-per-rank 1 -q
}

# True when WORD is one of the words in LIST.
scaling_has() {
  local word=$1 list=$2 item
  for item in $list; do [[ $item == "$word" ]] && return 0; done
  return 1
}

scaling_report() {
  local out=$1 mode=$2
  scaling_log "report: $PYTHON scripts/plots/scaling_plots.py report $out"
  "$PYTHON" "$scaling_root/scripts/plots/scaling_plots.py" report "$out" --mode "$mode" ||
    scaling_die "the report failed (the JSON results are in $out)"
}

scaling_check_binary() {
  [[ -x $TAILFLOW ]] || scaling_die "no tailflow binary at $TAILFLOW (build it, or set TAILFLOW)"
  command -v "$MPIEXEC" >/dev/null 2>&1 || scaling_die "launcher $MPIEXEC not found (set MPIEXEC)"
}
