"""What the class board draws: the ranked table, the overlaid curves, the join QR code."""

from __future__ import annotations

import html
import io
import time

import plotly.graph_objects as go
import streamlit as st

from playground.classroom import Submission, higher_is_better
from ui.text import short

# Okabe–Ito without its yellow (too faint on white): seven colours a colour-blind reader tells apart
COLORS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000"]
MOST = len(COLORS)  # curves on one chart, each in its own colour


def label(s: Submission) -> str:
    """A submission's name in a legend or a list: the student and the title (user text, cut short)."""
    return f"{short(s.student, 30)} — {short(s.title, 40)}"


def value(s: Submission, metric: str) -> str:
    """The submission's value of `metric`, or a dash."""
    v = s.metrics.get(metric)
    return "—" if v is None else f"{v:.4g}"


def ago(t: float) -> str:
    """'just now', '3 min ago', '2 h ago'."""
    d = max(0.0, time.time() - t)
    return "just now" if d < 45 else f"{d / 60:.0f} min ago" if d < 3600 else f"{d / 3600:.0f} h ago"


def table(rows: list[tuple[int | None, Submission]], metric: str) -> list[dict]:
    """The ranked table's rows (texts shown as text by st.dataframe)."""
    return [{"rank": "—" if r is None else r, "student": short(s.student, 60), "title": short(s.title, 60),
             metric: s.metrics.get(metric), "epochs": s.epochs, "submitted": ago(s.created)} for r, s in rows]


def curves(subs: list[Submission], metric: str, height: int = 380, font: int = 14) -> go.Figure:
    """Each submission's curve of `metric` per epoch (validation loss where its curve lacks it), each in its
    own colour and named in the legend."""
    fig = go.Figure()
    drawn = set()
    for i, s in enumerate(subs[:MOST]):
        key = metric if any(metric in p for p in s.curve) else "val_loss"
        drawn.add(key)
        points = [p for p in s.curve if key in p]
        fig.add_scatter(x=[p.get("epoch") for p in points], y=[p[key] for p in points], mode="lines",
                        name=html.escape(label(s), quote=False), line={"color": COLORS[i], "width": 3})
    axis = " / ".join(sorted(drawn)) or metric
    fig.update_layout(height=height, margin={"l": 60, "r": 10, "t": 10, "b": 40}, xaxis_title="epoch",
                      yaxis_title=axis + ("" if higher_is_better(axis) else " (lower is better)"),
                      legend={"orientation": "h", "y": -0.2, "x": 0}, font={"size": font})
    for axis_ in (fig.layout.xaxis, fig.layout.yaxis):  # Streamlit's theme sets its own small sizes
        axis_.tickfont.size, axis_.title.font.size = font - 2, font
    fig.layout.legend.font.size = font
    last = max((p.get("epoch", 0) for x in subs[:MOST] for p in x.curve), default=0)
    if last <= 12:
        fig.update_xaxes(dtick=1)  # whole epochs only
    if "accuracy" in axis:  # a share: the whole 0…1 scale, so runs read against each other and against 1
        fig.update_yaxes(range=[0, 1.02])
    else:
        fig.update_yaxes(rangemode="tozero")
    return fig


@st.cache_data(show_spinner=False, max_entries=64)
def qr_png(text: str, scale: int = 8) -> bytes:
    """A QR code of `text` as PNG, made here (segno, pure Python): nothing is fetched."""
    import segno
    buf = io.BytesIO()
    segno.make(text, error="m").save(buf, kind="png", scale=scale, border=2, dark="#000000", light="#ffffff")
    return buf.getvalue()
