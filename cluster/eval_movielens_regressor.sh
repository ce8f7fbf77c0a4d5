#!/usr/bin/env bash
# Reproduces the MovieLens results of docs/regressor.md and docs/evaluation.md: the content model for the long
# tail on ml-latest-small, protocols A and B of shared/design/EVALUATION.md, several seeds.
#
#   cluster/eval_movielens_regressor.sh [OUT_DIR]
#
# Protocol A (few-shot probe items): for each seed and each m in SHOTS, a few-shot split keeps m training
#   interactions of 20% of the items with >= 15 interactions; ALS trains on the rest; the regressor learns the
#   ALS vectors from content (title words, year, genres, tags); every user with a relevant test item ranks all
#   probe items with each item-vector source: als, content, blend, prior, als-full (ALS on all the ratings),
#   and the linear baseline: ridge (cluster/ridge_baseline.py: ridge regression from the same features to the
#   same ALS vectors, alpha tuned on held-out head items) and ridge-blend (blended like blend).
# Protocol B (natural tail): per-user random 80/20 split; buckets head/tail/cold; blend keeps ALS vectors for
#   head items (--als-min = the head threshold), so head quality must not drop.
# Relevant = test rating >= 4 in both. Every rating is an ALS interaction.
#
# Environment: TAILFLOW (default build/jobs/tailflow), DATASETS (default ../shared/datasets), RANKS (default 1),
# MPIEXEC (default mpiexec), SEEDS (default "1 2 3"), SHOTS (default "0 1 3"), TRAIN_OPTIONS (the regressor's
# options after --head-min 1; default "--ridge-path mix --ensemble 5 --count-shrinkage 5 --patience 1", the
# best of docs/regressor.md; TRAIN_OPTIONS="" trains the plain single network), EMBED_OPTIONS (extra embed
# options), PROTOCOLS (default "A B"), RIDGE (default 1; 0 skips the ridge baseline), PYTHON (default
# /usr/bin/python3, with numpy, scipy, scikit-learn and h5py). Protocol A with the defaults: about 8 minutes
# for 3 seeds × 3 values of m on one core, the ridge baseline included.
# Prints Markdown tables and writes OUT_DIR/summary.md and OUT_DIR/summary.json.
set -euo pipefail
# shellcheck source=cluster/movielens_eval_lib.sh
source "$(dirname "$0")/movielens_eval_lib.sh"
SHOTS=${SHOTS:-"0 1 3"}
PROTOCOLS=${PROTOCOLS:-"A B"}
RIDGE=${RIDGE:-1}
PYTHON=${PYTHON:-/usr/bin/python3}
out=${1:-movielens-regressor}
data=$DATASETS/ml-latest-small
for f in ratings.csv movies.csv tags.csv; do
  [[ -r $data/$f ]] || { echo "error: cannot read $data/$f (set DATASETS)" >&2; exit 1; }
done
mkdir -p "$out"

# ALS as in docs/als-movielens.md (implicit feedback, all ratings as interactions).
als=("${MOVIELENS_IMPLICIT_ALS[@]}")
# Content: titles (the year becomes a numeric column and a decade), genres as a multi-valued category, tags.
features=(--items "$data/movies.csv" --tags "$data/tags.csv")
# The regressor: the best settings of the ablations in docs/regressor.md: 5 networks averaged, mixed with the
# closed-form ridge path by a weight fitted on held-out head items, each head item's loss weighed n/(n + 5);
# --patience 1 because the best held-out epoch is the second one. TRAIN_OPTIONS replaces them (set but empty:
# the plain single network).
read -r -a train_extra <<<"${TRAIN_OPTIONS---ridge-path mix --ensemble 5 --count-shrinkage 5 --patience 1}"
read -r -a embed_extra <<<"${EMBED_OPTIONS:-}"
train=(--head-min 1 "${train_extra[@]}")

# One chain: ALS on the split's training part, features, regressor, and the three embedding modes.
chain() {
  local dir=$1 seed=$2
  shift 2
  tailflow als --interactions "$dir/split/train.csv" --out "$dir/als" --seed "$seed" "${als[@]}"
  tailflow features "${features[@]}" --interactions "$dir/split/train.csv" --out "$dir/features"
  tailflow train --embeddings "$dir/als/embeddings.h5" --features "$dir/features" --out "$dir/regressor" \
    --seed "$seed" "${train[@]}"
  tailflow embed --model "$dir/regressor/model" --features "$dir/features" --out "$dir/content.h5"
  tailflow embed --model "$dir/regressor/model" --features "$dir/features" --embeddings "$dir/als/embeddings.h5" \
    --out "$dir/blend.h5" "$@" "${embed_extra[@]}"
  tailflow embed --model "$dir/regressor/model" --features "$dir/features" --embeddings "$dir/als/embeddings.h5" \
    --prior --interactions "$dir/split/train.csv" --out "$dir/prior.h5" "${embed_extra[@]}"
}

for seed in $SEEDS; do
  # The upper bound: ALS trained on every rating (test interactions included).
  full=$out/als-full-$seed
  tailflow als --interactions "$data/ratings.csv" --on-bad-row skip --out "$full" --seed "$seed" "${als[@]}"

  for m in $SHOTS; do
    [[ " $PROTOCOLS " == *" A "* ]] || break
    dir=$out/A-m$m-s$seed
    tailflow split --interactions "$data/ratings.csv" --on-bad-row skip --method few-shot --shots "$m" \
      --seed "$seed" --out "$dir/split"
    chain "$dir" "$seed"
    ridge=()
    if ((RIDGE)); then
      "$PYTHON" "$here/cluster/ridge_baseline.py" --features "$dir/features" --embeddings "$dir/als/embeddings.h5" \
        --head-min 1 --alphas 3,10 --seed "$seed" --out "$dir/ridge.h5" --blend-out "$dir/ridge_blend.h5" \
        --json "$dir/ridge.json" >"$dir/ridge.txt"
      ridge=(--source ridge="$dir/ridge.h5" --source ridge-blend="$dir/ridge_blend.h5")
    fi
    tailflow evaluate --protocol A --train "$dir/split/train.csv" --test "$dir/split/test.csv" \
      --embeddings "$dir/als/embeddings.h5" --source content="$dir/content.h5" --source blend="$dir/blend.h5" \
      --source prior="$dir/prior.h5" --source als-full="$full/embeddings.h5" "${ridge[@]}" \
      --features "$dir/features" --relevance-threshold 4 --k 10 --seed "$seed" --out "$dir/evaluation.json" \
      --markdown "$dir/evaluation.md" >"$dir/evaluation.txt"
  done

  [[ " $PROTOCOLS " == *" B "* ]] || continue
  dir=$out/B-s$seed
  tailflow split --interactions "$data/ratings.csv" --on-bad-row skip --method random --test-fraction 0.2 \
    --seed "$seed" --out "$dir/split"
  # Head items (the 80% rule, computed on the training part) keep their ALS vectors in the blend.
  head_min=$(/usr/bin/python3 - "$dir/split/train.csv" <<'EOF'
import collections, csv, sys
counts = collections.Counter(row[1] for row in list(csv.reader(open(sys.argv[1])))[1:])
total, running = sum(counts.values()), 0
for count in sorted(counts.values(), reverse=True):
    running += count
    if running >= 0.8 * total:
        print(count)
        break
EOF
)
  chain "$dir" "$seed" --als-min "$head_min"
  tailflow evaluate --protocol B --buckets --head-min "$head_min" --train "$dir/split/train.csv" \
    --test "$dir/split/test.csv" --embeddings "$dir/als/embeddings.h5" --source content="$dir/content.h5" \
    --source blend="$dir/blend.h5" --source prior="$dir/prior.h5" --source als-full="$full/embeddings.h5" \
    --features "$dir/features" --relevance-threshold 4 --k 10 --seed "$seed" --out "$dir/evaluation.json" \
    --markdown "$dir/evaluation.md" >"$dir/evaluation.txt"
done

/usr/bin/python3 "$here/cluster/summarize_protocols.py" "$out" --seeds $SEEDS --shots $SHOTS | tee "$out/summary.md"
