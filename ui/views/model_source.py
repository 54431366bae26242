"""Which trained model Inspect and Explain look at, and that model rebuilt in the app process.

A source is the current run (live: its weights come from `Job.snapshot()` at a bounded rate), a finished
run of this session (its final weights, checkpoints and statistics are kept in session state, bounded),
the 2-D Playground's run, or a saved run folder under PLAYGROUND_RUNS_DIR. The model is rebuilt from the
run's spec and weights on the CPU, in eval mode, and cached until the weights change.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
import torch
from torch import nn

from playground import probe, runs, tasks
from playground.data import DataInfo, Dataset, load_cached
from playground.data import info as data_info
from playground.jobs import Job
from playground.losses import LOSSES, LossType
from playground.registry import PlaygroundError
from playground.spec import Spec, from_dict
from ui import keys, server, state
from ui.text import message, plain, short
from ui.views import runner
from ui.views.run_store import entry, store

SOURCE_KEY = keys.MODEL("source")  # the run picker, shared by Inspect and Explain


@dataclass
class Source:
    """A run to look at (its weights are read by `load`)."""

    id: str
    label: str
    spec: dict
    job: Job | None = None
    path: str | None = None  # a saved run folder

    @property
    def live(self) -> bool:
        """Still training (or paused, or waiting to start): its weights may change."""
        return self.job is not None and not self.job.finished


@dataclass
class Loaded:
    """A source's model, rebuilt: everything the views need to run it."""

    source: Source
    key: str  # changes whenever the weights do: caches key on it
    spec: Spec
    data: Dataset
    model: nn.Module
    epoch: int | None  # None: weights read during training at an unknown epoch
    loss: LossType
    out_shape: tuple[int, ...]

    @property
    def info(self) -> DataInfo:
        return self.data.info

    @property
    def task(self) -> tasks.Task:
        """The run's kind of learning (tasks.py): which views apply to it."""
        return tasks.of(self.spec, self.info)

    @property
    def classify(self) -> bool:
        """Whether the model's outputs are class scores."""
        return self.task.classes

    def targets(self, labels: torch.Tensor) -> torch.Tensor:
        """Dataset targets in the form the run's loss compares with outputs."""
        return self.loss.target(labels, self.info, self.out_shape)

    def outputs(self, x: torch.Tensor) -> torch.Tensor:
        """The model's outputs for `x` (in chunks)."""
        return probe.outputs(self.model, x)

    def labels(self, out: torch.Tensor) -> torch.Tensor:
        """Predicted classes from outputs, read as the run's loss trained them."""
        return self.loss.labels(out)

    def probabilities(self, out: torch.Tensor) -> torch.Tensor:
        """(B, classes) probabilities of a classifier's outputs, read as the run's loss trained them."""
        return self.loss.probabilities(out)


# ---- choosing a source ------------------------------------------------------------------------------

def runs_dir() -> Path:
    return Path(os.environ.get("PLAYGROUND_RUNS_DIR", "runs"))


def _saved() -> list[Source]:
    d = runs_dir()
    if not d.is_dir():
        return []
    out = []
    for p in sorted(d.iterdir())[:50]:
        if (p / "spec.json").is_file() and (p / "model.safetensors").is_file():
            out.append(Source(f"saved:{p.name}", f"saved run: {p.name}", {}, path=str(p)))
    return out


def sources() -> list[Source]:
    """Every model this session can look at, the current run first."""
    s = state.get()
    pool = server.pool()
    out, seen = [], set()
    job = runner.current()
    if job is not None and job.state != "failed":
        out.append(Source(job.id, f"current run: {short(job.spec.get('name', ''), 40)}", job.spec, job))
        seen.add(job.id)
    j2 = pool.get(s.pg2d.job_id) if s.pg2d.job_id else None
    if j2 is not None and not j2.finished and (j2.metrics or j2.state == "running"):
        out.append(Source(j2.id, f"2-D Playground run: {short(j2.spec.get('name', ''), 40)}", j2.spec, j2))
        seen.add(j2.id)
    for r in reversed(s.runs):
        if r["id"] in seen or r.get("state") == "failed":
            continue
        out.append(Source(r["id"], r["label"], r["spec"], pool.get(r["id"])))
    return out + _saved()


def empty_state(page: keys.Key) -> None:
    """No model yet: say so, and offer to train the current setup."""
    s = state.get()
    st.info("There is no trained model yet. This page looks inside the network you train: train one first.",
            icon=":material/model_training:")
    left, right, _ = st.columns([1, 1.3, 2])
    left.page_link("pages/train.py", label="Go to Train", icon=":material/play_circle:")
    if right.button(f"Train “{plain(s.spec.get('name', 'this setup'), 40)}” here", key=page("train-here"),
                    icon=":material/play_arrow:", type="primary"):
        if runner.start() is not None:
            st.rerun()


def pick(page: keys.Key) -> Source | None:
    """The run picker (shared by Inspect and Explain, `page` naming the one it is on); None, with a message, when
    there is nothing to pick."""
    options = sources()
    job = runner.current()
    if job is not None and job.state == "failed":
        st.warning(f"The current run failed: {message(job.message)}", icon=":material/error:")
    if not options:
        empty_state(page)
        return None
    by_id = {o.id: o for o in options}
    s = state.get()
    current = s.job_id
    chosen, chosen_with = s.inspect.source
    if chosen_with != current:  # a new run started since the choice: show the new run
        chosen = current
    if state.widget(SOURCE_KEY) not in by_id or chosen_with != current:
        state.set_widget(SOURCE_KEY, chosen if chosen in by_id else options[0].id)
    sid = st.selectbox("Model", list(by_id), format_func=lambda i: by_id[i].label, key=SOURCE_KEY,
                       help="The current run updates live while it trains; finished runs keep their last weights.")
    s.inspect.source = (sid, current)  # survives the page switch (widget state does not)
    task = _task(by_id[sid])
    why = task.why_not(page) if task is not None else None
    if why:  # the whole page does not apply to this kind of learning
        st.info(f"This page does not apply here: {message(why)}.", icon=":material/info:")
        if "gan" in task.live:
            st.page_link("pages/gan.py", label="Open the GAN lab", icon=":material/blur_on:")
        return None
    return by_id[sid]


def _task(src: Source) -> tasks.Task | None:
    """The source's task (None for a saved run, whose spec is read with its weights, or a spec that fails)."""
    try:
        spec = from_dict(src.spec) if src.spec else None
        return tasks.of(spec, data_info(spec.data, state.uploads())) if spec is not None else None
    except PlaygroundError:
        return None


def not_applicable(m: Loaded, view: str) -> bool:
    """Say why `view` (tasks.VIEWS) does not apply to this model's task, if it does not; True then."""
    why = m.task.why_not(view)
    if why:
        st.info(f"{tasks.VIEWS[view]} does not apply here: {message(why)}.", icon=":material/info:")
    return bool(why)


# ---- the model ------------------------------------------------------------------------------------

def _weights(src: Source) -> tuple[dict | None, int, str]:
    """(weights, epoch, why not) of a source."""
    job = src.job
    if job is not None and not job.finished:
        if job.state in ("queued", "starting"):
            return None, 0, "The run is starting; its weights appear here in a moment."
        w = job.snapshot(timeout=3)
        return w, len(job.metrics), "" if w is not None else "The run's weights could not be read; try again."
    kept = store().get(src.id) or (entry(job) if job is not None else None)  # (kept once it ended: runner)
    if kept is None:
        return None, 0, ("This run's weights were not kept (runs started on Train keep them). "
                         "Train it again to look inside.")
    return kept["weights"], kept["epoch"], ""


def load(src: Source) -> tuple[Loaded | None, str]:
    """The source's model (cached until its weights change), or None and why not."""
    cache = state.get().inspect.model
    try:
        if src.path is not None:
            if cache.get("id") != src.id:
                model, spec, _ = runs.load_model(src.path)
                cache.update(id=src.id, weights=None, model=model, spec=spec, n=cache.get("n", 0) + 1, epoch=0)
        else:
            weights, epoch, why = _weights(src)
            if weights is None:
                return None, why
            if cache.get("id") != src.id or cache.get("weights") is not weights:
                spec = from_dict(src.spec)
                model = runs.model_from(spec, data_info(spec.data, state.uploads()), weights, "the run's weights")
                cache.update(id=src.id, weights=weights, model=model, spec=spec, n=cache.get("n", 0) + 1,
                             epoch=epoch)
    except (PlaygroundError, RuntimeError, OSError) as e:
        cache.clear()
        return None, f"This model cannot be opened: {getattr(e, 'message', str(e))}"
    spec, model = cache["spec"], cache["model"]
    data = load_cached(spec.data, state.uploads())
    out_shape = tuple(probe.outputs(model, data.x_val[:1]).shape[1:])
    return Loaded(src, f"{src.id}#{cache['n']}", spec, data, model, cache["epoch"],
                  LOSSES.get(spec.train.loss), out_shape), ""


def stats(src: Source) -> list[dict]:
    """The run's per-layer weight and gradient statistics over training ([] when it kept none)."""
    kept = store().get(src.id)
    if kept is not None:
        return kept["stats"]
    return list(src.job.stats) if src.job is not None else []


def checkpoints(src: Source) -> list[dict]:
    """The run's checkpoints ([{"epoch", "weights"}]); a live run's are fetched at most every few seconds."""
    kept = store().get(src.id)
    if kept is not None:
        return kept["checkpoints"]
    job = src.job
    if job is None:
        return []
    if job.finished:
        kept = entry(job)
        return kept["checkpoints"] if kept else []
    memo = state.get().inspect.live_checkpoints
    if memo.get("id") != job.id or memo.get("epochs") != len(job.metrics):
        memo.update(id=job.id, epochs=len(job.metrics), checkpoints=job.checkpoints(timeout=3) or [])
    return memo["checkpoints"]


def memo(bucket: str, key, fn, keep: int = 4):
    """`fn()` computed once per key and kept in session state (the `keep` newest keys of each bucket)."""
    box = state.get().inspect.memos.setdefault(bucket, {})
    if key not in box:
        box[key] = fn()
        while len(box) > keep:
            box.pop(next(iter(box)))
    return box[key]


def refresh_every(src: Source) -> float | None:
    """Seconds between live refreshes of a page that shows this source (None: it does not change)."""
    if not src.live or src.job.state == "paused":  # a paused run changes only when resumed (from another page)
        return None
    return max(2.0, 0.2 * server.pool().running())  # each refresh costs the app process, not the trainer


def live_model(src: Source, every: float | None) -> Loaded | None:
    """In a page's refreshing fragment: the source's model now, captioned with how fresh it is; None (the
    reason shown) while it cannot be opened."""
    if every is not None and refresh_every(src) is None:  # it ended or paused: stop polling
        st.rerun()
    m, why = load(src)
    if m is None:
        st.info(message(why), icon=":material/hourglass_top:")
        return None
    job = src.job
    if src.live:
        fresh = f"refreshed every {every:.0f} s" if every else "refreshed when it resumes"
        st.caption(f"Live: epoch {len(job.metrics)} of {job.epochs}, {job.state}; {fresh} from the run's weights.")
    elif m.epoch is None:
        st.caption("The last weights read while it trained: this run did not keep its final weights.")
    elif m.epoch:
        st.caption(f"After {m.epoch} epochs of training.")
    return m
