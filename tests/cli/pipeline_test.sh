#!/usr/bin/env bash
# `tailflow pipeline` end to end on a small generated shop, under mpiexec -n 2. Checks:
#   1. a full run writes every stage's outputs and records, and prints the results table;
#   2. a second run skips every stage and prints the same table;
#   3. changing one [train] option reruns train and the stages after it only; a run that ends training early
#      on purpose (--max-epochs-this-run) exits with status 75 and records no finished train stage;
#   4. the next run resumes train from its checkpoint (not from epoch 0); SIGTERM to the ranks during it ends
#      the job with status 75;
#   5. the run after that resumes from the last epoch's checkpoint and finishes the pipeline;
#   6. the report runs the figures script (a stand-in here) and links its pictures (checked in 1);
#   7. an unknown config key is an error naming the file, the line and the valid keys.
# Environment (set by ctest): TAILFLOW, MPIEXEC, MPIEXEC_FLAGS.
source "$(dirname "$0")/cli_test_lib.sh" pipeline
cd "$work" || exit 1

# A stand-in for scripts/plots/make_figures.py: checks its arguments and writes one "picture".
cat >figures.py <<'EOF'
import sys
args = sys.argv[1:]
out = args[args.index("--out") + 1]
pipeline_out = args[args.index("--pipeline-out") + 1]
open(f"{pipeline_out}/report/figures-called", "w").write(" ".join(args))
open(f"{out}/stand_in.png", "wb").write(b"\x89PNG\r\n")
EOF

cat >small.ini <<EOF
# A shop small enough for a test.
out = run
seed = 3
checkpoint-every = 1
[generate]
users = 1000
items = 600
[als]
factors = 8
iterations = 3
[features]
text-hash-bits = 12
[train]
epochs = 3
hidden = 32
bag-dims = 16
batch = 64
threads-per-rank = 1
patience = 0
[evaluate]
bootstrap = 50
[report]
figures-script = $work/figures.py
EOF

pipeline() { "$MPIEXEC" -n 2 "${MPI_FLAGS[@]}" "$TAILFLOW" pipeline --config small.ini "$@"; }
stages=(generate features split als train embed evaluate report)
# Stage name -> its folder under run/.
folder() {
  case $1 in
    generate) echo data ;; train) echo regressor ;; embed) echo embeddings ;; evaluate) echo evaluation ;;
    *) echo "$1" ;;
  esac
}
expect_runs() {  # LOG STAGE... : exactly these stages ran, every other one was skipped as unchanged
  local log=$1 stage
  shift
  for stage in "${stages[@]}"; do
    if [[ " $* " == *" $stage "* ]]; then
      grep -q "\] run $stage " "$log" || fail "$log: $stage did not run"
    else
      grep -q "\] skip $stage: unchanged" "$log" || fail "$log: $stage was not skipped as unchanged"
    fi
  done
}

# 1. Everything, from nothing.
pipeline >out1.txt 2>log1.txt || { tail -20 log1.txt; fail "full run failed"; }
for file in data/items.csv split/train.csv split/test.csv als/embeddings.h5 features/features.h5 \
  regressor/model/model.pt embeddings/content.h5 embeddings/blend.h5 embeddings/prior.h5 \
  evaluation/protocol-b.json report/results.txt report/results.md report/figures/stand_in.png; do
  [[ -s run/$file ]] || fail "no run/$file"
done
for stage in "${stages[@]}"; do
  grep -q '"fingerprint"' "run/$(folder "$stage")/stage.json" 2>/dev/null || fail "no stage record for $stage"
done
expect_runs log1.txt "${stages[@]}"
grep -q "^bucket .*NDCG@10 .*MAP@10 .*Recall@10" out1.txt || fail "no results table on stdout"
for source in als content blend prior popularity random; do
  grep -Eq "^ *(all|head|tail|cold)? .* $source +[0-9]+ +0\.[0-9]{4} \[" out1.txt || fail "table: no row for $source"
done
for bucket in all head tail; do grep -q "^$bucket " out1.txt || fail "table: no $bucket bucket"; done
grep -q -- "--pipeline-out run --out run/report/figures" run/report/figures-called ||
  fail "figures script called with other arguments: $(cat run/report/figures-called 2>/dev/null)"
grep -q "figures/stand_in.png" run/report/results.md || fail "results.md does not show the figure"

# 2. Nothing changed: every stage is skipped, the same table is printed.
pipeline >out2.txt 2>log2.txt || fail "second run failed"
expect_runs log2.txt
cmp -s out1.txt out2.txt || fail "the second run printed another table"

# 3. One [train] option changed, and training ends early on purpose after 1 epoch.
pipeline --set train.epochs=20 --set train.max-epochs-this-run=1 >out3.txt 2>log3.txt
status=$?
((status == 75)) || fail "a run that stopped training early ended with status $status, not 75"
for stage in generate features split als; do
  grep -q "\] skip $stage: unchanged" log3.txt || fail "log3: $stage was not skipped"
done
grep -q "\] run train " log3.txt || fail "log3: train did not rerun after its option changed"
[[ -f run/regressor/stage.json ]] && fail "an unfinished train stage has a record"

# 4. The rerun resumes training at epoch 1 (of now 20); SIGTERM to every rank during it (as Slurm does before
#    preempting a job) stops it at an epoch boundary with status 75.
"$MPIEXEC" -n 2 "${MPI_FLAGS[@]}" "$TAILFLOW" pipeline --config small.ini --set train.epochs=20 >out4.txt 2>log4.txt &
launcher=$!
for _ in $(seq 1 600); do
  grep -q "regressor epoch 2:" log4.txt && break
  sleep 0.1
done
ranks=$(pgrep -P "$launcher")
[[ -n $ranks ]] && kill -TERM $ranks
wait "$launcher"
status=$?
((status == 75)) || fail "SIGTERM during train: status $status, not 75"
grep -q "\] run train .*resuming from its checkpoint" log4.txt || fail "log4: train did not resume"
grep -q "resumed from .* at epoch 1" log4.txt || fail "log4: training did not continue from epoch 1"
grep -q "regressor epoch 0:" log4.txt && fail "log4: training started again from epoch 0"
grep -q "train stopped after" log4.txt || fail "log4: no line saying that train stopped"

# 5. The next run resumes from the last checkpoint before the signal; embed, evaluate and report follow.
pipeline --set train.epochs=20 >out5.txt 2>log5.txt || fail "run after SIGTERM failed"
grep -Eq "resumed from .* at epoch ([3-9]|[1-9][0-9])" log5.txt || fail "log5: training did not resume after SIGTERM"
grep -q "regressor epoch [0-2]:" log5.txt && fail "log5: training repeated epochs done before the signal"
expect_runs log5.txt train embed evaluate report
grep -q "^bucket " out5.txt || fail "no results table after the resumed run"

# 7. Config errors name the place.
printf 'out = run\n[als]\nfactorz = 8\n' >bad.ini
"$TAILFLOW" pipeline --config bad.ini >bad.txt 2>&1 && fail "an unknown key was accepted"
grep -q "bad.ini:3: \[als\] has no key 'factorz'.*factors" bad.txt || {
  cat bad.txt
  fail "unclear message for an unknown key"
}
finish "pipeline"
