#!/usr/bin/env bash
# `tailflow evaluate` with every item-vector source and baseline in one report, on a tiny generated shop:
# generate, split, ALS on train (als) and on everything (als-full), features, a tiny regressor, embed (content
# vectors without users, and the blend with users copied from ALS), then evaluate --source ... --features
# --buckets --markdown alone and under mpiexec -n 2. Checks: the JSON has every source in every bucket with
# the new keys and the old ones; 1 and 2 ranks give the same figures; irrelevant_share = 1 − precision; ALS
# has no vector for the cold items (only the content files do), ranks them last, so on the cold bucket it
# equals random; content-kNN beats random and als-full beats als; the Markdown table has one row per bucket
# and source; protocol A ranks probe items ALS lacks; bad --source values are refused with a clear message.
# Environment (set by ctest): TAILFLOW, MPIEXEC, MPIEXEC_FLAGS.
source "$(dirname "$0")/cli_test_lib.sh" evaluate-sources

run1 generate --out "$work/shop" --users 1000 --items 500 --seed 7 >/dev/null || fail "generate failed"
run1 split --interactions "$work/shop/interactions.csv" --out "$work/split" --seed 1 || fail "split failed"
train=$work/split/train.csv
test=$work/split/test.csv
als_options=(--factors 8 --reg 1 --alpha 2 --iterations 8)
run1 als --interactions "$train" --out "$work/als" "${als_options[@]}" || fail "als failed"
run1 als --interactions "$work/shop/interactions.csv" --out "$work/full" "${als_options[@]}" || fail "als (full) failed"
run1 features --items "$work/shop/items.csv" --interactions "$train" --out "$work/feat" --text-hash-bits 12 \
  >/dev/null || fail "features failed"
# A tiny network: the test checks the plumbing, not the regressor's accuracy.
run1 train --embeddings "$work/als/embeddings.h5" --features "$work/feat" --out "$work/reg" --epochs 2 \
  --hidden 16 --bag-dims 8 --batch 128 --threads-per-rank 1 >/dev/null || fail "train failed"
run1 embed --model "$work/reg/model" --features "$work/feat" --out "$work/content.h5" >/dev/null ||
  fail "embed (content) failed"
run1 embed --model "$work/reg/model" --features "$work/feat" --embeddings "$work/als/embeddings.h5" \
  --out "$work/blend.h5" >/dev/null || fail "embed (blend) failed"

evaluate=(evaluate --train "$train" --test "$test" --embeddings "$work/als/embeddings.h5"
  --source "content=$work/content.h5" --source "blend=$work/blend.h5" --source "als-full=$work/full/embeddings.h5"
  --features "$work/feat" --buckets --bootstrap 100)
run1 "${evaluate[@]}" --out "$work/eval-1.json" --markdown "$work/eval-1.md" >"$work/eval-1.txt" ||
  fail "evaluate: one rank failed"
run2 "${evaluate[@]}" --out "$work/eval-2.json" --markdown "$work/eval-2.md" >/dev/null ||
  fail "evaluate: two ranks failed"
grep -q "content-knn" "$work/eval-1.txt" || fail "evaluate: the printed table lacks content-knn"
cmp -s "$work/eval-1.md" "$work/eval-2.md" || fail "evaluate: the Markdown of 1 and 2 ranks differs"

"$PYTHON" - "$work/eval-1.json" "$work/eval-2.json" "$work/eval-1.md" <<'EOF' || fail "evaluate: wrong report (see above)"
import json, sys
one, two = (json.load(open(path)) for path in sys.argv[1:3])
markdown = open(sys.argv[3]).read()
sources = ["als", "content", "blend", "als-full", "content-knn", "popularity", "random"]
assert list(one["sources"]) == sources, list(one["sources"])
assert one["long_k"] == 20 and one["k"] == 10
assert one["sources"]["content"]["users_from"] == "--embeddings", one["sources"]["content"]
assert one["sources"]["blend"]["users_from"].endswith("blend.h5"), one["sources"]["blend"]
assert one["sources"]["als"]["items_without_vector"] > 0, "ALS should lack the cold items"
assert one["sources"]["content"]["items_without_vector"] == 0
assert one["data"]["universe_items"] == 500, one["data"]
assert {"all", "head", "tail", "cold"} <= set(one["ranking"]), one["ranking"].keys()
metrics = ("precision", "recall", "ndcg", "map", "recall_long", "irrelevant_share")
for bucket, table in one["ranking"].items():
    for source in sources:
        a, b = table[source], two["ranking"][bucket][source]
        for metric in metrics:
            for key in ("mean", "low", "high"):
                assert abs(a[metric][key] - b[metric][key]) < 1e-12, (bucket, source, metric, key)
        assert a["users"] == b["users"] > 0 and a["coverage"] == b["coverage"], (bucket, source)
        assert a["items_missing"] == b["items_missing"], (bucket, source)
        assert abs(a["irrelevant_share"]["mean"] + a["precision"]["mean"] - 1) < 1e-12, (bucket, source)
        assert a["recall_long"]["mean"] >= a["recall"]["mean"] - 1e-12, (bucket, source)
        row = f"| {bucket} | {source} | {a['users']} | {a['ndcg']['mean']:.4f} ["
        assert row in markdown, row
cold = one["ranking"]["cold"]
assert cold["als"]["items_missing"] == cold["items"], cold["als"]
# Missing items come last in the seeded random order of ties: ALS on the cold bucket ranks like random.
for metric in ("ndcg", "recall", "recall_long"):
    assert cold["als"][metric] == cold["random"][metric], (metric, cold["als"][metric], cold["random"][metric])
ndcg = {source: one["ranking"]["all"][source]["ndcg"]["mean"] for source in sources}
print("evaluate NDCG@10 (all):", {k: round(v, 4) for k, v in ndcg.items()})
assert ndcg["content-knn"] > ndcg["random"], ndcg
assert ndcg["als-full"] > ndcg["als"] > ndcg["random"], ndcg
EOF

# Protocol A: probe items that include cold items (only the content files have them).
{
  echo item_id
  "$PYTHON" - "$work/eval-1.json" "$work/shop/items.csv" "$train" <<'EOF'
import csv, sys
trained = {row["item_id"] for row in csv.DictReader(open(sys.argv[3]))}
items = [row["item_id"] for row in csv.DictReader(open(sys.argv[2]))]
print("\n".join([i for i in items if i in trained][:20] + [i for i in items if i not in trained][:10]))
EOF
} >"$work/probe_items.csv"
run2 evaluate --train "$train" --test "$test" --embeddings "$work/als/embeddings.h5" \
  --source "content=$work/content.h5" --protocol A --probe-items "$work/probe_items.csv" --bootstrap 0 \
  --out "$work/eval-a.json" >/dev/null || fail "evaluate --protocol A with a source failed"
"$PYTHON" - "$work/eval-a.json" <<'EOF' || fail "evaluate --protocol A: wrong report"
import json, sys
probe = json.load(open(sys.argv[1]))["ranking"]["probe"]
assert probe["items"] == 30, probe["items"]
assert probe["als"]["items_missing"] == 10 and probe["content"]["items_missing"] == 0, probe
EOF

# Bad --source values: a taken name, a missing '='.
if run1 evaluate --train "$train" --test "$test" --embeddings "$work/als/embeddings.h5" \
  --source "als=$work/content.h5" --out "$work/bad.json" >"$work/bad.txt" 2>&1; then
  fail "evaluate accepted a source named als"
fi
grep -q "is taken" "$work/bad.txt" || fail "evaluate: unclear message for a taken source name: $(cat "$work/bad.txt")"
if run1 evaluate --train "$train" --test "$test" --embeddings "$work/als/embeddings.h5" \
  --source "$work/content.h5" --out "$work/bad.json" >"$work/bad.txt" 2>&1; then
  fail "evaluate accepted a source without NAME="
fi
grep -q "expected NAME=FILE" "$work/bad.txt" || fail "evaluate: unclear message for --source without NAME="

finish "evaluate with sources"
