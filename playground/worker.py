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
from .lessons import measures as _lesson_measures  # noqa: F401 (registers the "lesson" view)
from .registry import PlaygroundError
from .spec import from_dict
from .stack.policy import Stacking
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
    key: tuple | None | bool = False  # what it may be stacked with (stack.key; None: nothing; False: not known yet)
    stack: object = None  # the stack.Stack it trains in, or None when it trains alone


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
        # runs of one shape train as one stacked model (playground/stack/); cfg "stack": False turns it off
        self.stacking = Stacking(self.runs, cfg.get("stack", True))
        self.stepping: set[str] = set()  # runs in a batch or epoch step (then paused), checked after stack steps
        self.parent = multiprocessing.parent_process()
        # what each command does to its run (a command for a run that has ended is ignored)
        self.commands_for_runs = {"stop": self._on_stop, "pause": self._on_pause, "resume": self._on_resume,
                                  "step": self._on_step, "tune": self._on_tune, "snapshot": self._on_snapshot,
                                  "checkpoints": self._on_checkpoints, "command": self._on_command}

    # -- the loop --
    def run(self, until: float | None = None) -> None:
        """Take commands and train the runs that are not paused, until told to quit or the app is gone (or, for a
        benchmark, until time.perf_counter() passes `until`)."""
        while self.receive() and (until is None or time.perf_counter() < until):
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

    def units(self) -> dict[str, list]:
        """What trains now, by lock-step group (a run alone is its own group): runs, and stacks (each once)."""
        units: dict[str, list] = {}
        for run in self.runs.values():
            if run.mode == "paused":
                continue
            if run.stack is None:
                units.setdefault(run.group or run.id, []).append(run)
                continue
            unit = units.setdefault(run.group or f"stack-{id(run.stack)}", [])
            if run.stack not in unit:
                unit.append(run.stack)
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
        self.stacking.consider(run)
        self.emit(job_id, "info", info={"device": device_name(tr.device), "params": sum(
            p.numel() for p in tr.model.parameters()), "steps_per_epoch": tr.steps_per_epoch,
            "train_samples": tr.n, "batch_size": tr.batch_size})
        self.emit(job_id, "state", state=run.mode)
        self.send_views(run, force=True)

    def _on_stop(self, run: _Run, message: str | None = None) -> None:
        self.finish(run, "stopped", message or "stopped by the user")

    def _set_mode(self, run: _Run, mode: str) -> None:
        run.mode = mode
        (self.stepping.add if mode in ("batch", "epoch") else self.stepping.discard)(run.id)
        if run.stack is not None:  # a stacked run pauses by its mask: the others go on
            run.stack.set_active(run.id, mode != "paused")

    def _on_pause(self, run: _Run) -> None:
        self._set_mode(run, "paused")
        self.send_progress(run, force=True)
        self.send_views(run, force=True)  # a paused view shows where it stopped
        self.emit(run.id, "state", state="paused")

    def _on_resume(self, run: _Run) -> None:
        self._set_mode(run, "running")
        self.emit(run.id, "state", state="running")

    def _on_step(self, run: _Run, unit: str) -> None:
        self._set_mode(run, unit)
        self.emit(run.id, "state", state="running")

    def _on_tune(self, run: _Run, changes: dict) -> None:
        run.trainer.tune(**changes)
        if run.stack is not None:
            run.stack.retune()  # its row of the stack reads the trainer's new values
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
    def train_slice(self, unit: list) -> None:
        """Train for one time slice; the runs (and stacks) of a lock-step group take one batch each in turn."""
        t0 = time.perf_counter()
        end = t0 + self.slice
        active = list(unit)
        while active:
            for item in list(active):
                if not (self.step_safely(item) if isinstance(item, _Run) else self.step_stack(item)):
                    active.remove(item)
            if time.perf_counter() >= end:
                break
        share = (time.perf_counter() - t0) / len(unit)
        for item in unit:
            if isinstance(item, _Run):
                if item.id in self.runs:
                    self.account(item, share)
                continue
            # a stack's runs share its time: each is charged its part of the one pass that trained them all
            runs = [self.runs[i] for i, on in zip(item.ids, item.active, strict=True) if on and i in self.runs]
            for run in runs:
                self.account(run, share / len(runs))

    def step_stack(self, stack) -> bool:
        """One batch for every active run of `stack`; False when it stops stepping (no active run left)."""
        if not len(stack) or not stack.any_active:
            return False
        try:
            ended = stack.step()
        except Exception as e:  # a fault of the stack itself: every run in it fails with the message
            traceback.print_exc()
            for i in list(stack.ids):
                self.finish(self.runs[i], "failed", f"{type(e).__name__}: {e}")
            return False
        if ended:
            for run_id, m in stack.end_epoch(ended).items():
                run = self.runs[run_id]
                try:
                    if isinstance(m, PlaygroundError):
                        raise m
                    self.after_epoch(run, m)
                except PlaygroundError as e:
                    self.finish(run, "failed", e.message)
                except Exception as e:
                    traceback.print_exc()
                    self.finish(run, "failed", f"{type(e).__name__}: {e}")
            self.stacking.settle(stack)
        if self.stepping:  # runs asked for one batch pause after it
            for i in [i for i in stack.ids if i in self.stepping and self.runs[i].mode == "batch"]:
                self.pause_after_step(self.runs[i])
        return len(stack) > 0 and stack.any_active

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
        """One batch of `run`; True when the run stops stepping (finished, paused, or now in a stack)."""
        tr = run.trainer
        if tr.train_step():
            stops = self.after_epoch(run, tr.end_epoch())
            # between two epochs a run may join a stack of its shape (it then trains with the stack)
            return stops or run.id not in self.runs or self.stacking.consider(run)
        if run.mode == "batch":
            self.pause_after_step(run)
            return True
        return False

    def after_epoch(self, run: _Run, metrics: dict) -> bool:
        """Report an epoch's metrics (and statistics); finish the run at its last epoch, pause it after an epoch
        step. True when it stops stepping."""
        tr = run.trainer
        self.emit(run.id, "metrics", metrics=metrics)
        if run.tracker is not None:  # epoch ends only, and only when asked: the step itself is untouched
            if run.stack is not None:
                run.stack.sync(run.stack.ids.index(run.id))  # the statistics read its counters and gradients
            # a worker holding many jobs sends each one's statistics less often: every event is a
            # histogram per layer that the app process unpickles
            stats = run.tracker.epoch_end(tr, stretch=max(1.0, len(self.runs) / 4))
            if stats is not None:
                self.emit(run.id, "stats", stats=stats)
        if tr.epoch >= run.epochs:
            self.send_views(run, force=True)
            self.finish(run, "done")
            return True
        if run.mode in ("batch", "epoch"):
            self.pause_after_step(run)
            return True
        return False

    def pause_after_step(self, run: _Run) -> None:
        """A batch or epoch step is done: pause, and show where it stopped."""
        self._set_mode(run, "paused")
        self.send_progress(run, force=True)
        self.send_views(run, force=True)
        self.emit(run.id, "state", state="paused")

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
        self.stacking.leave(run)  # its trainer gets its own weights back; the rest of its stack goes on
        self.stepping.discard(run.id)
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
        p = self.progress_of(run)  # a host sync for the running loss, at a bounded rate
        if now - run.rate_t > 0.5:
            run.steps_per_s = (p["steps"] - run.rate_steps) / (now - run.rate_t)
            run.rate_t, run.rate_steps = now, p["steps"]
        self.emit(run.id, "progress", progress={
            "epoch": p["epoch"], "batch": p["batch"], "steps_per_epoch": tr.steps_per_epoch, "steps": p["steps"],
            "running_loss": p["running_loss"], "steps_per_s": round(run.steps_per_s, 1),
            "seconds": round(run.seconds, 2), "lr": p["lr"], "stacked": len(run.stack) if run.stack else 0})
        run.last_progress = now

    @staticmethod
    def progress_of(run: _Run) -> dict:
        """Where `run` is: epoch, batch in the epoch, steps, running loss and learning rate."""
        if run.stack is not None:
            return run.stack.progress(run.id)
        tr = run.trainer
        return {"epoch": tr.epoch, "batch": tr.batch, "steps": tr.step, "running_loss": tr.running_loss(),
                "lr": tr.opt.param_groups[0]["lr"]}

    def send_views(self, run: _Run, force: bool = False) -> None:
        """The live views the job asked for, at most every view_interval unless `force`."""
        now = time.perf_counter()
        if not run.views or (not force and now - run.last_view < run.view_interval):
            return
        for name, opts in run.views.items():
            opts = {k: v for k, v in opts.items() if k != "every"}
            self.emit(run.id, "view", name=name, data=probe.VIEWS.get(name)(run.trainer, **opts))
        run.last_view = now
