#!/usr/bin/env bash
# `tailflow generate` makes the same files on 1, 2 and 3 ranks (byte for byte), writes every file it
# promises, and fails with an actionable message when the product photos are missing.
#
# Environment (set by ctest): TAILFLOW (the binary), MPIEXEC, MPIEXEC_FLAGS (e.g. --oversubscribe).
set -euo pipefail

: "${TAILFLOW:?set TAILFLOW to the tailflow binary}"
MPIEXEC="${MPIEXEC:-mpiexec}"
# MPIEXEC_FLAGS may come from CMake as a ;-separated list.
MPIEXEC_FLAGS="${MPIEXEC_FLAGS:-}"
read -r -a MPI_FLAGS <<<"${MPIEXEC_FLAGS//;/ }"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

IMAGES_DIR=/usr/share/datasets/fashion-mnist
if [[ ! -f "$IMAGES_DIR/train-images-idx3-ubyte.gz" ]]; then
  echo "SKIP: Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)"
  exit 0
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
SIZE=(--users 1500 --items 900 --interactions-per-user 20)

for ranks in 1 2 3; do
  "$MPIEXEC" -n "$ranks" "${MPI_FLAGS[@]}" "$TAILFLOW" generate "${SIZE[@]}" --seed 7 --out "$WORK/ranks$ranks" -q \
    >"$WORK/summary$ranks.txt"
  for file in items.csv interactions.csv images.idx truth.h5; do
    [[ -s "$WORK/ranks$ranks/$file" ]] || { echo "FAIL: $ranks ranks wrote no $file"; exit 1; }
  done
  if ls -A "$WORK/ranks$ranks" | grep -q '\.tmp\.'; then
    echo "FAIL: temporary files left behind on $ranks ranks:"; ls -A "$WORK/ranks$ranks"; exit 1
  fi
done

for ranks in 2 3; do
  for file in items.csv interactions.csv images.idx; do
    cmp "$WORK/ranks1/$file" "$WORK/ranks$ranks/$file" ||
      { echo "FAIL: $file differs between 1 and $ranks ranks"; exit 1; }
  done
done

# Shape of the files: headers, row counts, the IDX header (magic 0x00000803, 900 images of 28 x 28).
[[ "$(head -1 "$WORK/ranks1/items.csv")" == "item_id,title,description,brand,category,price,image" ]] ||
  { echo "FAIL: items.csv header"; exit 1; }
[[ "$(head -1 "$WORK/ranks1/interactions.csv")" == "user_id,item_id,event,value,timestamp" ]] ||
  { echo "FAIL: interactions.csv header"; exit 1; }
[[ "$(od -An -tx1 -N16 "$WORK/ranks1/images.idx" | tr -d ' \n')" == "00000803000003840000001c0000001c" ]] ||
  { echo "FAIL: images.idx header: $(od -An -tx1 -N16 "$WORK/ranks1/images.idx")"; exit 1; }
[[ "$(stat -c %s "$WORK/ranks1/images.idx")" == $((16 + 900 * 784)) ]] || { echo "FAIL: images.idx size"; exit 1; }
grep -q "users 1500, items 900" "$WORK/summary1.txt" || { echo "FAIL: summary:"; cat "$WORK/summary1.txt"; exit 1; }

# A different seed gives different data.
"$TAILFLOW" generate "${SIZE[@]}" --seed 8 --out "$WORK/seed8" -q >/dev/null
if cmp -s "$WORK/ranks1/interactions.csv" "$WORK/seed8/interactions.csv"; then
  echo "FAIL: --seed 8 gave the same interactions as --seed 7"; exit 1
fi

# Missing photos: a clear error on every rank count, exit status 1, no hang.
set +e
message="$("$MPIEXEC" -n 2 "${MPI_FLAGS[@]}" "$TAILFLOW" generate --users 10 --items 10 \
  --images-dir "$WORK/no-such-dir" --out "$WORK/missing" 2>&1)"
status=$?
set -e
[[ $status -ne 0 ]] || { echo "FAIL: missing photos did not fail"; exit 1; }
[[ "$message" == *"apt-get install dataset-fashion-mnist"* ]] ||
  { echo "FAIL: missing photos message: $message"; exit 1; }
[[ "$(grep -c 'apt-get install' <<<"$message")" == 1 ]] ||
  { echo "FAIL: the error should be printed once: $message"; exit 1; }

echo "PASS: generate is identical on 1, 2 and 3 ranks"
