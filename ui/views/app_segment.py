"""Segmentation: one validation image, the true mask and the net's, with the pixels where they differ marked
by symbol as well as colour (x: taken in but background, o: object left out), and the image's IoU."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from playground import segmentation
from ui import keys, state
from ui.views.model_source import Loaded

SAMPLE = keys.APPS("segment-sample")
INK = [[0, "#ffffff"], [1, "#222222"]]  # the picture: high values dark, ink on paper
MASK = [[0, "rgba(0,0,0,0)"], [1, "rgba(0,114,178,0.55)"]]  # Okabe–Ito blue over the picture
EXTRA, MISSED = "#D55E00", "#E69F00"  # Okabe–Ito vermilion (x) and orange (o)


def _pick(n: int) -> int:
    """The validation image shown (a number input, from 1)."""
    if not isinstance(state.widget(SAMPLE), int) or not 1 <= state.widget(SAMPLE) <= n:
        state.set_widget(SAMPLE, 1)
    return st.number_input(f"Validation image (1–{n})", 1, n, step=1, key=SAMPLE) - 1


def figure(s: dict) -> go.Figure:
    """Three panels: the picture, the true mask over it, the net's mask over it with its mistakes marked."""
    pic = s["picture"]
    fig = make_subplots(1, 3, subplot_titles=("the picture", "true mask", "the net's mask"), horizontal_spacing=0.03)
    for col, mask in ((1, None), (2, s["true"]), (3, s["pred"])):
        fig.add_trace(go.Heatmap(z=pic, colorscale=INK, showscale=False, zmin=float(pic.min()), zmax=float(pic.max()),
                                 hovertemplate="pixel (%{x}, %{y})<extra></extra>"), 1, col)
        if mask is not None:
            fig.add_trace(go.Heatmap(z=mask.astype(float), colorscale=MASK, zmin=0, zmax=1, showscale=False,
                                     hoverinfo="skip"), 1, col)
    t, p = s["true"].astype(bool), s["pred"].astype(bool)
    for name, where, color, symbol in (("background taken in (x)", ~t & p, EXTRA, "x"),
                                       ("object left out (o)", t & ~p, MISSED, "circle-open")):
        ys, xs = np.nonzero(where)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="markers", name=name, marker={"color": color, "symbol": symbol,
                                                                                  "size": 9, "line": {"width": 2}}),
                      1, 3)
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    for k in (2, 3):
        fig.update_yaxes(scaleanchor=f"x{k}", row=1, col=k)
    fig.update_layout(height=360, margin={"l": 10, "r": 10, "t": 40, "b": 10}, plot_bgcolor="#fff",
                      legend={"orientation": "h", "y": -0.02, "x": 0.5, "xanchor": "center", "yanchor": "top"})
    return fig


def view(m: Loaded) -> None:
    """The image picker and its sentence, then the three panels."""
    i = _pick(len(m.data.x_val))
    s = segmentation.sample(m.model, m.data, i, m.loss)
    side = s["true"].shape[-1]
    st.markdown(f"On this image the net's mask covers the object with IoU **{s['object IoU']:.3f}** (mean IoU "
                f"with the background: {s['mean IoU']:.3f}); it takes in **{s['extra']}** background pixel"
                f"{'s' * (s['extra'] != 1)} and leaves out **{s['missed']}** of the object's {int(s['true'].sum())}"
                f" (of {side * side}).")
    st.plotly_chart(figure(s), width="stretch", key=keys.APPS("segment-masks"), config={"displayModeBar": False})
    st.caption("Blue: the pixels a mask marks as the object. IoU: the pixels both masks mark, over those either "
               "marks (1 = the same mask). Mean IoU averages that with the same ratio for the background, as "
               "segmentation is usually scored.")
