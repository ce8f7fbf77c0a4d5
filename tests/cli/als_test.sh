#!/bin/bash
# `tailflow als` end to end: embeddings with external ids, a checkpoint, resuming on another rank count,
# and `tailflow bench als` writing its JSON.
set -euo pipefail
: "${TAILFLOW:?path of the tailflow binary}"
MPIEXEC=${MPIEXEC:-mpiexec}
read -r -a FLAGS <<<"${MPIEXEC_FLAGS:-}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 40 users × 30 items, string ids, ratings 1..5.
/usr/bin/python3 - "$work/ratings.csv" <<'PY'
import random, sys
random.seed(3)
with open(sys.argv[1], "w") as f:
    f.write("user,item,rating\n")
    for u in range(40):
        for i in random.sample(range(30), 8):
            f.write(f"u{u},item-{i},{random.randint(1, 5)}\n")
PY

"$MPIEXEC" "${FLAGS[@]}" -n 2 "$TAILFLOW" als --interactions "$work/ratings.csv" --out "$work/out" --factors 4 \
  --iterations 4 --feedback explicit --solver cholesky --reg 0.1 --biases --checkpoint-every 2 --quiet
test -f "$work/out/embeddings.h5"
test -f "$work/out/checkpoints/LATEST"
"$MPIEXEC" "${FLAGS[@]}" -n 3 "$TAILFLOW" als --interactions "$work/ratings.csv" --out "$work/out" --factors 4 \
  --iterations 6 --feedback explicit --solver cholesky --reg 0.1 --biases --checkpoint-every 2 --resume 2>"$work/log"
grep -q "resumed from .* after iteration 4" "$work/log"

/usr/bin/python3 - "$work/out/embeddings.h5" <<'PY'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1])
ids = sorted(f["users/ids"].asstr()[:])
assert ids == sorted(f"u{u}" for u in range(40)), ids[:5]
assert f["users/vectors"].shape == (40, 4) and f["items/vectors"].shape == (30, 4)
assert f["users/counts"][:].sum() == 320 and f["items/counts"][:].sum() == 320
assert f["users/biases"].shape == (40,)
assert f.attrs["iterations"] == 6 and len(f.attrs["loss_history"]) == 6
assert np.all(np.diff(f.attrs["loss_history"]) <= 1e-9), f.attrs["loss_history"]
assert f.attrs["feedback"] == "explicit" and f.attrs["factors"] == 4
PY

"$TAILFLOW" bench als --users 300 --items 200 --nnz 3000 --factors 8 --iterations 2 --json "$work/bench.json" --quiet
/usr/bin/python3 - "$work/bench.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
for key in ["seconds_per_iteration", "ranks", "peak_rss_bytes", "bytes_moved_per_iteration", "final_loss",
            "gflops", "fraction_of_peak", "bytes_per_interaction", "settings"]:
    assert key in report, key
assert report["settings"]["factors"] == 8
PY
echo "als cli test passed"
