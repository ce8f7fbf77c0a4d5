#!/usr/bin/python3
"""Paired comparison of two item-vector sources on protocol A: per-user NDCG@K and a bootstrap of the difference.

    cluster/paired_ndcg.py --split DIR/split --users DIR/als/embeddings.h5 --a NAME=FILE --b NAME=FILE \
        [--k 10] [--threshold 4] [--bootstrap 2000] [--seed 1] [--json OUT]

Every user with a relevant probe test interaction (rating >= --threshold) ranks all probe items that the user
has no training interaction with, by user · item; relevant = those test interactions. This is protocol A of
`tailflow evaluate` (docs/evaluate.md), recomputed per user so that two sources can be compared on the same
users: the two sources' means must equal the NDCG@10 that `tailflow evaluate --protocol A` reports (the script
prints them to check). One seed's interval of each source is about ±0.018, but the two sources share their
probe items and users, so the interval of their difference is much narrower.

Several --split/--a/--b triples may be given (one per seed, in the same order); the pooled difference is the
mean of the seeds' differences, bootstrapped by resampling users within each seed.

Needs numpy and h5py (/usr/bin/python3 has them).
"""
import argparse
import csv
import json

import h5py
import numpy as np


def read_vectors(path):
    with h5py.File(path, "r") as f:
        ids = [i.decode() for i in f["items/ids"][()]]
        return dict(zip(ids, f["items/vectors"][()].astype(np.float64)))


def read_users(path):
    with h5py.File(path, "r") as f:
        ids = [i.decode() for i in f["users/ids"][()]]
        return dict(zip(ids, f["users/vectors"][()].astype(np.float64)))


def read_pairs(path):
    with open(path) as f:
        rows = list(csv.reader(f))[1:]
    return [(r[0], r[1], float(r[2])) for r in rows]


def per_user_ndcg(split, users, items, k, threshold):
    probe = [r[0] for r in list(csv.reader(open(f"{split}/probe_items.csv")))[1:]]
    seen, relevant = {}, {}
    for user, item, _ in read_pairs(f"{split}/train.csv"):
        seen.setdefault(user, set()).add(item)
    probe_set = set(probe)
    for user, item, value in read_pairs(f"{split}/test.csv"):
        if item in probe_set and value >= threshold:
            relevant.setdefault(user, set()).add(item)
    vectors = np.array([items[i] for i in probe])
    discounts = 1 / np.log2(np.arange(2, k + 2))
    scores = {}
    for user in sorted(relevant):
        candidates = [j for j, i in enumerate(probe) if i not in seen.get(user, ())]
        ranked = np.array(candidates)[np.argsort(-(vectors[candidates] @ users[user]), kind="stable")][:k]
        gains = np.array([probe[j] in relevant[user] for j in ranked], dtype=np.float64)
        ideal = discounts[: min(k, len(relevant[user]))].sum()
        scores[user] = float((gains * discounts[: len(gains)]).sum() / ideal)
    return scores


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", action="append", required=True, help="split directory (train, test, probes)")
    parser.add_argument("--users", action="append", required=True, help="embeddings file with users/*")
    parser.add_argument("--a", action="append", required=True, help="NAME=FILE, the first source")
    parser.add_argument("--b", action="append", required=True, help="NAME=FILE, the second source")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--threshold", type=float, default=4)
    parser.add_argument("--bootstrap", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json")
    args = parser.parse_args()
    if not len(args.split) == len(args.users) == len(args.a) == len(args.b):
        parser.error("give --split, --users, --a and --b once per seed")
    rng = np.random.default_rng(args.seed)
    results, draws = [], []
    for split, users_path, a, b in zip(args.split, args.users, args.a, args.b):
        users = read_users(users_path)
        (name_a, file_a), (name_b, file_b) = a.split("=", 1), b.split("=", 1)
        score_a = per_user_ndcg(split, users, read_vectors(file_a), args.k, args.threshold)
        score_b = per_user_ndcg(split, users, read_vectors(file_b), args.k, args.threshold)
        ids = sorted(score_a)
        diff = np.array([score_a[u] - score_b[u] for u in ids])
        samples = rng.integers(0, len(ids), size=(args.bootstrap, len(ids)))
        boot = diff[samples].mean(axis=1)
        draws.append(boot)
        result = {"split": split, "users": len(ids), name_a: float(np.mean([score_a[u] for u in ids])),
                  name_b: float(np.mean([score_b[u] for u in ids])), "difference": float(diff.mean()),
                  "low": float(np.quantile(boot, 0.025)), "high": float(np.quantile(boot, 0.975)),
                  "users_better": int((diff > 0).sum()), "users_worse": int((diff < 0).sum())}
        results.append(result)
        print(f"{split}: {len(ids)} users; {name_a} {result[name_a]:.4f}, {name_b} {result[name_b]:.4f}; "
              f"difference {result['difference']:+.4f} [{result['low']:+.4f}, {result['high']:+.4f}]")
    pooled = np.mean(draws, axis=0)
    summary = {"seeds": results, "pooled_difference": float(np.mean([r["difference"] for r in results])),
               "pooled_low": float(np.quantile(pooled, 0.025)), "pooled_high": float(np.quantile(pooled, 0.975))}
    print(f"mean over {len(results)} split(s): difference {summary['pooled_difference']:+.4f} "
          f"[{summary['pooled_low']:+.4f}, {summary['pooled_high']:+.4f}] (95% bootstrap over users)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()
