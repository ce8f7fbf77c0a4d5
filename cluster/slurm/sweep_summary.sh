#!/usr/bin/env bash
# Tabulates an ALS sweep (cluster/slurm/als_sweep.sbatch): one row per point, best NDCG first.
#
#   cluster/slurm/sweep_summary.sh OUT      (OUT as given to als_sweep.sbatch)
#
# Reads OUT/factors<F>-reg<R>/evaluation.json; points whose job has not finished are listed as missing.
set -euo pipefail
(($# == 1)) || {
  echo "usage: $0 SWEEP_OUT" >&2
  exit 2
}
exec /usr/bin/python3 - "$1" <<'PY'
import json, pathlib, re, sys
rows, missing = [], []
for point in sorted(pathlib.Path(sys.argv[1]).glob("factors*-reg*")):
    match = re.fullmatch(r"factors(\d+)-reg(.+)", point.name)
    report = point / "evaluation.json"
    if not match or not report.exists():
        missing.append(point.name)
        continue
    als = json.loads(report.read_text())["ranking"]["all"]["als"]
    rows.append((int(match[1]), match[2], als["ndcg"]["mean"], als["map"]["mean"], als["recall"]["mean"],
                 als["coverage"]))
rows.sort(key=lambda row: -row[2])
print(f"{'factors':>7} {'reg':>8} {'NDCG@K':>8} {'MAP@K':>8} {'R@K':>8} {'coverage':>8}")
for factors, reg, ndcg, map_k, recall, coverage in rows:
    print(f"{factors:>7} {reg:>8} {ndcg:>8.4f} {map_k:>8.4f} {recall:>8.4f} {coverage:>8.4f}")
if missing:
    print(f"not finished: {', '.join(missing)}")
sys.exit(0 if rows else 1)
PY
