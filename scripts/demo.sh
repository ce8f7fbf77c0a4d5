#!/usr/bin/env bash
# Sets up (packages + build), then runs the main job on the built-in default data: the semi-synthetic fashion
# shop, on 2 MPI ranks. Outputs go to ./out/demo (or $OUT_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [[ $(id -u) -eq 0 ]]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
OUT_DIR=${OUT_DIR:-out/demo}
RANKS=${RANKS:-2}
TAILFLOW=${BUILD_DIR:-build}/jobs/tailflow
mpirun -n "$RANKS" --oversubscribe "$TAILFLOW" generate --out "$OUT_DIR/data" --seed 7
mpirun -n "$RANKS" --oversubscribe "$TAILFLOW" stats --interactions "$OUT_DIR/data/interactions.csv" \
  --items "$OUT_DIR/data/items.csv"
