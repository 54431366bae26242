"""The GAN lab's settings as widgets over the one session spec (the mapping lives in playground/ganlab.py).

Every change is one undoable edit of the spec (so the link carries it); the page then starts a fresh run,
paused at step 0.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from playground import ganlab
from playground.gan_data import MAX_DRAWN
from ui import keys, state
from ui.components.gan_view import COLORS
from ui.components.point_canvas import point_canvas
from ui.text import plain

DRAW_RANGE = 4.0  # the drawing pad spans ±4 (the data's points may be anywhere within ±6)


def _k(name: str) -> str:
    """A widget key that changes with every spec edit, so widgets follow undo and links."""
    return keys.GAN(name, state.get().edits)


def apply(new: ganlab.Settings, old: ganlab.Settings) -> None:
    """Write changed settings into the session spec (one undoable edit) and redraw."""
    if new != old:
        state.set_spec(ganlab.to_spec(ganlab.check(new), state.get().spec))
        st.rerun()


def _pick(label: str, options: tuple, value, key: str, fmt=None, help: str | None = None, where=st):
    opts = sorted(set(options) | {value})  # the spec's own value stays selectable (nothing is lost)
    return where.selectbox(label, opts, index=opts.index(value), key=_k(key), format_func=fmt or str, help=help)


def data_panel(cfg: ganlab.Settings) -> None:
    """Which distribution the generator learns to imitate; a drawing pad for your own."""
    st.markdown("**Data to imitate**")
    names = list(ganlab.DATA)
    name = st.radio("Data", names, index=names.index(cfg.dataset), key=_k("data"),
                    format_func=lambda n: ganlab.LABELS[n], label_visibility="collapsed")
    # another dataset reruns the page at once: a pad drawn now would carry the old edit count, and the run
    # after it would put the spec's drawing back over strokes made in between
    apply(ganlab.with_dataset(cfg, name) if name != cfg.dataset else cfg, cfg)
    if cfg.dataset == "drawn":
        pts = [list(p) for p in cfg.points] or ganlab_default_points()
        point_canvas(pts, str(state.get().edits), DRAW_RANGE, MAX_DRAWN, COLORS["real"], key=keys.GAN("drawing"),
                     on_change=_drawn)


def ganlab_default_points() -> list:
    """The registry's default drawing (shown on the pad until you draw your own)."""
    from playground.data import DATASETS
    return next(p.default for p in DATASETS.get("drawn").params if p.name == "points")


def _drawn() -> None:
    """A stroke ended on the pad: its points become the data (an empty pad keeps the last drawing)."""
    value = (state.widget(keys.GAN("drawing")) or {}).get("drawing") or {}
    pts = value.get("points") or []
    cfg = ganlab.from_spec(state.get().spec)
    if cfg is None or not pts:
        return
    new = ganlab.check(replace(cfg, points=tuple((float(x), float(y)) for x, y in pts[:MAX_DRAWN])))
    if new != cfg:
        state.set_spec(ganlab.to_spec(new, state.get().spec))


def _widths(label: str, widths: tuple[int, ...], key: str) -> tuple[int, ...]:
    n = st.selectbox(f"{label}: hidden layers", list(range(0, ganlab.MAX_LAYERS + 1)), index=len(widths),
                     key=_k(f"{key}-n"))
    w = _pick(f"{label}: neurons per layer", ganlab.WIDTHS, widths[0] if widths else 128, f"{key}-w")
    return tuple([w] * n) if (n, w) != (len(widths), widths[0] if widths else 128) else widths


def model_panel(cfg: ganlab.Settings) -> None:
    """Noise size, the two networks' hidden layers and activations."""
    noise = _pick("Noise numbers per sample", ganlab.NOISES, cfg.noise, "noise",
                  help="The generator turns this many random numbers into one sample")
    g = _widths("Generator", cfg.g_hidden, "g")
    ga = _pick("Generator activation", ganlab.ACTIVATIONS, cfg.g_activation, "ga")
    d = _widths("Discriminator", cfg.d_hidden, "d")
    da = _pick("Discriminator activation", ganlab.ACTIVATIONS, cfg.d_activation, "da")
    apply(replace(cfg, noise=noise, g_hidden=g, d_hidden=d, g_activation=ga, d_activation=da), cfg)


def training_panel(cfg: ganlab.Settings) -> None:
    """Loss, steps of D per step of G, learning rates, Adam's β1 and the batch size."""
    c1 = c2 = st  # one column: the panel is narrow
    loss = _pick("Loss", ganlab.LOSSES, cfg.loss, "loss", where=c1,
                 fmt=lambda v: {"bce": "cross-entropy", "wgan-gp": "WGAN-GP"}.get(v, v),
                 help="Cross-entropy (the generator's non-saturating form), or Wasserstein with a gradient penalty")
    k = _pick("D steps per G step", ganlab.D_STEPS, cfg.d_steps, "k", where=c2)
    g_lr = _pick("Generator lr", ganlab.LEARNING_RATES, cfg.g_lr, "glr", fmt=lambda v: f"{v:g}", where=c1)
    d_lr = _pick("Discriminator lr", ganlab.LEARNING_RATES, cfg.d_lr, "dlr", fmt=lambda v: f"{v:g}", where=c2)
    beta1 = _pick("Adam β1", ganlab.BETA1S, cfg.beta1, "b1", fmt=lambda v: f"{v:g}", where=c1,
                  help="Measured on the ring: 0.9 covered 6–8 of 8 modes in every seed; 0.5 collapsed in one")
    batch = _pick("Batch size", ganlab.BATCHES, cfg.batch_size, "batch", where=c2)
    apply(replace(cfg, loss=loss, d_steps=k, g_lr=g_lr, d_lr=d_lr, beta1=beta1, batch_size=batch), cfg)


def offer(spec: dict) -> None:
    """Not a GAN the page can show: say so and offer the ring in one click (undoable)."""
    name = plain(spec.get("name", "Untitled"))
    st.info(f"The GAN lab trains a generator against a discriminator, both small networks of dense layers, on "
            f"2-D points (a ring, a grid, two moons, your drawing) or 8×8 digits. The current setup, **{name}**, "
            "is not one of those, so it is left as it is.", icon=":material/info:")
    if st.button("Start the GAN lab on the ring", type="primary", icon=":material/blur_on:", key=keys.GAN("convert"),
                 help="Undo brings the current setup back"):
        state.set_spec(ganlab.default_spec())
        st.rerun()
