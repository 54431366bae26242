"""Inspect, mistakes: a confusion matrix whose cells open the examples in them, the most confident
mistakes, and the penultimate layer's view of the validation set (PCA to 2-D, coloured by class).
"""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from playground import probe
from playground.registry import PlaygroundError
from ui import keys, state
from ui.text import message, plain, short
from ui.views import described, images
from ui.views.described import shown
from ui.views.input_picker import Input, tokens, val_predictions
from ui.views.model_source import Loaded, memo

CLASS_COLORS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
                "#882255", "#999933", "#44AA99", "#AA4499"]  # Okabe–Ito, then Tol's muted
GALLERY = 16


def mistakes(m: Loaded, inp: Input, key: keys.Key = keys.INSPECT("err")) -> None:
    if not m.classify:
        regression(m, key)
        return
    left, right = st.columns([1, 1], gap="large")
    with left:
        confusion(m, key)
    with right:
        cell_examples(m, key)
    st.markdown("**The most confident mistakes**")
    gallery(m, key)
    embedding(m, inp, key)


def _matrix(m: Loaded) -> np.ndarray:
    k = max(m.info.n_classes, 2)
    pred = val_predictions(m)["pred"]
    true = m.data.y_val.numpy()
    return np.bincount(true * k + pred, minlength=k * k).reshape(k, k)


def _select_cell(key: keys.Key) -> None:
    """A click on a cell of the matrix chooses that cell in the two selectboxes."""
    event = state.widget(key("cm"))
    points = (event or {}).get("selection", {}).get("points", []) if hasattr(event, "get") else []
    cell = points[0].get("customdata") if points else None
    if isinstance(cell, dict):  # the browser sends a point's customdata list as {"0": …, "1": …}
        cell = [cell.get("0"), cell.get("1")]
    try:
        t, p = int(cell[0]), int(cell[1])
    except (TypeError, ValueError, IndexError):
        return  # a click that was not on a cell
    state.set_widget(key("true"), t)
    state.set_widget(key("pred"), p)


def _seed_cell(m: Loaded, key: keys.Key) -> None:
    """Choose a cell (true, predicted) when none is: at first the most frequent mistake."""
    cm = _matrix(m)
    off = cm - np.diag(np.diag(cm))
    worst = np.unravel_index(int(off.argmax()), off.shape) if off.any() else (0, 0)
    for name, default in ((key("true"), worst[0]), (key("pred"), worst[1])):
        if state.widget(name) not in range(len(cm)):
            state.set_widget(name, int(default))


def confusion(m: Loaded, key: keys.Key) -> None:
    cm = _matrix(m)
    k = len(cm)
    _seed_cell(m, key)
    ct, cp = state.widget(key("true")), state.widget(key("pred"))
    names = [short(n, 40) for n in (m.info.class_names or range(k))]
    acc = np.trace(cm) / max(1, cm.sum())
    t, p = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    fig = go.Figure([
        go.Heatmap(z=cm, x=names, y=names, colorscale=images.plotly_scale(images.SEQUENTIAL), showscale=True,
                   colorbar={"title": {"text": "samples", "side": "right"}, "thickness": 10},
                   text=cm, texttemplate="%{text}", hoverinfo="skip"),
        go.Scatter(x=[names[j] for j in p.ravel()], y=[names[i] for i in t.ravel()], mode="markers",
                   marker={"size": 28, "opacity": 0, "symbol": "square"},
                   customdata=np.stack([t.ravel(), p.ravel()], 1),
                   hovertemplate="true %{y}, predicted %{x}: click to see them<extra></extra>", showlegend=False)])
    fig.update_layout(title={"text": f"Confusion matrix (validation, accuracy {acc:.1%}): click a cell",
                             "font": {"size": 14}}, height=380, xaxis_title="predicted", yaxis_title="true",
                      yaxis={"autorange": "reversed", "type": "category"}, xaxis={"type": "category"},
                      margin={"l": 60, "r": 10, "t": 40, "b": 50}, clickmode="event+select", dragmode=False)
    fig.add_shape(type="rect", x0=cp - 0.5, x1=cp + 0.5, y0=ct - 0.5, y1=ct + 0.5,  # the chosen cell
                  line={"color": "#D55E00", "width": 3})
    st.plotly_chart(fig, width="stretch", key=key("cm"), on_select=lambda: _select_cell(key),
                    selection_mode="points")
    shown(*described.confusion(cm, names), key("cm"))


def cell_examples(m: Loaded, key: keys.Key) -> None:
    k = len(_matrix(m))
    names = [short(n, 40) for n in (m.info.class_names or range(k))]
    _seed_cell(m, key)
    a, b = st.columns(2)
    t = a.selectbox("True class", range(k), key=key("true"), format_func=lambda i: names[i])
    p = b.selectbox("Predicted class", range(k), key=key("pred"), format_func=lambda i: names[i])
    idx = np.flatnonzero((m.data.y_val.numpy() == t) & (val_predictions(m)["pred"] == p))
    what = "correct" if t == p else "mistaken"
    st.caption(f"{len(idx)} validation samples of class {plain(names[t])} predicted as {plain(names[p])} ({what})"
               + (f"; the first {GALLERY} shown" if len(idx) > GALLERY else ""))
    examples(m, idx[:GALLERY], [f"#{i}" for i in idx[:GALLERY]], key("cell"))


def examples(m: Loaded, idx: np.ndarray, captions: list[str], key: keys.Key) -> None:
    """Validation samples as small pictures, sentences or feature rows."""
    if not len(idx):
        return
    x = m.data.x_val[idx]
    if m.info.modality == "image":
        pics = [images.picture(v[0].numpy() if v.shape[0] == 1 else v.mean(0).numpy(), target=72) for v in x]
        st.image(pics, caption=[plain(c) for c in captions], width=72,  # image captions are Markdown
                 alt=[short(c) for c in captions])  # an alt is an attribute: plain text
    elif m.info.tokens:
        lines = [f"{plain(c)}: " + plain(" ".join(w for w in tokens(m, v) if w != "<pad>"), 400)
                 for c, v in zip(captions, x, strict=True)]
        st.markdown("  \n".join(lines))
    else:
        names = [short(f, 40) for f in m.info.feature_names] if len(m.info.feature_names) == x.shape[1] else None
        data = {"sample": captions} | {(names[j] if names else f"x{j + 1}"): x[:, j].numpy().round(4)
                                       for j in range(min(x.shape[1], 30))}
        st.dataframe(data, hide_index=True)


def gallery(m: Loaded, key: keys.Key) -> None:
    pr = val_predictions(m)
    pred, true = pr["pred"], m.data.y_val.numpy()
    wrong = np.flatnonzero(pred != true)
    if not len(wrong):
        st.success("No mistakes on the validation set.")
        return
    conf = m.probabilities(pr["out"]).numpy()[wrong, pred[wrong]]
    order = wrong[np.argsort(-conf)][:GALLERY]
    names = [short(n, 40) for n in (m.info.class_names or range(int(true.max()) + 1))]
    p = m.probabilities(pr["out"]).numpy()
    caps = [f"#{i}: {names[true[i]]}→{names[pred[i]]} ({p[i, pred[i]]:.0%})" for i in order]
    examples(m, order, caps, key("gallery"))
    st.caption(f"{len(wrong)} of {len(true)} validation samples are misclassified; captions: true → predicted "
               "(the model's confidence). Pick one as the input with “misclassified sample” above.")


def embedding(m: Loaded, inp: Input, key: keys.Key) -> None:
    """The validation set as the layer before the output sees it, PCA to 2-D, coloured by true class."""
    try:
        e = memo("embedding", m.key, lambda: probe.embedding(m.model, m.data.x_val, m.data.y_val))
    except PlaygroundError as err:
        st.info(f"No embedding: {message(err.message)}")
        return
    pts, lab = e["points"], e["labels"]
    names = [short(n, 40) for n in (m.info.class_names or range(int(lab.max()) + 1))]
    fig = go.Figure()
    for c, name in enumerate(names):
        sel = lab == c
        fig.add_scatter(x=pts[sel, 0], y=pts[sel, 1], mode="markers", name=name, customdata=np.flatnonzero(sel),
                        marker={"color": CLASS_COLORS[c % len(CLASS_COLORS)], "size": 6, "opacity": 0.75},
                        hovertemplate=f"#%{{customdata}} ({html.escape(name)})<extra></extra>")
    if inp.index is not None and inp.index < len(pts):
        fig.add_scatter(x=[pts[inp.index, 0]], y=[pts[inp.index, 1]], mode="markers", name="the input",
                        marker={"symbol": "star", "size": 18, "color": "#000", "line": {"color": "#fff", "width": 1}})
    ex = e["explained"]
    fig.update_layout(title={"text": f"What {e['name']} makes of the validation set ({e['dim']} values, PCA to 2-D)",
                             "font": {"size": 14}}, height=440, margin={"l": 60, "r": 10, "t": 40, "b": 50},
                      xaxis_title=f"PC 1 ({ex[0]:.0%} of the variance)",
                      yaxis_title=f"PC 2 ({ex[1]:.0%} of the variance)", legend_title="true class")
    st.plotly_chart(fig, width="stretch", key=key("emb"))
    st.caption("Classes the model separates well form separate clouds here; overlapping clouds are what it confuses.")


def regression(m: Loaded, key: keys.Key) -> None:
    out = val_predictions(m)["out"]
    if len(m.out_shape) > 1:
        pictures(m, out, key)
        return
    true = m.data.y_val.reshape(len(out), -1)[:, 0].numpy()
    pred = out.reshape(len(out), -1)[:, 0].numpy()
    lo, hi = float(min(true.min(), pred.min())), float(max(true.max(), pred.max()))
    fig = go.Figure([go.Scatter(x=true, y=pred, mode="markers", name="validation samples",
                                marker={"color": CLASS_COLORS[0], "size": 5, "opacity": 0.6},
                                customdata=np.arange(len(true)), hovertemplate="#%{customdata}: true %{x:.3g}, "
                                                                               "predicted %{y:.3g}<extra></extra>"),
                     go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", name="perfect",
                                line={"color": "#999", "dash": "dash"})])
    fig.update_layout(title="Predicted vs. true (validation)", height=380, xaxis_title="true", yaxis_title="predicted",
                      margin={"l": 60, "r": 10, "t": 40, "b": 50})
    st.plotly_chart(fig, width="stretch", key=key("pvt"))
    worst = np.argsort(-np.abs(pred - true))[:10]
    st.markdown("**The largest errors**")
    st.dataframe({"sample": [f"#{i}" for i in worst], "true": true[worst].round(4), "predicted": pred[worst].round(4),
                  "error": (pred[worst] - true[worst]).round(4)}, hide_index=True)


def pictures(m: Loaded, out, key: keys.Key) -> None:
    """A model that outputs pictures (reconstruction, segmentation): its worst outputs beside the targets."""
    y = m.data.y_val.reshape(out.shape).float()
    err = ((out - y) ** 2).flatten(1).mean(1).numpy()
    worst = np.argsort(-err)[:GALLERY // 2]
    st.markdown(f"**The worst outputs** (mean squared error over the validation set {err.mean():.4g})")
    if out.dim() != 4:
        st.dataframe({"sample": [f"#{i}" for i in worst], "error": err[worst].round(5)}, hide_index=True)
        return
    pics, caps = [], []
    for i in worst:
        pics += [images.picture(y[i].mean(0).numpy(), target=72), images.picture(out[i].mean(0).numpy(), target=72)]
        caps += [f"#{i} target", f"#{i} output ({err[i]:.3g})"]
    st.image(pics, caption=caps, width=72, alt=caps)
    st.caption("Pairs: what the model should output, then what it does (darker: higher values).")
