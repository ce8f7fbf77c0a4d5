#!/usr/bin/env bash
# scripts/plots/make_figures.py on a tiny shop laid out as a pipeline run leaves it (data/, split/, als/,
# embeddings/, evaluation/, protocol-a/m*/). Checks: every figure is a non-empty PNG (t-SNE by the numpy
# fallback, which needs no scikit-learn) and figures.json lists it; m of the protocol A reports is read from
# their folders (and `--protocol-a m=FILE` overrides it); a run with no inputs skips every figure with a
# message and exits 0; a bad argument exits non-zero.
# Skipped when /usr/bin/python3 lacks matplotlib, numpy or h5py.
# Environment (set by ctest): TAILFLOW, MPIEXEC, MPIEXEC_FLAGS.
source "$(dirname "$0")/cli_test_lib.sh" figures
FIGURES="$(cd "$(dirname "$0")/../.." && pwd)/scripts/plots/make_figures.py"

if ! "$PYTHON" -c "import matplotlib, numpy, h5py" 2>/dev/null; then
  echo "figures: SKIPPED — $PYTHON lacks matplotlib/numpy/h5py (Debian: python3-matplotlib python3-h5py)"
  exit 0
fi

run=$work/run
run1 generate --out "$run/data" --users 600 --items 250 --seed 3 >/dev/null || fail "generate failed"
run1 split --interactions "$run/data/interactions.csv" --out "$run/split" --method random --seed 3 ||
  fail "split failed"
run1 als --interactions "$run/split/train.csv" --out "$run/als" --factors 8 --iterations 4 --seed 3 ||
  fail "als failed"
run1 features --items "$run/data/items.csv" --interactions "$run/split/train.csv" --out "$run/feat" \
  --text-hash-bits 10 --image-size 28 >/dev/null || fail "features failed"
run1 train --embeddings "$run/als/embeddings.h5" --features "$run/feat" --out "$run/reg" --epochs 2 \
  --hidden 16 --bag-dims 8 --batch 64 --threads-per-rank 1 >/dev/null || fail "train failed"
mkdir -p "$run/embeddings" "$run/evaluation"
run1 embed --model "$run/reg/model" --features "$run/feat" --embeddings "$run/als/embeddings.h5" \
  --blend-beta 5 --out "$run/embeddings/blend.h5" >/dev/null || fail "embed failed"
run1 evaluate --train "$run/split/train.csv" --test "$run/split/test.csv" --embeddings \
  "$run/embeddings/blend.h5" --buckets --k 10 --seed 3 --out "$run/evaluation/blend.json" >/dev/null ||
  fail "evaluate (protocol B) failed"
a=$run/protocol-a/m1
run1 split --interactions "$run/data/interactions.csv" --out "$a/split" --method few-shot --shots 1 \
  --max-shots 3 --seed 3 || fail "few-shot split failed"
run1 als --interactions "$a/split/train.csv" --out "$a/als" --factors 8 --iterations 4 --seed 3 ||
  fail "als (few-shot) failed"
run1 evaluate --train "$a/split/train.csv" --test "$a/split/test.csv" --embeddings "$a/als/embeddings.h5" \
  --protocol A --k 10 --seed 3 --out "$a/evaluation.json" >/dev/null || fail "evaluate (protocol A) failed"
# A second point of the chart without a second training: the same report in a folder named m3 (the folder
# name is what tells m here).
mkdir -p "$run/protocol-a/m3" && cp "$a/evaluation.json" "$run/protocol-a/m3/evaluation.json"

# All five figures from the pipeline layout; the shards are read from another working directory.
(cd / && "$PYTHON" "$FIGURES" --pipeline-out "$run" --out "$work/fig" --tsne numpy --tsne-points 200 --queries 4) \
  >"$work/fig.txt" 2>&1 || fail "make_figures failed (exit $?)"
for name in quality_vs_interactions quality_by_bucket embedding_map_pca embedding_map_tsne similar_items; do
  png=$work/fig/$name.png
  if [[ ! -s $png ]]; then
    fail "$name.png was not produced"
  elif [[ $(head -c 8 "$png" | od -An -tx1 | tr -d ' \n') != 89504e470d0a1a0a ]]; then
    fail "$name.png is not a PNG file"
  elif (($(stat -c %s "$png") < 10000)); then
    fail "$name.png is suspiciously small ($(stat -c %s "$png") bytes)"
  fi
done
"$PYTHON" - "$work/fig/figures.json" <<'PY' || fail "figures.json is wrong (see above)"
import json, sys
manifest = json.load(open(sys.argv[1]))
written = {f["figure"]: f.get("detail") or "" for f in manifest["figures"]}
ok = len(written) == 5 and not manifest["skipped"]
ok &= written.get("quality_vs_interactions", "").startswith("m = 1, 3;")
ok &= "sources: blend, popularity, random" in written.get("quality_by_bucket", "")
ok &= written.get("quality_by_bucket", "").startswith("buckets: all, head, tail")
ok &= "(photos)" in written.get("similar_items", "")
ok &= manifest["inputs"]["after"].endswith("embeddings/blend.h5")
if not ok:
    print(json.dumps(manifest, indent=1))
sys.exit(0 if ok else 1)
PY

# Explicit inputs override discovery: m given on the command line; only the requested figure is drawn.
"$PYTHON" "$FIGURES" --out "$work/fig-a" --figures quality_vs_interactions \
  --protocol-a "7=$run/protocol-a/m1/evaluation.json" >"$work/fig-a.txt" 2>&1 || fail "explicit m=FILE failed"
grep -q "m = 7;" "$work/fig-a/figures.json" || fail "--protocol-a 7=FILE did not set m"
[[ -s $work/fig-a/quality_vs_interactions.png && ! -e $work/fig-a/similar_items.png ]] ||
  fail "--figures did not select one figure"

# Missing inputs: every figure skipped with a reason, exit status 0 (a pipeline must not fail on pictures).
mkdir -p "$work/empty"
if "$PYTHON" "$FIGURES" --pipeline-out "$work/empty" --out "$work/fig-empty" >"$work/empty.txt" 2>&1; then
  (($(grep -c "skipped" "$work/empty.txt") >= 5)) || {
    cat "$work/empty.txt"
    fail "missing inputs: not every figure says why it was skipped"
  }
  grep -q "pass --als" "$work/empty.txt" || fail "missing inputs: the message does not name the option"
  ls "$work/fig-empty"/*.png >/dev/null 2>&1 && fail "missing inputs: a PNG was written anyway"
else
  fail "missing inputs made make_figures exit non-zero"
fi

# Bad arguments are the only failure.
"$PYTHON" "$FIGURES" --out "$work/x" --protocol-a "three=$run/protocol-a/m1/evaluation.json" \
  >/dev/null 2>&1 && fail "a bad --protocol-a value was accepted"
"$PYTHON" "$FIGURES" --out "$work/x" >/dev/null 2>&1 && fail "no inputs at all was accepted"

finish figures
