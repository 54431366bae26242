"""A lesson's experiment: the variant specs for a seed, running them (here, or as jobs in a JobPool), and
the verdict: the measured numbers next to the claim's conditions, and whether every one holds."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

from ..registry import PlaygroundError
from .measures import compare, from_history, view
from .schema import HISTORY, Lesson


def _set(d: dict, path: str, value) -> None:
    """Set `value` at a dotted path (`train.optimizer.lr`, `model.layers.1.type`), creating objects on the way."""
    *head, last = path.split(".")
    for k in head:
        d = d[int(k)] if isinstance(d, list) else d.setdefault(k, {})
    if isinstance(d, list):
        d[int(last)] = copy.deepcopy(value)
    else:
        d[last] = copy.deepcopy(value)


def base_spec(lesson: Lesson) -> dict:
    """The experiment's base spec as a dict (a preset's, or the one written in the lesson)."""
    base = lesson.experiment.base
    if isinstance(base, str):
        from .. import presets
        return presets.get(base).to_dict()
    return copy.deepcopy(base)


def variant_spec(lesson: Lesson, variant: str, seed: int = 0) -> dict:
    """The spec of one variant for `seed` (the seed of the training run and of the data: its sample and split)."""
    spec = base_spec(lesson)
    for path, value in lesson.experiment.variants[variant].set.items():
        _set(spec, path, value)
    spec["train"]["seed"] = spec["data"]["seed"] = seed
    spec["name"] = f"{lesson.title}: {lesson.experiment.variants[variant].label}"
    return spec


def probes(lesson: Lesson, variant: str) -> dict:
    """The `lesson` view's options for one variant: its probes before and after training."""
    out = {"start": {}, "end": {}}
    for name, m in lesson.experiment.measures.items():
        if m.variant == variant and m.metric not in HISTORY and m.metric is not None:
            out[m.when][name] = {"metric": m.metric, "options": dict(m.options)}
    return out


@dataclass
class Run:
    """What one variant's run gave: its per-epoch metrics and its probes ({"start": {...}, "end": {...}})."""

    metrics: list[dict] = field(default_factory=list)
    probes: dict = field(default_factory=dict)
    error: str = ""


def verdict(lesson: Lesson, runs: dict[str, Run], seed: int, seconds: float = 0.0) -> dict:
    """The claim, every measured number, each condition with its numbers, and whether the claim holds."""
    e = lesson.experiment
    measured: dict[str, float | None] = {}
    errors = {v: r.error for v, r in runs.items() if r.error}
    for name, m in e.measures.items():
        if m.difference is not None:
            continue
        run = runs.get(m.variant)
        if run is None or run.error:
            value = None
        elif m.metric in HISTORY:
            value = from_history(run.metrics, m.metric, m.of, m.below)
        else:
            value = (run.probes.get(m.when) or {}).get(name)
            if isinstance(value, dict):  # a probe that could not be computed
                errors[name], value = value.get("error", "failed"), None
        measured[name] = value
    for name, m in e.measures.items():
        if m.difference is not None:
            a, b = (measured.get(k) for k in m.difference)
            measured[name] = a - b if a is not None and b is not None else None
    checks = []
    for left, op, right in e.holds:
        lv = measured.get(left)
        rv = measured.get(right) if isinstance(right, str) else right
        checks.append({"condition": f"{left} {op} {right}", "left": lv, "right": rv, "holds": compare(lv, op, rv)})
    result = {"lesson": lesson.name, "seed": seed, "claim": lesson.claim,
              "measured": {k: (float(f"{v:.6g}") if isinstance(v, float) else v) for k, v in measured.items()},
              "labels": {k: m.label for k, m in e.measures.items()},
              "checks": checks, "holds": all(c["holds"] for c in checks) and not errors,
              "seconds": round(seconds, 1)}
    if errors:
        result["errors"] = errors
    return result


def run_here(lesson: Lesson, seed: int = 0, device: str = "cpu") -> dict:
    """Run the experiment in this process, variant after variant (the command line and the tests)."""
    from ..spec import from_dict
    from ..trainers import make_trainer
    t0 = time.perf_counter()
    runs = {}
    for name in lesson.experiment.variants:
        spec = from_dict(variant_spec(lesson, name, seed))
        opts = probes(lesson, name)
        run = Run()
        try:
            tr = make_trainer(spec, device=device)  # the task's trainer: a GAN has its own
            view(tr, start=opts["start"], end=opts["end"], epochs=spec.train.epochs)
            run.metrics = list(tr.fit())
            run.probes = view(tr, start=opts["start"], end=opts["end"], epochs=spec.train.epochs)
        except PlaygroundError as e:
            run.error = e.message
        runs[name] = run
    return verdict(lesson, runs, seed, time.perf_counter() - t0)


class Check:
    """One run of a lesson's experiment as jobs in a JobPool, driven by a poller: `advance()` submits the
    variants as the owner's job limit allows and says when all are finished; then `result()` is the verdict."""

    def __init__(self, lesson: Lesson, seed: int, pool, owner: str = "") -> None:
        self.lesson, self.seed, self.pool, self.owner = lesson, seed, pool, owner
        self.specs = {v: variant_spec(lesson, v, seed) for v in lesson.experiment.variants}
        self.jobs: dict = {}
        self.error = ""
        self.started = time.monotonic()
        self.ended: float | None = None

    def _room(self) -> int:
        if not self.owner:
            return len(self.specs)
        busy = sum(1 for j in self.pool.jobs(self.owner) if not j.finished)
        return self.pool.limits.jobs_per_owner - busy

    def advance(self) -> bool:
        """Submit what may start now; True once every variant has finished (or the check failed)."""
        if not self.error:
            for name, spec in self.specs.items():
                if name in self.jobs or self._room() <= 0:
                    continue
                opts = probes(self.lesson, name)
                try:
                    self.jobs[name] = self.pool.submit(spec, owner=self.owner, views={"lesson": {
                        **opts, "epochs": spec["train"]["epochs"]}})
                except PlaygroundError as e:  # a refused job (jobs.JobRefused) is one too
                    self.error = f"{self.lesson.experiment.variants[name].label}: {e.message}"
        done = bool(self.error) or (len(self.jobs) == len(self.specs) and all(j.finished for j in self.jobs.values()))
        if done and self.ended is None:
            self.ended = time.monotonic()
        return done

    def stop(self) -> None:
        """Stop every variant still running or waiting."""
        self.error = self.error or "stopped"
        for j in self.jobs.values():
            if not j.finished:
                j.stop("the check was stopped")

    def progress(self) -> list[dict]:
        """Each variant: its label, state and epochs done of its epochs."""
        out = []
        for name, spec in self.specs.items():
            j = self.jobs.get(name)
            out.append({"variant": name, "label": self.lesson.experiment.variants[name].label,
                        "state": j.state if j else "waiting", "epoch": len(j.metrics) if j else 0,
                        "epochs": spec["train"]["epochs"]})
        return out

    def result(self) -> dict | None:
        """The verdict once every variant has finished; None before."""
        if not self.advance():
            return None
        runs = {}
        for name in self.specs:
            j = self.jobs.get(name)
            if j is None:
                runs[name] = Run(error=self.error or "not started")
            elif j.state != "done":
                runs[name] = Run(error=j.message or j.state)
            else:
                runs[name] = Run(list(j.metrics), dict(j.views.get("lesson") or {}))
        out = verdict(self.lesson, runs, self.seed, (self.ended or time.monotonic()) - self.started)
        if self.error:
            out.setdefault("errors", {})["check"] = self.error
        return out
