"""Quality charts from `tailflow evaluate` reports: protocol A (quality against the number of training
interactions m of the probe items, the article's chart) and protocol B (NDCG@K per popularity bucket)."""

from collections import defaultdict

import numpy as np

from figure_style import ordered_sources, plt, save, source_style
from tailflow_outputs import InputError, irrelevant_share


def combine_runs(runs):
    """One point from several reports of the same source and setting (seeds): the mean of their means and
    the envelope of their 95% intervals. Reports of one seed count once (baselines repeat in every report)."""
    by_seed = {}
    for seed, value in runs:
        by_seed.setdefault(seed, value)
    values = list(by_seed.values())
    return {
        "mean": float(np.mean([v["mean"] for v in values])),
        "low": float(min(v.get("low", v["mean"]) for v in values)),
        "high": float(max(v.get("high", v["mean"]) for v in values)),
        "runs": len(values),
    }


def _metric(metrics, name):
    if name == "irrelevant":
        return irrelevant_share(metrics)
    value = metrics.get(name)
    return value if isinstance(value, dict) and "mean" in value else None


def _describe(evaluations, intervals):
    first = evaluations[0].report
    parts = []
    relevance = first.get("relevance")
    if relevance:
        parts.append(f"relevant = {relevance}")
    seeds = sorted({str(e.report.get("seed", "?")) for e in evaluations})
    parts.append(f"seed{'s' if len(seeds) > 1 else ''} {', '.join(seeds)}")
    parts.append(f"{intervals}: 95% bootstrap intervals over users")
    return "; ".join(parts)


def protocol_a_series(shots_and_evaluations, catalog="probe"):
    """source -> metric -> {m: combined point}, and users per (source, m)."""
    runs = defaultdict(list)
    users = defaultdict(list)
    empty = set()
    for m, evaluation in shots_and_evaluations:
        sources = evaluation.catalogs.get(catalog) or next(iter(evaluation.catalogs.values()))
        seed = evaluation.report.get("seed")
        for source, metrics in sources.items():
            if metrics.get("users") == 0:  # nothing was ranked (e.g. ALS has no vector for m = 0 items)
                empty.add((source, m))
                continue
            for metric in ("ndcg", "irrelevant"):
                value = _metric(metrics, metric)
                if value is not None:
                    runs[(source, metric, m)].append((seed, value))
            if isinstance(metrics.get("users"), (int, float)):
                users[m].append(int(metrics["users"]))
    series = defaultdict(lambda: defaultdict(dict))
    for (source, metric, m), values in runs.items():
        series[source][metric][m] = combine_runs(values)
    left_out = sorted((source, m) for source, m in empty if m not in series.get(source, {}).get("ndcg", {}))
    return series, users, left_out


def plot_protocol_a(shots_and_evaluations, path, dpi=130):
    if not shots_and_evaluations:
        raise InputError("no protocol A evaluation reports")
    evaluations = [e for _, e in shots_and_evaluations]
    k = evaluations[0].k
    series, users, left_out = protocol_a_series(shots_and_evaluations)
    if not series:
        raise InputError("the protocol A reports hold no NDCG figures")
    shots = sorted({m for source in series.values() for metric in source.values() for m in metric})
    figure, axes = plt.subplots(1, 2, figsize=(13, 5.2))
    panels = [("ndcg", f"NDCG@{k} (higher is better)", 1.0),
              ("irrelevant", f"irrelevant results in the top {k}, % (lower is better)", 100.0)]
    for axis, (metric, ylabel, scale) in zip(axes, panels):
        drawn = False
        for source in ordered_sources(list(series)):
            points = series[source].get(metric)
            if not points:
                continue
            style = source_style(source)
            xs = sorted(points)
            mean = np.array([points[m]["mean"] for m in xs]) * scale
            low = np.array([points[m]["low"] for m in xs]) * scale
            high = np.array([points[m]["high"] for m in xs]) * scale
            axis.plot(xs, mean, color=style["color"], marker=style["marker"], linestyle=style["linestyle"],
                      linewidth=2, markersize=7, label=style["label"])
            if len(xs) > 1:
                axis.fill_between(xs, low, high, color=style["color"], alpha=0.15, linewidth=0)
            else:
                axis.errorbar(xs, mean, yerr=[mean - low, high - mean], color=style["color"], capsize=5,
                              linewidth=1.5, linestyle="none")
            drawn = True
        if not drawn:
            axis.text(0.5, 0.5, "no data (the reports lack this metric)", ha="center", va="center",
                      transform=axis.transAxes)
        axis.set_xticks(shots)
        axis.set_xlabel("training interactions m of each probe item")
        axis.set_ylabel(ylabel)
        if len(shots) == 1:
            axis.set_xlim(shots[0] - 1, shots[0] + 1)
        if metric == "ndcg":
            axis.set_ylim(bottom=0)
        else:
            bottom, top = axis.get_ylim()
            axis.set_ylim(max(bottom, 0), min(top, 100))
    axes[0].set_title(f"Ranking quality on probe items: NDCG@{k}")
    axes[1].set_title(f"Share of irrelevant top-{k} results (1 − precision@{k})")
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=min(len(labels), 4), frameon=False,
                  bbox_to_anchor=(0.5, -0.07))
    all_users = [u for values in users.values() for u in values if u > 0]
    user_range = f"{min(all_users)}–{max(all_users)}" if all_users and min(all_users) < max(all_users) else \
        (str(all_users[0]) if all_users else "")
    user_text = f"; {user_range} users per point" if all_users else ""
    figure.suptitle("Protocol A: probe items cut to m training interactions, ranked among all probe items")
    figure.text(0.5, 0.915, _describe(evaluations, "bands") + user_text, ha="center", fontsize=9.5,
                color="#444444")
    if left_out:
        missing = ", ".join(f"{source_style(s)['label'].split(' (')[0]} at m = {m}" for s, m in left_out)
        figure.text(0.5, -0.1, f"Not drawn (no user could be ranked): {missing}; ALS has no vector for an "
                    "item without training interactions.", ha="center", fontsize=9, color="#444444")
    figure.tight_layout(rect=(0, 0.02, 1, 0.93))
    save(figure, path, dpi)
    return {"shots": shots, "sources": ordered_sources(list(series)), "left_out": left_out}


BUCKET_ORDER = ["all", "head", "tail", "cold"]


def plot_protocol_b(evaluations, path, dpi=130):
    """Grouped bars: NDCG@K per popularity bucket (x) and item-vector source (bars)."""
    if not evaluations:
        raise InputError("no protocol B evaluation reports")
    k = evaluations[0].k
    runs = defaultdict(list)
    items = {}
    for evaluation in evaluations:
        seed = evaluation.report.get("seed")
        for catalog, sources in evaluation.catalogs.items():
            for source, metrics in sources.items():
                runs[(catalog, source)].append((seed, metrics["ndcg"]))
                if isinstance(metrics.get("items"), int):
                    items.setdefault(catalog, set()).add(metrics["items"])
    buckets = [b for b in BUCKET_ORDER if any(c == b for c, _ in runs)]
    buckets += sorted({c for c, _ in runs} - set(buckets))
    sources = ordered_sources(list({s for _, s in runs}))
    if len(buckets) == 1 and buckets[0] == "all":
        print("make_figures: note: the protocol B reports have no popularity buckets "
              "(run `tailflow evaluate --buckets`); drawing the whole catalog only")
    figure, axis = plt.subplots(figsize=(max(8, 1.2 + len(buckets) * (0.45 * len(sources) + 0.6)), 5.4))
    width = 0.8 / max(len(sources), 1)
    for index, source in enumerate(sources):
        style = source_style(source)
        xs, means, lows, highs = [], [], [], []
        for position, bucket in enumerate(buckets):
            if (bucket, source) not in runs:  # e.g. ALS has no vectors for cold items
                axis.text(position - 0.4 + width * (index + 0.5), 0, "n/a", ha="center", va="bottom",
                          fontsize=9, color="#555555")
                continue
            point = combine_runs(runs[(bucket, source)])
            xs.append(position - 0.4 + width * (index + 0.5))
            means.append(point["mean"])
            lows.append(point["mean"] - point["low"])
            highs.append(point["high"] - point["mean"])
        if xs:
            axis.bar(xs, means, width=width * 0.92, color=style["color"], label=style["label"],
                     yerr=[lows, highs], capsize=3, error_kw={"elinewidth": 1, "ecolor": "#333333"})
    labels = []
    head_min = evaluations[0].report.get("head_min")
    for bucket in buckets:
        text = bucket
        if bucket in items:  # reports of different embeddings files may rank different item counts
            low, high = min(items[bucket]), max(items[bucket])
            text += f"\n{low} items" if low == high else f"\n{low}–{high} items"
        if bucket == "head" and head_min:
            text += f"\n(≥ {head_min} interactions)"
        elif bucket == "tail" and head_min:
            text += f"\n(1–{int(head_min) - 1} interactions)"
        elif bucket == "cold":
            text += "\n(0 interactions)"
        labels.append(text)
    axis.set_xticks(range(len(buckets)))
    axis.set_xticklabels(labels)
    axis.grid(axis="x", visible=False)
    axis.set_ylabel(f"NDCG@{k}")
    axis.set_xlabel("popularity bucket (training interactions); each bucket ranks only its own items")
    axis.set_title(f"Protocol B (natural long tail): NDCG@{k} per popularity bucket\n"
                   + _describe(evaluations, "error bars"), fontsize=11)
    axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, title="item vectors")
    axis.set_ylim(bottom=0)
    figure.tight_layout()
    save(figure, path, dpi)
    return {"buckets": buckets, "sources": sources}
