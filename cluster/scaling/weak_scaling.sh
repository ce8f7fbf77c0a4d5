#!/usr/bin/env bash
# Weak scaling: the data grows with the ranks, so each rank's share stays the same, for ALS (broadcast and
# targeted factor exchange), the shuffle (reduce_by_key) and the content regressor's training. JSON per
# run, then PNG plots and a table (scripts/plots/scaling_plots.py). See docs/scaling.md.
#
#   cluster/scaling/weak_scaling.sh [--out DIR] [--ranks "1 2 4"] [--benchmarks "als shuffle train"]
#                                   [--full] [--als-nnz-per-rank N …]
#
# Sizes per rank (option or environment variable; quick defaults take a few minutes on a 2-core machine,
# --full switches to the cluster-sized defaults in brackets). ALS users and interactions grow with the
# ranks, the catalogue (items) does not; the regressor keeps its per-rank batch, so steps per epoch stay.
#   --als-users-per-rank / ALS_USERS_PER_RANK   50000     [1000000]
#   --als-items / ALS_ITEMS                      50000     [500000]
#   --als-nnz-per-rank / ALS_NNZ_PER_RANK       1000000   [50000000]
#   --als-factors / ALS_FACTORS                  64
#   --als-iterations / ALS_ITERATIONS            4         [5]
#   --als-exchanges / ALS_EXCHANGES              "broadcast targeted"
#   --shuffle-rows-per-rank / SHUFFLE_ROWS_PER_RANK  2000000  [50000000]   (keys = rows)
#   --shuffle-repeats / SHUFFLE_REPEATS          3
#   --train-items-per-rank / TRAIN_ITEMS_PER_RANK  1000   [10000]
#   --train-batch-per-rank / TRAIN_BATCH_PER_RANK  128
#   --train-epochs / TRAIN_EPOCHS                2         [3]
# Launcher and binary: see scaling_lib.sh (TAILFLOW, MPIEXEC, MPIEXEC_FLAGS, PYTHON).
set -uo pipefail
# shellcheck source=scaling_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/scaling_lib.sh"

out=scaling-weak
SCALING_SIZES="ALS_USERS_PER_RANK ALS_ITEMS ALS_NNZ_PER_RANK ALS_FACTORS ALS_ITERATIONS ALS_EXCHANGES
SHUFFLE_ROWS_PER_RANK SHUFFLE_REPEATS TRAIN_ITEMS_PER_RANK TRAIN_BATCH_PER_RANK TRAIN_EPOCHS"
scaling_parse_options "${BASH_SOURCE[0]}" "$@"

if ((full)); then
  ALS_USERS_PER_RANK=${ALS_USERS_PER_RANK:-1000000} ALS_ITEMS=${ALS_ITEMS:-500000}
  ALS_NNZ_PER_RANK=${ALS_NNZ_PER_RANK:-50000000} ALS_ITERATIONS=${ALS_ITERATIONS:-5}
  SHUFFLE_ROWS_PER_RANK=${SHUFFLE_ROWS_PER_RANK:-50000000}
  TRAIN_ITEMS_PER_RANK=${TRAIN_ITEMS_PER_RANK:-10000} TRAIN_EPOCHS=${TRAIN_EPOCHS:-3}
fi
ALS_USERS_PER_RANK=${ALS_USERS_PER_RANK:-50000} ALS_ITEMS=${ALS_ITEMS:-50000}
ALS_NNZ_PER_RANK=${ALS_NNZ_PER_RANK:-1000000}
ALS_FACTORS=${ALS_FACTORS:-64} ALS_ITERATIONS=${ALS_ITERATIONS:-4}
ALS_EXCHANGES=${ALS_EXCHANGES:-"broadcast targeted"}
SHUFFLE_ROWS_PER_RANK=${SHUFFLE_ROWS_PER_RANK:-2000000} SHUFFLE_REPEATS=${SHUFFLE_REPEATS:-3}
TRAIN_ITEMS_PER_RANK=${TRAIN_ITEMS_PER_RANK:-1000} TRAIN_BATCH_PER_RANK=${TRAIN_BATCH_PER_RANK:-128}
TRAIN_EPOCHS=${TRAIN_EPOCHS:-2}

scaling_check_binary
mkdir -p "$out" || scaling_die "cannot create $out"
scaling_log "weak scaling into $out: ranks $RANKS; benchmarks $BENCHMARKS; $(scaling_cores) cores"

for ranks in $RANKS; do
  scaling_has als "$BENCHMARKS" &&
    scaling_als "$out" weak "$ranks" $((ALS_USERS_PER_RANK * ranks)) "$ALS_ITEMS" $((ALS_NNZ_PER_RANK * ranks))
  scaling_has shuffle "$BENCHMARKS" && scaling_shuffle "$out" weak "$ranks" $((SHUFFLE_ROWS_PER_RANK * ranks))
  scaling_has train "$BENCHMARKS" &&
    scaling_train "$out" weak "$ranks" $((TRAIN_ITEMS_PER_RANK * ranks)) $((TRAIN_BATCH_PER_RANK * ranks))
done

scaling_report "$out" weak
