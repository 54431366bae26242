"""The GAN lab's run and its buttons: one job per session for the page, always present (paused at step 0 after
any change of setting, as GAN Lab resets), trained both networks in turn, the discriminator alone or the
generator alone (a job command: the trainer's phase), and stepped one network at a time.
"""

from __future__ import annotations

import streamlit as st

from playground import ganlab
from playground.data import load_cached
from playground.gan import view_range
from playground.jobs import Job, JobRefused
from playground.registry import PlaygroundError
from playground.spec import SpecError, from_dict
from ui import keys, server, state
from ui.components.gan_view import gan_view
from ui.text import message
from ui.views import live

FRAMES = 1 / 15  # seconds between live views the page asks for (the worker's floor is 1/20)
REAL_SHOWN = 500  # real samples drawn under the generated ones
CONFIRM = 5.0  # seconds a button waits for the worker to confirm


def run_spec(spec: dict) -> dict:
    """What the page trains: the spec, normalised, on the CPU (a GPU is slower for nets this small)."""
    d = from_dict(spec).to_dict()
    d["train"]["device"] = "cpu"
    return d


def views(cfg: ganlab.Settings) -> dict:
    """The live view the job computes: samples as images, or the 2-D view."""
    return {"gan_images" if cfg.images else "gan2d": {"every": FRAMES}}


def current_job() -> Job | None:
    jid = state.get().gan_job
    return server.pool().get(jid) if jid else None


def _submit(cfg: ganlab.Settings, paused: bool) -> Job | None:
    s = state.get()
    old = current_job()
    if old is not None and not old.finished:
        old.stop()
        old.wait(2)  # so that it no longer counts against the session's limit of runs
    s.gan_job = None
    try:
        pool = server.pool()
        job = pool.submit(run_spec(s.spec), owner=state.owner().id, epochs=pool.limits.max_epochs, paused=paused,
                          views=views(cfg))
    except JobRefused as e:
        s.notices.append(("warning", f"Not started: {e.message}"))
        return None
    except PlaygroundError as e:
        s.notices.append(("error", f"This setup cannot train: {e.message}"))
        return None
    s.gan_job = job.id
    return job


def ensure_job(cfg: ganlab.Settings) -> Job | None:
    """The page's run of the current spec, or a fresh one paused at step 0."""
    job = current_job()
    try:
        want = run_spec(state.get().spec)
    except SpecError as e:
        st.error(f"The setup is not valid: {message(e.message)}")
        return None
    if job is not None and job.spec == want:
        return job
    return _submit(cfg, paused=True)


def _ready(cfg: ganlab.Settings) -> Job | None:
    """The run, started paused if there is none (or it ended), once its worker holds it."""
    job = current_job()
    if job is None or job.finished:
        job = _submit(cfg, paused=True)
        if job is None:
            return None
    job.wait_for(lambda: job.state in ("paused", "running") or job.finished, 30)
    return job


def train(cfg: ganlab.Settings, phase: str) -> None:
    """Train both networks in turn, or one alone ("d", "g"), until paused; a running run switches at once."""
    job = _ready(cfg)
    if job is None or job.finished:
        return
    job.command("phase", phase=phase)
    if job.state != "running":
        job.resume()
        job.wait_for(lambda: job.state == "running" or job.finished, CONFIRM)


def pause() -> None:
    job = current_job()
    if job is not None and not job.finished:
        job.pause()
        job.wait_for(lambda: job.state != "running", CONFIRM)


def step(cfg: ganlab.Settings, phase: str) -> None:
    """One step of one network ("d" or "g"), then pause."""
    job = _ready(cfg)
    if job is None or job.finished:
        return
    before = job.progress.get("steps", 0)
    job.command("phase", phase=phase)
    job.step("batch")
    job.wait_for(lambda: job.finished or (job.state == "paused" and job.progress.get("steps", 0) != before), 10)


def reset(cfg: ganlab.Settings) -> None:
    _submit(cfg, paused=True)


def toolbar(cfg: ganlab.Settings, job: Job | None) -> None:
    """Train both / pause, the discriminator or the generator alone, one step of either, reset."""
    running = job is not None and job.state == "running"
    with st.container(horizontal=True, gap="small", key=keys.GAN("toolbar"), vertical_alignment="center"):
        if running:
            st.button("Pause", icon=":material/pause:", type="primary", key=keys.GAN("pause"), on_click=pause)
        else:
            st.button("Train both", icon=":material/play_arrow:", type="primary", key=keys.GAN("train"), on_click=train,
                      args=(cfg, "both"), help="The discriminator, then the generator, in turn, until paused")
        st.button("D only", icon=":material/play_arrow:", key=keys.GAN("d"), on_click=train, args=(cfg, "d"),
                  help="Train the discriminator alone: it learns to tell real from generated; the generator stays")
        st.button("G only", icon=":material/play_arrow:", key=keys.GAN("g"), on_click=train, args=(cfg, "g"),
                  help="Train the generator alone against the discriminator as it is; the discriminator stays")
        st.button("Step D", icon=":material/skip_next:", key=keys.GAN("step-d"), on_click=step, args=(cfg, "d"),
                  disabled=running, help="One discriminator step, then pause")
        st.button("Step G", icon=":material/skip_next:", key=keys.GAN("step-g"), on_click=step, args=(cfg, "g"),
                  disabled=running, help="One generator step, then pause")
        st.button("Reset", icon=":material/restart_alt:", key=keys.GAN("reset"), on_click=reset, args=(cfg,),
                  help="A new run from step 0 (same seed, same first weights)")
    state.show_notices()  # a run refused while this page ran (ensure_job), after the page's notices were shown


# ---- the live view ---------------------------------------------------------------------------------

def view_data(cfg: ganlab.Settings, spec: dict) -> dict:
    """What the view draws besides the frames: a sample of the real data, the modes and the plot's range."""
    ds = load_cached(from_dict(spec).data, state.uploads())
    info = ds.info
    if cfg.images:
        return {"kind": "images", "real": [], "modes": [], "std": 0.0, "range": 1.0,
                "note": "Each sample is made from the same noise every frame: watch one sharpen into a digit."}
    x = ds.x_train[:REAL_SHOWN].reshape(-1, 2).numpy().round(3).tolist()
    note = ("Arrows: where the generator's next step pushes each generated sample (up the discriminator's "
            "slope towards 'real'). Manifold: a grid of noise carried into the plane by the generator.")
    return {"kind": "points", "real": x, "modes": info.modes, "std": info.mode_std,
            "range": view_range(ds.x_train), "note": note}


def live_view(cfg: ganlab.Settings, job: Job | None) -> None:
    """The live canvas (streamed, or polled where the stream fails), or where nothing streams (AppTest) a
    polled summary."""
    spec = state.get().spec
    if server.streaming():
        data, key = view_data(cfg, spec), state.job_key(job)
        live.show(job, lambda poll: gan_view(job, data, job_key=key, poll=poll))
        return
    polled_view(job)


def status_text(job: Job | None) -> str:
    """Epoch, steps, both losses and the modes covered in one line (the fallback view and tests read it)."""
    if job is None:
        return "No run."
    v = next((job.views[k] for k in ("gan2d", "gan_images") if k in job.views), None) or {}
    bits = [job.state, f"epoch {v.get('epoch', 0)}", f"generator steps {v.get('g_steps', 0)}",
            f"discriminator steps {v.get('d_steps', 0)}"]
    if "d_loss" in v:
        bits.append(f"discriminator loss {v['d_loss']:.3f}")
    if "g_loss" in v:
        bits.append(f"generator loss {v['g_loss']:.3f}")
    if "modes_covered" in v:
        bits.append(f"modes covered {v['modes_covered']} of {v['modes']}")
    if job.state == "failed":
        bits.append(job.message)
    return " · ".join(bits)


def polled_view(job: Job | None) -> None:
    every = 0.5 if job is not None and job.state == "running" else None

    @st.fragment(run_every=every)
    def fragment():
        st.caption(message(status_text(job)))
    fragment()
