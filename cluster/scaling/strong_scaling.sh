#!/usr/bin/env bash
# Strong scaling: the same data on 1, 2, 4, … ranks, for ALS (broadcast and targeted factor exchange), the
# shuffle (reduce_by_key) and the content regressor's training. JSON per run, then PNG plots and a table
# (scripts/plots/scaling_plots.py). See docs/scaling.md.
#
#   cluster/scaling/strong_scaling.sh [--out DIR] [--ranks "1 2 4"] [--benchmarks "als shuffle train"]
#                                     [--full] [--als-nnz N …]
#
# Sizes (option or environment variable; quick defaults take a few minutes on a 2-core machine, --full
# switches to the cluster-sized defaults in brackets):
#   --als-users / ALS_USERS            100000    [2000000]
#   --als-items / ALS_ITEMS            50000     [500000]
#   --als-nnz / ALS_NNZ                2000000   [200000000]
#   --als-factors / ALS_FACTORS        64
#   --als-iterations / ALS_ITERATIONS  4         [5]
#   --als-exchanges / ALS_EXCHANGES    "broadcast targeted"
#   --shuffle-rows / SHUFFLE_ROWS      4000000   [200000000]   (keys = rows: nothing combines)
#   --shuffle-repeats / SHUFFLE_REPEATS 3
#   --train-items / TRAIN_ITEMS        2000      [40000]
#   --train-epochs / TRAIN_EPOCHS      2         [3]
#   --train-batch / TRAIN_BATCH        256       (global batch, split over the ranks)
# Launcher and binary: see scaling_lib.sh (TAILFLOW, MPIEXEC, MPIEXEC_FLAGS, PYTHON).
set -uo pipefail
# shellcheck source=scaling_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/scaling_lib.sh"

out=scaling-strong
SCALING_SIZES="ALS_USERS ALS_ITEMS ALS_NNZ ALS_FACTORS ALS_ITERATIONS ALS_EXCHANGES SHUFFLE_ROWS SHUFFLE_REPEATS
TRAIN_ITEMS TRAIN_EPOCHS TRAIN_BATCH"
scaling_parse_options "${BASH_SOURCE[0]}" "$@"

if ((full)); then
  ALS_USERS=${ALS_USERS:-2000000} ALS_ITEMS=${ALS_ITEMS:-500000} ALS_NNZ=${ALS_NNZ:-200000000}
  ALS_ITERATIONS=${ALS_ITERATIONS:-5} SHUFFLE_ROWS=${SHUFFLE_ROWS:-200000000}
  TRAIN_ITEMS=${TRAIN_ITEMS:-40000} TRAIN_EPOCHS=${TRAIN_EPOCHS:-3}
fi
ALS_USERS=${ALS_USERS:-100000} ALS_ITEMS=${ALS_ITEMS:-50000} ALS_NNZ=${ALS_NNZ:-2000000}
ALS_FACTORS=${ALS_FACTORS:-64} ALS_ITERATIONS=${ALS_ITERATIONS:-4}
ALS_EXCHANGES=${ALS_EXCHANGES:-"broadcast targeted"}
SHUFFLE_ROWS=${SHUFFLE_ROWS:-4000000} SHUFFLE_REPEATS=${SHUFFLE_REPEATS:-3}
TRAIN_ITEMS=${TRAIN_ITEMS:-2000} TRAIN_EPOCHS=${TRAIN_EPOCHS:-2} TRAIN_BATCH=${TRAIN_BATCH:-256}

scaling_check_binary
mkdir -p "$out" || scaling_die "cannot create $out"
scaling_log "strong scaling into $out: ranks $RANKS; benchmarks $BENCHMARKS; $(scaling_cores) cores"

for ranks in $RANKS; do
  scaling_has als "$BENCHMARKS" && scaling_als "$out" strong "$ranks" "$ALS_USERS" "$ALS_ITEMS" "$ALS_NNZ"
  scaling_has shuffle "$BENCHMARKS" && scaling_shuffle "$out" strong "$ranks" "$SHUFFLE_ROWS"
  scaling_has train "$BENCHMARKS" && scaling_train "$out" strong "$ranks" "$TRAIN_ITEMS" "$TRAIN_BATCH"
done

scaling_report "$out" strong
