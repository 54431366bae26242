"""Starting and steering this session's training runs, and drawing their results (shared by pages)."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from playground import edit
from playground.jobs import Job, JobRefused
from playground.registry import PlaygroundError
from playground.spec import from_dict
from playground.tasks import TASKS
from ui import keys, server, state
from ui.components.live_chart import PALETTE, live_chart
from ui.text import message, plain, short
from ui.views import live, report_views
from ui.views.report_views import FIGURE
from ui.views.run_store import remember

KEEP_RUNS = 8  # finished runs kept per session for comparison
SHORT = {t.metric.key: t.metric.short for t in TASKS.entries.values() if t.metric}  # "val acc 97.5%"
TRACK = {"stats": True, "checkpoints": 20}  # what Inspect shows over training: layer statistics, checkpoints


def current() -> Job | None:
    """This session's current run (None when there is none, or the server forgot it)."""
    s = state.get()
    return server.pool().get(s.job_id) if s.job_id else None


def record_finished() -> None:
    """Keep the current run among the session's finished runs (for comparison) with its final weights (for
    Inspect and Explain) once it has ended. Once per script run, before the page draws (ui/main.py)."""
    s, job = state.get(), current()
    if job is None or not job.finished or any(r["id"] == job.id for r in s.runs):
        return
    s.runs = (s.runs + [{"id": job.id, "label": f"run {len(s.runs) + 1}: {short(job.spec.get('name', ''), 40)}",
                         "spec": job.spec, "metrics": list(job.metrics), "state": job.state}])[-KEEP_RUNS:]
    remember(job)


def same_setup(a: dict, b: dict) -> bool:
    """Whether two specs train the same thing (their names and descriptions aside)."""
    try:
        return not edit.diff(from_dict(a).to_dict(), from_dict(b).to_dict())
    except PlaygroundError:
        return False


def start(paused: bool = False, views: dict | None = None, spec: dict | None = None, report=None) -> Job | None:
    """Start a run of the session's spec; a refusal or an invalid spec is shown (or handed to `report`)."""
    s = state.get()
    show = report or (lambda level, text: getattr(st, level)(message(text), icon=":material/error:"))
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


def controls(job: Job | None, key: keys.Key = keys.RUN) -> None:
    """Train / pause / resume / step / stop / reset, always in the same order, enabled as the job's state allows.

    Every button acts in its callback, before the page is drawn, and waits for the worker to confirm the new
    state: the buttons drawn after a click follow the state the click led to (a button that acted while the
    page drew would be drawn from the state before it).
    """
    live = job is not None and not job.finished
    paused = live and job.state == "paused"
    with st.container(horizontal=True, gap="small", key=key("controls")):
        st.button("Train", type="primary", icon=":material/play_arrow:", key=key("train"), on_click=_start_clicked,
                  disabled=live, help="Start a new run of this setup")
        st.button("Pause", icon=":material/pause:", key=key("pause"), on_click=_pause, args=(job,),
                  disabled=not live or job.state not in ("starting", "running"))  # a queued run has no worker yet
        st.button("Resume", icon=":material/resume:", key=key("resume"), disabled=not paused,
                  on_click=_resume, args=(job,))
        st.button("Step batch", icon=":material/skip_next:", key=key("batch"), disabled=live and not paused,
                  help="Train one batch, then pause (starts paused if idle)", on_click=_step, args=(job, "batch"))
        st.button("Step epoch", icon=":material/fast_forward:", key=key("epoch"), disabled=live and not paused,
                  help="Train one epoch, then pause (starts paused if idle)", on_click=_step, args=(job, "epoch"))
        st.button("Stop", icon=":material/stop:", key=key("stop"), disabled=not live, on_click=_stop, args=(job,))
        st.button("Reset", icon=":material/restart_alt:", key=key("reset"), on_click=_reset, args=(job,),
                  help="Forget the current run (its curve stays under Compare with earlier runs)")
    s = state.get()
    if s.run_message is not None:
        (level, text), s.run_message = s.run_message, None
        getattr(st, level)(message(text), icon=":material/error:")


def other_setup(job: Job) -> None:
    """Say that the session's run trained another setup (whose results are not shown with this one)."""
    name = plain(job.spec.get("name", ""), 60)
    if job.finished:
        st.caption(f":material/info: Your last run trained another setup (**{name}**): its results are not "
                   "shown with this one.")
        return
    text, stop = st.columns([5, 1], vertical_alignment="center")
    text.info(f"Your run of another setup (**{name}**) is still {job.state}. Train starts this setup instead.",
              icon=":material/info:")
    stop.button("Stop that run", icon=":material/stop:", key=keys.RUN("stop-other"), on_click=_stop, args=(job,))


CONFIRM = 5.0  # seconds a button waits for the worker to confirm a new state


def _pause(job: Job) -> None:
    job.pause()
    job.wait_for(lambda: job.state == "paused" or job.finished, CONFIRM)


def _resume(job: Job) -> None:
    job.resume()
    job.wait_for(lambda: job.state != "paused", CONFIRM)


def _stop(job: Job) -> None:
    job.stop()
    job.wait(CONFIRM)


def _reset(job: Job | None) -> None:
    if job is not None and not job.finished:
        job.stop()
    state.get().job_id = None


def _start_clicked(paused: bool = False) -> Job | None:
    # A callback cannot draw: keep a refusal to show in the run that follows.
    messages: list[tuple[str, str]] = []
    job = start(paused=paused, report=lambda level, text: messages.append((level, text)))
    if job is None and messages:
        state.get().run_message = messages[0]
    return job


def _step(job: Job | None, unit: str) -> None:
    if job is None or job.finished:
        job = _start_clicked(paused=True)
        if job is None:
            return
        job.wait_for(lambda: job.state in ("paused", "failed"), 30)
    before = (job.progress.get("steps", 0), len(job.metrics))
    job.step(unit)
    job.wait_for(lambda: job.finished or job.state == "paused" and
                 (job.progress.get("steps", 0), len(job.metrics)) != before, 30)


def chart(job: Job | None, metric: dict | None, overlay: list[dict] | None = None, key: keys.Key = keys.RUN("chart"),
          scale: str = "", loss_top: float | None = None) -> None:
    """The live curves (with finished runs in grey) and the task's `metric` beside them (tasks.chart_metric):
    streamed when the app serves its routes, polled where the stream fails (ui/views/live.py), and drawn with
    Plotly where nothing streams (AppTest). Charts given the same `scale` share one loss axis in the browser;
    `loss_top` does the same for the Plotly ones."""
    if not server.streaming():
        polled_chart(job, metric, overlay=overlay, key=key("polled"), loss_top=loss_top)
        return
    # no st.rerun() at the end: the chart's "ended" state already reruns the page the browser shows, while
    # a rerun asked for here would rerun this page even if the user had just clicked away to another
    live.show(job, lambda poll: live_chart(job, overlay=overlay, metric=metric, key=key,
                                           job_key=state.job_key(job), poll=poll, scale=scale))


def poll_interval() -> float | None:
    """Seconds between polls: slower as more runs share the process (each rerun costs ~50 ms of a core)."""
    return min(5.0, max(0.5, 0.1 * server.pool().running()))


def polled_chart(job: Job | None, metric: dict | None, overlay: list[dict] | None = None, key: str = keys.RUN("polled"),
                 loss_top: float | None = None) -> None:
    """Where nothing streams (AppTest): a fragment that redraws with Plotly while the run is live."""
    every = poll_interval() if job is not None and not job.finished else None

    @st.fragment(run_every=every)
    def fragment():
        st.plotly_chart(curves(job.metrics if job else [], metric, overlay, loss_top), width="stretch", key=key)
        if job is not None:
            why = f" ({job.message})" if job.state == "stopped" and job.message else ""  # e.g. the time limit
            st.caption(status_line(job) + why)
            ended = state.get().ended
            if job.finished and job.id not in ended:  # once: the page around the chart shows the end too
                ended.add(job.id)
                st.rerun()
    fragment()


def status_line(job: Job) -> str:
    """One line: state, epoch, validation accuracy, speed while it runs, device."""
    p, last = job.progress, (job.metrics[-1] if job.metrics else {})
    if job.state == "queued":
        return f"Busy: queued, position {job.queue_position}. It starts when a place frees up."
    bits = [job.state, f"epoch {last.get('epoch', 0)}/{job.epochs}"]
    bits += [f"val {SHORT[k[4:]]} {v:.1%}" for k, v in last.items() if k.startswith("val_") and k[4:] in SHORT]
    if "modes_covered" in last:  # a GAN on data with known modes
        bits.append(f"{last['modes_covered']} modes covered")
    if job.state == "running" and p.get("steps_per_s"):  # a finished or stepped run has no speed worth a figure
        bits.append(f"{p['steps_per_s']:,.0f} steps/s")
    if job.info.get("device"):
        bits.append(str(job.info["device"]))
    return " · ".join(bits)


def curves(metrics: list[dict], metric: dict | None, overlay: list[dict] | None = None,
           loss_top: float | None = None) -> go.Figure:
    """Loss (and the task's metric) per epoch, train solid and validation dashed, earlier runs each in its own
    colour; `loss_top` fixes the loss axis (0 … loss_top) so that side-by-side charts share it."""
    fig = go.Figure()
    for o in overlay or []:
        fig.add_scatter(x=[m["epoch"] for m in o["metrics"]], y=[m.get("val_loss") for m in o["metrics"]],
                        name=f"{o['label']} (validation loss)", line={"color": o["color"], "dash": "dot"})
    epochs = [m["epoch"] for m in metrics]
    for key, name, color, dash in (("train_loss", "train loss", PALETTE["train"], None),
                                   ("val_loss", "validation loss", PALETTE["val"], "dash")):
        fig.add_scatter(x=epochs, y=[m.get(key) for m in metrics], name=name, line={"color": color, "dash": dash})
    if metric:
        for part, name, color, dash in (("train", "train", PALETTE["train"], "dot"),
                                        ("val", "validation", PALETTE["val"], "dashdot")):
            fig.add_scatter(x=epochs, y=[m.get(f"{part}_{metric['key']}") for m in metrics],
                            name=f"{name} {metric['title']}", yaxis="y2", line={"color": color, "dash": dash})
    fig.update_layout(height=340, margin={"l": 50, "r": 50, "t": 10, "b": 40}, xaxis_title="epoch",
                      yaxis_title="loss", legend={"orientation": "h", "y": -0.25, "x": 0},
                      yaxis_range=[0, loss_top] if loss_top else None,
                      yaxis2={"title": metric["title"], "overlaying": "y", "side": "right", "range": [0, 1]}
                      if metric else None)
    return fig


def report(job: Job) -> None:
    """End-of-run figures: the task's report (ui/views/report_views.py) and the learning rate over time."""
    left, right = st.columns(2)
    with left:
        report_views.draw(job.report or {}, job.id)
    if job.metrics:
        right.plotly_chart(lr_figure(job.metrics), width="stretch", key=keys.RUN("lr", job.id))


def lr_figure(metrics: list[dict]) -> go.Figure:
    """The learning rate per epoch on an axis from 0, so a constant rate reads as its value, not as 0."""
    rates = [m["lr"] for m in metrics]
    fig = go.Figure(go.Scatter(x=[m["epoch"] for m in metrics], y=rates, mode="lines+markers", name="learning rate",
                               line={"color": PALETTE["train"]}))
    top = max(rates) * 1.15 if rates and max(rates) > 0 else 1.0
    fig.update_layout(title="Learning rate" + (f"<br><sup>constant: {rates[0]:.3g}</sup>" if len(set(rates)) == 1
                                               else "<br><sup>per epoch, as the schedule set it</sup>"),
                      xaxis_title="epoch", yaxis_title="learning rate", yaxis_range=[0, top], **FIGURE)
    return fig
