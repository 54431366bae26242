"""A setup opened read-only by a link that carries the lock flag (?lock=1): Build shows it without editors,
with one button to make one's own copy.

A classroom convenience, not a security boundary: the setup is in the link for anyone to read, and removing
`lock=1` from the address (or the button) unlocks it. It keeps a class on the teacher's setup until each
student chooses to change it.
"""

from __future__ import annotations

import streamlit as st

from playground.build import shape_str
from playground.data import info as data_info
from playground.registry import PlaygroundError
from playground.spec import encode, from_dict
from playground.train import validate
from ui import keys, state
from ui.text import message, plain
from ui.views.board_store import app_link


def locked_link(spec: dict) -> str:
    """A link that opens `spec` read-only on Build (no class key in it)."""
    return app_link("build", **{state.URL_KEY: encode(from_dict(spec)), state.LOCK: "1"})


def read_only() -> bool:
    """On Build: while the setup is locked, show it read-only and return True (the page draws nothing more).
    "Make my own copy" unlocks it in the same run: the editors are drawn at once, below nothing."""
    s = state.get()
    if not s.locked:
        return False
    box = st.empty()
    with box.container():
        if _locked_view(s):
            return True
    box.empty()
    return False


def _locked_view(s: state.Session) -> bool:
    """The read-only view; False once "Make my own copy" was pressed (the setup is unlocked then)."""
    st.title("Build")
    with st.container(border=True, key=keys.LOCKED("setup")):
        left, right = st.columns([3, 1], vertical_alignment="center")
        left.markdown(f":material/lock: **{plain(s.spec.get('name', 'Untitled'), 80)}** was shared read-only: "
                      "look it over, or train it as it is on the Train page. To change it, make your own copy.")
        if right.button("Make my own copy", type="primary", icon=":material/content_copy:", key=keys.LOCKED("copy"),
                        width="stretch"):
            unlock()
            return False
    try:
        spec = from_dict(s.spec)
        summary = validate(spec, data_info(spec.data, state.uploads()))
    except PlaygroundError as e:
        st.error(f"This setup does not build: {message(e.message)}", icon=":material/error:")
        return True
    model, rest = st.columns([1.4, 1], gap="large")
    with model:
        st.markdown(f"**Model** · input {shape_str(summary.input_shape)} · {summary.total_params:,} parameters")
        st.dataframe([{"#": r.index, "layer": r.type, "output": shape_str(r.output_shape), "parameters": r.params}
                      for r in summary.rows], hide_index=True, key=keys.LOCKED("layers"))
    with rest:
        t = spec.train
        st.markdown("**Data**")
        st.code("\n".join(f"{k}: {v}" for k, v in spec.data.model_dump(mode="json").items()), language=None)
        st.markdown("**Training**")
        st.code(f"loss: {t.loss}\noptimizer: {t.optimizer.type}, lr {t.optimizer.lr:g}\nbatch size: {t.batch_size}"
                f"\nepochs: {t.epochs}\nseed: {t.seed}", language=None)
    st.page_link("pages/train.py", label="Train it as it is", icon=":material/play_circle:")
    return True


def unlock() -> None:
    """Make my own copy: the setup becomes editable, and the link loses its lock."""
    state.get().locked = False
    st.query_params.pop(state.LOCK, None)
