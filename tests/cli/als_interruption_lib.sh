# shellcheck shell=bash
# Shared by preemption_test.sh and fault_test.sh (sourced after cli_test_lib.sh): an ALS job on 2 ranks that
# is stopped or killed part-way, and the checks on what it leaves behind.
#
#   make_interactions FILE            a synthetic implicit-feedback file (3,000 users, 800 items, 60,000 rows)
#   start_als LOG ARGS…               `tailflow als` on 2 ranks in the background; sets $job (mpirun's pid)
#   wait_for_line PATTERN LOG [S]     waits until LOG has a line matching PATTERN (fails if the job ended)
#   rank_pid RANK                     the pid of that rank's process under $job
#   same_embeddings A.h5 B.h5         the user and item vectors agree to 1e-6 (prints the largest difference)

# Fixed ALS settings, so that a resumed run may be compared with an uninterrupted one.
ALS_SETTINGS=(--factors 32 --feedback implicit --solver cg --cg-steps 3 --seed 5)

make_interactions() {
  "$PYTHON" - "$1" <<'PY'
import random, sys
random.seed(11)
with open(sys.argv[1], "w") as f:
    f.write("user,item,value\n")
    for row in range(60000):
        user = random.randrange(3000)
        item = int(800 * random.random() ** 3)
        f.write(f"u{user},i{item},{random.randint(1, 3)}\n")
PY
}

start_als() {
  local log=$1
  shift
  "$MPIEXEC" -n 2 "${MPI_FLAGS[@]}" "$TAILFLOW" als "${ALS_SETTINGS[@]}" "$@" >"$log" 2>&1 &
  job=$!
}

wait_for_line() {
  local pattern=$1 log=$2 limit=${3:-120}
  local start=$SECONDS
  until grep -q -- "$pattern" "$log" 2>/dev/null; do
    if ! kill -0 "$job" 2>/dev/null; then
      fail "the job ended before printing '$pattern':"
      tail -n 20 "$log"
      return 1
    fi
    if ((SECONDS - start > limit)); then
      fail "no '$pattern' after $limit s"
      return 1
    fi
    sleep 0.05
  done
}

rank_pid() {
  local child
  for child in $(pgrep -P "$job"); do
    if tr '\0' '\n' <"/proc/$child/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1"; then
      echo "$child"
      return 0
    fi
  done
  return 1
}

same_embeddings() {
  "$PYTHON" - "$1" "$2" <<'PY'
import sys, h5py, numpy as np
def load(path):
    with h5py.File(path) as f:
        out = {}
        for side in ("users", "items"):
            ids = f[side + "/ids"].asstr()[:]
            order = np.argsort(ids)
            out[side] = (ids[order], f[side + "/vectors"][:][order])
        return out
a, b = load(sys.argv[1]), load(sys.argv[2])
worst = 0.0
for side in ("users", "items"):
    assert (a[side][0] == b[side][0]).all(), f"{side}: different ids"
    assert a[side][1].shape == b[side][1].shape, f"{side}: {a[side][1].shape} vs {b[side][1].shape}"
    worst = max(worst, float(np.abs(a[side][1] - b[side][1]).max()))
print(f"largest difference between the embeddings: {worst:.3g}")
sys.exit(0 if worst <= 1e-6 else 1)
PY
}
