"""A worker stacks the runs of one shape (playground/stack/): each job's events are those of the job trained
alone (metrics within 1e-5), and pausing, stepping, stopping or tuning one stacked job leaves the others alone."""

from __future__ import annotations

import copy
import queue
from collections import deque

import pytest
from test_worker import SPEC, Events, config

from playground.worker import Worker

TOL = 1e-5


def variant(seed: int, lr: float, hidden: int = 8, dropout: bool = False) -> dict:
    s = copy.deepcopy(SPEC)
    s["train"].update(seed=seed, optimizer={"type": "Adam", "lr": lr, "weight_decay": 0.001 * seed})
    s["model"]["layers"][0]["out_features"] = hidden
    if dropout:
        s["model"]["layers"].insert(1, {"type": "Dropout", "p": 0.1})
    return s


def start(job, spec, epochs=4, paused=False, views=None, track=None) -> tuple:
    return ("start", job, spec, epochs, paused, views, None, track, None, False)


class When:
    """Commands given in order, each once `cond(events)` holds (or at once when every run is paused: then
    nothing else could make it hold); 'quit' when none are left."""

    def __init__(self, events: Events, *items) -> None:
        self.events, self.items = events, deque((c if callable(c) else (lambda ev: True), cmd) for c, cmd in items)

    def get_nowait(self):
        if self.items and self.items[0][0](self.events):
            return self.items.popleft()[1]
        raise queue.Empty

    def get(self, timeout: float | None = None):
        return self.items.popleft()[1] if self.items else ("quit",)


def drive(*items, stack: bool = True) -> Events:
    events = Events()
    # a slice of one step and progress after each, so that every stacked step says so (in a 10 ms slice a fast
    # machine can train a stacked stretch to its end, and a finished run sends no more progress)
    Worker(When(events, *items), events, config(stack=stack, slice=0.0, progress_interval=0.0)).run()
    return events


def epochs_of(events: Events, job: str) -> list[dict]:
    return [e["metrics"] for e in events if e["job"] == job and e["type"] == "metrics"]


def metrics_close(a: list[dict], b: list[dict]) -> None:
    assert len(a) == len(b) > 0
    for x, y in zip(a, b, strict=True):
        assert x.keys() == y.keys()
        for k in ("train_loss", "val_loss", "train_accuracy", "val_accuracy", "steps", "epoch", "lr"):
            assert abs(x[k] - y[k]) <= TOL, (k, x, y)


def has_epoch(job: str, epoch: int):
    return lambda ev: any(e["job"] == job and e["type"] == "metrics" and e["metrics"]["epoch"] >= epoch for e in ev)


def test_a_class_in_one_worker_trains_stacked_with_the_results_of_runs_alone():
    jobs = {f"s{i}": variant(i, 0.01 * (i + 1)) for i in range(4)}
    jobs |= {"wide": variant(9, 0.02, hidden=12), "dropout": variant(3, 0.02, dropout=True)}
    track = {"stats": True, "checkpoints": 2}
    items = [(None, start(j, s, views={"grid2d": {"res": 8}} if j == "s1" else None,
                          track=track if j == "s2" else None)) for j, s in jobs.items()]
    stacked, alone = drive(*items), drive(*items, stack=False)
    for job in jobs:
        metrics_close(epochs_of(stacked, job), epochs_of(alone, job))
        states = [e["state"] for e in stacked if e["job"] == job and e["type"] == "state"]
        assert states == ["running", "done"], job
        sizes = {e["progress"]["stacked"] for e in stacked if e["job"] == job and e["type"] == "progress"}
        assert max(sizes) == (4 if job.startswith("s") else 0), job  # other shapes train alone
    # a stacked job's live views, layer statistics and checkpoints come as they do alone
    assert [e for e in stacked if e["job"] == "s1" and e["type"] == "view"]
    # statistics come at a time-based rate (a busy worker spaces them out): compare those of the epochs both sent
    by_epoch = [{e["stats"]["epoch"]: e["stats"] for e in ev if e["job"] == "s2" and e["type"] == "stats"}
                for ev in (stacked, alone)]
    stats = [(by_epoch[0][k], by_epoch[1][k]) for k in sorted(by_epoch[0].keys() & by_epoch[1].keys())]
    assert stats  # the first and the last epoch always send theirs
    for s, t in stats:
        for a, b in zip(s["layers"], t["layers"], strict=True):
            assert a["grad_norm"] == pytest.approx(b["grad_norm"], rel=1e-4)
            assert a["weight_norm"] == pytest.approx(b["weight_norm"], rel=1e-4)
    cps = [[e["checkpoints"] for e in ev if e["job"] == "s2" and e["type"] == "checkpoints"][-1]
           for ev in (stacked, alone)]
    assert [c["epoch"] for c in cps[0]] == [c["epoch"] for c in cps[1]] == [0, 2, 4]


def paused_twice(events: Events) -> bool:
    """s1 has paused again after its step (a worker may take several commands in one go; resuming it before its
    stepped batch would skip that pause)."""
    return sum(e["job"] == "s1" and e["type"] == "state" and e["state"] == "paused" for e in events) >= 2


def test_pausing_stepping_tuning_and_stopping_one_stacked_job_leave_the_others_alone():
    # each command comes within a time slice of its condition: a slice may train a few epochs, so the runs are long
    jobs, epochs = {f"s{i}": variant(i, 0.01 * (i + 1)) for i in range(3)}, 100
    items = [(None, start(j, s, epochs=epochs)) for j, s in jobs.items()] + [
        (has_epoch("s0", 1), ("pause", "s1")),
        (has_epoch("s0", 2), ("stop", "s2")),
        (has_epoch("s0", 2), ("step", "s1", "batch")),
        (has_epoch("s0", 3), ("tune", "s0", {"lr": 0.05})),
        (lambda ev: has_epoch("s0", 3)(ev) and paused_twice(ev), ("resume", "s1"))]  # after its one batch
    events = drive(*items)
    # the same, alone and without any pause: a pause changes no result, and s2's epochs before its stop agree
    alone = drive(*[(None, start(j, s, epochs=epochs)) for j, s in jobs.items()], stack=False)
    metrics_close(epochs_of(events, "s1"), epochs_of(alone, "s1"))
    stopped = epochs_of(events, "s2")
    metrics_close(stopped, epochs_of(alone, "s2")[:len(stopped)])
    assert [e["state"] for e in events if e["job"] == "s2" and e["type"] == "state"][-1] == "stopped"
    # s0 was tuned: its epochs before the change agree, the later ones use the new rate
    tuned = epochs_of(events, "s0")
    metrics_close(tuned[:3], epochs_of(alone, "s0")[:3])
    assert tuned[-1]["lr"] == 0.05 and len(tuned) == epochs
    # s1 paused, then took exactly one batch when asked
    paused = [e["progress"]["steps"] for e in events if e["job"] == "s1" and e["type"] == "progress"]
    states = [e["state"] for e in events if e["job"] == "s1" and e["type"] == "state"]
    assert states == ["running", "paused", "running", "paused", "running", "done"]
    pauses = [i for i, e in enumerate(events) if e["job"] == "s1" and e["type"] == "state" and e["state"] == "paused"]
    at = [[e for e in events[:i] if e["job"] == "s1" and e["type"] == "progress"][-1]["progress"]["steps"]
          for i in pauses]
    assert at[1] == at[0] + 1 and max(paused) == epochs * 3  # 48 samples in batches of 16
