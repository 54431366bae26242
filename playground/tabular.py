"""CSV data a user uploads: numeric feature columns and one target column, within size limits."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from .registry import Param, PlaygroundError, check_options

MAX_BYTES = 5_000_000
MAX_ROWS = 50_000
MAX_COLUMNS = 200
MAX_CLASSES = 20

PARAMS = (
    Param("file", "str", None, help="Path of the CSV file (the app stores uploads for you).", optional=True),
    Param("target", "str", None, help="Column to predict (default: the last).", optional=True),
    Param("task", "choice", "auto", choices=("auto", "classification", "regression"),
          help="auto: classification when the target has few distinct values."),
    Param("val_fraction", "float", 0.2, 0.05, 0.9, help="Share of rows held out for validation."),
    Param("seed", "int", 0, 0, 2**31 - 1, help="Seed of the split."),
)


class CSVError(PlaygroundError):
    """The CSV cannot be used; the message names the column or row at fault."""


def parse_csv(raw: bytes | str, target: str | None = None, task: str = "auto"):
    """Parse CSV text into (x, y, info) with clear errors; `info` as in data.Samples."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_BYTES:
            raise CSVError(f"the file is {len(raw) / 1e6:.1f} MB; the limit is {MAX_BYTES / 1e6:.0f} MB")
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise CSVError("the file is not UTF-8 text; save it as CSV (UTF-8)") from None
    rows = [r for r in csv.reader(io.StringIO(raw)) if any(c.strip() for c in r)]
    if len(rows) < 2:
        raise CSVError("the file needs a header row and at least one data row")
    header = [h.strip() for h in rows[0]]
    if len(header) < 2:
        raise CSVError("the file needs at least two columns (features and a target); is it comma-separated?")
    if len(header) > MAX_COLUMNS:
        raise CSVError(f"the file has {len(header)} columns; the limit is {MAX_COLUMNS}")
    if len(rows) - 1 > MAX_ROWS:
        raise CSVError(f"the file has {len(rows) - 1:,} rows; the limit is {MAX_ROWS:,}")
    for i, r in enumerate(rows[1:], start=2):
        if len(r) != len(header):
            raise CSVError(f"row {i} has {len(r)} values but the header has {len(header)} columns")
    target = target or header[-1]
    if target not in header:
        raise CSVError(f"no column named '{target}'; the columns are: {', '.join(header)}")
    t = header.index(target)
    cols = list(zip(*rows[1:], strict=True))  # row lengths were checked above
    features = [h for j, h in enumerate(header) if j != t]
    x = np.stack([_numeric(cols[j], header[j]) for j in range(len(header)) if j != t], 1).astype(np.float32)
    y_raw = [v.strip() for v in cols[t]]
    _no_missing(y_raw, target)
    distinct = sorted(set(y_raw))
    numeric_target = all(_is_number(v) for v in y_raw)
    if task == "auto":
        task = "classification" if (not numeric_target or (len(distinct) <= MAX_CLASSES and all(
            float(v).is_integer() for v in distinct))) else "regression"
    if task == "regression":
        if not numeric_target:
            bad = next(v for v in y_raw if not _is_number(v))
            raise CSVError(f"target column '{target}' must be numeric for regression (found '{bad}')")
        y = np.array([float(v) for v in y_raw], np.float32).reshape(-1, 1)
        return x, y, {"feature_names": features, "standardize": True, "n_classes": 0}
    if len(distinct) > MAX_CLASSES:
        raise CSVError(f"target column '{target}' has {len(distinct)} distinct values; classification allows "
                       f"at most {MAX_CLASSES} (choose task 'regression')")
    if numeric_target:
        distinct = sorted(distinct, key=float)
    index = {v: k for k, v in enumerate(distinct)}
    y = np.array([index[v] for v in y_raw], np.int64)
    return x, y, {"feature_names": features, "standardize": True, "n_classes": len(distinct),
                  "class_names": distinct}


def _is_number(v: str) -> bool:
    try:
        return math.isfinite(float(v))
    except ValueError:
        return False


def _no_missing(values, name: str) -> None:
    missing = [i for i, v in enumerate(values, start=2) if v.strip() in ("", "NA", "NaN", "nan", "null", "None")]
    if missing:
        raise CSVError(f"column '{name}' has {len(missing)} missing value{'s' * (len(missing) > 1)} "
                       f"(first on row {missing[0]}); fill them in or remove those rows")


def _numeric(values, name: str) -> np.ndarray:
    _no_missing(values, name)
    for i, v in enumerate(values, start=2):
        if not _is_number(v):
            raise CSVError(f"column '{name}' is not numeric (row {i}: '{v.strip()[:30]}'); remove the column "
                           "or encode it as numbers")
    return np.array([float(v) for v in values], np.float64)


def load_csv_spec(data_spec):
    """The Dataset for `{"name": "csv", "file": ..., "target": ..., "task": ...}`."""
    from .data import DatasetType, Samples, split
    opts = check_options(PARAMS, data_spec.options(), "data (csv)")
    if not opts["file"]:
        raise CSVError("data.file: a CSV dataset needs the path of its file", path="data.file")
    path = Path(opts["file"])
    try:
        raw = path.read_bytes()
    except OSError:
        raise CSVError(f"data.file: cannot read '{path}' (CSV uploads are not carried by links; upload it again)",
                       path="data.file") from None
    x, y, info = parse_csv(raw, opts["target"], opts["task"])
    task = "regression" if not info["n_classes"] else ("binary" if info["n_classes"] == 2 else "multiclass")
    kind = DatasetType("csv", task, "tabular", f"Uploaded CSV: {path.name}", None, PARAMS)
    return split(Samples(x, y, info=info), kind, task, opts["val_fraction"], opts["seed"])
