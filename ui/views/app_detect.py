"""Detection: one validation image with the true boxes and the net's boxes drawn over it (told apart by
colour and by line style, each labelled), the IoU of each pair, and what was missed or found where nothing is."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from playground import detection
from ui import keys, state
from ui.components.live_chart import PALETTE
from ui.views.model_source import Loaded

SAMPLE = keys.APPS("detect-sample")
TRUE, NET = PALETTE["val"], PALETTE["train"]  # Okabe–Ito orange (solid), blue (dashed)
GRID = "rgba(120, 120, 120, 0.6)"
INK = [[0, "#ffffff"], [1, "#222222"]]  # high values dark, ink on paper (as images.grey draws inputs)


def _pick(n: int) -> int:
    """The validation image shown (a number input, from 1)."""
    if not isinstance(state.widget(SAMPLE), int) or not 1 <= state.widget(SAMPLE) <= n:
        state.set_widget(SAMPLE, 1)
    return st.number_input(f"Validation image (1–{n})", 1, n, step=1, key=SAMPLE) - 1


def _box(fig: go.Figure, box: list[float], side: int, color: str, dash: str, label: str, below: bool) -> None:
    """A box (fractions of the image) as a rectangle with its label just outside it (above or below)."""
    x0, y0, x1, y1 = (v * side for v in box)
    fig.add_shape(type="rect", x0=x0, y0=y0, x1=x1, y1=y1, line={"color": color, "width": 3, "dash": dash})
    fig.add_annotation(x=x0, y=y1 if below else y0, text=label, showarrow=False, xanchor="left",
                       yanchor="top" if below else "bottom", font={"color": "#000", "size": 13},
                       bgcolor="rgba(255,255,255,0.85)", bordercolor=color, borderwidth=1.5, borderpad=1)


def figure(s: dict) -> go.Figure:
    """The picture in grey, the grid the net answers on, true boxes (solid orange, labelled above) and the
    net's (dashed blue, labelled below, with its confidence)."""
    pic = s["picture"]
    side = pic.shape[-1]
    fig = go.Figure(go.Heatmap(z=pic, x0=0.5, dx=1, y0=0.5, dy=1, colorscale=INK, zmin=0, zmax=1, showscale=False,
                               hovertemplate="pixel (%{x:.0f}, %{y:.0f}): %{z:.2f}<extra></extra>"))
    cell = side / s["grid"]
    for k in range(1, s["grid"]):
        fig.add_shape(type="line", x0=k * cell, x1=k * cell, y0=0, y1=side, line={"color": GRID, "dash": "dot"})
        fig.add_shape(type="line", y0=k * cell, y1=k * cell, x0=0, x1=side, line={"color": GRID, "dash": "dot"})
    for n, t in enumerate(s["true"], 1):
        _box(fig, t["box"], side, TRUE, "solid", f"{n}: {t['class']}", below=False)
    for p in s["pred"]:
        which = f"{p['pairs'] + 1}: " if p["pairs"] is not None else "extra: "
        _box(fig, p["box"], side, NET, "dash", f"{which}{p['class']} {p['confidence']:.0%}", below=True)
    # legend entries for the two kinds of box (the shapes above carry no legend of their own)
    for name, color, dash in (("true box (solid)", TRUE, "solid"), ("the net's box (dashed)", NET, "dash")):
        fig.add_scatter(x=[None], y=[None], mode="lines", name=name, line={"color": color, "width": 3, "dash": dash})
    fig.update_layout(height=500, margin={"l": 10, "r": 10, "t": 30, "b": 10}, plot_bgcolor="#fff",
                      legend={"orientation": "h", "y": 1.0, "x": 0.5, "xanchor": "center", "yanchor": "bottom"},
                      xaxis={"range": [-0.5, side + 0.5], "visible": False, "constrain": "domain"},
                      yaxis={"range": [side + 2.5, -2.5], "visible": False, "scaleanchor": "x"})
    return fig


def _rows(s: dict) -> list[dict]:
    """A row per true shape: what the net made of it."""
    rows = []
    by_true = {p["pairs"]: p for p in s["pred"] if p["pairs"] is not None}
    for n, t in enumerate(s["true"]):
        p = by_true.get(n)
        rows.append({"shape": f"{n + 1}: {t['class']}", "the net's box": p["class"] if p else "none (missed)",
                     "IoU": round(t["iou"], 3), "found": "yes" if t["iou"] >= detection.FOUND and p
                     and p["class"] == t["class"] else "no"})
    return rows


def view(m: Loaded) -> None:
    """The image picker, the picture with its boxes, and a table of each shape's IoU."""
    left, right = st.columns([3, 2])
    with right:
        i = _pick(len(m.data.x_val))
        s = detection.sample(m.model, m.data, i)
        found = sum(r["found"] == "yes" for r in _rows(s))
        extra = sum(p["pairs"] is None for p in s["pred"])
        st.markdown(f"This image holds **{len(s['true'])}** shape{'s' * (len(s['true']) != 1)}; the net finds "
                    f"**{found}** (IoU ≥ {detection.FOUND:g}, right class) and draws **{extra}** box"
                    f"{'es' * (extra != 1)} where there is none.")
        st.dataframe(_rows(s), hide_index=True, width="stretch", key=keys.APPS("detect-table"))
        st.caption(f"Each true shape is paired with the net's box that overlaps it most (one box per shape). "
                   f"IoU: the overlap of the pair over their union (1 = the same box). Dotted lines: the "
                   f"{s['grid']} × {s['grid']} grid; each cell answers for the shape whose centre falls in it. "
                   f"On this image: mean IoU {s['mean IoU']:.2f}.")
    left.plotly_chart(figure(s), width="stretch", key=keys.APPS("detect-boxes"), config={"displayModeBar": False})
