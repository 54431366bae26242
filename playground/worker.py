"""The loop of one worker process: run its jobs in short time slices and report events.

Never raises out of a job: whatever goes wrong in a job becomes that job's `failed` event.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import time
import traceback
from dataclasses import dataclass, field

import torch

from . import probe
from .data import load_cached
from .registry import PlaygroundError
from .spec import from_dict
from .train import Trainer, device_name
from .trainers import make_trainer
from .uploads import Resolved

MIN_VIEW_INTERVAL = 0.05  # the fastest a job's live views may come (20 a second)


@dataclass
class _Run:
    id: str
    trainer: Trainer  # or the task's own trainer (trainers.make_trainer): the same interface
    epochs: int
    mode: str = "running"  # running | paused | batch | epoch (the last two: one step, then pause)
    views: dict = field(default_factory=dict)
    group: str | None = None  # runs of one group step in lock-step
    seconds: float = 0.0
    last_progress: float = 0.0
    last_view: float = 0.0
    epoch_steps: int = 0
    rate_t: float = field(default_factory=time.perf_counter)
    rate_steps: int = 0
    steps_per_s: float = 0.0
    tracker: object = None  # health.Tracker when the job asked for tracking; None costs nothing
    view_interval: float = 0.1  # seconds between its live views
    final: bool = False  # send the final weights (a snapshot) when it is done


def main(commands, events, cfg: dict) -> None:
    """Entry point of a worker process (spawned by backends.local.LocalBackend)."""
    if cfg.get("nice"):
        try:
            os.nice(cfg["nice"])  # pages stay responsive while training saturates the cores
        except OSError:
            pass
    warm_up()
    Worker(commands, events, cfg).run()


def warm_up() -> None:
    """One thread for torch in this thread (one core per worker), and the one-off costs paid now, not on a
    learner's first click: the first optimizer a process builds imports torch._dynamo (1.5–3 s here)."""
    torch.set_num_threads(1)
    torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)


class Worker:
    """One worker's jobs: commands come in on a queue, events go out on this worker's own pipe.

    `cfg` holds the pool's limits (progress_interval, view_interval, max_seconds) and the time slice;
    it is read, never changed.
    """

    def __init__(self, commands, events, cfg: dict) -> None:
        self.commands, self.events = commands, events
        self.progress_interval = cfg["progress_interval"]
        self.view_interval = cfg["view_interval"]
        self.max_seconds = cfg["max_seconds"]
        self.max_data_mb = cfg["max_data_mb"]
        self.base_slice = self.slice = cfg["slice"]
        self.runs: dict[str, _Run] = {}
        self.parent = multiprocessing.parent_process()
        # what each command does to its run (a command for a run that has ended is ignored)
        self.commands_for_runs = {"stop": self._on_stop, "pause": self._on_pause, "resume": self._on_resume,
                                  "step": self._on_step, "tune": self._on_tune, "snapshot": self._on_snapshot,
                                  "checkpoints": self._on_checkpoints, "command": self._on_command}

    # -- the loop --
    def run(self) -> None:
        """Take commands and train the runs that are not paused, until told to quit or the app is gone."""
        while self.receive():
            units = self.units()
            # Shorter slices when a worker holds many jobs, so each still reports several times a second
            # (30 jobs on 2 workers: 10 ms slices gave ~5 updates/s per stream, 4 ms ~7.5).
            self.slice = max(0.004, min(self.base_slice, 0.15 / max(1, len(units))))
            for unit in units.values():
                self.train_slice(unit)

    def receive(self) -> bool:
        """Handle every waiting command (while all runs are paused, wait up to a second for one);
        False when the worker should end."""
        busy = any(r.mode != "paused" for r in self.runs.values())
        try:
            alive = self.handle(self.commands.get_nowait() if busy else self.commands.get(timeout=1.0))
            while alive:
                alive = self.handle(self.commands.get_nowait())
            return alive
        except queue.Empty:
            return self.parent is None or self.parent.is_alive()  # the app may have been killed without a shutdown
        except (EOFError, OSError):
            return False

    def units(self) -> dict[str, list[_Run]]:
        """The runs that train now, by lock-step group (a run alone is its own group)."""
        units: dict[str, list[_Run]] = {}
        for run in self.runs.values():
            if run.mode != "paused":
                units.setdefault(run.group or run.id, []).append(run)
        return units

    # -- commands --
    def handle(self, cmd: tuple) -> bool:
        """Carry out one command; False for quit."""
        kind, job_id, *args = cmd + (None,) if len(cmd) == 1 else cmd
        if kind == "quit":
            return False
        if kind == "start":
            self.start_safely(job_id, *args)
            return True
        run, action = self.runs.get(job_id), self.commands_for_runs.get(kind)
        if run is not None and action is not None:
            action(run, *args)
        return True

    def start_safely(self, job_id: str, *args) -> None:
        """Start a job; one that cannot start fails with a message (the worker goes on)."""
        try:
            self.start(job_id, *args)
        except PlaygroundError as e:
            self.emit(job_id, "state", state="failed", message=e.message)
        except Exception as e:
            self.emit(job_id, "state", state="failed", message=f"{type(e).__name__}: {e}")

    def start(self, job_id, spec_dict, epochs, paused, views, group=None, track=None, inputs=None,
              final=False) -> None:
        """Build the job's trainer and report what it is (device, size, batches)."""
        spec = from_dict(spec_dict)
        # `inputs`: the job's uploads, read by the app for the job's owner (the spec carries only their ids)
        data = load_cached(spec.data, Resolved(inputs), max_bytes=self.max_data_mb * 2**20)
        tr = make_trainer(spec, data=data)
        run = _Run(job_id, tr, epochs, "paused" if paused else "running", views or {}, group, final=final)
        # a view may ask for a faster rate than the pool's (`"every": seconds`), down to MIN_VIEW_INTERVAL
        asked = [float(o["every"]) for o in run.views.values() if isinstance(o.get("every"), (int, float))]
        run.view_interval = max(MIN_VIEW_INTERVAL, min([self.view_interval, *asked]))
        if track:
            from .health import Tracker
            run.tracker = Tracker(epochs, **track)
            run.tracker.start(tr)
        self.runs[job_id] = run
        self.emit(job_id, "info", info={"device": device_name(tr.device), "params": sum(
            p.numel() for p in tr.model.parameters()), "steps_per_epoch": tr.steps_per_epoch,
            "train_samples": tr.n, "batch_size": tr.batch_size})
        self.emit(job_id, "state", state=run.mode)
        self.send_views(run, force=True)

    def _on_stop(self, run: _Run, message: str | None = None) -> None:
        self.finish(run, "stopped", message or "stopped by the user")

    def _on_pause(self, run: _Run) -> None:
        run.mode = "paused"
        self.send_progress(run, force=True)
        self.send_views(run, force=True)  # a paused view shows where it stopped
        self.emit(run.id, "state", state="paused")

    def _on_resume(self, run: _Run) -> None:
        run.mode = "running"
        self.emit(run.id, "state", state="running")

    def _on_step(self, run: _Run, unit: str) -> None:
        run.mode = unit
        self.emit(run.id, "state", state="running")

    def _on_tune(self, run: _Run, changes: dict) -> None:
        run.trainer.tune(**changes)
        self.send_progress(run, force=True)  # the new learning rate shows at once

    def _on_command(self, run: _Run, name: str, options: dict) -> None:
        """A command the run's trainer offers (its `commands`, e.g. a GAN's "phase"); the views follow at once.
        One it does not offer, or bad options, are reported as a `notice` and change nothing."""
        action = getattr(run.trainer, "commands", {}).get(name)
        try:
            if action is None:
                raise PlaygroundError(f"this run does not take the command '{str(name)[:40]}'")
            action(**options)
        except (PlaygroundError, TypeError) as e:
            self.emit(run.id, "notice", message=getattr(e, "message", str(e)))
            return
        self.send_progress(run, force=True)
        self.send_views(run, force=True)

    def _on_snapshot(self, run: _Run) -> None:
        state = {k: v.detach().cpu().numpy() for k, v in run.trainer.model.state_dict().items()}
        self.emit(run.id, "snapshot", weights=state)

    def _on_checkpoints(self, run: _Run) -> None:
        self.emit(run.id, "checkpoints", checkpoints=run.tracker.checkpoints if run.tracker is not None else [])

    # -- training --
    def train_slice(self, unit: list[_Run]) -> None:
        """Train for one time slice; the runs of a lock-step group take one batch each in turn."""
        t0 = time.perf_counter()
        end = t0 + self.slice
        active = list(unit)
        while active:
            for run in list(active):
                if not self.step_safely(run):
                    active.remove(run)
            if time.perf_counter() >= end:
                break
        share = (time.perf_counter() - t0) / len(unit)
        for run in unit:
            if run.id in self.runs:
                self.account(run, share)

    def step_safely(self, run: _Run) -> bool:
        """One batch of `run`; False when it stops stepping (finished, paused or failed)."""
        try:
            return not self.step(run)
        except PlaygroundError as e:
            self.finish(run, "failed", e.message)
        except Exception as e:
            traceback.print_exc()
            self.finish(run, "failed", f"{type(e).__name__}: {e}")
        return False

    def step(self, run: _Run) -> bool:
        """One batch of `run`; True when the run stops stepping (finished or paused)."""
        tr = run.trainer
        ended = tr.train_step()
        if ended:
            self.end_epoch(run)
            if tr.epoch >= run.epochs:
                self.send_views(run, force=True)
                self.finish(run, "done")
                return True
        if run.mode == "batch" or (ended and run.mode == "epoch"):
            run.mode = "paused"
            self.send_progress(run, force=True)
            self.send_views(run, force=True)
            self.emit(run.id, "state", state="paused")
            return True
        return False

    def end_epoch(self, run: _Run) -> None:
        """Report the epoch's metrics, and its statistics when tracked."""
        tr = run.trainer
        self.emit(run.id, "metrics", metrics=tr.end_epoch())
        if run.tracker is not None:  # epoch ends only, and only when asked: the step itself is untouched
            # a worker holding many jobs sends each one's statistics less often: every event is a
            # histogram per layer that the app process unpickles
            stats = run.tracker.epoch_end(tr, stretch=max(1.0, len(self.runs) / 4))
            if stats is not None:
                self.emit(run.id, "stats", stats=stats)

    def account(self, run: _Run, seconds: float) -> None:
        """Add a slice's share of time to `run`; stop it at the time limit, else report at the bounded rates."""
        run.seconds += seconds
        if run.seconds > self.max_seconds:
            self.finish(run, "stopped", f"the time limit of {self.max_seconds:.0f} s a run was reached")
            return
        self.send_progress(run)
        self.send_views(run)

    def finish(self, run: _Run, state: str, message: str = "") -> None:
        """End a run: its checkpoints and report first, then its final progress and state; free it."""
        if run.tracker is not None:  # before the state: a finished job has its checkpoints
            run.tracker.finish(run.trainer)
            self.emit(run.id, "checkpoints", checkpoints=run.tracker.checkpoints)
        if state == "done":
            if run.final:  # before the state too: a done job that asked for them has its final weights
                self._on_snapshot(run)
            try:
                self.emit(run.id, "report", report=probe.report(run.trainer))
            except Exception as e:  # a report is a nicety; the run itself succeeded
                self.emit(run.id, "report", report={"error": str(e)})
        self.send_progress(run, force=True)
        self.emit(run.id, "state", state=state, message=message)
        self.runs.pop(run.id, None)

    # -- events --
    def emit(self, job_id: str, kind: str, **payload) -> None:
        """Send one event to the app (this worker's own pipe: one writer, no lock)."""
        self.events.send({"job": job_id, "type": kind, **payload})

    def send_progress(self, run: _Run, force: bool = False) -> None:
        """Epoch, batch, running loss and speed, at most every progress_interval unless `force`."""
        now = time.perf_counter()
        if not force and now - run.last_progress < self.progress_interval:
            return
        tr = run.trainer
        if now - run.rate_t > 0.5:
            run.steps_per_s = (tr.step - run.rate_steps) / (now - run.rate_t)
            run.rate_t, run.rate_steps = now, tr.step
        done_in_epoch, running = tr.batch, tr.running_loss()  # a host sync, at a bounded rate
        self.emit(run.id, "progress", progress={
            "epoch": tr.epoch, "batch": done_in_epoch, "steps_per_epoch": tr.steps_per_epoch, "steps": tr.step,
            "running_loss": running, "steps_per_s": round(run.steps_per_s, 1), "seconds": round(run.seconds, 2),
            "lr": tr.opt.param_groups[0]["lr"]})
        run.last_progress = now

    def send_views(self, run: _Run, force: bool = False) -> None:
        """The live views the job asked for, at most every view_interval unless `force`."""
        now = time.perf_counter()
        if not run.views or (not force and now - run.last_view < run.view_interval):
            return
        for name, opts in run.views.items():
            opts = {k: v for k, v in opts.items() if k != "every"}
            self.emit(run.id, "view", name=name, data=probe.VIEWS.get(name)(run.trainer, **opts))
        run.last_view = now
