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
    shown(summary(values, what, names), table(values, names), key)


def shown(sentence: str, frame: pd.DataFrame | dict[str, pd.DataFrame], key) -> None:
    """Under a chart: `sentence`, and a "Show as table" toggle with `frame`, the data behind the chart (at most
    MAX_ROWS rows each; several as {title: frame}). `key`: a ui.keys.Key of the chart it describes."""
    st.caption(plain(sentence, MESSAGE))  # it may quote a stranger's names (CSV columns, classes, layers)
    if st.toggle("Show as table", key=key("table")):
        for title, f in (frame.items() if isinstance(frame, dict) else [("", frame)]):
            if title:
                st.markdown(f"**{plain(title)}**")
            st.dataframe(f.head(MAX_ROWS), hide_index=True, height=min(240, 38 + 35 * len(f.head(MAX_ROWS))))


def _unique(names: list[str]) -> list[str]:
    """Column names that stay apart: a repeated name gets its position (two classes may be shortened alike)."""
    return [n if names.count(n) == 1 else f"{n} ({i + 1})" for i, n in enumerate(names)]


def confusion(matrix: np.ndarray, names: list[str]) -> tuple[str, pd.DataFrame]:
    """A confusion matrix (rows: true class, columns: predicted) in words, and as a table of the same shape."""
    cm = np.asarray(matrix, dtype=np.int64)
    total, right = int(cm.sum()), int(np.trace(cm))
    said = f"Confusion matrix: {total:,} validation samples, {right:,} predicted right"
    said += f" ({100 * right / total:.1f} %)" if total else ""
    off = cm - np.diag(np.diag(cm))
    if off.any():
        t, p = np.unravel_index(int(off.argmax()), off.shape)
        said += f"; the most frequent mistake: true {names[t]} predicted as {names[p]} ({int(off[t, p]):,} samples)."
    else:
        said += "; no mistakes."
    cols = _unique([f"predicted {n}" for n in names])
    frame = pd.DataFrame(cm, columns=cols)
    frame.insert(0, "true class", [str(n) for n in names])
    return said, frame


def norms(rows: list[dict], names: list[str]) -> tuple[str, pd.DataFrame]:
    """Each layer's weight and gradient norm at each epoch of the run's statistics, in words and as rows."""
    out = [{"epoch": r["epoch"], "layer": lay["name"], "weight norm": lay.get("weight_norm"),
            "gradient norm": lay.get("grad_norm")} for r in rows for lay in r["layers"] if lay["name"] in names]
    frame = pd.DataFrame(out, columns=["epoch", "layer", "weight norm", "gradient norm"])
    if frame.empty:
        return "Weight and gradient norms: no values.", frame
    first, last = frame["epoch"].min(), frame["epoch"].max()
    said = f"Weight and gradient norms of {len(names)} layers at {frame['epoch'].nunique()} epochs ({first} to {last})."
    w = frame.dropna(subset=["weight norm"]).groupby("layer", sort=False)["weight norm"]
    if len(w):
        change = (w.last() - w.first()).abs()
        name = change.idxmax()
        said += f" The weight norm that changed most: {name}, from {fmt(w.first()[name])} to {fmt(w.last()[name])}."
    g = frame[frame["epoch"] == last].dropna(subset=["gradient norm"])
    if len(g):
        lo, hi = g.loc[g["gradient norm"].idxmin()], g.loc[g["gradient norm"].idxmax()]
        said += (f" Gradient norms at epoch {last} run from {fmt(lo['gradient norm'])} ({lo['layer']}) "
                 f"to {fmt(hi['gradient norm'])} ({hi['layer']}).")
    return said, frame


def histogram(hists: list[tuple[int, dict]], what: str) -> tuple[str, pd.DataFrame]:
    """Histograms of one layer's values at some epochs ([(epoch, {"edges", "counts"})]): each epoch's bins as
    rows (from, to, count), and in words where the values lie at the first and the last epoch."""
    out = [{"epoch": e, "from": float(a), "to": float(b), "count": int(c)}
           for e, h in hists for a, b, c in zip(h["edges"][:-1], h["edges"][1:], h["counts"], strict=True)]
    frame = pd.DataFrame(out, columns=["epoch", "from", "to", "count"])
    if frame.empty:
        return f"{what}: no values.", frame

    def spread(e: int) -> str:
        f = frame[(frame["epoch"] == e) & (frame["count"] > 0)]
        return f"from {fmt(f['from'].min())} to {fmt(f['to'].max())}" if len(f) else "empty"
    (e0, _), (e1, _) = hists[0], hists[-1]
    said = f"{what} at {len(hists)} epochs: at epoch {e0} they lie {spread(e0)}"
    return said + (f", at epoch {e1} {spread(e1)}." if e1 != e0 else "."), frame


def landscape(land: dict, path: np.ndarray | None = None, epochs: list[int] | None = None) -> tuple[str, pd.DataFrame]:
    """A loss landscape (playground.landscape: loss[i, j] at alphas[j], betas[i]) in words, and as a table of
    its grid: one row per β, one column per α. The training path, when given, is said in words."""
    a, b = np.asarray(land["alphas"], dtype=float), np.asarray(land["betas"], dtype=float)
    z = np.asarray(land["loss"], dtype=float)
    frame = pd.DataFrame(z, columns=_unique([f"α = {fmt(x)}" for x in a]))
    frame.insert(0, "β", [fmt(y) for y in b])
    if not np.isfinite(z).any():
        return "Loss landscape: no finite values.", frame
    i, j = np.unravel_index(int(np.nanargmin(z)), z.shape)
    k, m = np.unravel_index(int(np.nanargmax(z)), z.shape)
    said = (f"Loss landscape on a {len(b)}×{len(a)} grid of α from {fmt(a[0])} to {fmt(a[-1])} and β from "
            f"{fmt(b[0])} to {fmt(b[-1])}: the loss runs from {fmt(z[i, j])} (at α {fmt(a[j])}, β {fmt(b[i])}) to "
            f"{fmt(z[k, m])} (at α {fmt(a[m])}, β {fmt(b[k])}); the final weights are at α 0, β 0")
    said += f" (loss {fmt(land['center_loss'])})." if land.get("center_loss") is not None else "."
    if path is not None and len(path) and epochs:
        said += (f" The training path starts at epoch {epochs[0]} at α {fmt(path[0][0])}, β {fmt(path[0][1])} and "
                 f"passes {len(path)} checkpoints.")
    return said, frame


def path(points: np.ndarray, epochs: list[int]) -> pd.DataFrame:
    """The training path on the landscape's plane: one row per checkpoint."""
    p = np.asarray(points, dtype=float).reshape(-1, 2)
    return pd.DataFrame({"epoch": list(epochs)[:len(p)], "α": p[:, 0], "β": p[:, 1]})
