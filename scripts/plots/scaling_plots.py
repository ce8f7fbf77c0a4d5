#!/usr/bin/python3
"""Scaling results and the communication model of tailflow (docs/scaling.md).

    scaling_plots.py report DIR [--mode strong|weak]
        Reads the JSON results of cluster/scaling/{strong,weak}_scaling.sh in DIR (NAME-rR.json and its
        NAME-rR.meta.json) and writes DIR/scaling.md (one table per benchmark, the model checks) and
        DIR/time_vs_ranks.png, DIR/efficiency.png.

    scaling_plots.py project [--users 10000000 --items 1000000 --nnz 1000000000 --factors 64]
                             [--ranks 16,64,256,1024] [--ranks-per-node 32] [--bandwidth-gbs 12.5]
                             [--baseline ALS_1_RANK.json] [--out DIR]
        Projects one ALS iteration, a shuffle and a regressor step to many ranks from the model below and
        the per-core rate measured by a `tailflow bench als` run; writes DIR/projection.md and
        DIR/projection.png.

The ALS exchange model is the one in operators/als/communication_model.cpp (a numpy port, so that it runs for
10 M users and 1024 ranks in seconds); `report` compares both with the byte counts the trainer reports, so
the two cannot drift apart unnoticed. Use /usr/bin/python3 (numpy, matplotlib)."""

import argparse
import glob
import json
import math
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import figure_style  # noqa: E402
from figure_style import plt  # noqa: E402

# ---------------------------------------------------------------------------------------------------------
# The ALS communication model (see operators/als/communication_model.hpp for the reasoning).
# ---------------------------------------------------------------------------------------------------------

RUN_TOLERANCE = 1.002  # rows whose rate differs by less than this share one run
SPREAD_DEGREE_LIMIT = 60  # above it a run keeps one class at its expected degree


class Side:
    """One side of the interaction matrix: runs of rows with one rate (t or p) and expected degree, and
    classes (run, realized degree, expected rows) sorted by realized degree, descending: the layout's order."""

    def __init__(self, rows, rate, degree):
        self.rows = np.asarray(rows, dtype=np.float64)
        self.rate = np.asarray(rate, dtype=np.float64)
        self.degree = np.asarray(degree, dtype=np.float64)
        self.class_run = self.class_degree = self.class_rows = None

    @property
    def total(self):
        return float(self.rows.sum())

    def set_classes(self, run, degree, rows):
        order = np.argsort(-np.asarray(degree, dtype=np.float64), kind="stable")
        self.class_run = np.asarray(run, dtype=np.int64)[order]
        self.class_degree = np.asarray(degree, dtype=np.float64)[order]
        self.class_rows = np.asarray(rows, dtype=np.float64)[order]


def group_descending(values):
    """(rows, mean) of runs of a descending array whose values lie within RUN_TOLERANCE of the run's first."""
    values = np.asarray(values, dtype=np.float64)
    rows, means = [], []
    i, n = 0, len(values)
    # Each run ends at the first value below first / tolerance: a binary search on the reversed (ascending)
    # array, so the loop runs once per run, not per row.
    ascending = values[::-1]
    while i < n:
        first = values[i]
        j = n - np.searchsorted(ascending, first / RUN_TOLERANCE, side="left") if first > 0 else n
        j = max(j, i + 1)
        rows.append(j - i)
        means.append(values[i:j].mean())
        i = j
    return np.array(rows, dtype=np.float64), np.array(means)


def chunks(count, width, budget=4_000_000):
    step = max(1, budget // max(width, 1))
    for begin in range(0, count, step):
        yield slice(begin, min(count, begin + step))


def held(t, p):
    """P(a user of draw count t holds an item of popularity p), as a matrix over the two vectors."""
    return -np.expm1(-np.outer(t, p))


def rounded_classes(side):
    """Users: realized degree = expected, rounded down or up at random."""
    run, degree, rows = [], [], []
    for r, (n, d) in enumerate(zip(side.rows, side.degree)):
        whole, up = math.floor(d), d - math.floor(d)
        if d > SPREAD_DEGREE_LIMIT or up == 0:
            run.append(r)
            degree.append(d)
            rows.append(n)
        else:
            run += [r, r]
            degree += [whole, whole + 1]
            rows += [n * (1 - up), n * up]
    side.set_classes(run, degree, rows)


def poisson_classes(side):
    """Items: realized degree Poisson around the expected one."""
    run, degree, rows = [], [], []
    for r, (n, d) in enumerate(zip(side.rows, side.degree)):
        if d > SPREAD_DEGREE_LIMIT:
            run.append(r)
            degree.append(d)
            rows.append(n)
            continue
        ks = np.arange(int(d + 10 * math.sqrt(d) + 10) + 1)
        logs = ks * math.log(d) - d - np.array([math.lgamma(k + 1) for k in ks]) if d > 0 else np.where(ks == 0, 0, -np.inf)
        probability = np.exp(logs)
        keep = probability > 1e-12
        probability = probability[keep] / probability[keep].sum()
        run += [r] * int(keep.sum())
        degree += list(ks[keep].astype(float))
        rows += list(n * probability)
    side.set_classes(run, degree, rows)


def synthetic_graph(users, items, nnz, user_exponent=0.5, item_exponent=0.8):
    """The expected graph of tailflow's synthetic generator (operators/als/synthetic_interactions.cpp)."""
    weights = (np.arange(users, dtype=np.float64) + 1.0) ** -user_exponent
    cap = max(1, items // 2)
    degrees = np.minimum(cap, nnz * weights / weights.sum())
    user_rows, user_degree = group_descending(degrees)
    q = np.arange(items + 1, dtype=np.float64)
    popularity = np.diff((q / items) ** (1 - item_exponent))
    item_rows, item_rate = group_descending(popularity)
    target = np.minimum(user_degree, items - 0.5)
    # Newton's method on Σ_j (1 − exp(−p_j t)) = d from t = d (below the root; the function is concave).
    t = target.copy()
    for _ in range(100):
        total = np.empty_like(t)
        slope = np.empty_like(t)
        for part in chunks(len(t), len(item_rate)):
            e = np.exp(-np.outer(t[part], item_rate))
            total[part] = (1 - e) @ item_rows
            slope[part] = (e * item_rate) @ item_rows
        step = (target - total) / np.where(slope > 0, slope, np.inf)
        t = t + step
        if np.all(np.abs(step) <= 1e-12 * np.maximum(t, 1e-300)):
            break
    item_degree = np.empty_like(item_rate)
    for part in chunks(len(item_rate), len(t)):
        item_degree[part] = held(item_rate[part], t) @ user_rows
    user_side, item_side = Side(user_rows, t, user_degree), Side(item_rows, item_rate, item_degree)
    rounded_classes(user_side)
    poisson_classes(item_side)
    return user_side, item_side


class RankedSide:
    """A side cut into cost-balanced ranges as RowRanges::balanced_by_cost cuts it, on a continuous cost
    scale; classes of equal realized degree form one group that a cut divides in proportion."""

    def __init__(self, side, ranks, factors):
        self.side, self.ranks = side, ranks
        cost = side.class_rows * (2.0 * factors * factors + 4.0 * factors * side.class_degree)
        new_group = np.concatenate([[True], side.class_degree[1:] != side.class_degree[:-1]])
        self.group_of = np.cumsum(new_group) - 1
        groups = self.group_of[-1] + 1
        group_cost = np.bincount(self.group_of, weights=cost, minlength=groups)
        self.group_start = np.concatenate([[0.0], np.cumsum(group_cost)])
        self.cuts = self.group_start[-1] * np.arange(ranks + 1) / ranks

    def group_share(self, r):
        """Share of every group that rank r owns."""
        begin, end = self.group_start[:-1], self.group_start[1:]
        width = np.where(end > begin, end - begin, 1.0)
        return np.clip((np.minimum(end, self.cuts[r + 1]) - np.maximum(begin, self.cuts[r])) / width, 0, 1)

    def share(self, r):
        return self.group_share(r)[self.group_of]

    def owned_rows(self, r):
        return float((self.share(r) * self.side.class_rows).sum())

    def per_owner(self, class_values):
        """Σ over each rank's classes of class_values × the share it owns (size ranks)."""
        group_value = np.bincount(self.group_of, weights=class_values, minlength=len(self.group_start) - 1)
        cumulative = np.concatenate([[0.0], np.cumsum(group_value)])

        def below(x):  # value of the cost range [0, x)
            g = np.clip(np.searchsorted(self.group_start, x, side="right") - 1, 0, len(group_value) - 1)
            width = self.group_start[g + 1] - self.group_start[g]
            part = np.where(width > 0, np.clip((x - self.group_start[g]) / np.where(width > 0, width, 1), 0, 1), 0)
            return cumulative[g] + part * group_value[g]

        return np.diff(below(self.cuts))

    def interaction_weight(self, r):
        """Per run: rows' worth of the run's interactions that rank r holds (realized / expected degree)."""
        s = self.side
        expected = s.degree[s.class_run]
        w = self.share(r) * s.class_rows * np.where(expected > 0, s.class_degree / np.where(expected > 0, expected, 1), 0)
        return np.bincount(s.class_run, weights=w, minlength=len(s.rows))


def exchange_traffic(users, items, ranks, factors, biases=False):
    """Per half-step and rank: bytes received and sent by the targeted exchange and received by the
    broadcast, as FactorExchange counts them (operators/als/communication_model.cpp, the same model)."""
    row_bytes = 4 * ((factors + (1 if biases else 0) + 15) // 16 * 16)
    out = {}
    if ranks == 1:
        zero = np.zeros(1)
        for step in ("user_step", "item_step"):
            out[step] = {"targeted_receive": zero, "targeted_send": zero, "broadcast_receive": zero}
        return out
    ranked_users = RankedSide(users, ranks, factors)
    ranked_items = RankedSide(items, ranks, factors)

    def half_step(solving, fixed):
        receive, send, broadcast = np.zeros(ranks), np.zeros(ranks), np.zeros(ranks)
        f = fixed.side
        for block in range(ranks):
            weight = solving.interaction_weight(block)
            used = np.nonzero(weight)[0]
            rates = solving.side.rate[used]
            # Per fixed run: expected partners inside the block, and log P(none) = −Σ t p (log(1 − q) = −t p).
            inside = np.zeros(len(f.rate))
            for part in chunks(len(f.rate), len(used)):
                inside[part] = held(f.rate[part], rates) @ weight[used]
            log_none = -f.rate * (rates @ weight[used])
            share = np.clip(np.where(f.degree > 0, inside / np.where(f.degree > 0, f.degree, 1), 0), 0, 1)
            # P(no partner | realized degree k) = exp(log_none + inside) · (1 − share)^k (see the C++).
            k = f.class_degree
            log_miss = (log_none + inside)[f.class_run] + k * np.log1p(-np.minimum(share[f.class_run], 1 - 1e-16))
            miss = np.where((k > 0) & (f.degree[f.class_run] > 0), np.clip(np.exp(log_miss), 0, 1), 1.0)
            by_owner = fixed.per_owner(f.class_rows * (1 - miss))
            by_owner[block] = 0  # its own rows do not travel
            receive[block] = by_owner.sum()
            send += by_owner
            broadcast[block] = f.total - fixed.owned_rows(block)
        return {"targeted_receive": receive * row_bytes, "targeted_send": send * row_bytes,
                "broadcast_receive": broadcast * row_bytes}

    out["user_step"] = half_step(ranked_users, ranked_items)  # users solved, item factors travel
    out["item_step"] = half_step(ranked_items, ranked_users)  # items solved, user factors travel
    return out


def als_flops_per_iteration(users, items, nnz, factors, cg_steps=3):
    """Flops that CG (implicit) reports per iteration, both half-steps, every row taking all its steps:
    (1 + steps)·4k per interaction and (1 + steps)·2k² + 10k·steps per row (conjugate_gradient.cpp), and
    2k² per row for the Gram matrices."""
    k = factors
    passes = 1 + cg_steps
    rows = users + items
    return 2 * passes * 4 * k * nnz + rows * (passes * 2 * k * k + 10 * k * cg_steps + 2 * k * k)


def ring_allreduce_bytes(buffer_bytes, ranks):
    """Bytes each rank sends (and receives) in a bandwidth-optimal ring allreduce."""
    return 2.0 * (ranks - 1) / ranks * buffer_bytes if ranks > 1 else 0.0


def shuffle_bytes_to_others(rows, keys, ranks, row_bytes=16):
    """reduce_by_key with uniformly random keys: each rank combines its rows/ranks rows into the expected
    number of distinct keys, then sends all but its own share of them. Summed over ranks."""
    per_rank = rows / ranks
    distinct = keys * -math.expm1(per_rank * math.log1p(-1.0 / keys)) if keys > 1 else min(per_rank, 1)
    return ranks * distinct * row_bytes * (ranks - 1) / ranks


# ---------------------------------------------------------------------------------------------------------
# Reading results
# ---------------------------------------------------------------------------------------------------------


def load_runs(directory):
    runs = []
    for path in sorted(glob.glob(os.path.join(directory, "*-r*.json"))):
        if path.endswith(".meta.json"):
            continue
        match = re.match(r"(.+)-r(\d+)\.json$", os.path.basename(path))
        if not match:
            continue
        with open(path) as f:
            result = json.load(f)
        meta_path = path[: -len(".json")] + ".meta.json"
        meta = {}
        if os.path.exists(meta_path):
            with open(meta_path) as f:
                meta = json.load(f)
        runs.append({"name": match.group(1), "ranks": int(match.group(2)), "result": result, "meta": meta})
    return runs


def metrics(run):
    """The figures every table shows, whatever the benchmark: per 'iteration' (ALS iteration, one
    reduce_by_key, one regressor epoch)."""
    r, ranks = run["result"], run["ranks"]
    kind = r.get("benchmark", run["name"].split("-")[0])
    m = {"ranks": ranks, "load": run["meta"].get("load_before"), "rss": r.get("peak_rss_bytes"),
         "command_seconds": run["meta"].get("command_seconds"), "copied": "copied_from" in run["meta"]}
    if kind == "als":
        m.update(unit="iteration", seconds=r["seconds_per_iteration"], cpu=r.get("cpu_seconds_per_iteration"),
                 compute_cpu=r.get("solve_cpu_seconds_per_iteration"), bytes_all=r.get("bytes_moved_per_iteration", 0))
    elif kind == "shuffle":
        m.update(unit="reduce_by_key", seconds=r["reduce_by_key_seconds"], cpu=None,
                 bytes_all=r.get("bytes_to_other_ranks", 0))
    elif kind == "train":
        per_rank = r.get("bytes_moved_per_iteration", 0)
        m.update(unit="epoch", seconds=r.get("seconds_per_epoch", r.get("seconds_per_iteration")),
                 cpu=r.get("cpu_seconds_per_epoch"), compute_cpu=r.get("compute_cpu_seconds_per_epoch"),
                 bytes_all=per_rank * ranks)
    else:
        m.update(unit="run", seconds=r.get("seconds_per_iteration", float("nan")), cpu=None, bytes_all=0)
    m.setdefault("compute_cpu", None)
    m["bytes_rank"] = m["bytes_all"] / ranks
    return m


def fmt_bytes(value):
    if value is None:
        return "–"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value:.0f} B"


def fmt(value, digits=3):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}g}"


def scaling_rows(series, mode):
    """Adds speed-up and efficiencies against the one-rank run (wall and CPU)."""
    series = sorted(series, key=lambda m: m["ranks"])
    base = next((m for m in series if m["ranks"] == 1), None)
    for m in series:
        m["speedup"] = m["efficiency"] = m["cpu_efficiency"] = None
        if base is None:
            continue
        ratio = base["seconds"] / m["seconds"]
        cpu_ratio = base["cpu"] / m["cpu"] if base.get("cpu") and m.get("cpu") else None
        if mode == "strong":
            m["speedup"] = ratio
            m["efficiency"] = ratio / m["ranks"]
            m["cpu_efficiency"] = cpu_ratio / m["ranks"] if cpu_ratio else None
        else:  # weak: the same work per rank, so ideal time is flat; scaled speed-up = ranks × T1 / TR
            m["speedup"] = ratio * m["ranks"]
            m["efficiency"] = ratio
            m["cpu_efficiency"] = cpu_ratio
    return series


def table_for(name, series, mode):
    unit = series[0]["unit"]
    speedup = "speed-up" if mode == "strong" else "scaled speed-up"
    lines = [f"### {name} ({mode} scaling; per {unit})", "",
             f"| ranks | load | wall s/{unit} | CPU s/{unit} (busiest rank) | compute CPU s | {speedup} "
             f"| efficiency (wall) "
             f"| efficiency (CPU) | bytes moved/{unit}, all ranks | per rank | peak RSS per rank | command s |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for m in series:
        pct = (lambda v: f"{100 * v:.0f} %" if v is not None else "–")
        lines.append(
            f"| {m['ranks']} | {fmt(m['load'], 3)} | {fmt(m['seconds'])} | {fmt(m['cpu'])} | {fmt(m['compute_cpu'])} "
            f"| {fmt(m['speedup'])} "
            f"| {pct(m['efficiency'])} | {pct(m['cpu_efficiency'])} | {fmt_bytes(m['bytes_all'])} "
            f"| {fmt_bytes(m['bytes_rank'])} | {fmt_bytes(m['rss'])} | {fmt(m['command_seconds'])} |")
    if any(m["copied"] for m in series):
        lines.append("")
        lines.append("(The one-rank row is the run of another exchange mode: one rank exchanges nothing.)")
    return lines


def als_model_rows(runs):
    """Predicted (C++ model in the JSON, and this file's port) against the trainer's byte counts."""
    rows = []
    seen = set()
    graphs = {}
    for run in runs:
        r = run["result"]
        if r.get("benchmark") != "als" or run["ranks"] == 1 or "predicted_broadcast_bytes_per_iteration" not in r:
            continue
        s = r["settings"]
        key = (s["users"], s["items"], s["input_rows"], s["factors"], run["ranks"])
        if key in seen:
            continue
        seen.add(key)
        nnz = synthetic_nnz(s)
        if nnz is None:
            continue
        shape = (s["users"], s["items"], nnz)
        if shape not in graphs:
            graphs[shape] = synthetic_graph(*shape)
        traffic = exchange_traffic(*graphs[shape], run["ranks"], s["factors"], bool(s.get("biases")))
        for mode in ("broadcast", "targeted"):
            field = "broadcast_receive" if mode == "broadcast" else "targeted_receive"
            port = sum(traffic[step][field].sum() for step in ("user_step", "item_step"))
            measured = r[f"{mode}_bytes_per_iteration"]
            predicted = r[f"predicted_{mode}_bytes_per_iteration"]
            rows.append({"shape": shape, "factors": s["factors"], "ranks": run["ranks"], "mode": mode,
                         "measured": measured, "predicted": predicted, "port": port})
    return rows


def synthetic_nnz(settings):
    match = re.search(r"× (\d+) interactions", settings.get("data", ""))
    return int(match.group(1)) if match else None


def shuffle_model_rows(runs):
    rows = []
    for run in runs:
        r = run["result"]
        if r.get("benchmark") != "shuffle":
            continue
        s = r["settings"]
        predicted = shuffle_bytes_to_others(s["rows"], s["keys"], run["ranks"], s.get("row_bytes", 16))
        rows.append({"rows": s["rows"], "ranks": run["ranks"], "measured": r["bytes_to_other_ranks"],
                     "predicted": predicted})
    return rows


def train_model_rows(runs):
    rows = []
    for run in runs:
        r = run["result"]
        if r.get("benchmark") != "train" or "dense_gradient_bytes_per_step" not in r:
            continue
        ranks = run["ranks"]
        steps = r.get("steps_per_epoch", 0)
        rows.append({"ranks": ranks, "parameters": r.get("parameters"), "steps": steps,
                     "dense": steps * ring_allreduce_bytes(r["dense_gradient_bytes_per_step"], ranks),
                     "measured": r.get("bytes_moved_per_iteration", 0)})
    return rows


def relative_error(predicted, measured):
    return (predicted - measured) / measured if measured else float("nan")


def model_lines(runs):
    lines = []
    als = als_model_rows(runs)
    if als:
        lines += ["### ALS factor exchange: predicted against counted bytes per iteration (all ranks)", "",
                  "| users × items × interactions | k | ranks | exchange | counted by the trainer | predicted (C++) "
                  "| error | predicted (numpy port) |",
                  "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |"]
        for row in sorted(als, key=lambda x: (x["shape"], x["ranks"], x["mode"])):
            u, i, n = row["shape"]
            lines.append(f"| {u:,} × {i:,} × {n:,} | {row['factors']} | {row['ranks']} | {row['mode']} "
                         f"| {row['measured']:,.0f} | {row['predicted']:,.0f} "
                         f"| {100 * relative_error(row['predicted'], row['measured']):+.2f} % | {row['port']:,.0f} |")
        lines.append("")
    shuffle = shuffle_model_rows(runs)
    if shuffle:
        lines += ["### Shuffle: bytes to other ranks per reduce_by_key (all ranks)", "",
                  "| rows | ranks | measured | predicted | error |", "| ---: | ---: | ---: | ---: | ---: |"]
        for row in sorted(shuffle, key=lambda x: (x["rows"], x["ranks"])):
            err = relative_error(row["predicted"], row["measured"]) if row["measured"] else float("nan")
            lines.append(f"| {row['rows']:,} | {row['ranks']} | {row['measured']:,} | {row['predicted']:,.0f} "
                         f"| {'–' if math.isnan(err) else f'{100 * err:+.2f} %'} |")
        lines.append("")
    train = train_model_rows(runs)
    if train:
        lines += ["### Regressor: gradient allreduce bytes per epoch and rank (ring allreduce)", "",
                  "| ranks | parameters | steps/epoch | dense model: steps × P×4 × 2(R−1)/R | reported by bench train "
                  "(touched embedding rows only) | reported / dense |",
                  "| ---: | ---: | ---: | ---: | ---: | ---: |"]
        for row in sorted(train, key=lambda x: x["ranks"]):
            share = f"{100 * row['measured'] / row['dense']:.0f} %" if row["dense"] else "–"
            lines.append(f"| {row['ranks']} | {row['parameters']:,} | {row['steps']:g} | {fmt_bytes(row['dense'])} "
                         f"| {fmt_bytes(row['measured'])} | {share} |")
        lines.append("")
    return lines


def plot_report(groups, mode, directory):
    figure_style.apply_defaults()
    names = sorted(groups)
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.8), squeeze=False)
    for ax, name in zip(axes[0], names):
        series = groups[name]
        ranks = [m["ranks"] for m in series]
        ax.plot(ranks, [m["seconds"] for m in series], "o-", label="wall")
        if all(m["cpu"] for m in series):
            ax.plot(ranks, [m["cpu"] for m in series], "s--", label="CPU (busiest rank)")
        base = next((m for m in series if m["ranks"] == 1), None)
        if base:
            ideal = [base["seconds"] / r if mode == "strong" else base["seconds"] for r in ranks]
            ax.plot(ranks, ideal, ":", color="grey", label="ideal")
        ax.set_xscale("log", base=2)
        ax.set_xticks(ranks, [str(r) for r in ranks])
        ax.set_xlabel("ranks")
        ax.set_ylabel(f"seconds per {series[0]['unit']}")
        ax.set_title(name)
        ax.legend()
    fig.suptitle(f"{mode} scaling: time per iteration")
    figure_style.save(fig, os.path.join(directory, "time_vs_ranks.png"), 120)

    fig, ax = plt.subplots(figsize=(6, 4))
    for name in names:
        series = [m for m in groups[name] if m["efficiency"] is not None]
        if series:
            ax.plot([m["ranks"] for m in series], [100 * m["efficiency"] for m in series], "o-", label=f"{name} (wall)")
            if all(m["cpu_efficiency"] for m in series):
                ax.plot([m["ranks"] for m in series], [100 * m["cpu_efficiency"] for m in series], "s--",
                        label=f"{name} (CPU)")
    ax.axhline(100, color="grey", linestyle=":")
    ax.set_xscale("log", base=2)
    all_ranks = sorted({m["ranks"] for series in groups.values() for m in series})
    ax.set_xticks(all_ranks, [str(r) for r in all_ranks])
    ax.set_xlabel("ranks")
    ax.set_ylabel("parallel efficiency (%)")
    ax.set_title(f"{mode} scaling efficiency")
    ax.legend(fontsize=8)
    figure_style.save(fig, os.path.join(directory, "efficiency.png"), 120)


def report(args):
    runs = load_runs(args.directory)
    if not runs:
        sys.exit(f"error: no NAME-rR.json results in {args.directory}")
    groups = {}
    for run in runs:
        groups.setdefault(run["name"], []).append(metrics(run))
    groups = {name: scaling_rows(series, args.mode) for name, series in groups.items()}
    cores = {run["meta"].get("cores") for run in runs if run["meta"]}
    lines = [f"# {args.mode.capitalize()} scaling results", "",
             f"Folder `{args.directory}`; machine cores: {', '.join(str(c) for c in sorted(cores, key=str))}. "
             "Load = 1-minute load average just before the run. Wall and CPU seconds are the benchmark's own "
             "(timed part only); CPU = process CPU time of the busiest rank (MPI waits that spin count), "
             "compute CPU = the busiest rank's CPU time in the solves (ALS) or forward/backward (regressor) "
             "alone. `command s` is the whole mpirun command, start-up included. Efficiency "
             + ("= T1 / (R × TR)." if args.mode == "strong" else "= T1 / TR (the work per rank is fixed)."), ""]
    for name in sorted(groups):
        lines += table_for(name, groups[name], args.mode) + [""]
    lines += ["## Communication model checks", ""] + model_lines(runs)
    with open(os.path.join(args.directory, "scaling.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    plot_report(groups, args.mode, args.directory)
    print("\n".join(lines))
    print(f"\nwrote {args.directory}/scaling.md, time_vs_ranks.png, efficiency.png")


# ---------------------------------------------------------------------------------------------------------
# Projection to many ranks
# ---------------------------------------------------------------------------------------------------------


def per_core_rate(baseline):
    """Flops per CPU second of one core, from a `bench als` JSON: the iteration's flops over all ranks'
    CPU time, taking every rank as busy as the busiest (CPU time: robust to a loaded machine)."""
    if not baseline:
        return None, "assumed"
    with open(baseline) as f:
        r = json.load(f)
    flops = r["gflops"] * 1e9 * r["seconds_per_iteration"]
    rate = flops / (r["ranks"] * r["cpu_seconds_per_iteration"])
    return rate, f"measured: {os.path.basename(baseline)}, {r['ranks']} rank(s)"


def off_node_share(ranks, per_node):
    """Share of a rank's peers that sit on other nodes when ranks are placed node by node."""
    c = min(per_node, ranks)
    return (ranks - c) / (ranks - 1) if ranks > 1 else 0.0


def project(args):
    ranks_list = [int(r) for r in args.ranks.split(",")]
    rate, rate_source = per_core_rate(args.baseline)
    if rate is None:
        rate = args.gflops_per_core * 1e9
    bandwidth = args.bandwidth_gbs * 1e9
    memory = args.memory_gbs * 1e9
    k = args.factors
    stride_bytes = 4 * ((k + 15) // 16 * 16)
    users, items = synthetic_graph(args.users, args.items, args.nnz)
    nnz = float((users.rows * users.degree).sum())  # expected, after the generator's cap
    flops = als_flops_per_iteration(args.users, args.items, nnz, k)
    t1 = flops / rate
    rows = []
    for ranks in ranks_list:
        traffic = exchange_traffic(users, items, ranks, k)
        compute = t1 / ranks
        gram = 2 * ring_allreduce_bytes(k * k * 8, ranks)
        row = {"ranks": ranks, "compute": compute, "gram": gram}
        steps = ("user_step", "item_step")
        # Broadcast: allgatherv, a ring for large messages. With ranks placed node by node only one ring link
        # enters each node, so the node's link carries what one rank receives.
        # On one node every ring link is a memory copy.
        broadcast = sum(traffic[step]["broadcast_receive"] for step in steps).max() + gram
        link = bandwidth if ranks > args.ranks_per_node else memory
        row["broadcast"] = {"worst": broadcast, "comm": broadcast / link}
        # Targeted: alltoallv, pairwise; a rank's bytes to and from other nodes all cross its node's link.
        receive = sum(traffic[step]["targeted_receive"] for step in steps)
        send = sum(traffic[step]["targeted_send"] for step in steps)
        worst = float(np.maximum(receive, send).max())
        off = off_node_share(ranks, args.ranks_per_node)
        sharing = min(args.ranks_per_node, ranks)
        row["targeted"] = {"receive": float(receive.max()), "send": float(send.max()), "worst": worst + gram,
                           "comm_own": (worst * off + gram) / bandwidth + worst * (1 - off) / memory,
                           "comm": (sharing * worst * off + gram) / bandwidth + worst * (1 - off) / memory}
        # What --exchange auto would pick per half-step: targeted when it moves fewer bytes in total.
        row["auto"] = "/".join(
            "t" if traffic[step]["targeted_receive"].sum() < traffic[step]["broadcast_receive"].sum() else "b"
            for step in steps)
        for mode in ("broadcast", "targeted"):
            total = compute + row[mode]["comm"]
            row[mode].update(total=total, efficiency=t1 / (ranks * total))
        # Memory per rank: the interactions twice (CSR, 8 B each, and 8 B row pointers), the owned factors,
        # and, on several ranks, full-size factor buffers of both sides; the relabelling (2 × 4 B per row).
        rows_all = args.users + args.items
        row["memory"] = (2 * 8 * nnz / ranks + 8 * rows_all / ranks + stride_bytes * rows_all / ranks
                         + (stride_bytes * rows_all if ranks > 1 else 0) + 8 * rows_all)
        rows.append(row)

    c = args.ranks_per_node
    lines = [f"## ALS projection: {args.users:,} users × {args.items:,} items × {nnz:,.0f} interactions, "
             f"k = {k}, CG 3 steps", "",
             f"Per-core rate {rate / 1e9:.1f} GFLOP/s per CPU second ({rate_source}); one iteration = "
             f"{flops / 1e12:.2f} TFLOP, {t1:.1f} s on one core. Network {args.bandwidth_gbs:g} GB/s per node, "
             f"{c} ranks per node; copies between ranks of one node at {args.memory_gbs:g} GB/s. "
             f"Broadcast = ring allgatherv (one ring link enters each node, so the node "
             f"carries what one rank receives); targeted = pairwise alltoallv (all {c} ranks' off-node bytes "
             f"share the node's link; in brackets: each rank alone on a link). Busiest rank, both half-steps "
             f"and the two Gram allreduces; targeted counts the larger of received and sent (the owner of "
             f"the most popular rows sends them to every rank). Compute and communication are not "
             f"overlapped (they are not in the code).", "",
             "| ranks | nodes | compute s | broadcast GB/rank | broadcast comm s | broadcast s/iter "
             "| broadcast eff. | targeted GB received / sent (busiest) | targeted comm s | targeted s/iter "
             "| targeted eff. | auto picks (users/items step) | memory/rank (est.) |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |"]
    for row in rows:
        b, t = row["broadcast"], row["targeted"]
        nodes = max(1, math.ceil(row["ranks"] / c))
        lines.append(
            f"| {row['ranks']} | {nodes} | {row['compute']:.3g} | {b['worst'] / 1e9:.3g} | {b['comm']:.3g} "
            f"| {b['total']:.3g} | {100 * b['efficiency']:.0f} % | {t['receive'] / 1e9:.3g} / {t['send'] / 1e9:.3g} "
            f"| {t['comm']:.3g} ({t['comm_own']:.3g}) | {t['total']:.3g} | {100 * t['efficiency']:.0f} % "
            f"| {row['auto']} | {fmt_bytes(row['memory'])} |")
    lines.append("")

    # The shuffle and the regressor, closed forms.
    rows_shuffle = args.shuffle_rows
    lines += [f"## Shuffle projection: reduce_by_key of {rows_shuffle:,} distinct 16-byte rows", "",
              "| ranks | bytes to other ranks, per rank | comm s (own link) | comm s (node link shared) |",
              "| ---: | ---: | ---: | ---: |"]
    for ranks in ranks_list:
        per_rank = shuffle_bytes_to_others(rows_shuffle, rows_shuffle, ranks) / ranks
        off = off_node_share(ranks, c)
        on_node = per_rank * (1 - off) / memory
        lines.append(f"| {ranks} | {fmt_bytes(per_rank)} | {per_rank * off / bandwidth + on_node:.3g} "
                     f"| {min(c, ranks) * per_rank * off / bandwidth + on_node:.3g} |")
    lines.append("")
    p = args.regressor_parameters
    lines += [f"## Regressor projection: dense gradient allreduce of {p:,} parameters per step", "",
              f"Ring allreduce, {args.latency_us:g} µs per message: time = 2(R−1)·α + 2(R−1)/R·P·4/B.", "",
              "| ranks | bytes per rank per step | allreduce s per step (own link) | of which latency |",
              "| ---: | ---: | ---: | ---: |"]
    for ranks in ranks_list:
        volume = ring_allreduce_bytes(4 * p, ranks)
        latency = 2 * (ranks - 1) * args.latency_us * 1e-6
        lines.append(f"| {ranks} | {fmt_bytes(volume)} | {volume / bandwidth + latency:.3g} | {latency:.3g} |")
    lines.append("")

    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "projection.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    figure_style.apply_defaults()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    xs = [row["ranks"] for row in rows]
    for mode, marker in (("broadcast", "o"), ("targeted", "s")):
        left.plot(xs, [row[mode]["worst"] / 1e9 for row in rows], marker + "-", label=mode)
        right.plot(xs, [row[mode]["total"] for row in rows], marker + "-", label=f"{mode}: total")
    right.plot(xs, [row["compute"] for row in rows], "k:", label="compute only")
    for ax in (left, right):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(xs, [str(x) for x in xs])
        ax.set_xlabel("ranks")
        ax.legend()
    left.set_ylabel("GB per rank per iteration")
    left.set_title("factor exchange, busiest rank")
    right.set_ylabel("seconds per iteration")
    right.set_title(f"projected time ({c} ranks/node, {args.bandwidth_gbs:g} GB/s)")
    figure_style.save(fig, os.path.join(args.out, "projection.png"), 120)
    print("\n".join(lines))
    print(f"wrote {args.out}/projection.md, projection.png")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="tables and plots of a scaling run folder")
    rep.add_argument("directory")
    rep.add_argument("--mode", choices=["strong", "weak"], default="strong")
    rep.set_defaults(run=report)
    pro = sub.add_parser("project", help="project ALS, shuffle and regressor communication to many ranks")
    pro.add_argument("--users", type=int, default=10_000_000)
    pro.add_argument("--items", type=int, default=1_000_000)
    pro.add_argument("--nnz", type=int, default=1_000_000_000)
    pro.add_argument("--factors", type=int, default=64)
    pro.add_argument("--ranks", default="16,64,256,1024")
    pro.add_argument("--ranks-per-node", type=int, default=32)
    pro.add_argument("--bandwidth-gbs", type=float, default=12.5, help="per node (InfiniBand HDR: 12.5)")
    pro.add_argument("--memory-gbs", type=float, default=10.0,
                     help="copies between ranks of one node (shared-memory alltoallv measured here: 3.4–15)")
    pro.add_argument("--latency-us", type=float, default=2.0, help="per message, for the regressor's ring")
    pro.add_argument("--baseline", help="a `tailflow bench als` JSON for the per-core rate (CG, implicit)")
    pro.add_argument("--gflops-per-core", type=float, default=30.0, help="when there is no --baseline")
    pro.add_argument("--shuffle-rows", type=int, default=1_000_000_000)
    pro.add_argument("--regressor-parameters", type=int, default=2_175_440)
    pro.add_argument("--out", default=".")
    pro.set_defaults(run=project)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
