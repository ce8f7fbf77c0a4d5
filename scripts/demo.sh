#!/usr/bin/env bash
# Sets up (packages + build), then runs the main job on the built-in default data — the semi-synthetic fashion
# shop — on 2 MPI ranks: generate → stats → split → ALS → recommendations → similar items → evaluation.
# Outputs go to ./out/demo (or $OUT_DIR); the evaluation table is printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [[ $(id -u) -eq 0 ]]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
OUT_DIR=${OUT_DIR:-out/demo}
RANKS=${RANKS:-2}
TAILFLOW=${BUILD_DIR:-build}/jobs/tailflow
run() { echo "+ tailflow $*" >&2; mpirun -n "$RANKS" --oversubscribe "$TAILFLOW" "$@"; }

run generate --out "$OUT_DIR/data" --seed 7
run stats --interactions "$OUT_DIR/data/interactions.csv" --items "$OUT_DIR/data/items.csv"
run split --interactions "$OUT_DIR/data/interactions.csv" --out "$OUT_DIR/split" --method random --seed 7
run als --interactions "$OUT_DIR/split/train.csv" --out "$OUT_DIR/als" --feedback implicit --factors 64 \
  --iterations 10 --solver cg --cg-steps 3 --seed 7
run recommend --embeddings "$OUT_DIR/als/embeddings.h5" --exclude "$OUT_DIR/split/train.csv" --k 10 \
  --out "$OUT_DIR/recommendations.csv"
run similar --embeddings "$OUT_DIR/als/embeddings.h5" --k 10 --out "$OUT_DIR/similar_items.csv"
run evaluate --train "$OUT_DIR/split/train.csv" --test "$OUT_DIR/split/test.csv" \
  --embeddings "$OUT_DIR/als/embeddings.h5" --buckets --k 10 --out "$OUT_DIR/evaluation.json"
echo "demo: outputs in $OUT_DIR"
