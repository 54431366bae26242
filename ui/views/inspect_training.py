"""Inspect, weights and gradients: norms and histograms per layer over training (from the run's tracked
statistics), gradient health with plain-language hints, and one back-propagation step worked out by hand.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
import torch
from torch import nn

from playground import backprop, health
from playground.registry import PlaygroundError
from ui import keys, state
from ui.text import message
from ui.views import described, model_source
from ui.views.described import shown
from ui.views.input_picker import Input
from ui.views.model_source import Loaded, Source, memo

SAFE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]  # Okabe–Ito
HEALTH_SAMPLES = 256


def _layout(fig: go.Figure, title: str, x: str, y: str, log: bool = False, height: int = 300) -> go.Figure:
    if x == "epoch":
        fig.update_xaxes(tickformat="d", dtick=None if len(fig.data[0].x or []) > 10 else 1)
    fig.update_layout(title={"text": title, "font": {"size": 14}}, height=height, xaxis_title=x, yaxis_title=y,
                      margin={"l": 60, "r": 10, "t": 40, "b": 45}, legend={"orientation": "h", "y": -0.25},
                      yaxis_type="log" if log else None)
    return fig


# ---- over training (the run's statistics) ----------------------------------------------------------------

def over_training(src: Source, key: keys.Key = keys.INSPECT("wg")) -> None:
    """Gradient and weight norms per layer over the epochs, and their histograms at a few epochs."""
    rows = model_source.stats(src)
    if not rows:
        st.info("This run kept no weight and gradient statistics: runs started on the Train page keep them. "
                "Train again to see them over the epochs.", icon=":material/query_stats:")
        return
    names = [r["name"] for r in rows[-1]["layers"]]
    epochs = [r["epoch"] for r in rows]
    grad = go.Figure()
    weight = go.Figure()
    for j, name in enumerate(names):
        color = SAFE[j % len(SAFE)]
        g = [next((lay["grad_norm"] for lay in r["layers"] if lay["name"] == name), None) for r in rows]
        w = [next((lay["weight_norm"] for lay in r["layers"] if lay["name"] == name), None) for r in rows]
        grad.add_scatter(x=epochs, y=g, name=name, mode="lines+markers", line={"color": color})
        weight.add_scatter(x=epochs, y=w, name=name, mode="lines+markers", line={"color": color})
    left, right = st.columns(2)
    left.plotly_chart(_layout(grad, "Gradient norm per layer (last batch of each epoch)", "epoch",
                              "gradient norm (log)", log=True), width="stretch", key=key("gnorm"))
    right.plotly_chart(_layout(weight, "Weight norm per layer", "epoch", "weight norm"), width="stretch",
                       key=key("wnorm"))
    st.caption("Norms cover each layer's weights and biases together. Gradients that fall off towards the first "
               "layers by orders of magnitude are vanishing; ones that grow by orders of magnitude are exploding.")
    shown(*described.norms(rows, names), key("norms"))
    histograms(rows, names, key)


def histograms(rows: list[dict], names: list[str], key: keys.Key) -> None:
    """One layer's weight and gradient histograms at up to six epochs, later epochs darker."""
    layer = st.selectbox("Histograms of layer", names, index=0, key=key("hist-layer"))
    picks = sorted(set(np.linspace(0, len(rows) - 1, min(6, len(rows))).round().astype(int)))
    shades = [f"rgba(8,119,189,{0.25 + 0.75 * i / max(1, len(picks) - 1):.2f})" for i in range(len(picks))]
    left, right = st.columns(2)
    for col, what, title in ((left, "weight_hist", "Weights"), (right, "grad_hist", "Gradients")):
        fig, drawn = go.Figure(), []
        for shade, i in zip(shades, picks, strict=True):
            lay = next((x for x in rows[i]["layers"] if x["name"] == layer), None)
            h = lay and lay[what]
            if h is None:
                continue
            edges = np.asarray(h["edges"], dtype=float)
            fig.add_scatter(x=(edges[:-1] + edges[1:]) / 2, y=np.asarray(h["counts"]), mode="lines",
                            line={"color": shade, "shape": "hvh"}, name=f"epoch {rows[i]['epoch']}")
            drawn.append((rows[i]["epoch"], h))
        with col:
            st.plotly_chart(_layout(fig, f"{title} of {layer}", "value", "count", height=280), width="stretch",
                            key=key(what))
            shown(*described.histogram(drawn, f"{title} of {layer}"), key(what))


# ---- gradient health now --------------------------------------------------------------------------------

def gradient_health(m: Loaded, key: keys.Key = keys.INSPECT("gh")) -> None:
    """Per-layer gradient norms of the loss on validation samples, dead and saturated units, hints."""
    try:
        d = memo("diagnose", m.key, lambda: health.diagnose(
            m.model, m.spec.train.loss, m.data.x_val[:HEALTH_SAMPLES], m.targets(m.data.y_val[:HEALTH_SAMPLES])))
    except PlaygroundError as e:
        st.info(f"Gradient health cannot be measured for this model: {message(e.message)}")
        return
    g = d["gradients"]
    left, right = st.columns([1.3, 1])
    norms = [max(r["norm"], 1e-30) for r in g]
    fig = go.Figure(go.Bar(x=[r["name"] for r in g], y=norms, marker_color=SAFE[0],
                           hovertemplate="%{x}: %{y:.3g}<extra></extra>"))
    # whole decades from below the smallest bar: bars of similar size look similar, a 1000× drop looks like one
    fig.update_yaxes(range=[math.floor(math.log10(min(norms))) - 0.5, math.ceil(math.log10(max(norms)))])
    left.plotly_chart(_layout(fig, f"Gradient norm per layer now (loss on {min(HEALTH_SAMPLES, len(m.data.x_val))} "
                                   "validation samples)", "layer (input side → output side)", "gradient norm (log)",
                              log=True, height=320), width="stretch", key=key("bars"))
    with right:
        st.markdown("**Diagnosis**")
        for hint in d["hints"]:
            st.warning(hint, icon=":material/warning:")
        if not d["hints"]:
            st.success("Nothing stands out: gradients reach every layer at similar sizes, and no activation layer "
                       "is mostly dead or saturated.", icon=":material/check_circle:")
        acts = d["activations"]
        if acts:
            st.dataframe(pd.DataFrame({
                "layer": [a["name"] for a in acts],
                "check": ["dead units" if a["kind"] == "dead" else "saturated outputs" for a in acts],
                "share": [a.get("dead_pct", a.get("saturated_pct")) / 100 for a in acts]}),
                hide_index=True, column_config={"share": st.column_config.ProgressColumn(
                    "share", format="percent", min_value=0, max_value=1)})
            st.caption("Dead: a ReLU-family unit (or channel) negative for every sample, so it passes no gradient. "
                       "Saturated: sigmoid/tanh outputs in the flat tails, where the slope is almost zero.")
    vanishing_experiment(m, key)


def deep_mlp(spec: dict, out_features: int, flatten: bool, activation: str, init: str) -> dict:
    """The spec with a 6×16 MLP of `activation` (the issue's vanishing-gradient experiment)."""
    d = copy.deepcopy(spec)
    layers = [{"type": "Flatten"}] if flatten else []
    for _ in range(6):
        layers += [{"type": "Linear", "out_features": 16}, {"type": activation}]
    d["model"]["layers"] = layers + [{"type": "Linear", "out_features": out_features}]
    d["train"]["init"] = init
    d["name"] = f"Deep {activation} MLP (6×16, {init} init)"
    return d


def vanishing_experiment(m: Loaded, key: keys.Key) -> None:
    """One-click setups that show vanishing gradients (sigmoid) and their cure (ReLU with He init)."""
    if m.info.tokens:
        return
    with st.expander("Try it: vanishing gradients in a deep network", icon=":material/science:"):
        st.markdown("Six hidden layers of 16 on this data. With **sigmoid**, each layer multiplies the gradient "
                    "by at most 0.25, so the first layer gets about a millionth of the last one's. With **ReLU** "
                    "and He initialisation the gradients keep their size. Load one, train it, come back here.")
        flatten = len(m.info.input_shape) > 1
        a, b = st.columns(2)
        for col, act, init in ((a, "Sigmoid", "default"), (b, "ReLU", "kaiming")):
            if col.button(f"Load the deep {act} MLP", key=key("deep", act), width="stretch"):
                state.set_spec(deep_mlp(m.spec.to_dict(), m.out_shape[0], flatten, act, init))
                st.switch_page("pages/train.py")


# ---- back-propagation by hand ----------------------------------------------------------------------------

def _is_mlp(model: nn.Module) -> str:
    """'' when the step-by-step view can work the model out, else why not."""
    for i, layer in enumerate(model):
        if not isinstance(layer, nn.Linear) and type(layer).__name__ not in backprop.activations():
            return f"layer {i + 1} is {type(layer).__name__}"
        if isinstance(layer, nn.Linear) and layer.weight.numel() > 64 * 64:
            return f"layer {i + 1} has {layer.weight.numel():,} weights (at most 4,096 are shown by hand)"
    return ""


def _table(rows: dict, index: list[str], name: str) -> pd.DataFrame:
    df = pd.DataFrame({k: np.asarray(v, dtype=float).round(5) for k, v in rows.items()}, index=index)
    df.index.name = name
    return df


def backprop_by_hand(m: Loaded, inp: Input, key: keys.Key = keys.INSPECT("bp")) -> None:
    """One SGD step on the pinned input: forward values, the loss, every gradient and every update."""
    why = _is_mlp(m.model)
    if why or inp.x.dim() != 2:
        st.info("Back-propagation by hand works out small MLPs (Linear layers and activations on feature vectors); "
                f"this model cannot be shown this way ({why or 'its input is not a feature vector'}). Load a "
                "small MLP preset such as “Gaussian blobs” or “Circle” and train it.", icon=":material/calculate:")
        return
    names = m.info.class_names
    c1, c2, _ = st.columns([1, 1, 2])
    lr = c1.number_input("Learning rate", 1e-5, 10.0, float(m.spec.train.optimizer.lr), format="%.4f",
                         key=key("lr"))
    if m.classify:
        default = inp.label if inp.label is not None else 0
        target = c2.selectbox("Target class", list(range(len(names))), index=default, key=key("target"),
                              format_func=lambda i: str(names[i]))
        y = m.targets(torch.tensor([target]))
    elif inp.index is not None:
        y = m.targets(m.data.y_val[inp.index:inp.index + 1])
    else:
        st.info("Pick a validation sample: the step needs its true value.")
        return
    loss = m.spec.train.loss
    try:
        r = backprop.backprop_step(m.model, inp.x, y, loss=loss, lr=lr)
    except PlaygroundError as e:
        st.info(message(e.message))
        return
    features = m.info.feature_names if len(m.info.feature_names) == inp.x.shape[1] else None
    _steps(r, features, names)
    _check(m, inp.x, y, r)


def _labels(n: int, prefix: str, names: list[str] | None = None) -> list[str]:
    return [str(x) for x in names] if names and len(names) == n else [f"{prefix}{i + 1}" for i in range(n)]


def _steps(r: dict, features: list[str] | None, classes: list[str]) -> None:
    steps = r["steps"]
    labels, ins = [], _labels(r["x"].shape[1], "x", features)  # (inputs, outputs) of every layer, named once
    for s in steps:
        last = s is steps[-1]
        outs = _labels(s["output"].shape[1], "out " if last else "h", classes if last else None)
        labels.append((ins, outs))
        ins = outs
    table = {"width": "content"}
    st.markdown("## 1 · Forward: every layer's values")
    st.dataframe(_table({"x": r["x"][0]}, labels[0][0], "input").T, **table)
    for s, (ins, outs) in zip(steps, labels, strict=True):
        with st.expander(f"{s['name']}: " + ("z = W·x + b" if "weight" in s else "a = f(z)"), expanded=len(outs) <= 8):
            if "weight" in s:
                cols = {f"w←{a}": s["weight"][:, j] for j, a in enumerate(ins)}
                st.dataframe(_table({**cols, "b": s["bias"], "z": s["output"][0]}, outs, "neuron"), **table)
            else:
                st.dataframe(_table({"z": s["input"][0], f"{s['type']}(z)": s["output"][0],
                                     "f′(z)": s["local_grad"][0]}, outs, "neuron"), **table)
    st.markdown("## 2 · Loss")
    extras = r["extras"].get("probabilities")
    st.markdown(f"**{r['loss_name']}** = `{r['loss']:.6g}`" + (" (softmax of the outputs against the target class)"
                                                               if r["loss_name"] == "cross_entropy" else ""))
    if extras is not None:
        st.dataframe(_table({"probability": extras[0]}, labels[-1][1], "output").T, **table)
    st.markdown("## 3 · Backward: the chain rule, from the loss down")
    for s, (ins, outs) in reversed(list(zip(steps, labels, strict=True))):
        with st.expander(f"{s['name']}: " + ("∂L/∂w = ∂L/∂z · x,  ∂L/∂x = Wᵀ·∂L/∂z" if "weight" in s
                                             else "∂L/∂z = ∂L/∂a · f′(z)"), expanded=len(outs) <= 8):
            if "weight" in s:
                st.dataframe(_table({"∂L/∂z": s["grad_output"][0], "∂L/∂b": s["grad_bias"],
                                     **{f"∂L/∂w←{a}": s["grad_weight"][:, j] for j, a in enumerate(ins)}},
                                    outs, "neuron"), **table)
            else:
                st.dataframe(_table({"∂L/∂a": s["grad_output"][0], "f′(z)": s["local_grad"][0],
                                     "∂L/∂z": s["grad_input"][0]}, outs, "neuron"), **table)
    st.markdown(f"## 4 · Update: w ← w − {r['lr']:g} · ∂L/∂w")
    for s, (ins, outs) in zip(steps, labels, strict=True):
        if "weight" not in s:
            continue
        o, i = s["weight"].shape
        idx = [f"w[{a}←{b}]" for a in outs for b in ins] + [f"b[{a}]" for a in outs]
        old = np.concatenate([s["weight"].ravel(), s["bias"]])
        grad = np.concatenate([s["grad_weight"].ravel(), s["grad_bias"]])
        new = np.concatenate([s["new_weight"].ravel(), s["new_bias"]])
        with st.expander(f"{s['name']}: {o * i + o} parameters", expanded=o * i <= 16):
            st.dataframe(_table({"value": old, "gradient": grad, f"− {r['lr']:g} × gradient": -r["lr"] * grad,
                                 "new value": new}, idx, "parameter"), height=min(400, 38 + 35 * len(idx)), **table)


def _check(m: Loaded, x: torch.Tensor, y: torch.Tensor, r: dict) -> None:
    """Compare every hand-made weight and bias gradient with PyTorch's autograd: the largest difference per
    layer, and an error naming each layer where one is beyond the tolerance."""
    rows = backprop.autograd_check(m.model, x, y, r)
    st.markdown("## 5 · Check against PyTorch's autograd")
    st.dataframe(pd.DataFrame({"layer": [row["layer"] for row in rows],
                               "largest difference, weights": [f"{row['weight']:.1e}" for row in rows],
                               "largest difference, biases": ["no bias" if row["bias"] is None else
                                                              f"{row['bias']:.1e}" for row in rows],
                               "matches": ["yes" if row["ok"] else "NO" for row in rows]}),
                 hide_index=True, width="content")
    bad = [row["layer"] for row in rows if not row["ok"]]
    if bad:
        st.error(f"The gradients worked out by hand differ from PyTorch's autograd in {', '.join(bad)} (beyond "
                 f"{backprop.TOLERANCE:g} relative to the gradient's size): the steps above are wrong there.",
                 icon=":material/error:")
    else:
        largest = max((v for row in rows for v in (row["weight"], row["bias"]) if v is not None), default=0.0)
        st.success(f"Every weight and bias gradient above matches PyTorch's autograd (largest difference "
                   f"{largest:.1e}, tolerance {backprop.TOLERANCE:g}).", icon=":material/verified:")
