#!/usr/bin/python3
"""Summarises the reports of cluster/eval_movielens_regressor.sh (or any run laid out the same way).

Reads OUT/A-m<m>-s<seed>/evaluation.json (protocol A) and OUT/B-s<seed>/evaluation.json (protocol B), both
written by `tailflow evaluate`, and prints Markdown tables: mean ± half the range over seeds, the 95% bootstrap
interval of each seed, the ratios the issue asks for, and the change in head-item quality under protocol B.
Writes OUT/summary.json with the same numbers.
"""
import argparse
import json
import os
import statistics
import sys

METRICS = (("ndcg", "NDCG@10"), ("map", "MAP@10"), ("recall", "Recall@10"))
LEARNED = ("content", "blend", "prior")
LINEAR = ("ridge", "ridge-blend")  # cluster/ridge_baseline.py, when the run has it


def best_of(reports, names):
    """(source, mean NDCG@10) of the best of `names` on the probe items; (None, nan) when none was run."""
    best, best_mean = None, float("nan")
    for source in names:
        values = metric_values(reports, "probe", source, "ndcg")
        if values and (best is None or statistics.mean(values) > best_mean):
            best, best_mean = source, statistics.mean(values)
    return best, best_mean


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def spread(values):
    if not values:
        return "—"
    return f"{statistics.mean(values):.4f} ± {(max(values) - min(values)) / 2:.4f}"


def metric_values(reports, bucket, source, metric):
    values = []
    for report in reports:
        entry = report["ranking"].get(bucket, {}).get(source)
        if entry and entry.get("users", 0) > 0:
            values.append(entry[metric]["mean"])
    return values


def sources_of(reports, bucket):
    names = []
    for report in reports:
        for name, entry in report["ranking"].get(bucket, {}).items():
            if isinstance(entry, dict) and "ndcg" in entry and name not in names:
                names.append(name)
    return names


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out")
    parser.add_argument("--seeds", nargs="+", required=True)
    parser.add_argument("--shots", nargs="+", default=[])
    args = parser.parse_args()
    summary = {"seeds": args.seeds, "protocol_a": {}, "protocol_b": {}}

    if args.shots:
        print(f"## Protocol A: probe items, relevant = test rating >= 4; seeds {', '.join(args.seeds)}\n")
        print("NDCG@10 (mean ± half the range over seeds) by the probe items' training interactions m:\n")
        per_m = {}
        for m in args.shots:
            paths = [os.path.join(args.out, f"A-m{m}-s{s}", "evaluation.json") for s in args.seeds]
            per_m[m] = [load(p) for p in paths if os.path.exists(p)]
        sources = []
        for reports in per_m.values():
            for name in sources_of(reports, "probe"):
                if name not in sources:
                    sources.append(name)
        print("| source | " + " | ".join(f"m = {m}" for m in args.shots) + " |")
        print("|---|" + "---|" * len(args.shots))
        for source in sources:
            cells = [spread(metric_values(per_m[m], "probe", source, "ndcg")) for m in args.shots]
            print(f"| {source} | " + " | ".join(cells) + " |")
        print("\nMAP@10 and Recall@10:\n")
        print("| source | " + " | ".join(f"MAP m = {m} | Recall m = {m}" for m in args.shots) + " |")
        print("|---|" + "---|---|" * len(args.shots))
        for source in sources:
            cells = []
            for m in args.shots:
                cells.append(spread(metric_values(per_m[m], "probe", source, "map")))
                cells.append(spread(metric_values(per_m[m], "probe", source, "recall")))
            print(f"| {source} | " + " | ".join(cells) + " |")
        print("\nBest learned source against ALS-only vectors (ratio of mean NDCG@10):\n")
        print("| m | best source | NDCG@10 | ALS-only | ratio |")
        print("|---|---|---|---|---|")
        for m in args.shots:
            als = metric_values(per_m[m], "probe", "als", "ndcg")
            best, best_mean = best_of(per_m[m], LEARNED)
            als_mean = statistics.mean(als) if als else float("nan")
            ratio = best_mean / als_mean if als and als_mean > 0 else float("nan")
            print(f"| {m} | {best} | {best_mean:.4f} | {als_mean:.4f} | {ratio:.2f}× |")
            summary["protocol_a"][m] = {
                "best_source": best,
                "best_ndcg": best_mean,
                "als_ndcg": als_mean,
                "sources": {s: {metric: metric_values(per_m[m], "probe", s, metric) for metric, _ in METRICS}
                            for s in sources},
            }
        if any(best_of(per_m[m], LINEAR)[0] for m in args.shots):
            print("\nBest learned source against the linear baseline (ridge regression, same features and splits):\n")
            print("| m | best source | NDCG@10 | best ridge source | NDCG@10 | difference |")
            print("|---|---|---|---|---|---|")
            for m in args.shots:
                best, best_mean = best_of(per_m[m], LEARNED)
                linear, linear_mean = best_of(per_m[m], LINEAR)
                print(f"| {m} | {best} | {best_mean:.4f} | {linear} | {linear_mean:.4f} | "
                      f"{best_mean - linear_mean:+.4f} |")
                summary["protocol_a"][m]["linear_source"] = linear
                summary["protocol_a"][m]["linear_ndcg"] = linear_mean
        print("\n95% bootstrap intervals of NDCG@10 (over users), per seed and m:\n")
        for m in args.shots:
            for seed, report in zip(args.seeds, per_m[m]):
                probe = report["ranking"]["probe"]
                parts = [f"{s} [{probe[s]['ndcg']['low']:.3f}, {probe[s]['ndcg']['high']:.3f}]"
                         for s in sources if s in probe and probe[s].get("users", 0) > 0]
                print(f"- m = {m}, seed {seed} ({probe.get('items', '?')} probe items): " + ", ".join(parts))
        print()

    paths = [os.path.join(args.out, f"B-s{s}", "evaluation.json") for s in args.seeds]
    reports = [load(p) for p in paths if os.path.exists(p)]
    if reports:
        print(f"## Protocol B: per-user random 80/20, relevant = test rating >= 4; seeds {', '.join(args.seeds)}\n")
        buckets = [b for b in reports[0]["ranking"] if isinstance(reports[0]["ranking"][b], dict)]
        print("| bucket | source | " + " | ".join(label for _, label in METRICS) + " |")
        print("|---|---|" + "---|" * len(METRICS))
        for bucket in buckets:
            for source in sources_of(reports, bucket):
                cells = [spread(metric_values(reports, bucket, source, metric)) for metric, _ in METRICS]
                print(f"| {bucket} | {source} | " + " | ".join(cells) + " |")
        head_als = metric_values(reports, "head", "als", "ndcg")
        head_blend = metric_values(reports, "head", "blend", "ndcg")
        if head_als and head_blend:
            change = (statistics.mean(head_blend) / statistics.mean(head_als) - 1) * 100
            print(f"\nHead items' NDCG@10, blend against ALS: {change:+.2f}%")
            summary["protocol_b"]["head_change_percent"] = change
        summary["protocol_b"]["buckets"] = {
            b: {s: metric_values(reports, b, s, "ndcg") for s in sources_of(reports, b)} for b in buckets}

    with open(os.path.join(args.out, "summary.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
