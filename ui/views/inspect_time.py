"""Inspect, over time: scrub through the run's checkpoints (decision boundary, feature maps and attributions
of the pinned input at each), the loss landscape with the run's path on it, and the optimizer race.
Landscapes are computed on a button press and kept in session state.
"""

from __future__ import annotations

import base64

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from playground import landscape, probe, runs
from playground.data import POINT_RANGE
from playground.registry import PlaygroundError
from playground.uploads import using
from ui import keys, state
from ui.text import message, plain
from ui.views import described, explain_views, images, inspect_views, model_source
from ui.views.described import shown
from ui.views.input_picker import Input
from ui.views.inspect_errors import CLASS_COLORS
from ui.views.model_source import Loaded, Source, memo

STRIP = 8  # checkpoints in the "reasons over time" strip
RES = 100  # decision-boundary grid


def checkpoint_model(m: Loaded, src: Source, cp: dict) -> Loaded:
    """The run's model at one checkpoint, as a `Loaded` (cached per run and epoch)."""
    def make():
        model = runs.model_from(m.spec, m.info, cp["weights"], f"the weights of epoch {cp['epoch']}")
        return Loaded(m.source, f"{src.id}@{cp['epoch']}", m.spec, m.data, model, cp["epoch"], m.loss, m.out_shape)
    return memo("checkpoint-models", (src.id, cp["epoch"], id(cp["weights"])), make, keep=STRIP + 2)


def over_time(m: Loaded, src: Source, inp: Input, key: keys.Key = keys.INSPECT("time")) -> None:
    cps = model_source.checkpoints(src)
    if not cps:
        st.info("This run kept no checkpoints: runs started on the Train page keep about 20 copies of the weights "
                "over training. Train again to scrub through them.", icon=":material/history:")
    else:
        scrub(m, src, inp, cps, key)
    st.divider()
    loss_landscape(m, src, cps, key)
    st.divider()
    race(m, key)


def scrub(m: Loaded, src: Source, inp: Input, cps: list[dict], key: keys.Key) -> None:
    epochs = [c["epoch"] for c in cps]
    if state.widget(key("epoch")) not in epochs:
        state.set_widget(key("epoch"), epochs[-1])
    e = st.select_slider("Checkpoint: the weights after epoch", epochs, key=key("epoch"),
                         help="The run kept these copies of its weights; epoch 0 is the start.")
    cm = checkpoint_model(m, src, cps[epochs.index(e)])
    if m.info.modality == "points":
        left, right = st.columns([1, 1])
        with left:
            boundary(cm, key("boundary"))
        with right:
            reasons(cm, src, inp, cps, key, strip=False)
    else:
        if m.info.modality == "image":
            records = [r for r in probe.capture(cm.model, inp.x) if r.type == "Conv2d"][:3]
            if records:
                st.markdown(f"**Feature maps of the input at epoch {e}**")
                for col, r in zip(st.columns(len(records)), records, strict=True):
                    with col:
                        st.caption(r.name)
                        inspect_views.maps(r.values[0], key("maps", r.index))
        reasons(cm, src, inp, cps, key, strip=True)


def reasons(cm: Loaded, src: Source, inp: Input, cps: list[dict], key: keys.Key, strip: bool) -> None:
    """The pinned input's attribution at the chosen checkpoint, and (strip) at evenly spaced ones."""
    why = cm.task.why_not("explain")
    if why:  # attribution does not apply to this task (a recommender's rating of two ids)
        st.caption(f"How the reasons change as it learns does not apply here: {message(why)}.")
        return
    names = explain_views.default_methods(cm)
    where = st.columns([1, 2])[0] if strip else st.container()
    method = where.selectbox("Attribution", names, index=names.index("integrated_gradients"), key=key("method"),
                          format_func=lambda n: explain_views.METHODS.get(n).title)
    target = explain_views.predicted(cm, inp) if cm.classify else None
    o = explain_views.Options([method], inp.label if inp.label is not None else target, steps=32)
    explained = plain(cm.info.class_names[o.target]) if o.target is not None and cm.info.class_names else "output"
    st.markdown(f"**Why, at epoch {cm.epoch}** (explaining class {explained})")
    explain_views.render(cm, inp, [(method, explain_views.attribute(cm, inp, method, o))], key("now"),
                         show_input=False)
    if not strip or len(cps) < 2:
        return
    picks = sorted(set(np.linspace(0, len(cps) - 1, min(STRIP, len(cps))).round().astype(int)))
    st.markdown("**How the reasons change as it learns** (the same input and class at each checkpoint)")
    models = [checkpoint_model(cm, src, cps[i]) for i in picks]
    results = [explain_views.attribute(x, inp, method, o) for x in models]
    if cm.info.modality == "image":
        cols = st.columns(STRIP)
        x = inp.x[0].numpy()
        x2 = x[0] if x.shape[0] == 1 else x.mean(0)
        for col, mm, a in zip(cols, models, results, strict=False):
            if isinstance(a, str):
                col.caption(message(a))
                continue
            v = a.values[0].numpy().sum(0)
            cmap = explain_views._cmap(v)
            col.image(images.overlay(x2, v, cmap, target=96), caption=f"epoch {mm.epoch}",
                      alt=f"the attribution at epoch {mm.epoch}")
    elif cm.info.tokens:
        words = explain_views.tokens(cm, inp.x)
        for mm, a in zip(models, results, strict=True):
            if not isinstance(a, str):
                left, right = st.columns([1, 6])
                left.caption(f"epoch {mm.epoch}")
                right.markdown(explain_views.token_html(words, a.values.reshape(-1).numpy()), unsafe_allow_html=True)
    else:
        ok = [(mm, a) for mm, a in zip(models, results, strict=True) if not isinstance(a, str)]
        if ok:
            z = np.stack([a.values.reshape(-1).numpy() for _, a in ok])
            n = z.shape[1]
            feats = cm.info.feature_names if len(cm.info.feature_names) == n else [f"x{i + 1}" for i in range(n)]
            st.plotly_chart(inspect_views.heat(z, "Attribution per feature at each checkpoint", x=feats,
                                               y=[f"epoch {mm.epoch}" for mm, _ in ok], x_title="feature",
                                               y_title="checkpoint", bar="attribution"),
                            width="stretch", key=key("strip"))


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def boundary(m: Loaded, key: keys.Key) -> None:
    """The decision surface of a 2-D point model as an image, with the validation points on top."""
    p = probe.decision_surface(m.model, m.info, m.loss, RES)  # (RES, RES, classes), or (RES, RES, 1) values
    k = max(2, m.info.n_classes)
    if m.classify:
        if k == 2:
            rgb = images.colorize(p[..., 0] - p[..., 1], images.DIVERGING, -1, 1)
        else:
            base = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in CLASS_COLORS[:k]], np.float32)
            conf = p.max(-1, keepdims=True)
            rgb = (255 - (255 - base[p.argmax(-1)]) * conf * 0.8).astype(np.uint8)
    else:
        rgb = images.colorize(p[..., 0], images.DIVERGING)
    fig = go.Figure()
    fig.add_layout_image(source=_data_uri(images.png(rgb)), x=-POINT_RANGE, y=POINT_RANGE, xref="x", yref="y",
                         sizex=2 * POINT_RANGE, sizey=2 * POINT_RANGE, sizing="stretch", layer="below")
    pts = m.data.extras_val.get("points")
    if pts is not None:
        pts = pts.numpy()
        y = m.data.y_val.numpy()
        palette = [f"rgb{images.POS}", f"rgb{images.NEG}"] if k == 2 else CLASS_COLORS
        for c in range(k if m.classify else 1):
            sel = y == c if m.classify else np.ones(len(y), bool)
            name = m.info.class_names[c] if m.classify and m.info.class_names else "validation"
            fig.add_scatter(x=pts[sel, 0], y=pts[sel, 1], mode="markers", name=str(name),
                            marker={"color": palette[c % len(palette)], "size": 7,
                                    "line": {"color": "rgba(0,0,0,.55)", "width": 1}})
    fig.update_layout(title={"text": f"Decision boundary at epoch {m.epoch}", "font": {"size": 14}}, height=420,
                      xaxis={"range": [-POINT_RANGE, POINT_RANGE], "title": "x₁", "constrain": "domain"},
                      yaxis={"range": [-POINT_RANGE, POINT_RANGE], "title": "x₂", "scaleanchor": "x"},
                      margin={"l": 50, "r": 10, "t": 40, "b": 45}, legend={"orientation": "h", "y": -0.15})
    st.plotly_chart(fig, width="stretch", key=key)
    st.caption("Background: the class the model predicts there (paler where it is unsure); dots: validation points.")


# ---- the loss landscape and the optimizer race ----------------------------------------------------------

def _results() -> dict:
    return state.get().inspect.landscapes


def _contour(land: dict, title: str) -> go.Figure:
    z = np.log10(np.clip(np.nan_to_num(land["loss"], nan=np.nanmax(land["loss"])), 1e-6, None))
    fig = go.Figure(go.Contour(x=land["alphas"], y=land["betas"], z=z, ncontours=24,
                               colorscale=images.plotly_scale(images.SEQUENTIAL), reversescale=True,
                               colorbar={"title": {"text": "log₁₀ loss", "side": "right"}, "thickness": 10},
                               hovertemplate="α %{x:.3g}, β %{y:.3g}: log₁₀ loss %{z:.3g}<extra></extra>"))
    fig.update_layout(title={"text": title, "font": {"size": 14}}, height=460, xaxis_title="direction 1 (α)",
                      yaxis_title="direction 2 (β)", margin={"l": 60, "r": 10, "t": 40, "b": 50},
                      legend={"orientation": "h", "y": -0.18})
    return fig


def loss_landscape(m: Loaded, src: Source, cps: list[dict], key: keys.Key) -> None:
    st.markdown("## Loss landscape")
    st.caption("The loss on a flat slice through weight space around the final weights, with the path training "
               "took projected on it. With checkpoints the slice holds as much of the path as a plane can (its two "
               "principal directions); without, it runs along two filter-normalised random directions.")
    rkey = ("landscape", src.id, len(cps), m.epoch)
    if st.button("Compute the loss landscape", key=key("land"), icon=":material/landscape:"):
        with st.spinner("Evaluating the loss on a 21×21 grid of weights…"):
            _results()[rkey] = _landscape(m, cps)
    res = _results().get(rkey)
    if res is None:
        return
    if isinstance(res, str):
        st.info(message(res))
        return
    fig = _contour(res["land"], "Validation loss around the final weights")
    if res["path"] is not None:
        p = res["path"]
        fig.add_scatter(x=p[:, 0], y=p[:, 1], mode="lines+markers+text", name="training path (checkpoints)",
                        text=[f"{e}" for e in res["epochs"]], textposition="top center", textfont={"size": 10},
                        line={"color": "#E69F00", "width": 3}, marker={"size": 7, "color": "#E69F00"})
        fig.add_scatter(x=[p[-1, 0]], y=[p[-1, 1]], mode="markers", name="final weights",
                        marker={"symbol": "star", "size": 16, "color": "#000"})
    st.plotly_chart(fig, width="stretch", key=key("land-plot"))
    if res.get("explained"):
        st.caption(f"The plane holds {sum(res['explained']):.1%} of the path's movement; labels are epochs.")
    said, grid = described.landscape(res["land"], res["path"], res["epochs"])
    tables = {"Validation loss on the grid (rows: β, columns: α)": grid}
    if res["path"] is not None:
        tables["The training path on the plane (one row per checkpoint)"] = described.path(res["path"], res["epochs"])
    shown(said, tables, key("land-plot"))


def _landscape(m: Loaded, cps: list[dict]) -> dict | str:
    x, y = m.data.x_val, m.targets(m.data.y_val)
    try:
        if len(cps) >= 3:
            final = cps[-1]["weights"]
            dirs, explained = landscape.pca_directions(cps, final)
            path = landscape.project_path(cps, final, dirs)
            lo, hi = np.minimum(path.min(0), 0), np.maximum(path.max(0), 0)
            pad = 0.25 * (hi - lo) + 1e-3
            land = landscape.loss_landscape(m.model, m.spec.train.loss, x, y, res=21, directions=dirs,
                                            bounds=(lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1]))
            return {"land": land, "path": path, "epochs": [c["epoch"] for c in cps], "explained": explained}
        land = landscape.loss_landscape(m.model, m.spec.train.loss, x, y, res=21, span=1.0)
        return {"land": land, "path": None, "epochs": [], "explained": None}
    except PlaygroundError as e:
        return f"No landscape for this model: {e.message}"


def race(m: Loaded, key: keys.Key) -> None:
    st.markdown("## Optimizer race")
    st.caption("SGD, SGD with momentum, RMSprop and Adam train copies of this setup from the same initial weights "
               "on the same batches; their paths are drawn on the plane that holds most of their movement.")
    c1, c2 = st.columns([1, 3], vertical_alignment="bottom")
    steps = c1.select_slider("Steps", [25, 50, 100, 200], value=100, key=key("race-steps"))
    rkey = ("race", m.spec.to_json(), steps)
    if c2.button("Race SGD, momentum, RMSprop and Adam", key=key("race"), icon=":material/sports_score:"):
        with st.spinner(f"Training four copies for {steps} steps each…"):
            try:
                with using(state.uploads()):  # the setup's uploaded CSV, if any, is this session's own
                    _results()[rkey] = landscape.optimizer_paths(m.spec, ("SGD", "SGD+momentum", "RMSprop", "Adam"),
                                                                 steps=steps)
            except PlaygroundError as e:
                _results()[rkey] = f"No race for this model: {e.message}"
    r = _results().get(rkey)
    if r is None:
        return
    if isinstance(r, str):
        st.info(message(r))
        return
    left, right = st.columns([1.4, 1])
    fig = _contour(r["landscape"], "Four optimizers from the same start")
    loss = go.Figure()
    for i, n in enumerate(r["optimizers"]):
        p, color = r["paths"][n], CLASS_COLORS[i]
        label = f"{n} (lr {r['lr'][n]:g})"
        fig.add_scatter(x=p[:, 0], y=p[:, 1], mode="lines+markers", name=label, line={"color": color, "width": 2.5},
                        marker={"size": 4, "color": color})
        loss.add_scatter(x=r["path_steps"][n], y=r["path_loss"][n], mode="lines", name=label, line={"color": color})
    fig.add_scatter(x=[0], y=[0], mode="markers", name="start",
                    marker={"symbol": "circle", "size": 12, "color": "#000"})
    left.plotly_chart(fig, width="stretch", key=key("race-plot"))
    loss.update_layout(title={"text": "Training loss along each path", "font": {"size": 14}}, height=460,
                       xaxis_title="step", yaxis_title="loss", margin={"l": 60, "r": 10, "t": 40, "b": 50},
                       legend={"orientation": "h", "y": -0.18})
    right.plotly_chart(loss, width="stretch", key=key("race-loss"))
    st.caption(f"The plane holds {sum(r['explained']):.1%} of the paths' movement.")
