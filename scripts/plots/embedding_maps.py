"""2-D maps of item embeddings coloured by popularity, BEFORE (ALS) and AFTER (the content model's blend or
prior vectors), by PCA and by t-SNE."""

import numpy as np

from figure_style import plt, save, source_style
from tailflow_outputs import InputError, stable_hash

TSNE_ITERATIONS = 600


def subsample(ids, limit):
    """Rows of at most `limit` items, picked by a stable hash of the item id: the same items in every file
    and every run."""
    if len(ids) <= limit:
        return np.arange(len(ids))
    order = sorted(range(len(ids)), key=lambda row: (stable_hash(ids[row]), ids[row]))
    return np.sort(np.array(order[:limit]))


def pca_2d(vectors):
    """First two principal components (numpy SVD) and the share of variance each explains."""
    centred = vectors - vectors.mean(axis=0)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    coordinates = centred @ vt[:2].T
    variance = singular ** 2
    share = variance[:2] / variance.sum() if variance.sum() > 0 else np.zeros(2)
    # Fix the sign of each axis (SVD may flip it) so reruns draw the same picture.
    for axis in range(coordinates.shape[1]):
        if coordinates[np.argmax(np.abs(coordinates[:, axis])), axis] < 0:
            coordinates[:, axis] *= -1
    if coordinates.shape[1] < 2:
        coordinates = np.pad(coordinates, ((0, 0), (0, 2 - coordinates.shape[1])))
    return coordinates, share


def tsne_2d(vectors, seed, implementation="auto", log=print):
    """t-SNE by scikit-learn when it is installed, else by the small numpy version; returns (xy, name)."""
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.shape[1] > 50:
        vectors = pca_2d_components(vectors, 50)
    if implementation in ("auto", "sklearn"):
        try:
            from sklearn.manifold import TSNE
        except ImportError:
            if implementation == "sklearn":
                raise InputError("scikit-learn is not installed (Debian: python3-sklearn)")
            log("make_figures: scikit-learn not found; t-SNE by the built-in numpy version (slower)")
        else:
            import inspect

            perplexity = float(min(30.0, (len(vectors) - 1) / 3))
            settings = {"n_components": 2, "perplexity": perplexity, "init": "pca", "learning_rate": "auto",
                        "random_state": seed}
            # 600 iterations settle these maps (the default 1000 costs 40% more time); the option was
            # renamed from n_iter to max_iter in scikit-learn 1.5.
            parameters = inspect.signature(TSNE).parameters
            settings["max_iter" if "max_iter" in parameters else "n_iter"] = TSNE_ITERATIONS
            model = TSNE(**settings)
            return model.fit_transform(vectors), "scikit-learn"
    from numpy_tsne import tsne

    return tsne(vectors, seed=seed, iterations=TSNE_ITERATIONS), "numpy"


def pca_2d_components(vectors, components):
    centred = vectors - vectors.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:components].T


def _count_ticks(maximum):
    ticks = [0, 1, 3, 10, 30, 100, 300, 1000, 3000, 10000, 30000, 100000, 300000, 1000000]
    kept = [t for t in ticks if t <= maximum]
    if kept[-1] < maximum:
        # Label the top of the scale, replacing a round tick too close to it to be read apart.
        if len(kept) > 1 and np.log10(1 + maximum) - np.log10(1 + kept[-1]) < 0.12:
            kept.pop()
        kept.append(int(maximum))
    return kept


def plot_embedding_maps(panels, method, path, seed=7, max_points=20000, tsne_impl="auto", dpi=130,
                        log=print):
    """panels: list of (title, Embeddings, counts array aligned with its ids). method: 'pca' or 'tsne'."""
    prepared = []
    for title, embeddings, counts in panels:
        rows = subsample(embeddings.ids, max_points)
        vectors = embeddings.vectors[rows].astype(np.float64)
        if method == "pca":
            xy, share = pca_2d(vectors)
            labels = (f"PC 1 ({share[0]:.0%} of variance)", f"PC 2 ({share[1]:.0%} of variance)")
            detail = "PCA"
        else:
            xy, name = tsne_2d(vectors, seed, tsne_impl, log)
            labels = ("t-SNE 1", "t-SNE 2")
            detail = f"t-SNE ({name}, perplexity {min(30, (len(rows) - 1) // 3)})"
        prepared.append((title, xy, np.asarray(counts)[rows], len(embeddings.ids), detail, labels))

    top = max(max((c.max() if len(c) else 0) for _, _, c, *_ in prepared), 1)
    norm = plt.Normalize(vmin=0, vmax=np.log10(1 + top))
    figure, axes = plt.subplots(1, len(prepared), figsize=(6.6 * len(prepared) + 1.2, 6.4), squeeze=False)
    scatter = None
    for axis, (title, xy, counts, total, detail, labels) in zip(axes[0], prepared):
        order = np.argsort(counts, kind="stable")  # popular items on top
        colour = np.log10(1 + counts[order])
        size = 14 if len(order) <= 3000 else 6
        scatter = axis.scatter(xy[order, 0], xy[order, 1], c=colour, cmap="viridis", norm=norm, s=size,
                               alpha=0.85, linewidths=0)
        cold = int(np.sum(counts == 0))
        shown = f"{len(counts)} of {total} items" if len(counts) < total else f"{total} items"
        note = shown + (f", {cold} without interactions" if cold else "")
        axis.set_title(f"{title}\n{detail}; {note}", fontsize=11)
        axis.set_xlabel(labels[0])
        axis.set_ylabel(labels[1])
        axis.grid(False)
        axis.set_xticks([])
        axis.set_yticks([])
    colourbar = figure.colorbar(scatter, ax=list(axes[0]), fraction=0.035, pad=0.02)
    ticks = _count_ticks(top)
    colourbar.set_ticks([np.log10(1 + t) for t in ticks])
    colourbar.set_ticklabels([str(t) for t in ticks])
    colourbar.set_label("training interactions of the item (log scale)")
    method_name = "PCA" if method == "pca" else "t-SNE"
    figure.suptitle(f"Item embeddings before and after the content model ({method_name}), coloured by popularity",
                    y=1.0)
    save(figure, path, dpi)


def panel_title(embeddings, role):
    label = embeddings.label
    style = source_style(label)
    return f"{role}: {style['label']}  [{embeddings.path.name}]"
