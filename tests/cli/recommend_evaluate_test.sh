#!/usr/bin/env bash
# Using embeddings end to end on a small generated shop: generate, split, als, then recommend, similar and
# evaluate alone and under mpiexec -n 2. Checks: the files have the right shape; no recommended item was seen
# in training; recommendations and similar items are the same for 1 and 2 ranks; evaluate reports the same
# figures for 1 and 2 ranks, and ALS NDCG@10 > popularity NDCG@10 > random NDCG@10; --protocol A ranks only
# the probe items.
# Environment (set by ctest): TAILFLOW, MPIEXEC, MPIEXEC_FLAGS.
source "$(dirname "$0")/cli_test_lib.sh" recommend

run1 generate --out "$work/shop" --users 2000 --items 1000 --seed 7 >/dev/null || fail "generate failed"
run1 split --interactions "$work/shop/interactions.csv" --out "$work/split" --seed 1 || fail "split failed"
train=$work/split/train.csv
test=$work/split/test.csv
# Settings that suit this small shop (a few quick tries: 8 factors beat 16 and 32 here).
run1 als --interactions "$train" --out "$work/als" --factors 8 --reg 1 --alpha 2 --iterations 10 ||
  fail "als failed"
embeddings=$work/als/embeddings.h5

# --- recommend ---------------------------------------------------------------------------------------------
run1 recommend --embeddings "$embeddings" --exclude "$train" --k 10 --out "$work/rec-1.csv" ||
  fail "recommend: one rank failed"
run2 recommend --embeddings "$embeddings" --exclude "$train" --k 10 --out "$work/rec-2.csv" ||
  fail "recommend: two ranks failed"
[[ $(head -1 "$work/rec-1.csv") == "user_id,rank,item_id,score" ]] || fail "recommend: wrong header"
users=$(tail -n +2 "$train" | cut -d, -f1 | sort -u | wc -l)
rows=$(($(wc -l <"$work/rec-1.csv") - 1))
((rows == users * 10)) || fail "recommend: $rows rows for $users users × 10"
cmp -s <(sort "$work/rec-1.csv") <(sort "$work/rec-2.csv") || fail "recommend: 1 and 2 ranks differ"
# "user,item" keys common to both is a recommended item the user saw in training.
seen=$(comm -12 <(tail -n +2 "$train" | cut -d, -f1,2 | sort -u) \
  <(tail -n +2 "$work/rec-1.csv" | awk -F, '{print $1","$3}' | sort -u) | wc -l)
((seen == 0)) || fail "recommend: $seen recommendations were seen in training"
ranks_ok=$(tail -n +2 "$work/rec-1.csv" | awk -F, '$2 < 1 || $2 > 10 {bad++} END {print bad + 0}')
((ranks_ok == 0)) || fail "recommend: ranks outside 1..10"

# Chosen users (one id per line; one of them unknown) and HDF5 output.
printf 'user_id\nu000003\nu000010\nnobody\n' >"$work/users.txt"
run2 recommend --embeddings "$embeddings" --users "$work/users.txt" --exclude "$train" --k 5 \
  --out "$work/rec-some.h5" || fail "recommend --users: failed"
"$PYTHON" - "$work/rec-some.h5" "$work/rec-1.csv" <<'EOF' || fail "recommend --users: wrong HDF5 output"
import csv, sys, h5py
f = h5py.File(sys.argv[1], "r")
users = [u.decode() if isinstance(u, bytes) else u for u in f["user_id"][:]]
items = [i.decode() if isinstance(i, bytes) else i for i in f["item_id"][:]]
assert sorted(set(users)) == ["u000003", "u000010"], set(users)
assert len(users) == 10 and list(f["rank"][:]) == [1, 2, 3, 4, 5] * 2, list(f["rank"][:])
full = {(r["user_id"], int(r["rank"])): r["item_id"] for r in csv.DictReader(open(sys.argv[2]))}
for user, rank, item in zip(users, f["rank"][:], items):
    assert full[(user, int(rank))] == item, (user, rank, item)
EOF

# --- similar -----------------------------------------------------------------------------------------------
run1 similar --embeddings "$embeddings" --k 5 --out "$work/sim-1.csv" || fail "similar: one rank failed"
run2 similar --embeddings "$embeddings" --k 5 --out "$work/sim-2.csv" || fail "similar: two ranks failed"
[[ $(head -1 "$work/sim-1.csv") == "item_id,rank,similar_item_id,score" ]] || fail "similar: wrong header"
items=$(tail -n +2 "$train" | cut -d, -f2 | sort -u | wc -l)
rows=$(($(wc -l <"$work/sim-1.csv") - 1))
((rows == items * 5)) || fail "similar: $rows rows for $items items × 5"
# Cosines of 1 and 2 ranks may differ in the last float bit (normalised in other blocks), and items with
# parallel vectors tie at 1: compare scores within 1e-5, and items only where the scores are not that close.
"$PYTHON" - "$work/sim-1.csv" "$work/sim-2.csv" <<'EOF' || fail "similar: 1 and 2 ranks differ"
import csv, sys
from collections import defaultdict
def lists(path):
    result = defaultdict(dict)
    for row in csv.DictReader(open(path)):
        result[row["item_id"]][int(row["rank"])] = (row["similar_item_id"], float(row["score"]))
    return result
one, two = lists(sys.argv[1]), lists(sys.argv[2])
assert one.keys() == two.keys(), "different items"
for item, a in one.items():
    b = two[item]
    assert a.keys() == b.keys(), (item, a, b)
    for r in a:
        assert abs(a[r][1] - b[r][1]) < 1e-5, (item, r, a[r], b[r])
        # (an item outside the list may tie with the last one)
        last = a[max(a)][1]
        if r != max(a) and abs(a[r][1] - last) > 1e-5 and all(abs(a[r][1] - a[q][1]) > 1e-5 for q in a if q != r):
            assert a[r][0] == b[r][0], (item, r, a[r], b[r])
EOF
self=$(tail -n +2 "$work/sim-1.csv" | awk -F, '$1 == $3' | wc -l)
((self == 0)) || fail "similar: $self items are listed as similar to themselves"
bad_scores=$(tail -n +2 "$work/sim-1.csv" | awk -F, '$4 > 1.0001 || $4 < -1.0001' | wc -l)
((bad_scores == 0)) || fail "similar: cosine outside [-1, 1]"

# --- evaluate ----------------------------------------------------------------------------------------------
run1 evaluate --train "$train" --test "$test" --embeddings "$embeddings" --buckets --bootstrap 200 \
  --out "$work/eval-1.json" >"$work/eval-1.txt" || fail "evaluate: one rank failed"
run2 evaluate --train "$train" --test "$test" --embeddings "$embeddings" --buckets --bootstrap 200 \
  --out "$work/eval-2.json" >/dev/null || fail "evaluate: two ranks failed"
grep -q "NDCG@10" "$work/eval-1.txt" || fail "evaluate: no table printed"
"$PYTHON" - "$work/eval-1.json" "$work/eval-2.json" <<'EOF' || fail "evaluate: wrong report (see above)"
import json, sys
one, two = (json.load(open(path)) for path in sys.argv[1:3])
ndcg = {source: one["ranking"]["all"][source]["ndcg"]["mean"] for source in ("als", "popularity", "random")}
print("evaluate NDCG@10:", ndcg)
assert ndcg["als"] > ndcg["popularity"] > ndcg["random"], ndcg
assert {"head", "tail"} <= set(one["ranking"]), one["ranking"].keys()
for bucket in one["ranking"]:
    for source in ("als", "popularity", "random"):
        a, b = one["ranking"][bucket][source], two["ranking"][bucket][source]
        for metric in ("precision", "recall", "ndcg", "map"):
            for key in ("mean", "low", "high"):
                assert abs(a[metric][key] - b[metric][key]) < 1e-9, (bucket, source, metric, key)
        assert a["users"] == b["users"] > 0 and abs(a["coverage"] - b["coverage"]) < 1e-12
        e = a["ndcg"]
        assert e["low"] <= e["mean"] <= e["high"], (bucket, source, e)
EOF

# Protocol A ranks only the probe items (here: 30 items of the training file, given as a list).
{
  echo item_id
  tail -n +2 "$train" | cut -d, -f2 | sort -u | head -30
} >"$work/probe_items.csv"
run2 evaluate --train "$train" --test "$test" --embeddings "$embeddings" --protocol A \
  --probe-items "$work/probe_items.csv" --bootstrap 0 --out "$work/eval-a.json" >/dev/null ||
  fail "evaluate --protocol A failed"
"$PYTHON" - "$work/eval-a.json" <<'EOF' || fail "evaluate --protocol A: wrong report"
import json, sys
report = json.load(open(sys.argv[1]))
assert report["protocol"] == "A" and list(report["ranking"]) == ["probe"], report["ranking"].keys()
probe = report["ranking"]["probe"]
assert probe["items"] == 30 and probe["als"]["users"] > 0, probe
EOF

if ((failures > 0)); then
  echo "$failures failure(s)"
  exit 1
fi
echo "recommend/similar/evaluate: all checks passed"
