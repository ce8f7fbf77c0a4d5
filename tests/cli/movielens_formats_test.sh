#!/usr/bin/env bash
# The MovieLens pipeline configs on small synthetic files in each dataset's own format, under mpiexec -n 2:
#   1. cluster/configs/movielens_1m.ini on ML-1M-style files: `::`-separated ratings.dat/movies.dat without
#      header lines, Latin-1 titles ("Misérables") and genres; the run finishes, every output exists and the
#      Latin-1 titles are reported as converted;
#   2. cluster/configs/movielens_20m.ini on ML-20M-style files (ratings.csv, movies.csv, tags.csv with headers).
# Both with tiny settings through --set. Environment (set by ctest): TAILFLOW, MPIEXEC, MPIEXEC_FLAGS.
source "$(dirname "$0")/cli_test_lib.sh" movielens-formats
configs=$(cd "$(dirname "$0")/../../cluster/configs" && pwd)
cd "$work" || exit 1

# 40 users, 60 movies, ~450 ratings; popularity falls with the movie id so there is a head and a tail.
"$PYTHON" - <<'EOF'
import os, random
random.seed(5)
genres = ["Action", "Comedy", "Drama", "Children's", "Musical", "Sci-Fi", "Film-Noir"]
titles = []
for m in range(1, 61):
    if m == 7:
        t = "Mis\xe9rables, Les (1995)"  # é: one Latin-1 byte in the file
    elif m == 11:
        t = "Cit\xe9 des enfants perdus, La (1995)"
    else:
        t = f"Movie number {m} ({1960 + m % 40})"
    titles.append((m, t, "|".join(random.sample(genres, 1 + m % 3))))
ratings = []
for u in range(1, 41):
    for m in random.sample(range(1, 61), 12):
        if random.random() < 1.0 / (1 + m / 15):
            ratings.append((u, m, random.randint(1, 5), 978300000 + u * 1000 + m))
for name in ("ml-1m", "ml-20m"):
    os.makedirs(f"datasets/{name}", exist_ok=True)
with open("datasets/ml-1m/movies.dat", "wb") as f:
    for m, t, g in titles:
        f.write(f"{m}::{t}::{g}\n".encode("latin-1"))
with open("datasets/ml-1m/ratings.dat", "wb") as f:
    for r in ratings:
        f.write("::".join(map(str, r)).encode("ascii") + b"\n")
with open("datasets/ml-20m/movies.csv", "w", encoding="utf-8") as f:
    f.write("movieId,title,genres\n")
    for m, t, g in titles:
        f.write(f'{m},"{t}",{g}\n')
with open("datasets/ml-20m/ratings.csv", "w") as f:
    f.write("userId,movieId,rating,timestamp\n")
    for u, m, r, t in ratings:
        f.write(f"{u},{m},{r}.0,{t}\n")
with open("datasets/ml-20m/tags.csv", "w") as f:
    f.write("userId,movieId,tag,timestamp\n")
    for u, m, r, t in ratings[::9]:
        f.write(f"{u},{m},tag{m % 4},{t}\n")
EOF
grep -q $'Mis\xe9rables' datasets/ml-1m/movies.dat || fail "the test data has no Latin-1 byte"

tiny=(--set als.factors=4 --set als.iterations=2 --set features.text-hash-bits=10 --set train.epochs=2
  --set train.hidden=16 --set evaluate.bootstrap=0 --set report.figures=no)

check_run() {  # NAME OUT: the pipeline finished and wrote every stage's outputs
  local name=$1 out=$2
  for file in features/features.h5 split/train.csv split/test.csv als/embeddings.h5 regressor/model/model.pt \
    embeddings/content.h5 embeddings/blend.h5 embeddings/prior.h5 evaluation/protocol-b.json report/results.md; do
    [[ -s $out/$file ]] || fail "$name: no $out/$file"
  done
  grep -q '"tail"' "$out/evaluation/protocol-b.json" || fail "$name: no tail bucket in the report"
}

# 1. ML-1M layout (protocol A off: its chains would triple the run time).
if DATASETS=$work/datasets "$MPIEXEC" -n 2 "${MPI_FLAGS[@]}" "$TAILFLOW" pipeline \
  --config "$configs/movielens_1m.ini" --out ml1m "${tiny[@]}" --set protocol-a.shots= \
  >ml1m.out 2>ml1m.err; then
  check_run ml-1m ml1m
  grep -q "read as ISO-8859-1" ml1m.err || fail "ml-1m: the Latin-1 titles were not reported as converted"
  grep -q "movies.dat: 60 items" ml1m.err || fail "ml-1m: movies.dat was not read as 60 items"
  ratings=$(wc -l <datasets/ml-1m/ratings.dat)
  split=$(($(wc -l <ml1m/split/train.csv) + $(wc -l <ml1m/split/test.csv) - 2))
  ((split == ratings)) || fail "ml-1m: the split holds $split interactions, ratings.dat $ratings"
else
  fail "ml-1m: the pipeline failed"
  tail -20 ml1m.err
fi

# 2. ML-20M layout.
if DATASETS=$work/datasets "$MPIEXEC" -n 2 "${MPI_FLAGS[@]}" "$TAILFLOW" pipeline \
  --config "$configs/movielens_20m.ini" --out ml20m "${tiny[@]}" >ml20m.out 2>ml20m.err; then
  check_run ml-20m ml20m
  grep -q "tags.csv: [1-9]" ml20m.err || fail "ml-20m: tags.csv was not read"
else
  fail "ml-20m: the pipeline failed"
  tail -20 ml20m.err
fi

finish movielens_formats
