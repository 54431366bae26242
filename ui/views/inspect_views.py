"""Inspect, layer by layer: what every layer outputs for the pinned input, drawn for its kind of output.

Feature maps and kernels are images (one picture per layer, one shared colour scale); dense outputs are
bars; sequences, hidden states over time and attention weights are small labelled heatmaps.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from playground import probe
from ui import keys
from ui.views import images
from ui.views.described import described
from ui.views.input_picker import Input, tokens
from ui.views.model_source import Loaded

MAX_BARS = 256
MAX_KERNELS = (32, 16)  # output maps × input channels drawn


def heat(z: np.ndarray, title: str, x: list | None = None, y: list | None = None, cmap: str = images.DIVERGING,
         x_title: str = "", y_title: str = "", height: int = 260, bar: str = "value") -> go.Figure:
    """A small labelled heatmap (static views only: big grids go out as images)."""
    lo, hi = images.limits(z, cmap)
    fig = go.Figure(go.Heatmap(z=z, x=x, y=y, zmin=lo, zmax=hi, colorscale=images.plotly_scale(cmap),
                               colorbar={"title": {"text": bar, "side": "right"}, "thickness": 10},
                               hovertemplate=f"{y_title or 'row'} %{{y}}, {x_title or 'column'} %{{x}}: "
                                             "%{z:.3g}<extra></extra>"))
    fig.update_layout(title={"text": title, "font": {"size": 13}}, height=height,
                      margin={"l": 50, "r": 10, "t": 30, "b": 40}, xaxis_title=x_title, yaxis_title=y_title,
                      yaxis={"autorange": "reversed", "type": "category" if y else "-"},
                      xaxis={"type": "category" if x else "-"})
    return fig


def bars(v: np.ndarray, title: str, names: list[str] | None = None, height: int = 220) -> go.Figure:
    """Signed values as bars: blue positive, orange negative; class outputs grey, the largest dark (class
    names may be colours themselves, as blue and orange are in the 2-D sets)."""
    v = v[:MAX_BARS]
    x = names[:len(v)] if names and len(names) >= len(v) else list(range(1, len(v) + 1))
    colors = [f"rgb{images.POS}" if a >= 0 else f"rgb{images.NEG}" for a in v] if not names else \
        ["#333333" if i == int(np.argmax(v)) else "#999999" for i in range(len(v))]
    fig = go.Figure(go.Bar(x=[str(n) for n in x], y=v, marker_color=colors,
                           hovertemplate="%{x}: %{y:.4g}<extra></extra>"))
    fig.update_layout(title={"text": title, "font": {"size": 13}}, height=height, bargap=0.15,
                      margin={"l": 50, "r": 10, "t": 30, "b": 40}, yaxis_title="value",
                      xaxis={"title": "class" if names else "unit", "type": "category"})
    return fig


def capture(m: Loaded, inp: Input) -> list[probe.LayerOutput]:
    return probe.capture(m.model, inp.x)


def layers(m: Loaded, inp: Input, records: list[probe.LayerOutput] | None = None,
           key: keys.Key = keys.INSPECT("layers")) -> None:
    """Every layer's output for the input, one bordered row per layer."""
    records = records if records is not None else capture(m, inp)
    words = tokens(m, inp.x) if m.info.tokens else None
    last = len(records) - 1
    for rec in records:
        with st.container(border=True, key=key("layer", rec.index)):
            head, body = st.columns([1, 5], gap="medium")
            with head:
                st.markdown(f"**{rec.index + 1} · {rec.type}**")
                st.caption("output " + "×".join(str(d) for d in rec.shape))
                v = rec.values
                stats = rec.stats or {"min": float(v.min()), "max": float(v.max()), "mean": float(v.mean())}
                # a name and its value never part across lines (no-break spaces)
                st.caption(" · ".join(f"{k}\u00a0{stats[k]:.3g}" for k in ("min", "mean", "max")))
            with body:
                layer_view(m, rec, words, final=rec.index == last, key=key(rec.index))
                if rec.truncated:
                    st.caption(f"Shown in part: {rec.truncated}.")


def layer_view(m: Loaded, rec: probe.LayerOutput, words: list[str] | None, final: bool, key: keys.Key) -> None:
    """One layer's output drawn for its shape (and its attention, hidden states over time, kernels)."""
    v = rec.values[0]
    steps = words if words and rec.values.ndim >= 3 and rec.values.shape[1] == len(words) else None
    if rec.attention is not None:
        attention(rec.attention[0], words, key)
    if rec.sequence is not None:
        seq = rec.sequence[0]  # (T, H)
        x = words if words and len(words) == seq.shape[0] else list(range(1, seq.shape[0] + 1))
        st.plotly_chart(heat(seq.T, "Hidden state over time (each column: after reading that step)",
                             x=[f"{i + 1}:{w}" for i, w in enumerate(x)], y=list(range(1, seq.shape[1] + 1)),
                             x_title="step", y_title="unit", height=min(420, 120 + 12 * seq.shape[1])),
                        width="stretch", key=key("seq"))
        described(seq, "Hidden state over time (rows: steps, columns: units)", key=key("seq-alt"))
    if v.ndim == 3:  # (C, H, W) feature maps
        maps(v, key)
        if rec.kernels is not None:
            kernels(rec.kernels, key)
    elif v.ndim == 2 and rec.sequence is None:  # (T, E) a sequence of vectors
        y = [f"{i + 1}:{w}" for i, w in enumerate(steps)] if steps else list(range(1, v.shape[0] + 1))
        st.plotly_chart(heat(v, "Each step's vector", x=list(range(1, v.shape[1] + 1)), y=y, x_title="dimension",
                             y_title="step", height=min(420, 110 + 16 * v.shape[0])), width="stretch",
                        key=key("seq2"))
        described(v, "Each step's vector (rows: steps, columns: dimensions)", key=key("seq2-alt"))
    elif rec.sequence is None or final:
        v = v.reshape(-1)
        names = m.info.class_names if final and m.classify and len(m.info.class_names) == len(v) else None
        title = "Outputs (logits: the largest is the prediction)" if names else f"{len(v)} values"
        if len(v) > MAX_BARS:
            title += f" (the first {MAX_BARS} shown)"
        st.plotly_chart(bars(v, title, names), width="stretch", key=key("bars"),
                        config={"displayModeBar": False})
        described(v[:MAX_BARS], title, key=key("bars-alt"), names=[str(n) for n in names[:MAX_BARS]] if names else None)


def maps(v: np.ndarray, key: keys.Key) -> None:
    """(C, H, W) feature maps as one picture, on one colour scale for the layer."""
    c, h, w = v.shape
    lo, hi = images.limits(v, images.DIVERGING)
    cols = 8 if c > 4 else c
    tile = 72 if c > 4 else 120
    st.image(images.grid(v, images.DIVERGING, lo, hi, cols=cols, tile=tile),
             caption=f"{c} feature maps of {h}×{w}, left to right, top to bottom",
             alt=f"{c} feature maps of {h}×{w}; their values are summed up below, and listed by Show as table")
    st.markdown(images.colorbar(images.DIVERGING, lo, hi, "activation (blue +, orange −, white 0)", width=260),
                unsafe_allow_html=True)
    described(v, f"{c} feature maps of {h}×{w}", key=key("maps-alt"))


def kernels(k: np.ndarray, key: keys.Key) -> None:
    """A Conv2d's learned filters (out, in, kh, kw): one row per output map, one column per input channel."""
    o, i = min(k.shape[0], MAX_KERNELS[0]), min(k.shape[1], MAX_KERNELS[1])
    tiles = k[:o, :i].reshape(o * i, *k.shape[2:])
    lo, hi = images.limits(tiles, images.DIVERGING)
    more = "" if (o, i) == k.shape[:2] else f" (the first {o} × {i} of {k.shape[0]} × {k.shape[1]})"
    with st.expander(f"Learned kernels: {k.shape[0]} filters of {k.shape[1]}×{k.shape[2]}×{k.shape[3]}"):
        st.image(images.grid(tiles, images.DIVERGING, lo, hi, cols=i, tile=36 if i > 1 else 60, pad=2),
                 caption=f"row: the output map it makes; column: the input channel it reads{more}",
                 alt="the learned kernels as small pictures; their weights are listed by Show as table")
        st.markdown(images.colorbar(images.DIVERGING, lo, hi, "weight", width=260), unsafe_allow_html=True)
        described(k[:o, :i], "Kernel weights (output map, input channel, row, column)", key=key("kernels-alt"))


def attention(a: np.ndarray, words: list[str] | None, key: keys.Key) -> None:
    """(heads, T, T) attention weights, one heatmap per head: row = the word attending, column = looked at."""
    heads, t, _ = a.shape
    labels = [f"{i + 1}:{w}" for i, w in enumerate(words)] if words and len(words) == t else list(range(1, t + 1))
    cols = st.columns(min(heads, 4))
    for h in range(heads):
        fig = heat(a[h], f"Attention, head {h + 1}", x=labels, y=labels, cmap=images.SEQUENTIAL,
                   x_title="looks at", y_title="word", height=min(460, 160 + 18 * t), bar="weight")
        fig.update_traces(zmin=0, zmax=1)
        cols[h % len(cols)].plotly_chart(fig, width="stretch", key=key("att", h))
