#!/usr/bin/python3
"""How close are item vectors to the fashion shop's hidden truth? (issue 4, first acceptance point)

`tailflow generate` writes truth.h5 with the hidden item and user vectors that produced the interactions
(score = user · item, in a small latent space of its own). ALS and the content model live in another space,
of another dimension, so vectors are compared through one linear map W from the model space to the truth
space, fitted by ridge least squares on head items' ALS vectors (the vectors the regressor learns from):

    mapped cosine(i) = cos(x_i W, t_i)      for x_i = the item's ALS vector, or its predicted vector.

A second check needs no map: for each item, the Pearson correlation over users of the model's scores
u_model · x_i with the true scores u_true · t_i ("does this vector rank users like the truth does?").

Both are reported per popularity bucket (training interactions of the item) for every vector file given.

usage: eval_shop_truth.py --truth data/truth.h5 --train split/train.csv --als als/embeddings.h5 \
           --source content=embeddings/content.h5 [--source blend=...] [--head-min N] [--json OUT]
"""
import argparse
import collections
import csv
import json
import os
import sys

import h5py
import numpy as np


def read_vectors(path, group):
    """ids (as str) and vectors of `group` in a tailflow HDF5 file (master files use relative VDS shards)."""
    here = os.getcwd()
    os.chdir(os.path.dirname(os.path.abspath(path)))
    try:
        with h5py.File(os.path.basename(path), "r") as f:
            if group not in f:
                return None, None
            ids = [i.decode() if isinstance(i, bytes) else str(i) for i in f[f"{group}/ids"][()]]
            vectors = np.asarray(f[f"{group}/vectors"][()], dtype=np.float64)
    finally:
        os.chdir(here)
    return ids, vectors


def training_counts(path):
    counts = collections.Counter()
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        item_column = header.index("item_id") if "item_id" in header else 1
        user_column = header.index("user_id") if "user_id" in header else 0
        seen = set()
        for row in reader:
            pair = (row[user_column], row[item_column])
            if pair not in seen:  # distinct users per item: repeated events of one user count once
                seen.add(pair)
                counts[row[item_column]] += 1
    return counts


def rowwise_cosine(a, b):
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return np.where(norms > 0, (a * b).sum(axis=1) / np.maximum(norms, 1e-30), 0.0)


def score_correlation(model_users, model_items, true_users, true_items):
    """Per item: Pearson correlation over users of the model's scores with the true scores."""
    model_scores = model_users @ model_items.T  # users × items
    true_scores = true_users @ true_items.T
    model_scores -= model_scores.mean(axis=0)
    true_scores -= true_scores.mean(axis=0)
    denominator = np.linalg.norm(model_scores, axis=0) * np.linalg.norm(true_scores, axis=0)
    return np.where(denominator > 0, (model_scores * true_scores).sum(axis=0) / np.maximum(denominator, 1e-30), 0)


def bucket_of(count, head_min):
    if count == 0:
        return "cold (0)"
    if count < 5:
        return "tail (1-4)"
    if count < head_min:
        return f"tail (5-{head_min - 1})"
    return f"head (>= {head_min})"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--truth", required=True)
    parser.add_argument("--train", required=True, help="training interactions (popularity buckets)")
    parser.add_argument("--als", required=True, help="ALS embeddings (users and items; fits the map)")
    parser.add_argument("--source", action="append", default=[], help="NAME=FILE item vectors to compare")
    parser.add_argument("--head-min", type=int, default=0, help="0: the 80%%-of-interactions rule")
    parser.add_argument("--ridge", type=float, default=1e-3, help="ridge weight of the map fit")
    parser.add_argument("--max-users", type=int, default=4000, help="users sampled for the score correlation")
    parser.add_argument("--json", help="write the numbers here")
    args = parser.parse_args()

    truth_ids, truth_items = read_vectors(args.truth, "items")
    truth_user_ids, truth_users = read_vectors(args.truth, "users")
    truth_row = {i: r for r, i in enumerate(truth_ids)}
    counts = training_counts(args.train)
    head_min = args.head_min
    if head_min <= 0:
        ordered = sorted(counts.values(), reverse=True)
        total, running = sum(ordered), 0
        for count in ordered:
            running += count
            if running >= 0.8 * total:
                head_min = count
                break

    als_ids, als_items = read_vectors(args.als, "items")
    als_user_ids, als_users = read_vectors(args.als, "users")
    # Users both files know, in one order.
    user_row = {u: r for r, u in enumerate(truth_user_ids)}
    shared_users = [(r, user_row[u]) for r, u in enumerate(als_user_ids) if u in user_row]
    # The score correlation needs users × items matrices: a fixed sample of users keeps them small.
    if len(shared_users) > args.max_users:
        pick = np.random.default_rng(0).choice(len(shared_users), args.max_users, replace=False)
        shared_users = [shared_users[i] for i in sorted(pick)]
    model_users = als_users[[a for a, _ in shared_users]]
    true_users = truth_users[[t for _, t in shared_users]]

    # The map, fitted on head items: ALS vector -> true vector.
    head = [(r, truth_row[i]) for r, i in enumerate(als_ids) if i in truth_row and counts[i] >= head_min]
    x = als_items[[r for r, _ in head]]
    t = truth_items[[q for _, q in head]]
    k = x.shape[1]
    w = np.linalg.solve(x.T @ x + args.ridge * len(head) * np.eye(k), x.T @ t)

    sources = [("als", args.als)] + [tuple(s.split("=", 1)) for s in args.source]
    results = {"head_min": head_min, "map_fitted_on_items": len(head), "users": len(shared_users), "buckets": {}}
    for name, path in sources:
        ids, vectors = (als_ids, als_items) if name == "als" else read_vectors(path, "items")
        rows = [(r, truth_row[i], counts[i]) for r, i in enumerate(ids) if i in truth_row]
        mine = vectors[[r for r, _, _ in rows]]
        true = truth_items[[q for _, q, _ in rows]]
        cosine = rowwise_cosine(mine @ w, true)
        correlation = score_correlation(model_users, mine, true_users, true)
        by_bucket = collections.defaultdict(lambda: ([], []))
        for (_, _, count), c, rho in zip(rows, cosine, correlation):
            by_bucket[bucket_of(count, head_min)][0].append(c)
            by_bucket[bucket_of(count, head_min)][1].append(rho)
        for bucket, (cosines, correlations) in by_bucket.items():
            results["buckets"].setdefault(bucket, {})[name] = {
                "items": len(cosines),
                "mapped_cosine": float(np.mean(cosines)),
                "score_correlation": float(np.mean(correlations)),
            }

    order = ["cold (0)", "tail (1-4)", f"tail (5-{head_min - 1})", f"head (>= {head_min})"]
    print(f"Item vectors against the shop's hidden truth (head = >= {head_min} training users; "
          f"map fitted on {len(head)} head items; {len(shared_users)} users)\n")
    print("| bucket | items | source | mapped cosine | user-score correlation |")
    print("|---|---:|---|---:|---:|")
    for bucket in order:
        for name, _ in sources:
            entry = results["buckets"].get(bucket, {}).get(name)
            if entry:
                print(f"| {bucket} | {entry['items']} | {name} | {entry['mapped_cosine']:.3f} | "
                      f"{entry['score_correlation']:.3f} |")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
