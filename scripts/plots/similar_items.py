"""Similar-item examples for a few tail products: each query item and its top-K neighbours by cosine in the
BEFORE (ALS) and AFTER (content model) embeddings, with photos when the shop has them, else as text."""

import textwrap

import numpy as np

from figure_style import plt, save
from tailflow_outputs import stable_hash


def normalised(vectors):
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def nearest(embeddings, unit, query_id, k):
    """Top-k items by cosine to the query (itself excluded), best first; ties by row."""
    row = embeddings.ids.index(query_id)
    similarity = unit @ unit[row]
    similarity[row] = -np.inf
    k = min(k, len(similarity) - 1)
    candidates = np.argpartition(-similarity, k - 1)[:k] if k > 0 else np.array([], dtype=int)
    candidates = sorted(candidates, key=lambda r: (-similarity[r], r))
    return [(embeddings.ids[r], float(similarity[r])) for r in candidates]


def choose_queries(before, after, counts, catalog, how_many, tail_max, prefer_images):
    """Tail items (1..tail_max training interactions) present in both embeddings, one per category in turn,
    picked in stable-hash order so every run shows the same ones."""
    in_before = set(before.ids)
    candidates = [item for item in after.ids if item in in_before and 1 <= counts.get(item, 0) <= tail_max]
    if not candidates:  # no item that small: take the least popular ones that have interactions
        ranked = sorted((counts.get(i, 0), i) for i in after.ids if i in in_before and counts.get(i, 0) > 0)
        candidates = [i for _, i in ranked[: max(how_many * 10, 50)]]
    if catalog is not None and prefer_images and catalog.images:
        with_image = [i for i in candidates if i in catalog.images]
        candidates = with_image or candidates
    candidates.sort(key=lambda item: (stable_hash(item), item))
    groups = {}
    for item in candidates:
        category = catalog.categories.get(item, "") if catalog else ""
        groups.setdefault(category, []).append(item)
    chosen = []
    while len(chosen) < how_many and any(groups.values()):
        for category in sorted(groups, key=lambda c: (stable_hash(c), c)):
            if groups[category] and len(chosen) < how_many:
                chosen.append(groups[category].pop(0))
    return chosen


def _caption(catalog, item, width):
    title = catalog.titles.get(item, item) if catalog else item
    lines = textwrap.wrap(title, width=width) or [item]
    if len(lines) > 2:
        lines = lines[:2]
        lines[1] = lines[1][: width - 1] + "…"
    return "\n".join(lines)


def _values(category):
    return {value.strip() for value in category.split("|") if value.strip()}


def _same_category(catalog, a, b):
    """The same category; for multi-valued ones (MovieLens genres `A|B|C`) at least half of the two items'
    values shared (Jaccard ≥ 0.5)."""
    if catalog is None:
        return False
    first, second = catalog.categories.get(a, ""), catalog.categories.get(b, "")
    if not first or not second:
        return False
    if "|" in first or "|" in second:
        x, y = _values(first), _values(second)
        return len(x & y) * 2 >= len(x | y)
    return first == second


def _match_label(catalog, query):
    category = catalog.categories.get(query, "") if catalog else ""
    if not category:
        return None
    return "similar\ngenres" if "|" in category else "same\ncategory"


def plot_similar_items(before, after, counts, catalog, images, path, queries, k=5, dpi=130, after_name="AFTER"):
    """One block per query: the query (spanning two rows), then its neighbours BEFORE and AFTER."""
    unit_before, unit_after = normalised(before.vectors), normalised(after.vectors)
    with_photos = images is not None and catalog is not None and bool(catalog.images)
    cell_height = 2.35 if with_photos else 1.25
    figure = plt.figure(figsize=(2.15 * (k + 1) + 0.9, cell_height * 2 * len(queries) + 0.9))
    height = figure.get_figheight()
    outer = figure.add_gridspec(len(queries), 1, hspace=0.35 if with_photos else 0.25,
                                top=1 - 0.45 / height, bottom=0.25 / height if with_photos else 0.1 / height,
                                left=0.02, right=0.98)
    for block, query in enumerate(queries):
        grid = outer[block].subgridspec(2, k + 2, width_ratios=[1.15, 0.32] + [1] * k, wspace=0.12,
                                        hspace=0.55 if with_photos else 0.12)
        query_axis = figure.add_subplot(grid[:, 0])
        _draw_item(query_axis, catalog, images, query, counts, None, "#d62728", with_photos, is_query=True)
        rows = [("BEFORE\nALS", before, unit_before), (after_name, after, unit_after)]
        for row, (label, embeddings, unit) in enumerate(rows):
            label_axis = figure.add_subplot(grid[row, 1])
            label_axis.axis("off")
            neighbours = nearest(embeddings, unit, query, k)
            same = sum(_same_category(catalog, query, item) for item, _ in neighbours)
            match = _match_label(catalog, query)
            text = label + (f"\n{same}/{len(neighbours)} {match}" if match else "")
            label_axis.text(0.5, 0.5, text, ha="center", va="center", fontsize=8.5, fontweight="bold",
                            color="#1f77b4" if row == 0 else "#2ca02c", rotation=0)
            for column, (item, similarity) in enumerate(neighbours):
                axis = figure.add_subplot(grid[row, column + 2])
                frame = "#2ca02c" if _same_category(catalog, query, item) else "#bbbbbb"
                _draw_item(axis, catalog, images, item, counts, similarity, frame, with_photos)
    kind = "photos" if with_photos else "titles"
    genres = catalog is not None and any("|" in catalog.categories.get(q, "") for q in queries)
    figure.suptitle(f"Tail products and their {k} nearest neighbours by cosine, before and after the content model"
                    f"\n(query framed red; neighbours framed green share its category"
                    f"{' or at least half its genres' if genres else ''}; n = training interactions; {kind})",
                    fontsize=12, y=1.0)
    save(figure, path, dpi)


def _draw_item(axis, catalog, images, item, counts, similarity, frame, with_photos, is_query=False):
    n = counts.get(item, 0)
    header = f"query · n={n}" if is_query else f"cos {similarity:.2f} · n={n}"
    if with_photos:
        row = catalog.images.get(item)
        pixels = images[row] if row is not None else None
        if pixels is not None:
            axis.imshow(pixels, cmap="gray_r", interpolation="nearest", vmin=0, vmax=255)
        else:
            axis.text(0.5, 0.5, "no photo", ha="center", va="center", fontsize=8, transform=axis.transAxes)
        axis.set_xticks([])
        axis.set_yticks([])
        axis.set_title(header, fontsize=8.5, fontweight="bold" if is_query else "normal", pad=3)
        axis.set_xlabel(_caption(catalog, item, 22 if not is_query else 24), fontsize=7.5, labelpad=3)
    else:
        axis.set_xticks([])
        axis.set_yticks([])
        caption = _caption(catalog, item, 24 if not is_query else 26)
        category = catalog.categories.get(item, "") if catalog else ""
        if category:
            category = category.replace("|", ", ")
            if is_query:
                caption += "\n" + "\n".join(textwrap.wrap(category, width=26)[:3])
            else:
                caption += "\n" + textwrap.shorten(category, width=28, placeholder="…")
        axis.text(0.5, 0.62, caption, ha="center", va="center", fontsize=7.8, transform=axis.transAxes,
                  fontweight="bold" if is_query else "normal", wrap=False)
        axis.text(0.5, 0.1, header, ha="center", va="center", fontsize=7.5, color="#444444",
                  transform=axis.transAxes)
        axis.set_facecolor("#fff5f5" if is_query else "#fafafa")
    for spine in axis.spines.values():
        spine.set_visible(True)
        spine.set_edgecolor(frame)
        spine.set_linewidth(3 if is_query else 2)
