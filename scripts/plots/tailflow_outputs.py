"""Readers for the files tailflow writes: embeddings (sharded HDF5), item catalogs, IDX photos, interaction
CSVs and evaluation JSON reports. Plain numpy + h5py; nothing here draws."""

import contextlib
import csv
import json
import os
import re
import shlex
import struct
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# Column names `tailflow features` also recognises (docs/regressor.md), first match wins.
ID_COLUMNS = ("item_id", "movieId", "itemId", "item", "id")
TITLE_COLUMNS = ("title", "name", "product_name")
CATEGORY_COLUMNS = ("category", "genres", "genre")
IMAGE_COLUMNS = ("image", "image_index", "image_id")
SOURCE_CODES = {0: "als", 1: "content", 2: "blend", 3: "prior"}


class InputError(Exception):
    """An input file is missing or unusable; the figure that needs it is skipped with this message."""


def decode_ids(raw):
    return [x.decode("utf-8") if isinstance(x, bytes) else str(x) for x in raw]


def stable_hash(text):
    """A hash that does not change between runs (Python's hash() does), for deterministic subsamples."""
    return zlib.crc32(text.encode("utf-8"))


@contextlib.contextmanager
def _inside(directory):
    # The master file's virtual datasets name their shards by relative path; HDF5 1.10 resolves them against
    # the master's folder, older builds against the working directory. Reading from that folder suits both.
    previous = os.getcwd()
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(previous)


@dataclass
class Embeddings:
    path: Path
    ids: list
    vectors: np.ndarray  # float32 [items, factors]
    counts: np.ndarray = None  # training interactions per item, when the file stores them
    source: np.ndarray = None  # per-item code (0 als, 1 content, 2 blend, 3 prior) for `embed` files
    attrs: dict = field(default_factory=dict)

    @property
    def label(self):
        """Short name of the vector source: the file's mode (blend/prior/content) or `als`."""
        mode = self.attrs.get("mode") or self.attrs.get("model")
        if mode in ("blend", "prior", "content"):
            return mode
        if mode == "als":
            return "als"
        return source_label_from_path(self.path)


def read_embeddings(path):
    """Item ids, vectors and (when present) counts and source flags of a tailflow embeddings file."""
    import h5py

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    with _inside(path.resolve().parent), h5py.File(path.name, "r") as f:
        if "items/vectors" not in f or "items/ids" not in f:
            raise InputError(f"{path}: no items/ids + items/vectors (is it a tailflow embeddings file?)")
        _check_shards(f, path)
        ids = decode_ids(f["items/ids"][:])
        vectors = np.asarray(f["items/vectors"][:], dtype=np.float32)
        counts = f["items/counts"][:].astype(np.int64) if "items/counts" in f else None
        source = f["items/source"][:] if "items/source" in f else None
        attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
    if vectors.ndim != 2 or vectors.shape[0] != len(ids):
        raise InputError(f"{path}: items/vectors {vectors.shape} does not match {len(ids)} item ids")
    if not np.all(np.isfinite(vectors)):
        raise InputError(f"{path}: items/vectors holds non-finite values")
    return Embeddings(path, ids, vectors, counts, source, attrs)


def _check_shards(f, path):
    # A virtual dataset whose shard file is gone reads as fill values (zeros) without any error.
    dataset = f["items/vectors"]
    if not dataset.is_virtual:
        return
    for source in dataset.virtual_sources():
        name = source.file_name
        if name != "." and not Path(name).is_file():
            raise InputError(f"{path}: shard {name} is missing (keep the shards next to the master file)")


def source_label_from_path(path):
    """`blend.h5` -> blend; `als/embeddings.h5` -> als; `als-full/embeddings.h5` -> als-full."""
    path = Path(path)
    stem = path.stem
    if stem in ("embeddings", "item_embeddings") and path.parent.name:
        return path.parent.name
    return stem


# ----------------------------------------------------------------------------------------------- catalogs


@dataclass
class Catalog:
    ids: list
    titles: dict  # id -> title
    categories: dict  # id -> category / genres ('' when unknown)
    images: dict  # id -> row of the IDX file (only items with an image)


def _pick(header, wanted, explicit=None):
    if explicit:
        if explicit.isdigit() and int(explicit) < len(header):
            return int(explicit)
        if explicit in header:
            return header.index(explicit)
        raise InputError(f"no column '{explicit}' in the items file (columns: {', '.join(header)})")
    lowered = [h.strip().lower() for h in header]
    for name in wanted:
        if name.lower() in lowered:
            return lowered.index(name.lower())
    return None


def read_catalog(path, id_column=None, title_column=None, category_column=None, image_column=None):
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        sample = handle.read(4096)
        handle.seek(0)
        delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
        reader = csv.reader(handle, delimiter=delimiter)
        header = next(reader, None)
        if not header:
            raise InputError(f"{path}: empty items file")
        id_at = _pick(header, ID_COLUMNS, id_column)
        id_at = 0 if id_at is None else id_at
        title_at = _pick(header, TITLE_COLUMNS, title_column)
        category_at = _pick(header, CATEGORY_COLUMNS, category_column)
        image_at = _pick(header, IMAGE_COLUMNS, image_column)
        ids, titles, categories, images = [], {}, {}, {}
        for row in reader:
            if len(row) <= id_at:
                continue
            item = row[id_at].strip()
            if item in titles:
                continue  # the first row wins, as in `tailflow features`
            ids.append(item)
            titles[item] = row[title_at].strip() if title_at is not None and title_at < len(row) else item
            has_category = category_at is not None and category_at < len(row)
            categories[item] = row[category_at].strip() if has_category else ""
            if image_at is not None and image_at < len(row) and row[image_at].strip().isdigit():
                images[item] = int(row[image_at])
    return Catalog(ids, titles, categories, images)


class IdxImages:
    """Rows of an IDX image file (unsigned bytes, [count, height, width]), memory-mapped."""

    def __init__(self, path):
        path = Path(path)
        if not path.is_file():
            raise InputError(f"{path}: no such file")
        with open(path, "rb") as handle:
            head = handle.read(4)
            if len(head) < 4 or head[0] != 0 or head[1] != 0:
                raise InputError(f"{path}: not an IDX file")
            dtype_code, dims = head[2], head[3]
            if dtype_code != 0x08 or dims != 3:
                raise InputError(f"{path}: expected unsigned-byte images [count, height, width] in IDX")
            self.count, self.height, self.width = struct.unpack(">III", handle.read(12))
        expected = 16 + self.count * self.height * self.width
        if path.stat().st_size < expected:
            raise InputError(f"{path}: truncated ({path.stat().st_size} bytes, header says {expected})")
        self.pixels = np.memmap(path, dtype=np.uint8, mode="r", offset=16,
                                shape=(self.count, self.height, self.width))

    def __getitem__(self, row):
        if not 0 <= row < self.count:
            return None
        return np.asarray(self.pixels[row])


# ------------------------------------------------------------------------------------------ interactions


ITEM_COLUMNS = ("item_id", "movieId", "itemId", "item", "product_id")


def count_item_interactions(path, item_column=None, wanted=None):
    """Training interactions per item id of an interaction CSV (with a header, as `split` writes). With
    `wanted`, only those ids are counted (saves memory on big files)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    counts = Counter()
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        first = handle.readline()
        delimiter = "\t" if first.count("\t") > first.count(",") else ","
        header = next(csv.reader([first], delimiter=delimiter))
        at = _pick(header, ITEM_COLUMNS, item_column)
        if at is None:
            at = 1 if len(header) > 1 else 0
        for line in handle:
            parts = line.rstrip("\r\n").split(delimiter)
            if len(parts) > at:
                item = parts[at].strip().strip('"')
                if wanted is None or item in wanted:
                    counts[item] += 1
    return counts


def read_id_list(path):
    """One id per line after a header line (probe_items.csv); returns (header, ids)."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        lines = [line.strip() for line in handle if line.strip()]
    if not lines:
        return None, []
    return lines[0], lines[1:]


# ------------------------------------------------------------------------------------- evaluation reports

BASELINES = ("popularity", "random", "content-knn")


@dataclass
class Evaluation:
    path: Path
    protocol: str
    k: int
    report: dict
    # catalog name (probe / all / head / tail / cold) -> source label -> metrics dict
    catalogs: dict


def _is_source_metrics(value):
    return isinstance(value, dict) and isinstance(value.get("ndcg"), dict) and "mean" in value["ndcg"]


def read_evaluation(path):
    """A `tailflow evaluate` JSON report, with its learned source named by the embeddings it evaluated when
    the report calls it `als` but ran on another file (one report per embeddings file)."""
    path = Path(path)
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: not a readable JSON file ({error})")
    ranking = report.get("ranking") if isinstance(report, dict) else None
    if not isinstance(ranking, dict):
        raise InputError(f"{path}: no 'ranking' object (not a `tailflow evaluate` report)")
    protocol = str(report.get("protocol", "B")).upper()
    k = int(report.get("k", 10))
    catalogs = {}
    for catalog, content in ranking.items():
        if not isinstance(content, dict):
            continue
        sources = {name: dict(value, items=content.get("items")) for name, value in content.items()
                   if _is_source_metrics(value)}
        if sources:
            catalogs[catalog] = sources
    if not catalogs:
        raise InputError(f"{path}: the report ranks no source")
    rename_single_learned_source(catalogs, report)
    return Evaluation(path, protocol, k, report, catalogs)


def rename_single_learned_source(catalogs, report):
    """Reports of one embeddings file call its vectors `als`; name them after the file (blend, prior,
    als-full, …) so reports of several files can share one chart."""
    embeddings = report.get("embeddings")
    if not isinstance(embeddings, str):
        return
    label = source_label_from_path(embeddings)
    if label in ("als", "") or label in BASELINES:
        return
    for sources in catalogs.values():
        learned = [name for name in sources if name not in BASELINES]
        if learned == ["als"]:
            sources[label] = sources.pop("als")


def irrelevant_share(metrics):
    """Share of top-K results that are not relevant: the report's own figure when it has one, else
    1 − precision@K with the interval flipped."""
    own = metrics.get("irrelevant_share")
    if isinstance(own, dict) and "mean" in own:
        return own
    precision = metrics.get("precision")
    if not isinstance(precision, dict) or "mean" not in precision:
        return None
    mean = precision["mean"]
    return {"mean": 1.0 - mean, "low": 1.0 - precision.get("high", mean), "high": 1.0 - precision.get("low", mean)}


_SHOTS_IN_NAME = re.compile(r"(?:^|[^a-z0-9])(?:m|shots?|k?shot)[-_=]?(\d+)(?![0-9])", re.IGNORECASE)


def shots_from_report(report):
    """m from a key of the report, if the evaluation or the split recorded it."""
    for holder in (report, report.get("split") if isinstance(report.get("split"), dict) else {},
                   report.get("data") if isinstance(report.get("data"), dict) else {}):
        for key in ("shots", "m", "few_shot_m", "probe_shots"):
            value = holder.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
                return int(value)
    return None


def shots_from_path(path):
    """m from the file or folder names, innermost first: m3, m0-s1, shots-5, evaluation-m10.json."""
    for part in reversed(Path(path).parts):
        match = _SHOTS_IN_NAME.search(Path(part).stem if part.endswith(".json") else part)
        if match:
            return int(match.group(1))
    return None


def resolve_report_path(name, report_path):
    """A path a report names: as written (absolute, or relative to the working directory of the run), else
    relative to the report's folder or one of its parents (the run's working directory, often)."""
    candidate = Path(name)
    if candidate.is_absolute() or candidate.exists():
        return candidate
    for base in Path(report_path).resolve().parents:
        if (base / candidate).exists():
            return base / candidate
    return candidate


def count_distinct_users(path, item_column, wanted):
    """Distinct users per item id (of `wanted`) in an interaction CSV with a header; the user is the first
    column unless a column is named like a user id."""
    users = {}
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        first = handle.readline()
        delimiter = "\t" if first.count("\t") > first.count(",") else ","
        header = next(csv.reader([first], delimiter=delimiter))
        item_at = _pick(header, ITEM_COLUMNS, item_column if item_column in header else None)
        item_at = 1 if item_at is None else item_at
        user_at = _pick(header, ("user_id", "userId", "user", "customer_id"))
        user_at = 0 if user_at is None else user_at
        for line in handle:
            parts = line.rstrip("\r\n").split(delimiter)
            if len(parts) > max(item_at, user_at):
                item = parts[item_at].strip().strip('"')
                if item in wanted:
                    users.setdefault(item, set()).add(parts[user_at])
    return {item: len(who) for item, who in users.items()}


def shots_from_data(report, report_path):
    """m measured: every probe item keeps exactly m training (user, item) pairs, so m is the most common
    number of distinct training users of the items in probe_items.csv (next to the test file, as
    `split --method few-shot` writes it)."""
    train, test = report.get("train"), report.get("test")
    if not isinstance(train, str) or not isinstance(test, str):
        return None
    probe = report.get("probe_items")
    probe_path = (resolve_report_path(probe, report_path) if isinstance(probe, str)
                  else resolve_report_path(test, report_path).parent / "probe_items.csv")
    train_path = resolve_report_path(train, report_path)
    if not probe_path.is_file() or not train_path.is_file():
        return None
    header, probe_ids = read_id_list(probe_path)
    if not probe_ids:
        return None
    counts = count_distinct_users(train_path, header, set(probe_ids))
    histogram = Counter(counts.get(item, 0) for item in probe_ids)
    return histogram.most_common(1)[0][0]


def find_shots(evaluation):
    """m of a protocol A report: a recorded key, else the file names, else measured from the split."""
    for finder in (lambda: shots_from_report(evaluation.report), lambda: shots_from_path(evaluation.path),
                   lambda: shots_from_data(evaluation.report, evaluation.path)):
        try:
            m = finder()
        except (OSError, InputError, ValueError):
            m = None
        if m is not None:
            return m
    return None


def option_from_stage_record(stage_dir, option):
    """The value of `--option` in a command a pipeline stage recorded (stage_dir/stage.json "commands"), e.g.
    the catalog a features stage read; None when absent."""
    path = Path(stage_dir) / "stage.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    commands = record.get("commands", []) if isinstance(record, dict) else []
    for entry in commands:
        command = entry.get("command") if isinstance(entry, dict) else entry
        if not isinstance(command, str):
            continue
        try:
            words = shlex.split(command)
        except ValueError:
            words = command.split()
        for index, word in enumerate(words):
            if word == f"--{option}" and index + 1 < len(words):
                return words[index + 1]
            if word.startswith(f"--{option}="):
                return word.split("=", 1)[1]
    return None
