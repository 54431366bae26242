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


@dataclass
class _Run:
    id: str
    trainer: object
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


def main(commands, events, cfg: dict) -> None:
    """Entry point of a worker process (spawned by JobPool)."""
    if cfg.get("nice"):
        try:
            os.nice(cfg["nice"])  # pages stay responsive while training saturates the cores
        except OSError:
            pass
    import torch
    torch.set_num_threads(1)  # one core per worker; the pool has one worker per core
    from . import probe
    from .data import load_cached
    from .registry import PlaygroundError
    from .spec import from_dict
    from .train import Trainer, device_name
    from .uploads import Resolved

    # Pay one-off costs now, not on a learner's first click: the first optimizer a process builds
    # imports torch._dynamo (1.5–3 s on these machines).
    torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)

    runs: dict[str, _Run] = {}
    parent = multiprocessing.parent_process()

    def emit(job_id: str, kind: str, **payload) -> None:
        events.send({"job": job_id, "type": kind, **payload})  # this worker's own pipe: one writer, no lock

    def finish(run: _Run, state: str, message: str = "") -> None:
        if run.tracker is not None:  # before the state: a finished job has its checkpoints
            run.tracker.finish(run.trainer)
            emit(run.id, "checkpoints", checkpoints=run.tracker.checkpoints)
        if state == "done":
            try:
                emit(run.id, "report", report=probe.report(run.trainer))
            except Exception as e:  # a report is a nicety; the run itself succeeded
                emit(run.id, "report", report={"error": str(e)})
        send_progress(run, force=True)
        emit(run.id, "state", state=state, message=message)
        runs.pop(run.id, None)

    def send_progress(run: _Run, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - run.last_progress < cfg["progress_interval"]:
            return
        tr = run.trainer
        if now - run.rate_t > 0.5:
            run.steps_per_s = (tr.step - run.rate_steps) / (now - run.rate_t)
            run.rate_t, run.rate_steps = now, tr.step
        done_in_epoch, running = tr.batch, tr.running_loss()  # a host sync, at a bounded rate
        emit(run.id, "progress", progress={
            "epoch": tr.epoch, "batch": done_in_epoch, "steps_per_epoch": tr.steps_per_epoch, "steps": tr.step,
            "running_loss": running, "steps_per_s": round(run.steps_per_s, 1), "seconds": round(run.seconds, 2),
            "lr": tr.opt.param_groups[0]["lr"]})
        run.last_progress = now

    def send_views(run: _Run, force: bool = False) -> None:
        now = time.perf_counter()
        if not run.views or (not force and now - run.last_view < cfg["view_interval"]):
            return
        for name, opts in run.views.items():
            emit(run.id, "view", name=name, data=probe.VIEWS.get(name)(run.trainer, **opts))
        run.last_view = now

    def start(job_id, spec_dict, epochs, paused, views, group=None, track=None, inputs=None) -> None:
        spec = from_dict(spec_dict)
        # `inputs`: the job's uploads, read by the app for the job's owner (the spec carries only their ids)
        data = load_cached(spec.data, Resolved(inputs), max_bytes=cfg["max_data_mb"] * 2**20)
        tr = Trainer(spec, data=data)
        run = _Run(job_id, tr, epochs, "paused" if paused else "running", views or {}, group)
        if track:
            from .health import Tracker
            run.tracker = Tracker(epochs, **track)
            run.tracker.start(tr)
        runs[job_id] = run
        emit(job_id, "info", info={"device": device_name(tr.device), "params": sum(
            p.numel() for p in tr.model.parameters()), "steps_per_epoch": tr.steps_per_epoch,
            "train_samples": tr.n, "batch_size": tr.batch_size})
        emit(job_id, "state", state=run.mode)
        send_views(run, force=True)

    def handle(cmd: tuple) -> bool:
        kind, job_id, *args = cmd + (None,) if len(cmd) == 1 else cmd
        if kind == "quit":
            return False
        if kind == "start":
            try:
                start(job_id, *args)
            except PlaygroundError as e:
                emit(job_id, "state", state="failed", message=e.message)
            except Exception as e:
                emit(job_id, "state", state="failed", message=f"{type(e).__name__}: {e}")
            return True
        run = runs.get(job_id)
        if run is None:
            return True
        if kind == "stop":
            finish(run, "stopped", "stopped by the user")
        elif kind == "pause":
            run.mode = "paused"
            send_progress(run, force=True)
            emit(job_id, "state", state="paused")
        elif kind == "resume":
            run.mode = "running"
            emit(job_id, "state", state="running")
        elif kind == "step":
            run.mode = args[0]
            emit(job_id, "state", state="running")
        elif kind == "tune":
            run.trainer.tune(**args[0])
            send_progress(run, force=True)  # the new learning rate shows at once
        elif kind == "snapshot":
            state = {k: v.detach().cpu().numpy() for k, v in run.trainer.model.state_dict().items()}
            emit(job_id, "snapshot", weights=state)
        elif kind == "checkpoints":
            emit(job_id, "checkpoints", checkpoints=run.tracker.checkpoints if run.tracker is not None else [])
        return True

    def step(run: _Run) -> bool:
        """One batch of `run`; True when the run stops stepping (finished or paused)."""
        tr = run.trainer
        ended = tr.train_step()
        if ended:
            emit(run.id, "metrics", metrics=tr.end_epoch())
            if run.tracker is not None:  # epoch ends only, and only when asked: the step itself is untouched
                # a worker holding many jobs sends each one's statistics less often: every event is a
                # histogram per layer that the app process unpickles
                stats = run.tracker.epoch_end(tr, stretch=max(1.0, len(runs) / 4))
                if stats is not None:
                    emit(run.id, "stats", stats=stats)
            if tr.epoch >= run.epochs:
                send_views(run, force=True)
                finish(run, "done")
                return True
        if run.mode == "batch" or (ended and run.mode == "epoch"):
            run.mode = "paused"
            send_progress(run, force=True)
            send_views(run, force=True)
            emit(run.id, "state", state="paused")
            return True
        return False

    def train_slice(unit: list[_Run]) -> None:
        """Train for one time slice; the runs of a lock-step group take one batch each in turn."""
        t0 = time.perf_counter()
        end = t0 + cfg["slice"]
        active = list(unit)
        while active:
            for run in list(active):
                try:
                    if step(run):
                        active.remove(run)
                except PlaygroundError as e:
                    finish(run, "failed", e.message)
                    active.remove(run)
                except Exception as e:
                    traceback.print_exc()
                    finish(run, "failed", f"{type(e).__name__}: {e}")
                    active.remove(run)
            if time.perf_counter() >= end:
                break
        share = (time.perf_counter() - t0) / len(unit)
        for run in unit:
            if run.id not in runs:
                continue
            run.seconds += share
            if run.seconds > cfg["max_seconds"]:
                finish(run, "stopped", f"the time limit of {cfg['max_seconds']:.0f} s a run was reached")
                continue
            send_progress(run)
            send_views(run)

    base_slice = cfg["slice"]
    alive = True
    while alive:
        busy = any(r.mode != "paused" for r in runs.values())
        try:
            cmd = commands.get_nowait() if busy else commands.get(timeout=1.0)
            alive = handle(cmd)
            while alive:
                alive = handle(commands.get_nowait())
        except queue.Empty:
            if parent is not None and not parent.is_alive():  # the app was killed without a shutdown
                break
        except (EOFError, OSError):
            break
        units: dict[str, list[_Run]] = {}
        for run in runs.values():
            if run.mode != "paused":
                units.setdefault(run.group or run.id, []).append(run)
        # Shorter slices when a worker holds many jobs, so each still reports several times a second
        # (30 jobs on 2 workers: 10 ms slices gave ~5 updates/s per stream, 4 ms ~7.5).
        cfg["slice"] = max(0.004, min(base_slice, 0.15 / max(1, len(units))))
        for unit in units.values():
            train_slice(unit)
