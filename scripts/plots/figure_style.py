"""One look for every figure: fonts, and a fixed colour and line style per item-vector source, so `blend` is
the same colour in every chart."""

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

SOURCE_STYLES = {
    "als": {"color": "#1f77b4", "marker": "o", "linestyle": "-", "label": "ALS"},
    "content": {"color": "#ff7f0e", "marker": "s", "linestyle": "-", "label": "content (predicted)"},
    "blend": {"color": "#2ca02c", "marker": "D", "linestyle": "-", "label": "blend (ALS + content)"},
    "prior": {"color": "#9467bd", "marker": "^", "linestyle": "-", "label": "prior (content-centred ALS)"},
    "als-full": {"color": "#222222", "marker": "*", "linestyle": "--", "label": "ALS, all data (upper bound)"},
    "content-knn": {"color": "#8c564b", "marker": "v", "linestyle": "-.", "label": "content kNN"},
    "popularity": {"color": "#7f7f7f", "marker": "x", "linestyle": ":", "label": "popularity"},
    "random": {"color": "#bcbd22", "marker": "+", "linestyle": ":", "label": "random"},
}
SOURCE_ORDER = list(SOURCE_STYLES)
_EXTRA_COLOURS = ["#17becf", "#e377c2", "#d62728", "#aec7e8", "#98df8a"]


def source_style(name):
    if name in SOURCE_STYLES:
        return SOURCE_STYLES[name]
    colour = _EXTRA_COLOURS[sum(map(ord, name)) % len(_EXTRA_COLOURS)]
    return {"color": colour, "marker": "P", "linestyle": "-", "label": name}


def ordered_sources(names):
    known = [n for n in SOURCE_ORDER if n in names]
    return known + sorted(n for n in names if n not in SOURCE_ORDER)


def apply_defaults():
    plt.rcParams.update({
        "font.size": 11,
        "axes.titlesize": 12,
        "axes.labelsize": 11,
        "legend.fontsize": 9.5,
        "figure.titlesize": 14,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "savefig.bbox": "tight",
    })


def save(figure, path, dpi):
    figure.savefig(path, dpi=dpi, facecolor="white")
    plt.close(figure)
