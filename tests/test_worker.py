"""worker.py in this process: a Worker fed a script of commands steps exactly as told and leaves its config alone."""

from __future__ import annotations

import copy
import queue
from collections import deque

import pytest

from playground.jobs import Limits
from playground.worker import Worker

LAYERS = [{"type": "Linear", "out_features": 8}, {"type": "Tanh"}, {"type": "Linear", "out_features": 2}]
SPEC = {"data": {"name": "circle", "n_samples": 60, "seed": 1}, "model": {"layers": LAYERS},
        "train": {"epochs": 3, "batch_size": 16, "device": "cpu"}}  # 48 to train on: 3 batches an epoch


class Script:
    """Commands as a user gives them: each one once every run is paused and the worker waits (`eager`: all at
    once, as fast as the worker takes them); 'quit' when the script is done."""

    def __init__(self, *commands: tuple, eager: bool = False) -> None:
        self.items, self.eager = deque(commands), eager

    def get_nowait(self):
        if not (self.eager and self.items):
            raise queue.Empty
        return self.items.popleft()

    def get(self, timeout: float | None = None):
        return self.items.popleft() if self.items else ("quit",)


class Events(list):
    def send(self, event: dict) -> None:
        self.append(event)

    def of(self, kind: str) -> list[dict]:
        return [e for e in self if e["type"] == kind]


def config(**over) -> dict:
    return {"nice": 0, "slice": 0.01, **{k: v for k, v in vars(Limits()).items()}, **over}


def run(*commands: tuple, cfg: dict | None = None, eager: bool = False) -> tuple[Events, Worker]:
    events = Events()
    worker = Worker(Script(*commands, eager=eager), events, cfg if cfg is not None else config())
    worker.run()
    return events, worker


def start(job="j", epochs=3, paused=False, views=None, group=None, track=None, final=False) -> tuple:
    return ("start", job, SPEC, epochs, paused, views, group, track, None, final)


def test_a_run_goes_to_done_and_the_config_is_left_alone():
    cfg = config()
    before = copy.deepcopy(cfg)
    events, worker = run(start(epochs=2), start("k", epochs=2), cfg=cfg, eager=True)
    assert cfg == before  # it used to rewrite the caller's time slice
    for job in ("j", "k"):
        mine = [e for e in events if e["job"] == job]
        assert [e["metrics"]["epoch"] for e in mine if e["type"] == "metrics"] == [1, 2]
        assert [e["state"] for e in mine if e["type"] == "state"] == ["running", "done"]
        assert mine[-1] == {"job": job, "type": "state", "state": "done", "message": ""}
        assert [e["report"]["kind"] for e in mine if e["type"] == "report"] == ["confusion"]
    assert worker.runs == {}


def test_a_paused_run_takes_exactly_the_steps_asked_for():
    events, _ = run(start(paused=True), ("step", "j", "batch"), ("snapshot", "j"))
    assert events.of("progress")[-1]["progress"]["steps"] == 1  # one batch, then nothing until told
    assert [e["state"] for e in events.of("state")] == ["paused", "running", "paused"]
    assert len(events.of("snapshot")) == 1 and events.of("metrics") == []
    events, _ = run(start(paused=True), ("step", "j", "epoch"), ("pause", "j"), ("step", "j", "batch"))
    steps = [e["progress"]["steps"] for e in events.of("progress")]
    assert steps[-3:] == [3, 3, 4] and max(steps) == 4  # paused after the epoch, at the pause, after one batch
    assert [e["metrics"]["epoch"] for e in events.of("metrics")] == [1]
    events, _ = run(start(paused=True), ("resume", "j"))
    assert [e["metrics"]["epoch"] for e in events.of("metrics")] == [1, 2, 3]


def test_a_failing_start_and_unknown_jobs_do_not_stop_the_worker():
    bad = ("start", "bad", {**SPEC, "model": {"layers": [{"type": "Conv2d"}]}}, 1, False, None, None, None)
    events, _ = run(bad, ("pause", "nobody"), ("frobnicate", "j"), start(epochs=1))
    assert events.of("state")[0]["state"] == "failed" and events.of("state")[0]["message"].startswith("layer 1")
    assert events.of("state")[-1] == {"job": "j", "type": "state", "state": "done", "message": ""}


def test_a_run_over_the_time_limit_is_stopped():
    events, _ = run(start(epochs=5000), cfg=config(max_seconds=0.05))
    assert events[-1]["state"] == "stopped" and "time limit of 0 s" in events[-1]["message"]


GAN = {"data": {"name": "ring", "n_samples": 200}, "train": {"device": "cpu", "batch_size": 16, "gan": {"noise": 4}},
       "model": {"layers": [{"type": "Linear", "out_features": 8}, {"type": "ReLU"},
                            {"type": "Linear", "out_features": 2}]},
       "discriminator": {"layers": [{"type": "Linear", "out_features": 8}, {"type": "ReLU"},
                                    {"type": "Linear", "out_features": 1}]}}
GAN_VIEW = {"gan2d": {"every": 0.001, "res": 4, "points": 10, "arrows": 5, "grid": 3}}


def test_a_command_reaches_the_runs_trainer_and_one_it_does_not_take_is_a_notice():
    events, worker = run(("start", "g", GAN, 5, True, GAN_VIEW, None, None), ("command", "g", "phase", {"phase": "d"}),
                         ("step", "g", "batch"), ("command", "g", "explode", {}),
                         ("command", "g", "phase", {"phase": "sideways"}))
    views = [e["data"] for e in events.of("view")]
    assert (views[-1]["phase"], views[-1]["d_steps"], views[-1]["g_steps"]) == ("d", 1, 0)
    notices = [e["message"] for e in events.of("notice")]
    assert notices == ["this run does not take the command 'explode'", "phase: must be one of both, d, g, got "
                                                                       "'sideways'"]
    run_ = worker.runs["g"]
    assert run_.trainer.phase == "d" and run_.view_interval == 0.05  # a view asks for its rate, down to the floor


def test_a_pause_sends_the_view_where_it_stopped():
    events, _ = run(("start", "g", GAN, 5, False, GAN_VIEW, None, None), ("pause", "g"), eager=True)
    states = [i for i, e in enumerate(events) if e["type"] == "state" and e["state"] == "paused"]
    before = [e for e in events[:states[-1]] if e["type"] == "view"][-1]["data"]
    progress = [e for e in events[:states[-1]] if e["type"] == "progress"][-1]["progress"]
    assert before["steps"] == progress["steps"]


def test_a_job_sends_a_command_by_name_and_keeps_the_notice():
    from playground.jobs import Job
    from playground.registry import PlaygroundError

    class Pool:
        sent: list = []

        def _command(self, job, *cmd):
            self.sent.append(cmd)
            return True
    job = Job("j1", "me", {}, 1, Pool())
    job.command("phase", phase="g")
    assert Pool.sent == [("command", "phase", {"phase": "g"})]
    with pytest.raises(PlaygroundError, match="a command is a short name"):
        job.command("x" * 41)
    job._apply({"type": "notice", "message": "this run does not take the command 'x'"})
    assert job.notice == "this run does not take the command 'x'" and job.version == 1


def test_a_run_that_asks_for_its_final_weights_sends_them_before_it_is_done():
    import torch

    import playground as pg
    trainer = pg.Trainer(pg.from_dict(SPEC))
    list(trainer.fit(2))
    # alone, the very weights; stacked with k (runs of one shape: playground/stack/), the same within 1e-5
    for stack, close in ((False, torch.equal), (True, lambda a, b: torch.allclose(a, b, atol=1e-5))):
        # both start paused, so they meet between two epochs whatever the machine's speed (started at once, the
        # first could finish before the second arrives, or be mid-epoch then), then each trains to the end; slices
        # of one step and progress after each, so that the stacked steps report it
        events, _ = run(start(epochs=2, paused=True, final=True), start("k", epochs=2, paused=True), ("resume", "j"),
                        ("resume", "k"), cfg=config(stack=stack, slice=0.0, progress_interval=0.0))
        kinds = [e["type"] for e in events if e["job"] == "j"]
        assert kinds.index("snapshot") < kinds.index("report") < len(kinds) - 1 and kinds[-1] == "state"
        assert "snapshot" not in [e["type"] for e in events if e["job"] == "k"]  # only when asked
        weights = events.of("snapshot")[0]["weights"]
        assert all(close(torch.from_numpy(weights[k]), v) for k, v in trainer.model.state_dict().items())
        assert max(e["progress"]["stacked"] for e in events.of("progress")) == (2 if stack else 0)
