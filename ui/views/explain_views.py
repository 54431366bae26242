"""Explain: attribution methods chosen by name, run on the pinned input, drawn for the kind of data —
overlays beside the input for images, highlighted words for text, signed bars per feature for tables.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch

from playground.attribution import BASELINES, METHODS, Attribution, conv_layers, unavailable
from playground.attribution import attribute as run_method
from playground.registry import PlaygroundError
from ui import keys, state
from ui.text import message, short
from ui.views import images
from ui.views.described import described
from ui.views.input_picker import Input, pin, seed, tokens
from ui.views.model_source import Loaded, memo

PREDICTED = -1  # the target "whatever the model predicts"
TOP_FEATURES = 15


@dataclass
class Options:
    methods: list[str]
    target: int | None  # a class index, or None for a single-output model
    baseline: str = "zeros"
    steps: int = 50
    layer: int | None = None  # Grad-CAM's convolution, neuron conductance's layer
    neuron: int | None = None


def default_methods(m: Loaded) -> list[str]:
    out = ["saliency", "integrated_gradients"]
    if m.info.modality == "image" and conv_layers(m.model):
        out.append("grad_cam")
    return out


def available(m: Loaded, inp: Input) -> tuple[list[str], dict[str, str]]:
    """The methods that can explain this model (registry order), and the others with the reason each cannot."""
    said = memo("unavailable", (m.key, inp.x.dtype, inp.x.dim()), lambda: unavailable(m.model, inp.x))
    return [n for n in METHODS.names() if n not in said], said


def _names(m: Loaded) -> list[str]:
    k = m.out_shape[0] if len(m.out_shape) == 1 else 0
    names = m.info.class_names if m.classify and len(m.info.class_names) == k else [f"output {i + 1}" for i in range(k)]
    return [short(n, 40) for n in names]  # class names come from the data (a CSV's labels): shown as text


def predicted(m: Loaded, inp: Input) -> int | None:
    with torch.no_grad():
        out = m.model(inp.x)
    return int(out.argmax(1)) if out.dim() == 2 and out.shape[1] > 1 else None


def controls(m: Loaded, inp: Input, key: keys.Key = keys.EXPLAIN) -> Options:
    """Methods, target class, baseline and steps; a control shows only when a chosen method uses it."""
    all_methods, refused = available(m, inp)
    seed(key("methods"), [n for n in default_methods(m) if n in all_methods])
    # a method chosen for an earlier model that cannot explain this one is dropped, not offered and refused
    state.set_widget(key("methods"), [n for n in state.widget(key("methods")) if n in all_methods])
    a, b, c, d = st.columns([2.6, 1.2, 1, 1.2], vertical_alignment="top")
    methods = a.multiselect("Methods", all_methods, key=key("methods"), format_func=lambda n: METHODS.get(n).title,
                            on_change=pin, args=(key("methods"),),
                            help="Several methods side by side: where they agree, trust the picture more.",
                            placeholder="Choose attribution methods")
    if refused:
        a.caption("Not for this model: " + "; ".join(
            f"{METHODS.get(n).title} ({message(why.removeprefix(METHODS.get(n).title + ' '))})"
            for n, why in refused.items()))
    names = _names(m)
    target = None
    if len(names) > 1:
        pred = predicted(m, inp)
        seed(key("target"), PREDICTED, [PREDICTED] + list(range(len(names))))
        choice = b.selectbox("Explain the score of", [PREDICTED] + list(range(len(names))), key=key("target"),
                             on_change=pin, args=(key("target"),),
                             format_func=lambda i: f"the predicted class ({names[pred]})" if i == PREDICTED
                             else f"class {names[i]}")
        target = pred if choice == PREDICTED else int(choice)
    else:
        b.caption("The model has one output: the attributions explain it.")
    chosen = [METHODS.get(n) for n in methods]
    opts = Options(methods, target)
    if any(x.has_baseline for x in chosen):
        if m.info.tokens:
            c.caption("Baseline: the padding token (text has no blurred or noisy version).")
        else:
            seed(key("baseline"), "zeros", BASELINES)
            opts.baseline = c.selectbox("Baseline", BASELINES, key=key("baseline"), on_change=pin,
                                        args=(key("baseline"),),
                                        help="What 'no information' looks like: all zeros, a blurred copy of the "
                                             "input, or faint noise. Attributions measure the change from it.")
    if any(x.has_steps for x in chosen):
        seed(key("steps"), 50)
        opts.steps = d.slider("Steps", 10, 200, step=10, key=key("steps"), on_change=pin, args=(key("steps"),),
                              help="Points along the path from the baseline (Integrated Gradients) or samples "
                                   "(GradientSHAP, conductance): more is slower and more exact.")
    convs = conv_layers(m.model)
    if "grad_cam" in methods and len(convs) > 1:
        opts.layer = c.selectbox("Grad-CAM layer", convs, index=len(convs) - 1, key=key("cam-layer"),
                                 format_func=lambda i: f"layer {i + 1} (Conv2d)",
                                 help="Later layers see larger parts of the image but more coarsely.")
    if "neuron_conductance" in methods:
        lay = d.selectbox("Conductance layer", range(len(m.model)), key=key("nc-layer"),
                          format_func=lambda i: f"layer {i + 1} ({type(m.model[i]).__name__})")
        opts.layer = int(lay)
        opts.neuron = d.number_input("Neuron (blank: the most active)", 1, None, None, key=key("nc-neuron"))
        opts.neuron = None if opts.neuron is None else int(opts.neuron) - 1
    return opts


def attribute(m: Loaded, inp: Input, method: str, o: Options) -> Attribution | str:
    """One method's attribution (cached per model, input and options), or why it cannot apply."""
    meth = METHODS.get(method)
    options = {}
    if meth.has_steps:
        options["steps"] = o.steps
    if method == "grad_cam" and o.layer is not None and o.layer in conv_layers(m.model):
        options["layer"] = o.layer
    if method == "neuron_conductance":
        options.update(layer=o.layer or 0, neuron=o.neuron)
    baseline = o.baseline if meth.has_baseline else None
    key = (m.key, inp.key, method, o.target, baseline, tuple(sorted(options.items())))

    def run():
        try:
            return run_method(m.model, inp.x, method, target=o.target, baselines=baseline, **options)
        except PlaygroundError as e:
            return e.message
    return memo("attributions", key, run, keep=48)


def run_all(m: Loaded, inp: Input, o: Options) -> list[tuple[str, Attribution | str]]:
    with st.spinner("Computing attributions…"):
        return [(name, attribute(m, inp, name, o)) for name in o.methods]


# ---- drawing ------------------------------------------------------------------------------------------

def _cmap(v: np.ndarray) -> str:
    return images.SEQUENTIAL if float(np.nanmin(v)) >= 0 else images.DIVERGING


def note(m: Loaded, inp: Input, a: Attribution) -> str:
    """The convergence delta in words, where the method has one."""
    if a.delta is None:
        return ""
    d = float(a.delta.reshape(-1)[0])
    total = float(a.values.sum())
    return (f"Convergence delta {d:.2g}: the attributions add up to {total:.4g}, the output moved by "
            f"{total - d:.4g} from the baseline.")


def render(m: Loaded, inp: Input, results: list[tuple[str, Attribution | str]], key: keys.Key,
           show_input: bool = True) -> None:
    """Every method's result, side by side, drawn for the data's kind."""
    if m.info.modality == "image":
        _images(m, inp, results, key, show_input)
    elif m.info.tokens:
        _text(m, inp, results)
    elif inp.x.dim() == 3:
        _sequence(m, inp, results, key)
    else:
        _features(m, inp, results, key)


def _fail(name: str, msg: str) -> None:
    st.info(f"**{METHODS.get(name).title}** does not apply here: {message(msg)}", icon=":material/info:")


def _images(m: Loaded, inp: Input, results, key: keys.Key, show_input: bool) -> None:
    x = inp.x[0].numpy()
    x2 = x[0] if x.shape[0] == 1 else x.mean(0)
    per_row = 4
    cells = ([None] if show_input else []) + results
    for start in range(0, len(cells), per_row):
        cols = st.columns(per_row)
        for col, cell in zip(cols, cells[start:start + per_row], strict=False):
            with col:
                if cell is None:
                    st.markdown("**Input**")
                    st.image(images.picture(x2), caption=inp.what, alt=f"the input: {short(inp.what)}")
                    continue
                name, a = cell
                meth = METHODS.get(name)
                st.markdown(f"**{meth.title}**", help=meth.description)
                if isinstance(a, str):
                    _fail(name, a)
                    continue
                v = a.values[0].numpy()
                v = v.sum(0) if v.ndim == 3 else v  # (C, H, W) → (H, W)
                cmap = _cmap(v)
                lo, hi = images.limits(v, cmap)
                st.image(images.overlay(x2, v, cmap, lo, hi), alt=f"{meth.title} attribution over the input")
                label = "attribution (blue: for the class, orange: against)" if cmap == images.DIVERGING \
                    else "attribution (darker: more)"
                st.markdown(images.colorbar(cmap, lo, hi, label), unsafe_allow_html=True)
                described(v, f"{meth.title} attribution", key=key(name, "alt"))
                if a.delta is not None:
                    st.caption(note(m, inp, a))


def token_html(words: list[str], values: np.ndarray) -> str:
    """Words with backgrounds by attribution (escaped text, numbers in the tooltip); padding left out."""
    cmap = _cmap(values)
    lo, hi = images.limits(values, cmap)
    colors = images.colorize(values, cmap, lo, hi)
    spans = []
    for w, v, c in zip(words, values, colors, strict=True):
        if w == "<pad>":
            continue
        alpha = 0.15 + 0.85 * min(1.0, abs(float(v)) / max(abs(hi), abs(lo), 1e-12))
        shown = (1 - alpha) * 255 + alpha * c.astype(float)  # the colour over a white page
        ink = "#fff" if shown @ [0.299, 0.587, 0.114] < 140 else "#1b1b1b"  # readable on dark backgrounds too
        spans.append(f'<span title="{float(v):.4g}" style="background:rgba({c[0]},{c[1]},{c[2]},{alpha:.2f});'
                     f'color:{ink};padding:2px 5px;margin:2px;border-radius:4px;display:inline-block">'
                     f'{html.escape(w)}</span>')
    return f'<div style="line-height:2;font-size:16px">{"".join(spans)}</div>'


def _text(m: Loaded, inp: Input, results) -> None:
    words = tokens(m, inp.x)
    for name, a in results:
        meth = METHODS.get(name)
        left, right = st.columns([1, 4], vertical_alignment="center")
        left.markdown(f"**{meth.title}**", help=meth.description)
        with right:
            if isinstance(a, str):
                _fail(name, a)
                continue
            v = a.values.reshape(-1).numpy()
            st.markdown(token_html(words, v), unsafe_allow_html=True)
            cmap = _cmap(v)
            lo, hi = images.limits(v, cmap)
            st.markdown(images.colorbar(cmap, lo, hi, "per word: blue for the class, orange against"
                                        if cmap == images.DIVERGING else "per word: darker means more", width=240),
                        unsafe_allow_html=True)
            if a.delta is not None:
                st.caption(note(m, inp, a))


def _bars(names: list[str], v: np.ndarray, title: str) -> go.Figure:
    order = np.argsort(-np.abs(v))[:TOP_FEATURES][::-1]
    colors = [f"rgb{images.POS}" if v[i] >= 0 else f"rgb{images.NEG}" for i in order]
    fig = go.Figure(go.Bar(x=v[order], y=[names[i] for i in order], orientation="h", marker_color=colors,
                           hovertemplate="%{y}: %{x:.4g}<extra></extra>"))
    fig.update_layout(title={"text": title, "font": {"size": 13}}, height=80 + 22 * len(order),
                      margin={"l": 10, "r": 10, "t": 30, "b": 40}, xaxis_title="attribution (+ for, − against)",
                      yaxis={"automargin": True, "type": "category"})
    return fig


def _in_columns(results, most: int):
    """Each method's (name, method, attribution) drawn inside its own column; failures are said there."""
    cols = st.columns(min(most, max(1, len(results))))
    for i, (name, a) in enumerate(results):
        with cols[i % len(cols)]:
            meth = METHODS.get(name)
            if isinstance(a, str):
                st.markdown(f"**{meth.title}**")
                _fail(name, a)
                continue
            yield name, meth, a


def _features(m: Loaded, inp: Input, results, key: keys.Key) -> None:
    n = inp.x.shape[1]
    names = [short(f, 40) for f in m.info.feature_names] if len(m.info.feature_names) == n else \
        [f"x{i + 1}" for i in range(n)]
    for name, meth, a in _in_columns(results, 3):
        st.plotly_chart(_bars(names, a.values.reshape(-1).numpy(), meth.title), width="stretch",
                        key=key(name), config={"displayModeBar": False})
        described(a.values.reshape(-1).numpy(), f"{meth.title} attribution", key=key(name, "alt"), names=names)
        if a.delta is not None:
            st.caption(note(m, inp, a))
    if len(names) > TOP_FEATURES:
        st.caption(f"The {TOP_FEATURES} features with the largest attributions of each method are shown.")


def _sequence(m: Loaded, inp: Input, results, key: keys.Key) -> None:
    x = inp.x[0].numpy()  # (T, F)
    for name, meth, a in _in_columns(results, 2):
        v = a.values[0].numpy().reshape(len(x), -1).sum(1)
        fig = go.Figure([go.Bar(x=list(range(1, len(v) + 1)), y=v, name="attribution",
                                marker_color=[f"rgb{images.POS}" if t >= 0 else f"rgb{images.NEG}" for t in v]),
                         go.Scatter(x=list(range(1, len(x) + 1)), y=x[:, 0], name="input", yaxis="y2",
                                    line={"color": "#444"})])
        fig.update_layout(title={"text": meth.title, "font": {"size": 13}}, height=280, xaxis_title="step",
                          yaxis_title="attribution", yaxis2={"title": "input", "overlaying": "y", "side": "right"},
                          margin={"l": 50, "r": 50, "t": 30, "b": 40}, legend={"orientation": "h", "y": -0.3})
        st.plotly_chart(fig, width="stretch", key=key(name))
        if a.delta is not None:
            st.caption(note(m, inp, a))
