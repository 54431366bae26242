"""The 2-D playground's widgets and its run: TensorFlow Playground's controls over the one session spec.

Settings <-> spec mapping lives in the engine (playground/tfplay.py); this module turns it into widgets,
keeps one training job per session for the page (always present, paused at epoch 0 after any change,
as TensorFlow Playground resets), and feeds the live view (ui/components/grid_view.py).
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import streamlit as st

from playground import tfplay
from playground.data import FEATURES, load_cached
from playground.jobs import Job, JobRefused
from playground.probe import pack2d
from playground.registry import PlaygroundError
from playground.spec import SpecError, from_dict
from playground.train import tuning
from ui import keys, server, state
from ui.components.grid_view import NET_FRACTION, OKABE_ITO, TF, grid_view
from ui.text import message, plain
from ui.views import live

RES, NEURON_RES = 64, 16  # the surface's and the thumbnails' grids
FEATURE_LABELS = {"x1": "x₁", "x2": "x₂", "x1^2": "x₁²", "x2^2": "x₂²", "x1*x2": "x₁·x₂", "sin(x1)": "sin x₁",
                  "sin(x2)": "sin x₂"}
BUTTON = 100  # pixels: the toolbar's buttons and boxes have fixed widths, so its row wraps on a narrow screen


def playing(job: Job | None) -> bool:
    """Whether `job` trains or is about to (started unpaused, its worker setting it up)."""
    return job is not None and (job.state == "running" or (job.state == "starting" and not job.start_paused))


def _k(name: str, value) -> str:
    """The widget's stable key, its state set to `value` (from the spec) whenever the spec changed (state.bind)."""
    return state.bind(keys.PG2D(name), value)


_CSS = """<style>
[data-testid='stMainBlockContainer'] { padding-top: 4.4rem; }
[class*='st-key-pg2d-minus-'] button, [class*='st-key-pg2d-plus-'] button,
.st-key-pg2d-layer-minus button, .st-key-pg2d-layer-plus button {
  min-height: 26px; height: 26px; min-width: 24px; padding: 0 3px; }
[class*='st-key-pg2d-lact-'] [role='group'] { min-height: 30px; height: 30px; }
[class*='st-key-pg2d-lact-'] input { font-size: 13px; padding-left: 6px; padding-right: 0; }
[class*='st-key-pg2d-lact-'] button { width: 16px; min-width: 16px; padding: 0; margin-right: 2px; }
[class*='st-key-pg2d-lact-'] svg { width: 16px; }
/* the +/- buttons show their icon; their words are there for screen readers (the button's name) */
[class*='st-key-pg2d-minus-'] button p, [class*='st-key-pg2d-plus-'] button p,
.st-key-pg2d-layer-minus button p, .st-key-pg2d-layer-plus button p {
  position: absolute; clip-path: inset(50%); white-space: nowrap; }
</style>"""


def compact() -> None:
    """Tighter spacing for this page's small controls, so the whole playground fits one screen."""
    st.html(_CSS)


# ---- the run ---------------------------------------------------------------------------------------

def run_spec(spec: dict) -> dict:
    """What the page trains: the spec, normalised, on the CPU (a GPU is slower for nets this small)."""
    d = from_dict(spec).to_dict()
    d["train"]["device"] = "cpu"
    return d


def current_job() -> Job | None:
    pid = state.get().pg2d.job_id
    return server.pool().get(pid) if pid else None


def _submit(paused: bool) -> Job | None:
    ps = state.get().pg2d
    old = current_job()
    if old is not None and not old.finished:
        old.stop()
        old.wait(2)  # so that it no longer counts against the session's limit of runs
    ps.job_id = None
    try:
        pool = server.pool()
        job = pool.submit(run_spec(state.get().spec), owner=state.owner().id, epochs=pool.limits.max_epochs,
                          paused=paused, views={"grid2d": {"res": RES, "neuron_res": NEURON_RES, "pack": True}})
    except JobRefused as e:
        st.warning(f"Not started: {message(e.message)}", icon=":material/hourglass_top:")
        return None
    except PlaygroundError as e:
        st.error(f"This setup cannot train: {message(e.message)}", icon=":material/error:")
        return None
    ps.job_id = job.id
    return job


def ensure_job() -> Job | None:
    """The page's run for the current spec: kept while the spec is unchanged or only its learning rate or
    regularisation moved (as in TensorFlow Playground), else a fresh one at epoch 0 that goes on playing
    when the old one was playing (and says so)."""
    job = current_job()
    try:
        want = run_spec(state.get().spec)
    except SpecError as e:
        st.error(f"The setup is not valid: {message(e.message)}")
        return None
    if job is not None and job.spec == want:
        return job
    changes = tuning(job.spec, want) if job is not None and not job.finished else None
    if changes:  # only the learning rate or regularisation moved: the run goes on from where it is
        job.tune(**changes)
        return job
    was_playing = playing(job)
    new = _submit(paused=not was_playing)
    if job is not None and new is not None:
        st.toast("New data or network: the run starts again from epoch 0" + (", still playing." if was_playing else
                 ". Press Play to train it."), icon=":material/restart_alt:")
    return new


def play_pause() -> None:
    job = current_job()
    if job is None or job.finished:
        _submit(paused=False)
    elif playing(job):
        job.pause()
        job.wait_for(lambda: job.state != "running", 2)
    else:
        job.resume()
        job.wait_for(lambda: job.state in ("running",) or job.finished, 2)


def step() -> None:
    """One epoch, then pause (TensorFlow Playground's step)."""
    job = current_job()
    if job is None or job.finished:
        job = _submit(paused=True)
        if job is None:
            return
        job.wait_for(lambda: job.state in ("paused", "failed"), 30)
    before = len(job.metrics)
    job.step("epoch")
    job.wait_for(lambda: job.finished or (job.state == "paused" and len(job.metrics) > before), 10)


def reset() -> None:
    _submit(paused=True)


# ---- settings -> spec ------------------------------------------------------------------------------

def apply(new: tfplay.Settings, old: tfplay.Settings) -> None:
    """Write changed settings into the session spec (one undoable edit) and redraw."""
    if new != old:
        state.set_spec(tfplay.to_spec(tfplay.check(new), state.get().spec))
        st.rerun()


def _choices(values: tuple, current) -> list:
    """The allowed values plus the spec's own, if it is off the list (so no spec value is lost)."""
    return sorted(set(values) | {current})


def toolbar(cfg: tfplay.Settings, job: Job | None) -> None:
    """Play/pause, step, reset and the training settings, in one row as in TensorFlow Playground; on a narrow
    screen (a projector's 1024 pixels) the row wraps instead of cutting names short."""
    running = playing(job)
    bar = st.container(horizontal=True, gap="small", vertical_alignment="bottom", key=keys.PG2D("toolbar"))
    bar.button("Pause" if running else "Play", icon=":material/pause:" if running else ":material/play_arrow:",
               type="primary", key=keys.PG2D("play"), on_click=play_pause, width=BUTTON,
               help="Train until paused" if not running else "Pause training")
    bar.button("Step", icon=":material/skip_next:", key=keys.PG2D("step"), on_click=step, disabled=running,
               width=BUTTON, help="Train one epoch, then pause")
    bar.button("Reset", icon=":material/restart_alt:", key=keys.PG2D("reset"), on_click=reset, width=BUTTON,
               help="New run from epoch 0 (same seed, same initial weights)")
    new = cfg
    lrs = _choices(tfplay.LEARNING_RATES, cfg.lr)
    lr = bar.selectbox("Learning rate", lrs, key=_k("lr", cfg.lr), format_func=lambda v: f"{v:g}", width=110)
    new = replace(new, lr=lr)
    acts = set(cfg.activations)
    shown = cfg.activations[0] if len(acts) == 1 else None
    act = bar.selectbox("Activation", tfplay.ACTIVATIONS, format_func=tfplay.label, key=_k("act", shown),
                        placeholder="per layer", width=130,
                        help="Every hidden layer's activation (each layer can also have its own, below)")
    if act is not None and act != shown:
        new = tfplay.set_activation(new, act)
    reg = bar.selectbox("Regularisation", tfplay.REGULARIZATIONS, key=_k("reg", cfg.regularization), width=140,
                        help="L1 adds rate·Σ|w| to the loss; L2 is weight decay (rate·w each step)")
    rates = _choices(tfplay.REG_RATES, cfg.reg_rate)
    rate = bar.selectbox("Reg. rate", rates, key=_k("rate", cfg.reg_rate), format_func=lambda v: f"{v:g}",
                         disabled=reg == "none", width=95)
    if reg != cfg.regularization or rate != cfg.reg_rate:
        new = replace(new, regularization=reg, reg_rate=(rate or 0.003) if reg != "none" else 0.0)
    problem = bar.selectbox("Problem type", ("classification", "regression"), key=_k("problem", cfg.problem),
                            width=145)
    new = tfplay.with_problem(new, problem)
    opt = bar.selectbox("Optimizer", tfplay.OPTIMIZERS, key=_k("opt", cfg.optimizer), width=150,
                        help="SGD+momentum: momentum 0.9; SGD+nesterov: Nesterov momentum 0.9")
    new = replace(new, optimizer=opt)
    drops = _choices(tfplay.DROPOUTS, cfg.dropout)
    drop = bar.selectbox("Dropout", drops, key=_k("drop", cfg.dropout), width=95,
                         format_func=lambda v: f"{v:g}" if v else "off", help="After every hidden layer, in training")
    apply(replace(new, dropout=drop), cfg)


def data_panel(cfg: tfplay.Settings) -> None:
    """Which dataset, how many classes, the split, the noise, the batch size; regenerate."""
    st.markdown("**Data**")
    names = tfplay.CLASSIFICATION if cfg.problem == "classification" else tfplay.REGRESSION
    name = st.radio("Dataset", names, key=_k("data", cfg.dataset), horizontal=True, label_visibility="collapsed")
    new = replace(cfg, dataset=name or cfg.dataset)
    if new.dataset in tfplay.WITH_CLASSES:
        new = replace(new, classes=st.select_slider("Classes", list(range(2, tfplay.MAX_CLASSES + 1)),
                                                    key=_k("classes", cfg.classes)))
    shown_ratio, shown_noise = min(90, max(10, cfg.train_ratio)), min(50, cfg.noise)  # a spec may hold others
    ratio = st.slider("Training data", 10, 90, step=5, format="%d%%", key=_k("ratio", shown_ratio),
                      help="Share of the points used for training; the rest are the test points")
    noise = st.slider("Noise", 0, 50, step=1, key=_k("noise", shown_noise))
    batch = st.slider("Batch size", 1, max(tfplay.MAX_BATCH, cfg.batch_size), key=_k("batch", cfg.batch_size))
    new = replace(new, train_ratio=ratio if ratio != shown_ratio else cfg.train_ratio,
                  noise=noise if noise != shown_noise else cfg.noise, batch_size=batch)
    if st.button("Regenerate", icon=":material/refresh:", key=keys.PG2D("regen"), width="stretch",
                 help="Draw new points (a new data seed)"):
        new = replace(new, seed=cfg.seed + 1)
    apply(new, cfg)


def feature_panel(cfg: tfplay.Settings) -> None:
    """TensorFlow Playground's seven inputs as toggles (at least one stays on)."""
    st.markdown("**Features**")
    cols = st.columns(2, gap="xsmall")
    new = cfg
    for i, f in enumerate(FEATURES):
        on = cols[i % 2].checkbox(FEATURE_LABELS[f], key=_k(f"f-{f}", f in cfg.features),
                                  disabled=cfg.features == (f,))
        new = tfplay.toggle_feature(new, f, on)
    apply(new, cfg)


def layer_controls(cfg: tfplay.Settings) -> None:
    """+/- hidden layers, +/- neurons and the activation of each layer, above that layer in the view."""
    n = len(cfg.hidden)
    slots = n + 2
    row = st.columns([NET_FRACTION / slots] * slots + [1 - NET_FRACTION], gap="xsmall", vertical_alignment="bottom")
    new = cfg
    with row[0]:
        st.caption(f"{n} hidden layer{'s' if n != 1 else ''}")
        with st.container(horizontal=True, gap=2):
            if st.button("Remove a hidden layer", icon=":material/remove:", key=keys.PG2D("layer-minus"),
                         disabled=n == 0, help="Remove the last hidden layer"):
                new = tfplay.remove_layer(new)
            if st.button("Add a hidden layer", icon=":material/add:", key=keys.PG2D("layer-plus"),
                         disabled=n >= tfplay.MAX_LAYERS, help="Add a hidden layer"):
                new = tfplay.add_layer(new)
    for i in range(n):
        with row[i + 1]:
            with st.container(horizontal=True, gap=2):
                if st.button(f"One neuron fewer in layer {i + 1}", icon=":material/remove:", key=keys.PG2D("minus", i),
                             disabled=cfg.hidden[i] <= 1,
                             help=f"One neuron fewer in layer {i + 1}"):
                    new = tfplay.resize(new, i, -1)
                if st.button(f"One more neuron in layer {i + 1}", icon=":material/add:", key=keys.PG2D("plus", i),
                             disabled=cfg.hidden[i] >= tfplay.MAX_NEURONS, help=f"One more neuron in layer {i + 1}"):
                    new = tfplay.resize(new, i, +1)
            act = st.selectbox(f"Activation of layer {i + 1}", tfplay.ACTIVATIONS, format_func=tfplay.label,
                               key=_k(f"lact-{i}", cfg.activations[i]), label_visibility="collapsed")
            new = tfplay.set_activation(new, act, i)
    ps = state.get().pg2d
    with row[-1]:
        ps.show_test = st.toggle("Show test data", value=ps.show_test, key=keys.PG2D("show-test"))
        ps.discretize = st.toggle("Discretise output", value=ps.discretize, key=keys.PG2D("discretize"))
    state.sync_view()
    apply(new, cfg)


# ---- the live view ---------------------------------------------------------------------------------

def points(spec: dict) -> dict:
    """The dataset's raw train and test points with their labels (or targets), for drawing."""
    ds = load_cached(from_dict(spec).data)

    def rows(p, y):
        y = y.reshape(len(y), -1)[:, 0].numpy()
        return np.round(np.column_stack([p.numpy(), y]).astype(np.float64), 3).tolist()
    return {"train": rows(ds.extras_train["points"], ds.y_train), "test": rows(ds.extras_val["points"], ds.y_val),
            "key": json.dumps(spec["data"], sort_keys=True)}


def structure(cfg: tfplay.Settings, spec: dict) -> dict:
    info = load_cached(from_dict(spec).data).info
    return {"features": list(cfg.features), "hidden": list(cfg.hidden), "acts": list(cfg.activations),
            "outputs": cfg.outputs, "problem": cfg.problem, "classes": cfg.n_classes,
            "class_names": info.class_names}


def live_view(cfg: tfplay.Settings, job: Job | None) -> None:
    """The live canvas, or (nothing streams: AppTest) a polled image."""
    spec, ps = state.get().spec, state.get().pg2d
    if server.streaming():  # streamed, or polled where the stream fails (ui/views/live.py)
        shape, pts, key = structure(cfg, spec), points(spec), state.job_key(job)
        live.show(job, lambda poll: grid_view(job, shape, pts, ps.show_test, ps.discretize, note=_note(cfg),
                                              job_key=key, poll=poll))
        return
    polled_view(job, ps.discretize)


def _note(cfg: tfplay.Settings) -> str:
    bits = [f"{cfg.optimizer} · lr {cfg.lr:g} · batch {cfg.batch_size}"]
    if cfg.regularization != "none":
        bits.append(f"{cfg.regularization} {cfg.reg_rate:g}")
    if cfg.dropout:
        bits.append(f"dropout {cfg.dropout:g}")
    return " · ".join(bits) + ". Hover an edge for its weight, a neuron for its bias."


def status_text(job: Job | None) -> str:
    """Epoch, losses and state in one line (the fallback view and tests read it)."""
    if job is None:
        return "No run."
    last = job.metrics[-1] if job.metrics else {}
    bits = [f"Epoch {last.get('epoch', 0)}", job.state]
    if last:
        bits += [f"training loss {last['train_loss']:.3f}", f"test loss {last['val_loss']:.3f}"]
    if job.state == "failed":
        bits.append(job.message)
    return " · ".join(bits)


def _rgb(hex_color: str) -> np.ndarray:
    return np.array([int(hex_color[i:i + 2], 16) for i in (1, 3, 5)], np.float32)


def surface_image(view: dict, discretize: bool, scale: int = 4) -> np.ndarray:
    """The output surface as an RGB image, coloured as the canvas colours it (the fallback's st.image)."""
    v = pack2d(view)
    res, b = v["res"], v["surface"].astype(np.float32)
    mid = _rgb(TF["mid"])
    if v["mode"] == "classes":
        b = b.reshape(res, res, 2)
        k = len(OKABE_ITO)
        colour = np.stack([_rgb(c) for c in OKABE_ITO])[b[..., 0].astype(int) % k]
        t = np.full((res, res, 1), 0.55) if discretize else (b[..., 1:] / 255) * 0.72
    else:
        x = b.reshape(res, res) / 127.5 - 1  # -1 … 1
        colour = np.where(x[..., None] >= 0, _rgb(TF["pos"]), _rgb(TF["neg"]))
        t = (np.abs(np.sign(x)) * 0.6 if discretize else np.abs(x) * 0.72)[..., None]
    img = (mid + t * (colour - mid)).clip(0, 255).astype(np.uint8)
    return np.repeat(np.repeat(img, scale, 0), scale, 1)


def polled_view(job: Job | None, discretize: bool) -> None:
    every = 0.5 if playing(job) else None

    @st.fragment(run_every=every)
    def fragment():
        st.caption(message(status_text(job)))
        view = job.views.get("grid2d") if job is not None else None
        if view is not None:
            st.image(surface_image(view, discretize), caption="The output over the plane (x₁ across, x₂ up)",
                     alt="the network's output over the plane")
    fragment()


# ---- not a 2-D setup -------------------------------------------------------------------------------

def offer_2d(spec: dict) -> None:
    """Explain why the page cannot show this spec and offer a 2-D setup in one click (undoable)."""
    data = spec.get("data", {}).get("name", "?") if isinstance(spec.get("data"), dict) else "?"
    n = len(spec.get("model", {}).get("layers", [])) if isinstance(spec.get("model"), dict) else 0
    name = plain(spec.get("name", "Untitled"))
    st.info(f"The 2-D playground shows networks of dense layers on 2-D points (circle, xor, gauss, spiral, "
            f"moons, plane, multigauss). The current setup, **{name}** ({plain(data)}, {n} "
            f"layers), is not one of those, so it is left as it is.", icon=":material/info:")
    if st.button("Start from a 2-D setup", type="primary", icon=":material/scatter_plot:", key=keys.PG2D("convert"),
                 help="Keeps your 2-D data and layer sizes where it can; Undo brings the current setup back"):
        state.set_spec(tfplay.to_spec(tfplay.coerce(spec), tfplay.default_spec()))
        state.get().pg2d.converted_at = state.get().edits
        st.rerun()


def back_link() -> None:
    """Right after a conversion: one click back to the setup the user had."""
    s = state.get()
    ps = s.pg2d
    if ps.converted_at is not None and ps.converted_at == s.edits and s.history:
        if st.button("Undo: back to the previous setup", icon=":material/undo:", key=keys.PG2D("undo"),
                     type="tertiary"):
            ps.converted_at = None
            job = current_job()
            if job is not None and not job.finished:
                job.stop()
            state.undo()
            st.rerun()
