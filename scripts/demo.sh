#!/usr/bin/env bash
# Sets up (packages + build), then runs the main job on the built-in default data — the semi-synthetic fashion
# shop — on 2 MPI ranks with one command:
#
#   mpirun -n 2 tailflow pipeline --config cluster/configs/fashion_shop.ini --out out/demo
#
# generate → split → ALS → content features → regressor → item embeddings (content, blend, prior) →
# evaluation (protocol B: all/head/tail/cold buckets) → report. The results table is printed at the end;
# outputs, logs and figures are under ./out/demo (or $OUT_DIR). Run it again: unchanged stages are skipped, and
# an interrupted run continues where it stopped (docs/pipeline.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [[ $(id -u) -eq 0 ]]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
OUT_DIR=${OUT_DIR:-out/demo}
RANKS=${RANKS:-2}
TAILFLOW=${BUILD_DIR:-build}/jobs/tailflow
echo "+ mpirun -n $RANKS tailflow pipeline --config cluster/configs/fashion_shop.ini --out $OUT_DIR $*" >&2
mpirun -n "$RANKS" --oversubscribe "$TAILFLOW" pipeline --config cluster/configs/fashion_shop.ini \
  --out "$OUT_DIR" "$@"
echo "demo: outputs in $OUT_DIR (results: $OUT_DIR/report/results.md, figures: $OUT_DIR/report/figures)" >&2
