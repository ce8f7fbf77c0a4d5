# shellcheck shell=bash
# Shared set-up of the MovieLens evaluation drivers (sourced, not run): cluster/eval_movielens_als.sh and
# cluster/eval_movielens_regressor.sh.
#
# Gives: $TAILFLOW (default build/jobs/tailflow), $DATASETS (default ../shared/datasets), $RANKS (default 1),
# $MPIEXEC (default mpiexec), $SEEDS (default "1 2 3"), the array MOVIELENS_IMPLICIT_ALS (the implicit ALS
# settings of docs/als-movielens.md, which both drivers use), and tailflow ARGS (quietly, on RANKS ranks).
if [[ $(id -u) -eq 0 ]]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TAILFLOW=${TAILFLOW:-$here/build/jobs/tailflow}
DATASETS=${DATASETS:-$here/../shared/datasets}
RANKS=${RANKS:-1}
MPIEXEC=${MPIEXEC:-mpiexec}
SEEDS=${SEEDS:-"1 2 3"}

# Every rating is an implicit interaction with confidence 1 + alpha * rating. Used by the sourcing drivers.
# shellcheck disable=SC2034
MOVIELENS_IMPLICIT_ALS=(--feedback implicit --solver cg --cg-steps 3 --factors 32 --reg 5 --alpha 1 --iterations 15)

tailflow() {
  if ((RANKS > 1)); then
    "$MPIEXEC" -n "$RANKS" --oversubscribe "$TAILFLOW" "$@" -q
  else
    "$TAILFLOW" "$@" -q
  fi
}
