#!/usr/bin/python3
"""The linear baseline of issue 4: ridge regression from an item's content features to its ALS vector.

    cluster/ridge_baseline.py --features FEAT_DIR --embeddings ALS/embeddings.h5 --out ridge.h5 \
        [--blend-out ridge_blend.h5] [--head-min 1] [--alphas 1,3,10] [--seed 1]

The design matrix holds the very features the content regressor reads from `tailflow features`: the
L2-normalised TF-IDF text bag (word unigrams, bigrams, character n-grams, tags), the genre bag, a one-hot
decade and the standardised year. Head items (at least --head-min training interactions) are the training
rows; their ALS vectors are the targets (with an intercept). Alpha is chosen on a held-out tenth of the head
items (a seeded random draw), then the model is refitted on all head items and predicts every feature row.

--out gets the content predictions of every item; --blend-out the blend of `tailflow embed`
(x = a·n/(n+β) + c·β/(n+β), n = the item's ALS training interactions, β = --blend-beta). Both are sharded
HDF5 files (one shard) with items/ids and items/vectors, which `tailflow evaluate --source NAME=FILE` reads;
users come from the evaluation's --embeddings.

Needs numpy, scipy, scikit-learn and h5py (/usr/bin/python3 has them).
"""
import argparse
import json
import os
import sys
import time
import uuid

import h5py
import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import Ridge


def read_bag(group, rows):
    ids = group["ids"][()]
    lengths = group["lengths"][()]
    weights = group["weights"][()].astype(np.float64)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    return sp.csr_matrix((weights, ids, indptr), shape=(rows, int(ids.max()) + 1 if ids.size else 1))


def read_features(path, block_weights):
    """(item ids as str, sparse design matrix, description of the blocks)."""
    with h5py.File(path, "r") as f:
        ids = [i.decode() for i in f["items/ids"][()]]
        n = len(ids)
        blocks, names = [], []
        if "text" in f:
            text = read_bag(f["text"], n)
            buckets = int(f.attrs.get("text_buckets", text.shape[1]))
            text.resize((n, max(buckets, text.shape[1])))
            blocks.append(text * block_weights["text"])
            names.append(f"text[{text.nnz} nnz]")
        for name in f.get("multi", {}):
            blocks.append(read_bag(f["multi"][name], n) * block_weights["bags"])
            names.append(name)
        for name in f.get("categorical", {}):
            values = f["categorical"][name]["ids"][()]
            one_hot = sp.csr_matrix((np.ones(n), values, np.arange(n + 1)), shape=(n, int(values.max()) + 1))
            blocks.append(one_hot * block_weights["categorical"])
            names.append(name)
        if "numeric" in f and "values" in f["numeric"]:
            blocks.append(sp.csr_matrix(f["numeric/values"][()].astype(np.float64) * block_weights["numeric"]))
            names.append(",".join(v.decode() for v in f["numeric/names"][()]))
    return ids, sp.hstack(blocks, format="csr"), names


def read_als(path):
    with h5py.File(path, "r") as f:
        ids = [i.decode() for i in f["items/ids"][()]]
        return ids, f["items/vectors"][()].astype(np.float64), f["items/counts"][()].astype(np.int64)


def write_embeddings(path, ids, vectors, attributes):
    """A one-shard tailflow output (engine/io/sharded_writer.hpp): master and shard hold the same rows."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    root, _ = os.path.splitext(path)
    shard = f"{root}.shard-00000-of-00001.h5"
    write_id = uuid.uuid4().hex
    width = max(1, max(len(i.encode()) for i in ids))
    encoded = np.array([i.encode() for i in ids], dtype=h5py.string_dtype("utf-8", width))
    for target, is_master in ((shard, False), (path, True)):
        with h5py.File(target + ".tmp", "w") as f:
            f.attrs["write_id"] = write_id
            f.attrs["shard_count"] = np.uint32(1)
            f.attrs["shard_index"] = np.uint32(0)
            if is_master:
                f.attrs["tailflow_format"] = "sharded-1"
                for key, value in attributes.items():
                    f.attrs[key] = value
            for name, data in (("items/ids", encoded), ("items/vectors", vectors.astype(np.float32))):
                f.create_dataset(name, data=data)
                if is_master:
                    f[name].attrs["shard_rows"] = np.array([len(ids)], dtype=np.uint64)
        os.replace(target + ".tmp", target)


def fit(x, y, alpha):
    return Ridge(alpha=alpha, fit_intercept=True, solver="sparse_cg", tol=1e-5, max_iter=2000).fit(x, y)


def mean_cosine(a, b):
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return float(np.mean(np.sum(a * b, axis=1) / np.maximum(norms, 1e-12)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--features", required=True, help="features directory (tailflow features --out)")
    parser.add_argument("--embeddings", required=True, help="ALS embeddings.h5 (tailflow als --out DIR)")
    parser.add_argument("--out", required=True, help="content predictions of every item (sharded HDF5)")
    parser.add_argument("--blend-out", help="blended vectors, as tailflow embed --embeddings writes them")
    parser.add_argument("--blend-beta", type=float, default=10.0, help="beta of the blend (default 10)")
    parser.add_argument("--head-min", type=int, default=1, help="training items: >= N interactions (1)")
    parser.add_argument("--alphas", default="1,3,10", help="ridge penalties to try (default 1,3,10)")
    parser.add_argument("--validation-fraction", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1, help="seed of the held-out draw")
    parser.add_argument("--weights", default="text=1,bags=1,categorical=1,numeric=1",
                        help="scale of each feature block (text, bags, categorical, numeric)")
    parser.add_argument("--json", help="write the chosen alpha and validation scores here")
    args = parser.parse_args()

    start = time.time()
    block_weights = {"text": 1.0, "bags": 1.0, "categorical": 1.0, "numeric": 1.0}
    for part in args.weights.split(","):
        key, value = part.split("=")
        if key not in block_weights:
            sys.exit(f"--weights: unknown block '{key}' (expected {', '.join(block_weights)})")
        block_weights[key] = float(value)
    item_ids, x, blocks = read_features(os.path.join(args.features, "features.h5"), block_weights)
    als_ids, als_vectors, counts = read_als(args.embeddings)
    row_of = {item: row for row, item in enumerate(item_ids)}
    missing = [item for item in als_ids if item not in row_of]
    if missing:
        sys.exit(f"error: ALS item '{missing[0]}' has no feature row ({len(missing)} such items)")
    head = np.array([c >= args.head_min for c in counts])
    head_rows = np.array([row_of[item] for item in np.array(als_ids)[head]], dtype=np.int64)
    y = als_vectors[head]

    rng = np.random.default_rng(args.seed)
    held_out = rng.random(len(head_rows)) < args.validation_fraction
    scores = {}
    for alpha in (float(a) for a in args.alphas.split(",")):
        model = fit(x[head_rows[~held_out]], y[~held_out], alpha)
        predicted = model.predict(x[head_rows[held_out]])
        mse = float(np.mean((predicted - y[held_out]) ** 2))
        scores[alpha] = {"mse": mse, "cosine": mean_cosine(predicted, y[held_out])}
        print(f"ridge: alpha {alpha:g}: held-out MSE {mse:.5f}, cosine {scores[alpha]['cosine']:.4f}")
    best = min(scores, key=lambda a: scores[a]["mse"])
    model = fit(x[head_rows], y, best)
    content = model.predict(x)
    write_embeddings(args.out, item_ids, content, {"model": "ridge", "ridge_alpha": best})

    if args.blend_out:
        als_row = {item: row for row, item in enumerate(als_ids)}
        blended = content.copy()
        for row, item in enumerate(item_ids):
            if item in als_row:
                n = counts[als_row[item]]
                a = n / (n + args.blend_beta) if n > 0 else 0.0
                blended[row] = a * als_vectors[als_row[item]] + (1 - a) * content[row]
        write_embeddings(args.blend_out, item_ids, blended,
                         {"model": "ridge+als", "ridge_alpha": best, "blend_beta": args.blend_beta})
    summary = {"alpha": best, "validation": {str(a): s for a, s in scores.items()},
               "head_items": int(head.sum()), "features": blocks, "columns": int(x.shape[1]),
               "seconds": time.time() - start}
    print(f"ridge: alpha {best:g} chosen; {int(head.sum())} head items, {x.shape[1]} columns "
          f"({', '.join(blocks)}); {summary['seconds']:.1f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()
