#!/usr/bin/python3
"""The pictures of a tailflow run (docs/figures.md), as PNG files:

  quality_vs_interactions.png  protocol A: NDCG@K and share of irrelevant top-K results against the number of
                               training interactions m of the probe items, one line per item-vector source
  quality_by_bucket.png        protocol B: NDCG@K per popularity bucket (head/tail/cold), bars per source
  embedding_map_pca.png        item embeddings in 2-D (PCA), coloured by popularity, BEFORE (ALS) and AFTER
  embedding_map_tsne.png       the same by t-SNE (scikit-learn when installed, else a small numpy version)
  similar_items.png            a few tail products and their nearest neighbours, BEFORE and AFTER

  make_figures.py --pipeline-out DIR --out DIR [explicit inputs override what is found in DIR]

A figure whose inputs are missing is skipped with a message; the exit status is 0 unless the arguments are
wrong (2), so a pipeline never fails because of its pictures."""

import argparse
import glob
import json
import sys
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

FIGURES = ("quality_vs_interactions", "quality_by_bucket", "embedding_map_pca", "embedding_map_tsne",
           "similar_items")
AFTER_PREFERENCE = ("blend", "prior", "content")


def warn(message):
    print(f"make_figures: {message}", file=sys.stderr)


def info(message):
    print(f"make_figures: {message}")


def parse_protocol_a(value):
    """`m=FILE` (m given) or `FILE` (m found from the report, its path or its split). FILE may be a folder
    or a glob pattern: all evaluation reports in it."""
    if "=" in value:
        shots, _, target = value.partition("=")
        shots = shots.strip().lstrip("mM")
        if not shots.isdigit() or not target:
            raise argparse.ArgumentTypeError(f"expected m=FILE with m a whole number (e.g. 3=eval.json), "
                                             f"not '{value}'")
        return int(shots), target
    return None, value


def build_parser():
    parser = argparse.ArgumentParser(
        description="Draw the PNG figures of a tailflow run (see docs/figures.md).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Found in --pipeline-out DIR: data/items.csv (else the --items its features stage "
               "recorded in features/stage.json), data/images.idx, split/train.csv, als/embeddings.h5, "
               "embeddings/{blend,prior,content}.h5, evaluation/*.json, protocol-a/m*/**/*.json. "
               "Explicit options win.")
    parser.add_argument("--pipeline-out", type=Path, help="output folder of `tailflow pipeline`")
    parser.add_argument("--out", type=Path, required=True, help="folder for the PNG files")
    inputs = parser.add_argument_group("explicit inputs (override discovery)")
    inputs.add_argument("--items", type=Path, help="item catalog CSV (id, title, category/genres, image)")
    inputs.add_argument("--images", type=Path, help="IDX photo file (default: images.idx next to --items)")
    inputs.add_argument("--train", type=Path, help="training interactions CSV (popularity when the "
                                                   "embeddings files lack items/counts)")
    inputs.add_argument("--als", type=Path, help="BEFORE: embeddings.h5 of `tailflow als`")
    inputs.add_argument("--after", type=Path, help="AFTER: embeddings file of `tailflow embed` (blend/prior)")
    inputs.add_argument("--evaluation-b", type=Path, nargs="+", action="extend", default=[], metavar="FILE",
                        help="protocol B reports of `tailflow evaluate` (one per embeddings file is fine)")
    inputs.add_argument("--protocol-a", type=parse_protocol_a, nargs="+", action="extend", default=[],
                        metavar="[m=]FILE", help="protocol A reports; m= names the shots, else m is read "
                        "from the report, its path (m3/, shots-3) or its split's probe items")
    inputs.add_argument("--id-column", help="item id column of --items (default: item_id, movieId, …)")
    inputs.add_argument("--title-column", help="title column of --items (default: title, name)")
    inputs.add_argument("--category-column", help="category column of --items (default: category, genres)")
    inputs.add_argument("--image-column", help="IDX row column of --items (default: image)")
    options = parser.add_argument_group("figure options")
    options.add_argument("--figures", nargs="+", choices=FIGURES, default=list(FIGURES),
                         help="which figures to draw (default: all)")
    options.add_argument("--after-source", choices=AFTER_PREFERENCE, help="which discovered AFTER file to "
                         "prefer (default: blend, then prior, then content)")
    options.add_argument("--seed", type=int, default=7, help="t-SNE seed (subsamples use a fixed hash)")
    options.add_argument("--max-points", type=int, default=20000, help="items per PCA map at most")
    options.add_argument("--tsne-points", type=int, default=3000, help="items per t-SNE map at most")
    options.add_argument("--tsne", choices=("auto", "sklearn", "numpy"), default="auto",
                         help="t-SNE implementation (auto: scikit-learn if installed)")
    options.add_argument("--queries", type=int, default=5, help="tail items in similar_items.png (4-6 reads well)")
    options.add_argument("--query-items", help="comma-separated item ids to show instead of chosen ones")
    options.add_argument("--tail-max", type=int, default=5,
                         help="query items have 1..N training interactions (default 5)")
    options.add_argument("--neighbours", type=int, default=5, help="neighbours per query (default 5)")
    options.add_argument("--dpi", type=int, default=130)
    options.add_argument("--debug", action="store_true", help="print tracebacks of skipped figures")
    return parser


def validate(parser, args):
    explicit = [args.items, args.images, args.train, args.als, args.after]
    if args.pipeline_out is None and not any(explicit) and not args.evaluation_b and not args.protocol_a:
        parser.error("give --pipeline-out DIR or explicit inputs "
                     "(--als, --after, --evaluation-b, --protocol-a, …)")
    for name in ("max_points", "tsne_points", "queries", "neighbours", "dpi", "tail_max"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.pipeline_out is not None and not args.pipeline_out.is_dir():
        warn(f"--pipeline-out {args.pipeline_out} is not a folder; only explicit inputs are used")


# ------------------------------------------------------------------------------------------------ discovery


def first_file(base, candidates):
    if base is None:
        return None
    for candidate in candidates:
        path = base / candidate
        if path.is_file():
            return path
    return None


def recorded_file(base, stage, option):
    """A file the pipeline's `stage` was given (its stage.json), for catalogs outside the output folder."""
    if base is None:
        return None
    from tailflow_outputs import option_from_stage_record

    value = option_from_stage_record(base / stage, option)
    if value is None:
        return None
    path = Path(value)
    if not path.is_absolute() and not path.is_file():
        path = base / value  # relative to where the pipeline ran: try its output folder's parent too
        if not path.is_file():
            path = base.parent / value
    return path if path.is_file() else None


def discover(args):
    """Explicit options, else the files a `tailflow pipeline` run leaves in --pipeline-out."""
    base = args.pipeline_out if args.pipeline_out is not None and args.pipeline_out.is_dir() else None
    found = {}
    found["items"] = args.items or first_file(base, ["data/items.csv", "items.csv", "data/movies.csv"]) or \
        recorded_file(base, "features", "items")
    images = args.images or recorded_file(base, "features", "images-idx")
    if images is None and found["items"] is not None and (found["items"].parent / "images.idx").is_file():
        images = found["items"].parent / "images.idx"
    found["images"] = images or first_file(base, ["data/images.idx", "images.idx"])
    found["train"] = args.train or first_file(base, ["split/train.csv", "data/train.csv", "train.csv"])
    found["als"] = args.als or first_file(base, ["als/embeddings.h5", "embeddings/als.h5"])
    after = args.after
    if after is None and base is not None:
        preference = list(AFTER_PREFERENCE)
        if args.after_source:
            preference.remove(args.after_source)
            preference.insert(0, args.after_source)
        after = first_file(base, [f"{folder}{name}.h5" for name in preference
                                  for folder in ("embeddings/", "")])
    found["after"] = after
    return found


def evaluation_files(base):
    """Every JSON file in the evaluation folders of a pipeline run (reports are told apart by content)."""
    if base is None:
        return []
    patterns = ["evaluation/**/*.json", "evaluation*.json", "protocol-a/**/*.json", "protocol-b/**/*.json",
                "reports/**/*.json"]
    files = set()
    for pattern in patterns:
        files.update(Path(p) for p in glob.glob(str(base / pattern), recursive=True))
    return sorted(files)


def expand(target):
    path = Path(target)
    if path.is_dir():
        return sorted(p for p in path.rglob("*.json"))
    matches = sorted(Path(p) for p in glob.glob(str(target)))
    return matches or [path]


def load_reports(args, base):
    """(protocol A [(m, Evaluation)], protocol B [Evaluation]) from explicit options or discovery."""
    from tailflow_outputs import InputError, find_shots, read_evaluation

    def load(path, quiet):
        try:
            return read_evaluation(path)
        except InputError as error:
            if not quiet:
                warn(f"ignored {error}")
            return None

    protocol_a, protocol_b = [], []
    if args.protocol_a:
        for shots, target in args.protocol_a:
            for path in expand(target):
                evaluation = load(path, quiet=False)
                if evaluation is None:
                    continue
                if evaluation.protocol != "A":
                    warn(f"{path}: a protocol {evaluation.protocol} report given to --protocol-a; drawn anyway")
                m = shots if shots is not None else find_shots(evaluation)
                if m is None:
                    warn(f"{path}: cannot tell its number of shots m; give it as --protocol-a m={path}")
                    continue
                protocol_a.append((m, evaluation))
    discovered = [] if args.evaluation_b and args.protocol_a else evaluation_files(base)
    for path in discovered:
        evaluation = load(path, quiet=True)  # other JSON files (summaries, fingerprints) are expected there
        if evaluation is None:
            continue
        if evaluation.protocol == "A" and not args.protocol_a:
            m = find_shots(evaluation)
            if m is None:
                warn(f"{path}: protocol A report with unknown m (name its folder m3/ or pass --protocol-a m=FILE)")
            else:
                protocol_a.append((m, evaluation))
        elif evaluation.protocol != "A" and not args.evaluation_b:
            protocol_b.append(evaluation)
    for target in args.evaluation_b:
        for path in expand(target):
            evaluation = load(path, quiet=False)
            if evaluation is not None:
                protocol_b.append(evaluation)
    return protocol_a, protocol_b


# ----------------------------------------------------------------------------------------------- figures


class Inputs:
    """Lazily read inputs shared by several figures; a missing one raises InputError naming what to pass."""

    def __init__(self, args, found):
        self.args, self.found, self._cache = args, found, {}

    def _get(self, key, loader):
        if key not in self._cache:
            self._cache[key] = loader()
        return self._cache[key]

    def embeddings(self, role):
        from tailflow_outputs import InputError, read_embeddings

        path = self.found[role]
        if path is None:
            flag = "--als" if role == "als" else "--after"
            what = "ALS embeddings (als/embeddings.h5)" if role == "als" else \
                "content-model embeddings (embeddings/blend.h5 or prior.h5 from `tailflow embed`)"
            raise InputError(f"no {what}; pass {flag} FILE")
        return self._get(role, lambda: read_embeddings(path))

    def catalog(self, required=False):
        from tailflow_outputs import InputError, read_catalog

        path = self.found["items"]
        if path is None:
            if required:
                raise InputError("no item catalog; pass --items items.csv")
            return None
        a = self.args
        try:
            return self._get("catalog", lambda: read_catalog(path, a.id_column, a.title_column,
                                                             a.category_column, a.image_column))
        except InputError as error:
            if required:
                raise
            warn(f"{error}; items shown by id")
            self._cache["catalog"] = None
            return None

    def images(self):
        from tailflow_outputs import IdxImages, InputError

        path = self.found["images"]
        if path is None:
            return None
        try:
            return self._get("images", lambda: IdxImages(path))
        except InputError as error:
            warn(f"{error}; items shown without photos")
            self._cache["images"] = None
            return None

    def counts(self):
        """item id -> training interactions: from the embeddings files, else counted in --train."""
        def load():
            from tailflow_outputs import InputError, count_item_interactions

            counts = {}
            for role in ("als", "after"):
                try:
                    embeddings = self.embeddings(role)
                except InputError:
                    continue
                if embeddings.counts is not None:
                    for item, n in zip(embeddings.ids, embeddings.counts):
                        counts.setdefault(item, int(n))
            if not counts and self.found["train"] is not None:
                counts = dict(count_item_interactions(self.found["train"]))
            if not counts:
                raise InputError("no item popularity: the embeddings files lack items/counts and no "
                                 "--train file was found")
            return counts

        return self._get("counts", load)


def draw_quality_vs_interactions(inputs, reports, out):
    from quality_charts import plot_protocol_a
    from tailflow_outputs import InputError

    protocol_a = reports[0]
    if not protocol_a:
        raise InputError("no protocol A reports (run `tailflow evaluate --protocol A` on few-shot splits, one "
                         "per m, or pass --protocol-a m=FILE)")
    result = plot_protocol_a(protocol_a, out, inputs.args.dpi)
    if len(result["shots"]) == 1:
        warn(f"quality_vs_interactions: only m={result['shots'][0]} is available; the chart has one point "
             "per source")
    return f"m = {', '.join(map(str, result['shots']))}; sources: {', '.join(result['sources'])}"


def draw_quality_by_bucket(inputs, reports, out):
    from quality_charts import plot_protocol_b
    from tailflow_outputs import InputError

    if not reports[1]:
        raise InputError("no protocol B reports (run `tailflow evaluate --buckets` or pass --evaluation-b FILE)")
    result = plot_protocol_b(reports[1], out, inputs.args.dpi)
    return f"buckets: {', '.join(result['buckets'])}; sources: {', '.join(result['sources'])}"


def _map_panels(inputs):
    import numpy as np

    from embedding_maps import panel_title

    before, after = inputs.embeddings("als"), inputs.embeddings("after")
    counts = inputs.counts()
    panels = []
    for role, embeddings in (("BEFORE", before), ("AFTER", after)):
        if embeddings.counts is not None:
            item_counts = embeddings.counts
        else:
            item_counts = np.array([counts.get(item, 0) for item in embeddings.ids])
        panels.append((panel_title(embeddings, role), embeddings, item_counts))
    return panels


def draw_map(method):
    def draw(inputs, reports, out):
        from embedding_maps import plot_embedding_maps

        limit = inputs.args.max_points if method == "pca" else inputs.args.tsne_points
        plot_embedding_maps(_map_panels(inputs), method, out, seed=inputs.args.seed, max_points=limit,
                            tsne_impl=inputs.args.tsne, dpi=inputs.args.dpi, log=warn)
        return None

    return draw


def draw_similar_items(inputs, reports, out):
    from figure_style import source_style
    from similar_items import choose_queries, plot_similar_items
    from tailflow_outputs import InputError

    before, after = inputs.embeddings("als"), inputs.embeddings("after")
    counts = inputs.counts()
    catalog = inputs.catalog()
    images = inputs.images() if catalog is not None else None
    args = inputs.args
    if args.query_items:
        queries = [q.strip() for q in args.query_items.split(",") if q.strip()]
        missing = [q for q in queries if q not in set(before.ids) or q not in set(after.ids)]
        if missing:
            raise InputError(f"--query-items {', '.join(missing)}: not in both embeddings files (items without "
                             "training interactions have no ALS vector)")
    else:
        queries = choose_queries(before, after, counts, catalog, args.queries, args.tail_max,
                                 prefer_images=images is not None)
    if not queries:
        raise InputError("no tail item is in both embeddings files")
    label = source_style(after.label)["label"].split(" (")[0]
    plot_similar_items(before, after, counts, catalog, images, out, queries, k=args.neighbours, dpi=args.dpi,
                       after_name=f"AFTER\n{label}")
    shown = "photos" if images is not None and catalog is not None and catalog.images else "titles"
    return f"queries {', '.join(queries)} ({shown})"


DRAWERS = {
    "quality_vs_interactions": draw_quality_vs_interactions,
    "quality_by_bucket": draw_quality_by_bucket,
    "embedding_map_pca": draw_map("pca"),
    "embedding_map_tsne": draw_map("tsne"),
    "similar_items": draw_similar_items,
}


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    validate(parser, args)
    try:
        import figure_style
        from tailflow_outputs import InputError
    except ImportError as error:  # no matplotlib / numpy / h5py: no pictures, but no failed pipeline either
        warn(f"skipped every figure: {error} (Debian: python3-matplotlib python3-numpy python3-h5py)")
        return 0
    figure_style.apply_defaults()
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        warn(f"cannot create {args.out}: {error}; no figures")
        return 0
    base = args.pipeline_out if args.pipeline_out is not None and args.pipeline_out.is_dir() else None
    inputs = Inputs(args, discover(args))
    reports = None
    written, skipped = [], []
    for name in args.figures:
        path = args.out / f"{name}.png"
        try:
            if reports is None and name.startswith("quality"):
                reports = load_reports(args, base)
            detail = DRAWERS[name](inputs, reports, path)
            written.append({"figure": name, "file": str(path), "detail": detail})
            info(f"wrote {path}" + (f" ({detail})" if detail else ""))
        except InputError as error:
            skipped.append({"figure": name, "reason": str(error)})
            warn(f"skipped {name}: {error}")
        except Exception as error:  # a picture must never fail the pipeline: report and go on
            skipped.append({"figure": name, "reason": f"{type(error).__name__}: {error}"})
            warn(f"skipped {name}: unexpected {type(error).__name__}: {error}")
            if args.debug:
                traceback.print_exc()
    inputs_used = {key: str(value) if value is not None else None for key, value in inputs.found.items()}
    manifest = {"figures": written, "skipped": skipped, "inputs": inputs_used}
    try:
        (args.out / "figures.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    except OSError as error:
        warn(f"cannot write {args.out / 'figures.json'}: {error}")
    info(f"{len(written)} figure(s) written to {args.out}, {len(skipped)} skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
