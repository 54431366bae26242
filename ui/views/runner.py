"""Starting and steering this session's training runs, and drawing their results (shared by pages)."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from playground.jobs import Job, JobRefused
from playground.registry import PlaygroundError
from playground.spec import from_dict
from ui import server, state
from ui.components.live_chart import PALETTE, live_chart
from ui.views import live
from ui.views.run_store import remember

KEEP_RUNS = 8  # finished runs kept per session for comparison
TRACK = {"stats": True, "checkpoints": 20}  # what Inspect shows over training: layer statistics, checkpoints


def current() -> Job | None:
    """This session's current run (None when there is none, or the server forgot it)."""
    s = state.get()
    job = server.pool().get(s.job_id) if s.job_id else None
    if job is not None and job.finished and not any(r["id"] == job.id for r in s.runs):
        s.runs = (s.runs + [{"id": job.id, "label": f"run {len(s.runs) + 1}: {job.spec.get('name', '')}",
                             "spec": job.spec, "metrics": list(job.metrics), "state": job.state}])[-KEEP_RUNS:]
        remember(job)  # its final weights, for Inspect and Explain
    return job


def start(paused: bool = False, views: dict | None = None, spec: dict | None = None, report=None) -> Job | None:
    """Start a run of the session's spec; a refusal or an invalid spec is shown (or handed to `report`)."""
    s = state.get()
    show = report or (lambda level, text: getattr(st, level)(text, icon=":material/error:"))
    old = current()
    if old is not None and not old.finished:
        old.stop()
    try:
        job = server.pool().submit(from_dict(spec or s.spec), owner=state.owner().id, paused=paused, views=views,
                                   track=TRACK)
    except JobRefused as e:
        show("warning", f"Not started: {e.message}")
        return None
    except PlaygroundError as e:
        show("error", f"This setup cannot train yet: {e.message}")
        return None
    s.job_id = job.id
    return job


def controls(job: Job | None, key: str = "run") -> None:
    """Train / pause / step / resume / stop / reset; every button always in the same place."""
    live = job is not None and not job.finished
    paused = live and job.state == "paused"
    cols = st.columns([1.2, 1, 1, 1, 1, 1, 1])
    # on_click: the run starts before this script run draws, so one run per click, not two
    cols[0].button("Train", type="primary", icon=":material/play_arrow:", key=f"{key}-train", on_click=_start_clicked,
                   disabled=live, width="stretch", help="Start a new run of this setup")
    if "start-message" in st.session_state:
        level, text = st.session_state.pop("start-message")
        getattr(st, level)(text, icon=":material/error:")
    if cols[1].button("Pause", icon=":material/pause:", key=f"{key}-pause", disabled=not live or paused,
                      width="stretch"):
        job.pause()
        job.wait_for(lambda: job.state in ("paused", "done", "failed", "stopped"), 2)
    if cols[2].button("Resume", icon=":material/resume:", key=f"{key}-resume", disabled=not paused,
                      width="stretch"):
        job.resume()
    if cols[3].button("Step batch", icon=":material/skip_next:", key=f"{key}-batch",
                      width="stretch", help="Train one batch, then pause (starts paused if idle)",
                      disabled=live and not paused):
        _step(job, "batch")
    if cols[4].button("Step epoch", icon=":material/fast_forward:", key=f"{key}-epoch",
                      width="stretch", help="Train one epoch, then pause (starts paused if idle)",
                      disabled=live and not paused):
        _step(job, "epoch")
    if cols[5].button("Stop", icon=":material/stop:", key=f"{key}-stop", disabled=not live, width="stretch"):
        job.stop()
        job.wait(2)
    if cols[6].button("Reset", icon=":material/restart_alt:", key=f"{key}-reset", width="stretch",
                      help="Forget the current run (its curve stays under Compare)"):
        if live:
            job.stop()
        state.get().job_id = None
        st.rerun()


def _start_clicked() -> None:
    # A callback cannot draw: keep a refusal to show in the run that follows.
    messages: list[tuple[str, str]] = []
    if start(report=lambda level, text: messages.append((level, text))) is None and messages:
        st.session_state["start-message"] = messages[0]


def _step(job: Job | None, unit: str) -> None:
    if job is None or job.finished:
        job = start(paused=True)
        if job is None:
            return
        job.wait_for(lambda: job.state in ("paused", "failed"), 30)
    before = (job.progress.get("steps", 0), len(job.metrics))
    job.step(unit)
    job.wait_for(lambda: job.state != "running" and (job.progress.get("steps", 0), len(job.metrics)) != before, 30)


def chart(job: Job | None, classify: bool, overlay: list[dict] | None = None, key: str = "live_chart") -> None:
    """The live curves (with finished runs in grey): streamed when the app serves its routes, polled where the
    stream fails (ui/views/live.py), and drawn with Plotly where nothing streams (AppTest)."""
    if not server.streaming():
        polled_chart(job, classify, overlay=overlay, key=f"{key}-polled")
        return
    # no st.rerun() at the end: the chart's "ended" state already reruns the page the browser shows, while
    # a rerun asked for here would rerun this page even if the user had just clicked away to another
    live.show(job, lambda poll: live_chart(job, overlay=overlay, classify=classify, key=key,
                                           job_key=state.job_key(job), poll=poll))


def poll_interval() -> float | None:
    """Seconds between polls: slower as more runs share the process (each rerun costs ~50 ms of a core)."""
    return min(5.0, max(0.5, 0.1 * server.pool().running()))


def polled_chart(job: Job | None, classify: bool, overlay: list[dict] | None = None, key: str = "polled") -> None:
    """Where nothing streams (AppTest): a fragment that redraws with Plotly while the run is live."""
    every = poll_interval() if job is not None and not job.finished else None

    @st.fragment(run_every=every)
    def fragment():
        st.plotly_chart(curves(job.metrics if job else [], classify, overlay), width="stretch", key=key)
        if job is not None:
            why = f" ({job.message})" if job.state == "stopped" and job.message else ""  # e.g. the time limit
            st.caption(status_line(job) + why)
            if job.finished and not st.session_state.get(f"drawn-{job.id}"):
                st.session_state[f"drawn-{job.id}"] = True
                st.rerun()
    fragment()


def status_line(job: Job) -> str:
    """One line: state, epoch, speed, device."""
    p, last = job.progress, (job.metrics[-1] if job.metrics else {})
    if job.state == "queued":
        return f"Busy: queued, position {job.queue_position}. It starts when a place frees up."
    bits = [job.state, f"epoch {last.get('epoch', 0)}/{job.epochs}"]
    if "val_accuracy" in last:
        bits.append(f"val acc {last['val_accuracy']:.1%}")
    if p.get("steps_per_s"):
        bits.append(f"{p['steps_per_s']:,.0f} steps/s")
    if job.info.get("device"):
        bits.append(job.info["device"])
    return " · ".join(bits)


def curves(metrics: list[dict], classify: bool, overlay: list[dict] | None = None) -> go.Figure:
    """Loss (and accuracy) per epoch, train solid and validation dashed, labelled axes."""
    fig = go.Figure()
    for o in overlay or []:
        fig.add_scatter(x=[m["epoch"] for m in o["metrics"]], y=[m.get("val_loss") for m in o["metrics"]],
                        name=f"{o['label']} (validation loss)", line={"color": PALETTE["other"], "dash": "dot"})
    epochs = [m["epoch"] for m in metrics]
    for key, name, color, dash in (("train_loss", "train loss", PALETTE["train"], None),
                                   ("val_loss", "validation loss", PALETTE["val"], "dash")):
        fig.add_scatter(x=epochs, y=[m.get(key) for m in metrics], name=name, line={"color": color, "dash": dash})
    if classify:
        for key, name, color, dash in (("train_accuracy", "train accuracy", PALETTE["train"], "dot"),
                                       ("val_accuracy", "validation accuracy", PALETTE["val"], "dashdot")):
            fig.add_scatter(x=epochs, y=[m.get(key) for m in metrics], name=name, yaxis="y2",
                            line={"color": color, "dash": dash})
    fig.update_layout(height=320, margin={"l": 50, "r": 50, "t": 30, "b": 40}, xaxis_title="epoch",
                      yaxis_title="loss", legend={"orientation": "h", "y": 1.15},
                      yaxis2={"title": "accuracy", "overlaying": "y", "side": "right", "range": [0, 1]}
                      if classify else None)
    return fig


def report(job: Job) -> None:
    """End-of-run figures: confusion matrix or predicted vs. true, and the learning rate over time."""
    r = job.report or {}
    left, right = st.columns(2)
    if r.get("kind") == "confusion":
        names = r["classes"]
        fig = go.Figure(go.Heatmap(z=r["matrix"], x=names, y=names, colorscale="Cividis", showscale=False,
                                   text=r["matrix"], texttemplate="%{text}", hovertemplate=
                                   "true %{y}, predicted %{x}: %{z}<extra></extra>"))
        fig.update_layout(title=f"Confusion matrix (validation, accuracy {r['accuracy']:.1%})", height=360,
                          xaxis_title="predicted", yaxis_title="true", yaxis_autorange="reversed",
                          margin={"l": 60, "r": 10, "t": 50, "b": 50})
        left.plotly_chart(fig, width="stretch", key=f"cm-{job.id}")
    elif r.get("kind") == "regression":
        lo, hi = min(r["true"] + r["pred"]), max(r["true"] + r["pred"])
        fig = go.Figure([go.Scatter(x=r["true"], y=r["pred"], mode="markers", name="validation samples",
                                    marker={"color": PALETTE["train"], "size": 5, "opacity": 0.6}),
                         go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", name="perfect",
                                    line={"color": PALETTE["other"], "dash": "dash"})])
        fig.update_layout(title=f"Predicted vs. true (validation MSE {r['mse']:.4g})", height=360,
                          xaxis_title="true", yaxis_title="predicted", margin={"l": 60, "r": 10, "t": 50, "b": 50})
        left.plotly_chart(fig, width="stretch", key=f"pvt-{job.id}")
    if job.metrics:
        fig = go.Figure(go.Scatter(x=[m["epoch"] for m in job.metrics], y=[m["lr"] for m in job.metrics],
                                   mode="lines+markers", line={"color": PALETTE["train"]}, name="learning rate"))
        fig.update_layout(title="Learning rate", height=360, xaxis_title="epoch", yaxis_title="learning rate",
                          margin={"l": 60, "r": 10, "t": 50, "b": 50})
        right.plotly_chart(fig, width="stretch", key=f"lr-{job.id}")
