#!/usr/bin/env bash
# The long-tail pipeline end to end on a small generated shop: generate, als, features --interactions, then
# train and embed (content only, and ALS + content blended) on one rank and under mpiexec -n 2. Checks: the
# model and summary exist; the embeddings files have one row per item with the ALS factor count, users
# copied from ALS, per-item source flags that follow the interaction counts (0 interactions -> content);
# --ridge-path residual with --target-normalization gram saves ridge.pt and gives the same vectors on 1 and 2 ranks;
# vectors are the same on 1 and 2 ranks; --prior re-solves tail items (same on 1 and 2 ranks, head
# items keep ALS, items without interactions keep content); --exclude-items keeps the listed items out of the
# training targets; `recommend` reads the blended file; features that lack ALS
# items are refused with a message naming an item.
# Environment (set by ctest): TAILFLOW, MPIEXEC, MPIEXEC_FLAGS.
source "$(dirname "$0")/cli_test_lib.sh" train-embed

run1 generate --out "$work/shop" --users 1500 --items 800 --seed 7 >/dev/null || fail "generate failed"
run1 als --interactions "$work/shop/interactions.csv" --out "$work/als" --factors 8 --iterations 5 ||
  fail "als failed"
run1 features --items "$work/shop/items.csv" --interactions "$work/shop/interactions.csv" --out "$work/feat" \
  --text-hash-bits 14 >/dev/null || fail "features failed"
als=$work/als/embeddings.h5
# A small network: the test checks the plumbing, not the accuracy.
small=(--epochs 3 --hidden 32 --bag-dims 16 --batch 64 --threads-per-rank 1)

run1 train --embeddings "$als" --features "$work/feat" --out "$work/reg1" "${small[@]}" >"$work/train1.txt" ||
  fail "train: one rank failed"
run2 train --embeddings "$als" --features "$work/feat" --out "$work/reg2" "${small[@]}" >"$work/train2.txt" ||
  fail "train: two ranks failed"
for reg in reg1 reg2; do
  [[ -f $work/$reg/model/model.pt && -f $work/$reg/model/regressor.ini ]] || fail "train: no model in $reg"
  grep -q '"head_items"' "$work/$reg/train_summary.json" || fail "train: no summary in $reg"
done
grep -q "^head items" "$work/train1.txt" || fail "train: no summary table"

# --exclude-items: the listed items (here the 25 most popular) are no training targets; the rest are.
"$PYTHON" - "$als" "$work/excluded.csv" <<'PY' || fail "could not list items to exclude"
import sys
import h5py
als = h5py.File(sys.argv[1])
ids, counts = als["items/ids"][:], als["items/counts"][:]
popular = [ids[i].decode() for i in counts.argsort()[::-1][:25]]
open(sys.argv[2], "w").write("item_id\n" + "\n".join(popular) + "\n")
PY
run1 train --embeddings "$als" --features "$work/feat" --out "$work/reg-excluded" "${small[@]}" --head-min 1 \
  --exclude-items "$work/excluded.csv" >/dev/null || fail "train --exclude-items failed"
"$PYTHON" - "$als" "$work/reg-excluded/train_summary.json" <<'PY' || fail "train --exclude-items kept the items"
import json, sys
import h5py
summary = json.load(open(sys.argv[2]))
with_interactions = int((h5py.File(sys.argv[1])["items/counts"][:] >= 1).sum())
assert summary["excluded_items"] == 25, summary["excluded_items"]
targets = summary["train_items"] + summary["validation_items"]
assert targets == with_interactions - 25, (targets, with_interactions)
PY

model=$work/reg1/model
run1 embed --model "$model" --features "$work/feat" --out "$work/content1.h5" >/dev/null ||
  fail "embed (content): one rank failed"
# --blend-norm content: the blend formula as checked below (the default rescales content vectors first;
# tests/operators/blend_test.cpp checks that).
run1 embed --model "$model" --features "$work/feat" --embeddings "$als" --blend-beta 5 --blend-norm content \
  --out "$work/final1.h5" >/dev/null || fail "embed (blend): one rank failed"
run2 embed --model "$model" --features "$work/feat" --embeddings "$als" --blend-beta 5 --blend-norm content \
  --out "$work/final2.h5" >/dev/null || fail "embed (blend): two ranks failed"

"$PYTHON" - "$work" "$als" <<'PY' || fail "embeddings files are wrong (see above)"
import sys
import h5py
import numpy as np

work, als_path = sys.argv[1], sys.argv[2]
ok = True
def check(condition, message):
    global ok
    if not condition:
        print("FAIL:", message)
        ok = False

als = h5py.File(als_path)
als_ids = als["items/ids"][:]
als_counts = dict(zip(als_ids, als["items/counts"][:]))
als_vectors = dict(zip(als_ids, als["items/vectors"][:]))
k = als["items/vectors"].shape[1]
items = 800
for name in ["content1", "final1", "final2"]:
    f = h5py.File(f"{work}/{name}.h5")
    check(f["items/vectors"].shape == (items, k), f"{name}: items/vectors {f['items/vectors'].shape}")
    check(f["items/ids"].shape == (items,) and f["items/counts"].shape == (items,), f"{name}: ids/counts")
    check(f["items/source"].dtype == np.uint8, f"{name}: items/source is {f['items/source'].dtype}")
    check("codes" in f["items/source"].attrs, f"{name}: items/source has no 'codes' attribute")
    check(np.all(np.isfinite(f["items/vectors"][:])), f"{name}: non-finite vectors")
c1, f1, f2 = (h5py.File(f"{work}/{name}.h5") for name in ["content1", "final1", "final2"])
check(np.all(c1["items/source"][:] == 1), "content: not every item flagged content")
check(np.array_equal(f1["items/ids"][:], f2["items/ids"][:]), "blend: 1 and 2 ranks order items differently")
check(np.allclose(f1["items/vectors"][:], f2["items/vectors"][:], atol=1e-5), "blend: 1 and 2 ranks differ")
for name in ["final1", "final2"]:
    f = h5py.File(f"{work}/{name}.h5")
    check(f["users/vectors"].shape == als["users/vectors"].shape, f"{name}: users not copied")
    check(np.array_equal(f["users/ids"][:], als["users/ids"][:]), f"{name}: user ids differ from ALS")
    ids, counts, source = f["items/ids"][:], f["items/counts"][:], f["items/source"][:]
    vectors, content = f["items/vectors"][:], c1["items/vectors"][:]
    for i, item in enumerate(ids):
        n = als_counts.get(item, 0)
        check(counts[i] == n, f"{name}: item {item} count {counts[i]} != ALS {n}")
        if n == 0:
            check(source[i] == 1 and np.allclose(vectors[i], content[i], atol=1e-5),
                  f"{name}: item {item} without interactions is not its content vector")
        else:
            alpha = n / (n + 5.0)
            expected = alpha * als_vectors[item] + (1 - alpha) * content[i]
            check(source[i] == 2 and np.allclose(vectors[i], expected, atol=1e-4),
                  f"{name}: item {item} is not the blend with alpha {alpha}")
    check(np.sum(source == 1) == items - len(als_ids), f"{name}: {np.sum(source == 1)} content items")
sys.exit(0 if ok else 1)
PY

# --prior: tail items re-solved around their content vector; the same on 1 and 2 ranks.
for n in 1 2; do
  run$n embed --model "$model" --features "$work/feat" --embeddings "$als" --prior \
    --interactions "$work/shop/interactions.csv" --out "$work/prior$n.h5" >/dev/null ||
    fail "embed --prior: $n rank(s) failed"
done
"$PYTHON" - "$work" "$als" <<'PY' || fail "prior embeddings are wrong (see above)"
import sys
import h5py
import numpy as np

work, als_path = sys.argv[1], sys.argv[2]
als = h5py.File(als_path)
p1, p2 = h5py.File(f"{work}/prior1.h5"), h5py.File(f"{work}/prior2.h5")
ok = p1["items/vectors"].shape == als["items/vectors"].shape[:0] + (800, als["items/vectors"].shape[1])
ok &= np.array_equal(p1["items/ids"][:], p2["items/ids"][:])
ok &= np.allclose(p1["items/vectors"][:], p2["items/vectors"][:], atol=1e-5)
counts, source = p1["items/counts"][:], p1["items/source"][:]
ok &= bool(np.all(source[counts == 0] == 1)) and bool(np.all(source[counts > 0] != 1))
ok &= bool(np.any(source == 3)) and bool(np.any(source == 0))
# Head items (source als) keep their ALS vector exactly.
als_of = dict(zip(als["items/ids"][:], als["items/vectors"][:]))
for item, vector, flag in zip(p1["items/ids"][:], p1["items/vectors"][:], source):
    if flag == 0:
        ok &= np.array_equal(vector, als_of[item])
print("prior checks", "passed" if ok else "FAILED")
sys.exit(0 if ok else 1)
PY

run1 recommend --embeddings "$work/final2.h5" --k 5 --out "$work/rec.csv" ||
  fail "recommend cannot read the blended embeddings"

# Features of only some of the catalog: ALS items without a feature row are an error naming one.
head -101 "$work/shop/items.csv" >"$work/part.csv"
run1 features --items "$work/part.csv" --out "$work/feat-part" --text-hash-bits 10 >/dev/null ||
  fail "features (part) failed"
if run1 train --embeddings "$als" --features "$work/feat-part" --out "$work/reg-bad" "${small[@]}" \
  >"$work/bad.txt" 2>&1; then
  fail "train accepted features that lack ALS items"
fi
grep -q "have no row in the features" "$work/bad.txt" || {
  cat "$work/bad.txt"
  fail "train: unclear message for missing feature rows"
}

# The closed-form ridge path in score-space targets: ridge.pt is saved, 1 and 2 ranks give the same vectors.
for ranks in 1 2; do
  "run$ranks" train --embeddings "$als" --features "$work/feat" --out "$work/ridge$ranks" "${small[@]}" \
    --ridge-path residual --target-normalization gram >/dev/null || fail "train --ridge-path: $ranks rank(s) failed"
  [[ -f $work/ridge$ranks/model/ridge.pt ]] || fail "train --ridge-path: no ridge.pt on $ranks rank(s)"
  run1 embed --model "$work/ridge$ranks/model" --features "$work/feat" --out "$work/ridge$ranks.h5" >/dev/null ||
    fail "embed of a ridge-path model failed"
done
"$PYTHON" - "$work" <<'PY' || fail "ridge-path models differ between 1 and 2 ranks (see above)"
import sys
import h5py
import numpy as np
one, two = (h5py.File(f"{sys.argv[1]}/ridge{r}.h5")["items/vectors"][:] for r in (1, 2))
gap, spread = np.abs(one - two).max(), one.std()
print(f"ridge path: 1 vs 2 ranks differ by {gap:.2e} (vectors spread {spread:.3f})")
sys.exit(0 if spread > 1e-3 and gap < 1e-3 * max(1.0, spread) else 1)
PY

if ((failures > 0)); then
  echo "$failures check(s) failed"
  exit 1
fi
echo "train/embed: all checks passed"
