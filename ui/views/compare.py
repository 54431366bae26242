"""Comparing runs: overlays of finished runs, and A/B runs trained in lock-step."""

from __future__ import annotations

import streamlit as st

from playground import edit
from playground.jobs import JobRefused
from playground.layers import activations
from playground.registry import PlaygroundError
from playground.spec import from_dict
from playground.train import INITS, optimizer_names
from ui import server, state
from ui.views import runner


def overlay_picker(job) -> list[dict]:
    """Let the user pick finished runs to draw under the current curves."""
    runs = [r for r in state.get().runs if job is None or r["id"] != job.id]
    if not runs:
        return []
    labels = [r["label"] for r in runs]
    chosen = st.multiselect("Compare with earlier runs", labels, default=labels[-2:], key="train-overlay",
                            help="Finished runs of this session, drawn in grey under the current curves")
    return [{"label": r["label"], "metrics": r["metrics"]} for r in runs if r["label"] in chosen]


def _knob_value(spec: dict, knob: str):
    t = spec["train"]
    key = f"ab-value-{knob}"
    if knob == "learning rate":
        return st.number_input("B's learning rate", 1e-5, 10.0, float(t["optimizer"].get("lr", 0.01)) * 3,
                               format="%.5f", key=key)
    if knob == "optimizer":
        return st.selectbox("B's optimizer", optimizer_names(), index=0, key=key)
    if knob == "activation":
        return st.selectbox("B's activation (every activation layer)", activations(), index=0, key=key)
    if knob == "initialisation":
        return st.selectbox("B's initialisation", INITS.names(), index=2, key=key)
    if knob == "batch size":
        return int(st.number_input("B's batch size", 1, 4096, max(1, int(t["batch_size"]) * 4), key=key))
    if knob == "weight decay":
        return st.number_input("B's weight decay", 0.0, 1.0, 1e-3, format="%.5f", key=key)
    return st.slider("B's dropout after each hidden layer", 0.05, 0.9, 0.3, key=key)


def ab_setup() -> None:
    """Duplicate the setup as B, change one thing, and train A and B in lock-step."""
    s = state.get()
    with st.expander("A/B: change one thing and train both side by side", icon=":material/compare_arrows:"):
        st.caption("A is the current setup. B is a copy with one change. Both train in lock-step — one batch "
                   "each in turn — on the same data, with the same seed and the same initial weights.")
        knob = st.selectbox("Change", edit.KNOBS, key="ab-knob")
        b = edit.variant(s.spec, knob, _knob_value(s.spec, knob))
        changes = edit.diff(s.spec, b)
        st.markdown("**B differs from A in:** " + ("; ".join(f"`{c}`" for c in changes) if changes else
                                                     "nothing yet — pick a different value"))
        if st.button("Train A and B", icon=":material/play_arrow:", disabled=not changes, key="ab-start"):
            start_pair(s.spec, b, changes)


def start_pair(a: dict, b: dict, changes: list[str]) -> None:
    """Start A and B as one lock-step group (stopping this session's runs first)."""
    s = state.get()
    pool = server.pool()
    for job in pool.jobs(state.owner().id):
        if not job.finished:
            job.stop()
            job.wait(2)
    try:
        ja, jb = pool.submit_group([from_dict(a), from_dict(b)], owner=state.owner().id)
    except JobRefused as e:
        st.warning(f"Not started: {e.message}", icon=":material/hourglass_top:")
        return
    except PlaygroundError as e:
        st.error(f"B cannot train: {e.message}", icon=":material/error:")
        return
    s.ab = {"a": ja.id, "b": jb.id, "changes": changes}
    s.job_id = None
    st.rerun()


def ab_view(classify: bool) -> bool:
    """The A/B pair's live curves side by side; False when there is no pair to show."""
    s = state.get()
    ab = getattr(s, "ab", None)
    pool = server.pool()
    jobs = [pool.get(ab["a"]), pool.get(ab["b"])] if ab else []
    if not ab or None in jobs:
        return False
    st.subheader("A/B in lock-step")
    st.markdown("**B differs from A in:** " + "; ".join(f"`{c}`" for c in ab["changes"]))
    live = any(not j.finished for j in jobs)
    c1, c2, c3 = st.columns([1, 1, 4])
    if c1.button("Stop both", icon=":material/stop:", disabled=not live, key="ab-stop"):
        for j in jobs:
            j.stop()
    if c2.button("Close A/B", icon=":material/close:", key="ab-close"):
        s.ab = None
        st.rerun()
    left, right = st.columns(2)
    for col, job, name in ((left, jobs[0], "A"), (right, jobs[1], "B")):
        with col:
            st.markdown(f"**{name}**")
            runner.chart(job, classify, key=f"ab-chart-{name}")
    return True
