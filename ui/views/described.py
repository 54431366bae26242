"""Text alternatives for the pictures and charts Inspect and Explain draw (WCAG 1.1.1): one sentence a screen
reader (and everyone) can read under the picture, and a "Show as table" toggle with the numbers behind it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from ui.text import MESSAGE, plain

MAX_ROWS = 2000  # a table of more cells would be no easier to read than the picture


def fmt(v: float) -> str:
    """A figure as people say it: 0.213, −1.5, 120."""
    return f"{v:.3g}".replace("-", "−")


def summary(values: np.ndarray, what: str, names: list[str] | None = None) -> str:
    """`what`: its size, range and where its largest magnitude is, with the sign in words (not colour)."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0 or not np.isfinite(v).any():
        return f"{what}: no values."
    flat = np.nan_to_num(v.reshape(-1))
    i = int(np.argmax(np.abs(flat)))
    if names is not None and len(names) == flat.size:
        where = str(names[i])
    elif v.ndim >= 2:
        where = "at " + ", ".join(f"{ax} {k + 1}" for ax, k in zip(_axes(v.ndim), np.unravel_index(i, v.shape),
                                                                    strict=True))
    else:
        where = f"at {i + 1}"
    sign = "positive" if flat[i] >= 0 else "negative"
    pos = 100 * float((flat > 0).mean())
    return (f"{what}: {flat.size:,} values from {fmt(flat.min())} to {fmt(flat.max())}; the largest in size is "
            f"{where} ({fmt(flat[i])}, {sign}); {pos:.0f} % are positive.")


def _axes(ndim: int) -> list[str]:
    return ["map", "row", "column"][-ndim:] if ndim <= 3 else [f"axis {k + 1}" for k in range(ndim)]


def table(values: np.ndarray, names: list[str] | None = None) -> pd.DataFrame:
    """The values as rows: one per value with its position (or name), at most MAX_ROWS."""
    v = np.asarray(values, dtype=np.float64)
    flat = v.reshape(-1)[:MAX_ROWS]
    if names is not None and len(names) == v.size:
        return pd.DataFrame({"name": [str(n) for n in names[:MAX_ROWS]], "value": flat})
    idx = np.unravel_index(np.arange(flat.size), v.shape) if v.ndim else ()
    cols = {ax: np.asarray(k) + 1 for ax, k in zip(_axes(max(v.ndim, 1)), idx, strict=False)}
    return pd.DataFrame({**cols, "value": flat})


def described(values: np.ndarray, what: str, key, names: list[str] | None = None) -> None:
    """Under a picture or chart of `values`: its sentence, and a toggle that shows the numbers as a table."""
    st.caption(plain(summary(values, what, names), MESSAGE))  # names may be a stranger's (CSV columns, classes)
    if st.toggle("Show as table", key=key("table")):  # key: a ui.keys.Key of the picture it describes
        st.dataframe(table(values, names), hide_index=True, height=240)
