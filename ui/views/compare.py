"""Comparing runs: overlays of finished runs, and A/B runs trained in lock-step."""

from __future__ import annotations

import json

import streamlit as st

from playground import edit
from playground.jobs import JobRefused
from playground.layers import activations
from playground.registry import PlaygroundError
from playground.spec import from_dict
from playground.train import INITS, optimizer_names
from ui import keys, server, state
from ui.text import code, message
from ui.views import runner

OVERLAY_COLORS = ["#009E73", "#CC79A7", "#D55E00", "#000000"]  # Okabe–Ito, after the current run's blues and orange
SAMPLING = ("n_samples", "noise", "val_fraction", "seed")  # data options that change samples, not the task


def task_of(spec: dict) -> tuple:
    """What makes two runs' curves comparable: the same data and target (sampling aside) and the same loss."""
    data = {k: v for k, v in spec.get("data", {}).items() if k not in SAMPLING}
    return json.dumps(data, sort_keys=True, default=str), spec.get("train", {}).get("loss", "cross_entropy")


def overlay_picker(job, spec: dict) -> list[dict]:
    """Let the user pick finished runs of the same task and loss as `spec` to draw under the current curves.

    The newest two are chosen at first; each run has its own colour and its name in the legend."""
    runs = [r for r in state.get().runs if (job is None or r["id"] != job.id) and task_of(r["spec"]) == task_of(spec)]
    if not runs:
        return []
    ids = [r["id"] for r in runs]
    labels = {r["id"]: r["label"] for r in runs}
    # the key follows the runs on offer: a new comparable run resets the choice to the newest ones
    chosen = st.multiselect("Compare with earlier runs", ids, default=ids[-2:], format_func=labels.get,
                            max_selections=len(OVERLAY_COLORS), key=keys.TRAIN("overlay", *ids),
                            help="Finished runs of this session on the same data with the same loss, each drawn "
                                 "dotted in its own colour under the current curves (validation)")
    return [{"label": labels[i], "metrics": r["metrics"], "color": OVERLAY_COLORS[k % len(OVERLAY_COLORS)]}
            for k, (i, r) in enumerate((i, r) for i, r in zip(ids, runs, strict=True) if i in chosen)]


def _knob_value(spec: dict, knob: str):
    t = spec["train"]
    key = keys.AB("value", knob)
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
        knob = st.selectbox("Change", edit.KNOBS, key=keys.AB("knob"))
        b = edit.variant(s.spec, knob, _knob_value(s.spec, knob))
        changes = edit.diff(s.spec, b)
        st.markdown("**B differs from A in:** " + ("; ".join(code(c) for c in changes) if changes else
                                                     "nothing yet — pick a different value"))
        if st.button("Train A and B", icon=":material/play_arrow:", disabled=not changes, key=keys.AB("start")):
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
        st.warning(f"Not started: {message(e.message)}", icon=":material/hourglass_top:")
        return
    except PlaygroundError as e:
        st.error(f"B cannot train: {message(e.message)}", icon=":material/error:")
        return
    s.ab = {"a": ja.id, "b": jb.id, "changes": changes}
    s.job_id = None
    st.rerun()


def ab_view(metric: dict | None) -> bool:
    """The A/B pair's live curves side by side on one loss axis; False when there is no pair to show."""
    s = state.get()
    ab = getattr(s, "ab", None)
    pool = server.pool()
    jobs = [pool.get(ab["a"]), pool.get(ab["b"])] if ab else []
    if not ab or None in jobs:
        return False
    st.header("A/B in lock-step")
    st.markdown("**B differs from A in:** " + "; ".join(code(c) for c in ab["changes"]))
    live = any(not j.finished for j in jobs)
    with st.container(horizontal=True, gap="small", key=keys.AB("controls")):  # callbacks: drawn after they act
        st.button("Stop both", icon=":material/stop:", disabled=not live, key=keys.AB("stop"), on_click=_stop_all,
                  args=(jobs,))
        st.button("Close A/B", icon=":material/close:", key=keys.AB("close"), on_click=_close)
    left, right = st.columns(2)
    top = loss_top(jobs)  # one loss axis for both sides (the streamed charts share theirs in the browser)
    for col, job, name in ((left, jobs[0], "A"), (right, jobs[1], "B")):
        with col:
            st.markdown(f"**{name}**")
            runner.chart(job, metric, key=keys.AB("chart", name), scale=f"ab-{jobs[0].id}-{jobs[1].id}", loss_top=top)
    return True


def _stop_all(jobs) -> None:
    for j in jobs:
        j.stop()
    for j in jobs:
        j.wait(5)


def _close() -> None:
    state.get().ab = None


def loss_top(jobs) -> float | None:
    """The top of a loss axis that holds every loss of `jobs` (None before any)."""
    values = [m[k] for j in jobs for m in j.metrics for k in ("train_loss", "val_loss") if m.get(k) is not None]
    return max(values) * 1.05 if values else None
