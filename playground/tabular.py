"""CSV data a user gives: numeric feature columns and one target column, parsed within size limits.

Only parsing lives here; `data.py` registers the `csv` dataset on top of it, and `uploads.py` says where
the bytes come from (an upload id in the app, a path on the command line).
"""

from __future__ import annotations

import csv
import io
import math
from array import array

import numpy as np

from .registry import Param, PlaygroundError

MAX_BYTES = 5_000_000
MAX_ROWS = 50_000
MAX_COLUMNS = 200
MAX_CLASSES = 20
MAX_NAME = 100  # characters of a column name or a class label (they are shown on every page)

PARAMS = (
    Param("upload", "str", None, help="The id the app gave an uploaded CSV (the app fills it in).", optional=True),
    Param("file", "str", None, help="Path of the CSV file (command line only: the app asks for an upload).",
          optional=True),
    Param("target", "str", None, help="Column to predict (default: the last).", optional=True),
    Param("task", "choice", "auto", choices=("auto", "classification", "regression"),
          help="auto: classification when the target has few distinct values."),
    Param("val_fraction", "float", 0.2, 0.05, 0.9, help="Share of rows held out for validation."),
    Param("seed", "int", 0, 0, 2**31 - 1, help="Seed of the split."),
)


class CSVError(PlaygroundError):
    """The CSV cannot be used; the message names the column or row at fault."""


def _text(raw: bytes | str) -> str:
    if isinstance(raw, bytes):
        if len(raw) > MAX_BYTES:
            raise CSVError(f"the file is {len(raw) / 1e6:.1f} MB; the limit is {MAX_BYTES / 1e6:.0f} MB")
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise CSVError("the file is not UTF-8 text; save it as CSV (UTF-8)") from None
    if len(raw) > MAX_BYTES:
        raise CSVError(f"the file is {len(raw):,} characters long; the limit is {MAX_BYTES:,}")
    return raw


MISSING = ("", "NA", "NaN", "nan", "null", "None")


def _rows(text: str):
    """The non-blank rows, one at a time; a malformed file (a field over the csv module's 131,072-character
    limit) is a CSVError naming the line, never a crash."""
    reader = csv.reader(io.StringIO(text))
    try:
        for r in reader:
            if any(c.strip() for c in r):
                yield r
    except csv.Error as e:
        why = "a value is far too long for a number or a label" if "field larger" in str(e) else str(e)
        raise CSVError(f"line {reader.line_num} cannot be read: {why}; is it a CSV of numbers and labels?") from None


def header(raw: bytes | str) -> list[str]:
    """The column names of a CSV's first row (checked: a usable count, each name of a sensible length)."""
    names = [h.strip() for h in next(_rows(_text(raw)), [])]
    if len(names) > MAX_COLUMNS:
        raise CSVError(f"the file has {len(names)} columns; the limit is {MAX_COLUMNS}")
    for j, name in enumerate(names, start=1):
        if len(name) > MAX_NAME:
            raise CSVError(f"column {j}'s name is {len(name):,} characters long; the limit is {MAX_NAME}")
    return names


def parse_csv(raw: bytes | str, target: str | None = None, task: str = "auto"):
    """Parse CSV text into (x, y, info) with clear errors; `info` as in data.Samples.

    One pass over the rows: feature values go straight into arrays of floats (8 bytes each, not a string
    object each), so a 5 MB file takes tens of MB to parse, not hundreds."""
    names = header(raw)
    if len(names) < 2:
        raise CSVError("the file needs at least two columns (features and a target); is it comma-separated?"
                       if names else "the file needs a header row and at least one data row")
    target = target or names[-1]
    if target not in names:
        raise CSVError(f"no column named '{target[:MAX_NAME]}'; the columns are: {', '.join(names)}")
    t = names.index(target)
    values = {j: array("d") for j in range(len(names)) if j != t}
    missing: dict[int, list[int]] = {}  # column -> [count, first row]
    not_numbers: dict[int, tuple[int, str]] = {}  # column -> (first row, value)
    y_raw: list[str] = []
    rows = _rows(_text(raw))
    next(rows)  # the header
    n = 0
    for i, r in enumerate(rows, start=2):
        n += 1
        if n > MAX_ROWS:
            raise CSVError(f"the file has more than {MAX_ROWS:,} rows; the limit is {MAX_ROWS:,}")
        if len(r) != len(names):
            raise CSVError(f"row {i} has {len(r)} values but the header has {len(names)} columns")
        for j, v in enumerate(r):
            v = v.strip()
            if v in MISSING:
                missing.setdefault(j, [0, i])[0] += 1
                if j != t:
                    values[j].append(0.0)
                    continue
            if j == t:
                y_raw.append(v)
                continue
            try:
                f = float(v)
            except ValueError:
                f = math.nan
            if not math.isfinite(f):
                not_numbers.setdefault(j, (i, v[:30]))
            values[j].append(f)
    if n < 1:
        raise CSVError("the file needs a header row and at least one data row")
    for j in [*values, t]:  # the first problem in column order, as a person reads the file
        if j in missing:
            count, first = missing[j]
            raise CSVError(f"column '{names[j]}' has {count} missing value{'s' * (count > 1)} "
                           f"(first on row {first}); fill them in or remove those rows")
        if j in not_numbers:
            i, v = not_numbers[j]
            raise CSVError(f"column '{names[j]}' is not numeric (row {i}: '{v}'); remove the column "
                           "or encode it as numbers")
    features = [names[j] for j in values]
    x = np.empty((n, len(values)), np.float32)  # filled a column at a time: no float64 copy of the whole
    for c, a in enumerate(values.values()):
        x[:, c] = np.frombuffer(a, np.float64)
    distinct = sorted(set(y_raw))
    if len(distinct) < 2:
        raise CSVError(f"target column '{target}' has one value ('{distinct[0][:30]}'); nothing to learn: "
                       "choose another target column")
    numeric_target = all(_is_number(v) for v in distinct)
    if task == "auto":
        task = "classification" if (not numeric_target or (len(distinct) <= MAX_CLASSES and all(
            float(v).is_integer() for v in distinct))) else "regression"
    if task == "regression":
        if not numeric_target:
            bad = next(v for v in y_raw if not _is_number(v))
            raise CSVError(f"target column '{target}' must be numeric for regression (found '{bad[:30]}')")
        y = np.array([float(v) for v in y_raw], np.float32).reshape(-1, 1)
        return x, y, {"feature_names": features, "standardize": True, "n_classes": 0}
    if len(distinct) > MAX_CLASSES:
        raise CSVError(f"target column '{target}' has {len(distinct)} distinct values; classification allows "
                       f"at most {MAX_CLASSES} (choose task 'regression')")
    long = next((v for v in distinct if len(v) > MAX_NAME), None)
    if long is not None:
        raise CSVError(f"target column '{target}' has a label {len(long):,} characters long; the limit is {MAX_NAME}")
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
