#!/usr/bin/env bash
# Reproduces docs/als-movielens.md: ALS on MovieLens ml-latest-small, per-user random 80/20 split, 3 seeds.
#   (a) explicit ALS with biases against the global-mean-plus-biases baseline (RMSE on the test ratings);
#   (b) implicit ALS against popularity and random (NDCG@10 etc., relevant = test rating >= 4).
#
#   cluster/eval_movielens_als.sh [OUT_DIR]
# Environment: TAILFLOW (default build/jobs/tailflow), DATASETS (default ../shared/datasets), RANKS (default 1;
# more runs every step under $MPIEXEC -n RANKS), SEEDS (default "1 2 3").
# Takes about a minute per seed on one core. Prints a markdown table and writes OUT_DIR/summary.md.
set -euo pipefail
# shellcheck source=cluster/movielens_eval_lib.sh
source "$(dirname "$0")/movielens_eval_lib.sh"
out=${1:-movielens-als}
ratings=$DATASETS/ml-latest-small/ratings.csv
[[ -r $ratings ]] || { echo "error: cannot read $ratings (set DATASETS)" >&2; exit 1; }
mkdir -p "$out"

# The settings chosen after a few quick tries on seed 1 (see docs/als-movielens.md).
explicit=(--feedback explicit --biases --solver cholesky --factors 32 --reg 0.15 --reg-scaling count --iterations 15)
implicit=("${MOVIELENS_IMPLICIT_ALS[@]}")

for seed in $SEEDS; do
  split=$out/split-$seed
  # ratings.csv has one malformed row: skip it (it is counted and reported).
  tailflow split --interactions "$ratings" --on-bad-row skip --method random --test-fraction 0.2 --seed "$seed" \
    --out "$split"
  tailflow als --interactions "$split/train.csv" --out "$out/explicit-$seed" "${explicit[@]}"
  tailflow evaluate --train "$split/train.csv" --test "$split/test.csv" \
    --embeddings "$out/explicit-$seed/embeddings.h5" --feedback explicit --relevance-threshold 4 --k 10 \
    --seed "$seed" --out "$out/explicit-$seed.json" >"$out/explicit-$seed.txt"
  tailflow als --interactions "$split/train.csv" --out "$out/implicit-$seed" "${implicit[@]}"
  tailflow evaluate --train "$split/train.csv" --test "$split/test.csv" \
    --embeddings "$out/implicit-$seed/embeddings.h5" --feedback implicit --relevance-threshold 4 --k 10 \
    --buckets --seed "$seed" --out "$out/implicit-$seed.json" >"$out/implicit-$seed.txt"
done

/usr/bin/python3 - "$out" $SEEDS <<'EOF' | tee "$out/summary.md"
import json, statistics, sys
out, seeds = sys.argv[1], sys.argv[2:]
def spread(values):
    mean = statistics.mean(values)
    half = (max(values) - min(values)) / 2
    return f"{mean:.4f} ± {half:.4f}"
explicit = [json.load(open(f"{out}/explicit-{s}.json")) for s in seeds]
implicit = [json.load(open(f"{out}/implicit-{s}.json")) for s in seeds]
print(f"Seeds {', '.join(seeds)}; mean ± half the range over seeds.\n")
print("(a) explicit feedback, RMSE / MAE on the test ratings\n")
print("| model | test pairs (per seed) | RMSE | MAE |")
print("|---|---|---|---|")
for name in ("als", "mean_plus_biases", "global_mean"):
    rows = [e["rating_prediction"][name] for e in explicit]
    pairs = "/".join(str(r["pairs"]) for r in rows)
    print(f"| {name} | {pairs} | {spread([r['rmse'] for r in rows])} | {spread([r['mae'] for r in rows])} |")
print("\n(b) implicit feedback, top 10 of the items not rated in training; relevant = test rating >= 4\n")
print("| items (per seed) | source | users (per seed) | P@10 | R@10 | NDCG@10 | MAP@10 | coverage |")
print("|---|---|---|---|---|---|---|---|")
for bucket in implicit[0]["ranking"]:
    for source in ("als", "popularity", "random"):
        rows = [i["ranking"][bucket][source] for i in implicit]
        cells = [spread([r[m]["mean"] for r in rows]) for m in ("precision", "recall", "ndcg", "map")]
        users = "/".join(str(r["users"]) for r in rows)
        items = "/".join(str(i["ranking"][bucket]["items"]) for i in implicit)
        print(f"| {bucket} ({items}) | {source} | {users} | "
              + " | ".join(cells) + f" | {spread([r['coverage'] for r in rows])} |")
print("\nNDCG@10 95% bootstrap intervals (over users), per seed:\n")
for s, i in zip(seeds, implicit):
    parts = [f"{src} [{i['ranking']['all'][src]['ndcg']['low']:.4f}, {i['ranking']['all'][src]['ndcg']['high']:.4f}]"
             for src in ("als", "popularity", "random")]
    print(f"- seed {s}: " + ", ".join(parts))
EOF
