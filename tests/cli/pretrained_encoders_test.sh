#!/usr/bin/env bash
# Pretrained TorchScript encoders and embedding brand-new items, end to end on a small generated shop.
# The tiny encoders (and a vocab.txt) are written by the unit-test binary (ExampleEncoderFiles), since
# nothing else here can make TorchScript files. Checks:
#   - features --text-encoder/--image-encoder store dense blocks, the same on 1 and 2 ranks; the encoder
#     file's bytes are part of the cache fingerprint;
#   - train copies the feature recipe and tables into the model directory;
#   - embed --items on the training catalog gives the vectors of embed --features (1e-5), on 1 and 2 ranks;
#   - brand-new rows (unknown brand, new words, fewer columns) get finite content vectors, and a training
#     row embedded among them (so with the training tables, not ones fitted to the new file) keeps its vector;
#   - a moved encoder is refused with a message naming --text-encoder, and found again with it;
#   - a features directory computed with another encoder is refused by embed --features.
# Environment (set by ctest): TAILFLOW, MPIEXEC, MPIEXEC_FLAGS; TAILFLOW_TESTS (default: the tailflow_tests
# binary of the same build).
source "$(dirname "$0")/cli_test_lib.sh" pretrained-encoders

tests_binary=${TAILFLOW_TESTS:-$(dirname "$TAILFLOW")/../tests/tailflow_tests}
[[ -x $tests_binary ]] || {
  echo "FAIL: no tailflow_tests binary at $tests_binary (set TAILFLOW_TESTS)"
  exit 1
}
enc=$work/encoders
TAILFLOW_EXAMPLE_ENCODERS=$enc "$tests_binary" --gtest_filter='ExampleEncoderFiles.*' >"$work/encoders.txt" 2>&1 ||
  {
    cat "$work/encoders.txt"
    fail "could not write the example encoders"
  }
cp "$enc/image_encoder.pt" "$enc/backbone.pt"

run1 generate --out "$work/shop" --users 500 --items 200 --seed 11 >/dev/null || fail "generate failed"
run1 als --interactions "$work/shop/interactions.csv" --out "$work/als" --factors 6 --iterations 4 ||
  fail "als failed"
pretrained=(--wordpiece-vocab "$enc/vocab.txt" --max-tokens 16 --text-encoder "$enc/text_encoder.pt"
  --text-pooling mean --image-encoder "$enc/backbone.pt" --image-size 8 --image-channels 3 --encoder-batch 16)
featurise() { # RUNNER OUT [more options]
  local runner=$1 out=$2
  shift 2
  $runner features --items "$work/shop/items.csv" --interactions "$work/shop/interactions.csv" --out "$out" \
    --text-hash-bits 12 "${pretrained[@]}" "$@"
}
featurise run1 "$work/feat1" >/dev/null || fail "features with encoders: one rank failed"
featurise run2 "$work/feat2" >/dev/null || fail "features with encoders: two ranks failed"
featurise run1 "$work/feat1" >"$work/again.txt" || fail "features with encoders: second run failed"
grep -q "(reused)" "$work/again.txt" || fail "features: an unchanged run did not reuse the cache"
# Same path, other bytes: the fingerprint must change.
cp "$enc/image_encoder_b.pt" "$enc/backbone.pt"
featurise run1 "$work/feat-b" >/dev/null || fail "features with the second backbone failed"
cp "$enc/image_encoder.pt" "$enc/backbone.pt"

"$PYTHON" - "$work" <<'PY' || fail "dense feature blocks are wrong (see above)"
import sys
import h5py
import numpy as np

work = sys.argv[1]
f1, f2, fb = (h5py.File(f"{work}/{d}/features.h5") for d in ["feat1", "feat2", "feat-b"])
ok = True
for name, dims in [("text_encoder", 4), ("image_encoder", 3)]:
    a, b = f1[f"dense/{name}/values"][:], f2[f"dense/{name}/values"][:]
    if a.shape != (200, dims) or not np.all(np.isfinite(a)):
        print("FAIL:", name, a.shape); ok = False
    if not np.array_equal(f1["items/ids"][:], f2["items/ids"][:]) or not np.allclose(a, b, atol=1e-6):
        print("FAIL:", name, "differs between 1 and 2 ranks"); ok = False
    if np.std(a, axis=0).min() <= 0:
        print("FAIL:", name, "gives every item the same vector"); ok = False
if f1.attrs["fingerprint"] == fb.attrs["fingerprint"]:
    print("FAIL: other encoder bytes, same fingerprint"); ok = False
if np.allclose(f1["dense/image_encoder/values"][:], fb["dense/image_encoder/values"][:]):
    print("FAIL: the second backbone gave the same vectors"); ok = False
if "images/pixels" in f1:
    print("FAIL: pixels are stored although a backbone consumed them"); ok = False
sys.exit(0 if ok else 1)
PY

small=(--epochs 3 --hidden 16 --bag-dims 8 --batch 64 --threads-per-rank 1 --head-min 1)
run1 train --embeddings "$work/als/embeddings.h5" --features "$work/feat1" --out "$work/reg" "${small[@]}" \
  >/dev/null || fail "train failed"
model=$work/reg/model
[[ -f $model/feature_tables.h5 && -f $model/wordpiece_vocab.txt ]] || fail "train: no feature tables in the model"
grep -q '"embeds_new_items": true' "$work/reg/train_summary.json" || fail "train: summary says no new items"
grep -q "schema.dense_dims = 7" "$model/regressor.ini" || fail "train: the model has no 4 + 3 dense input"

run1 embed --model "$model" --features "$work/feat1" --out "$work/by-features.h5" >/dev/null ||
  fail "embed --features failed"
run1 embed --model "$model" --items "$work/shop/items.csv" --out "$work/by-items1.h5" >/dev/null ||
  fail "embed --items: one rank failed"
run2 embed --model "$model" --items "$work/shop/items.csv" --out "$work/by-items2.h5" >/dev/null ||
  fail "embed --items: two ranks failed"

# Brand-new rows: an unknown brand and category, unseen words, no image; and a file without price/image.
{
  head -1 "$work/shop/items.csv"
  echo 'n1,Qwzx Plorbic Jumpsuit,Brand-new words everywhere,Novabrand,space>suits,999.5,'
  echo 'n2,Red Wool Tee,Classic tee,Zenora,men>tops>t-shirts,19.99,3'
  echo 'n3,Navy Linen Dress,,Tavlune,women>dresses,,'
  sed -n 6p "$work/shop/items.csv" # a training row: alone, it must still be encoded with the training tables
} >"$work/new.csv"
printf 'item_id,title,brand\nm1,White Cotton Shirt,Zenora\nm2,Black Boots,Unknown Maker\n' >"$work/fewer.csv"
run1 embed --model "$model" --items "$work/new.csv" --out "$work/new.h5" >/dev/null || fail "embed new items failed"
run2 embed --model "$model" --items "$work/fewer.csv" --out "$work/fewer.h5" >/dev/null ||
  fail "embed rows with fewer columns failed"

"$PYTHON" - "$work" <<'PY' || fail "embeddings of --items are wrong (see above)"
import sys
import h5py
import numpy as np

work = sys.argv[1]
ok = True
def by_id(name):
    f = h5py.File(f"{work}/{name}.h5")
    return dict(zip(f["items/ids"][:], f["items/vectors"][:])), f
ref, _ = by_id("by-features")
for name in ["by-items1", "by-items2"]:
    got, f = by_id(name)
    if set(got) != set(ref):
        print("FAIL:", name, "holds other items"); ok = False
        continue
    worst = max(float(np.max(np.abs(got[i] - ref[i]))) for i in ref)
    print(f"{name}: largest difference to embed --features {worst:.2e}")
    if worst > 1e-5:
        print("FAIL:", name, "differs from embed --features"); ok = False
    if not np.all(f["items/source"][:] == 1):
        print("FAIL:", name, "items not flagged content"); ok = False
known = open(f"{work}/shop/items.csv").read().splitlines()[5].split(",")[0].encode()
new, _ = by_id("new")
if known not in new or float(np.max(np.abs(new[known] - ref[known]))) > 1e-5:
    print("FAIL: a training row embedded alone differs from its vector in the training catalog"); ok = False
for name, count in [("new", 4), ("fewer", 2)]:
    got, f = by_id(name)
    vectors = np.array(list(got.values()))
    if len(got) != count or vectors.shape[1] != 6 or not np.all(np.isfinite(vectors)):
        print("FAIL:", name, vectors.shape); ok = False
    if f.attrs.get("items") is None:
        print("FAIL:", name, "does not record the items file"); ok = False
sys.exit(0 if ok else 1)
PY

# A moved encoder: refused with a message naming the option, then found with it.
mv "$enc/text_encoder.pt" "$enc/moved.pt"
if run1 embed --model "$model" --items "$work/new.csv" --out "$work/moved.h5" >"$work/moved.txt" 2>&1; then
  fail "embed accepted a model whose text encoder is gone"
fi
grep -q -- "--text-encoder" "$work/moved.txt" || {
  cat "$work/moved.txt"
  fail "embed: unclear message for a moved encoder"
}
run1 embed --model "$model" --items "$work/new.csv" --text-encoder "$enc/moved.pt" --out "$work/moved.h5" \
  >/dev/null || fail "embed --text-encoder NEW_PLACE failed"
mv "$enc/moved.pt" "$enc/text_encoder.pt"
# Features computed with another backbone (same tables, other encoder bytes): refused by embed --features.
if run1 embed --model "$model" --features "$work/feat-b" --out "$work/other.h5" >"$work/other.txt" 2>&1; then
  fail "embed --features accepted features of another encoder"
fi
grep -q "was not encoded like the features" "$work/other.txt" || {
  cat "$work/other.txt"
  fail "embed --features: unclear message for features of another encoder"
}

finish "pretrained encoders"
