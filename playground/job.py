"""A training job as the app sees it: the limits a host sets, and the handle of one job (`Job`), which the
pool (jobs.py) updates from the events its backend sends; commands go back through the pool."""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass, field

from .registry import PlaygroundError

TERMINAL = ("done", "failed", "stopped")
MAX_STATS = 200  # layer-statistics entries a job keeps (older ones thinned out)


@dataclass
class Limits:
    """What one host allows; sized for a class of 30 on 2 cores (see README, Hosting)."""

    max_params: int = 2_000_000  # per model
    max_epochs: int = 5000  # per job
    max_seconds: float = 600.0  # training time per job
    jobs_per_owner: int = 3  # unfinished jobs per browser session
    max_running: int = 32  # jobs training at once in this process; later ones wait in a queue
    max_queued: int = 200
    progress_interval: float = 0.1  # seconds between progress events of one job
    view_interval: float = 0.1  # seconds between live views of one job
    keep_finished: int = 300  # finished jobs remembered (oldest forgotten first)
    keep_weights_mb: float = 256  # weights finished jobs keep (final snapshot, checkpoints); the oldest drop theirs
    max_memory_mb: int = 512  # a job's estimated peak memory (memory.estimate: data, model, activations)
    max_data_mb: int = 64  # one dataset's tensors
    max_total_memory_mb: int = 768  # the estimates of all jobs on workers together; later ones wait in the queue


class JobRefused(PlaygroundError):
    """A job was not started: over a limit, or the pool is shut down."""


@dataclass(eq=False)  # a handle equals only itself: comparing fields would compare metrics and arrays
class Job:
    """The app-side handle of one training job; updated by the pool's reader thread."""

    id: str
    owner: str
    spec: dict
    epochs: int
    pool: object = field(repr=False)  # the jobs.JobPool that runs it (its commands go there)
    start_paused: bool = False
    keep_final: bool = False  # its trainer sends the final weights at the end: `snapshot()` returns them once done
    wanted_views: dict = field(default_factory=dict)  # live views the worker computes: {name: options}
    group: str | None = None  # jobs of one group train in lock-step on one worker
    track: dict | None = None  # opt-in tracking (health.TRACK_PARAMS): layer statistics, checkpoints
    state: str = "queued"  # queued | starting | running | paused | done | failed | stopped
    message: str = ""  # why it failed or stopped
    info: dict = field(default_factory=dict)  # device, params, steps_per_epoch
    metrics: list[dict] = field(default_factory=list)  # one per finished epoch
    progress: dict = field(default_factory=dict)  # latest: epoch, batch, running loss, steps/s
    views: dict[str, dict] = field(default_factory=dict)  # latest live view by name
    stats: list[dict] = field(default_factory=list)  # layer statistics when tracked (health.Tracker), bounded
    report: dict | None = None  # end-of-run evaluation (confusion matrix, predictions)
    notice: str = ""  # why the last `command` changed nothing (the trainer refused it)
    version: int = 0  # bumped on every event; streams compare it
    worker: int | None = None
    memory: float = 0.0  # its estimated peak in bytes (memory.estimate), counted while it is on a worker
    created: float = field(default_factory=time.time)
    _cond: threading.Condition = field(default_factory=threading.Condition, repr=False)
    _snapshot: dict | None = field(default=None, repr=False)
    _checkpoints: list | None = field(default=None, repr=False)
    _snapshot_at: float = field(default=0.0, repr=False)
    _snapshot_version: int = field(default=-1, repr=False)

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL

    def kept_bytes(self) -> int:
        """Bytes of the weights this handle keeps: its last snapshot and its checkpoints."""
        arrays = list((self._snapshot or {}).values())
        for cp in self._checkpoints or []:
            arrays += list(cp.get("weights", {}).values())
        return sum(getattr(a, "nbytes", 0) for a in arrays)

    def drop_weights(self) -> None:
        """Forget the snapshot and checkpoints (a finished job's metrics and report stay)."""
        with self._cond:
            self._snapshot, self._checkpoints = None, None

    @property
    def queue_position(self) -> int | None:
        """1-based place in the waiting queue, or None when not waiting."""
        return self.pool.queue_position(self)

    def pause(self) -> None:
        """Stop stepping until resume or step."""
        self.pool._command(self, "pause")

    def resume(self) -> None:
        """Go on training."""
        self.pool._command(self, "resume")

    def step(self, unit: str = "batch") -> None:
        """Train exactly one batch or one epoch, then pause (for step-by-step teaching)."""
        assert unit in ("batch", "epoch"), unit
        self.pool._command(self, "step", unit)

    def tune(self, **changes) -> None:
        """Change the learning rate, weight decay or L1 rate (`train.TUNABLE`) while it trains, in place: the
        weights and optimizer state stay. `spec` follows, so a queued job starts with the new values."""
        from .train import TUNABLE
        unknown = sorted(set(changes) - set(TUNABLE))
        if unknown:
            raise PlaygroundError(f"cannot change {', '.join(unknown)} of a running job; only {', '.join(TUNABLE)}")
        spec = copy.deepcopy(self.spec)
        for name, value in changes.items():
            *head, last = TUNABLE[name]
            d = spec["train"]
            for k in head:
                d = d.setdefault(k, {})
            d[last] = value
        self.spec = spec  # a new dict: runs kept elsewhere keep the spec they ran with
        self.pool._command(self, "tune", changes)

    def command(self, name: str, **options) -> None:
        """Ask the job's trainer to do one of its own commands (its `commands`: a GAN's "phase", with
        phase="d" to train the discriminator alone); one it does not take sets `notice` and changes nothing.
        The job's views are sent again at once."""
        if not isinstance(name, str) or not name or len(name) > 40:
            raise PlaygroundError(f"a command is a short name, got {str(name)[:40]!r}")
        self.pool._command(self, "command", name, options)

    def stop(self, reason: str = "") -> None:
        """End the job; its worker frees the model. `reason` becomes its message (default: stopped by the user)."""
        self.pool._stop(self, reason)

    def snapshot(self, timeout: float = 5.0, max_age: float = 0.25) -> dict | None:
        """The job's weights ({name: numpy array}) from its worker; None if gone. Requests are rate-bounded:
        while the job trains, a snapshot younger than `max_age` seconds is returned as is, so pollers cannot
        flood the worker; a snapshot taken since the job's last event is always current."""
        if self._snapshot is not None and (
                self.finished or self.version == self._snapshot_version
                or (self.state == "running" and time.monotonic() - self._snapshot_at < max_age)):
            return self._snapshot
        with self._cond:
            self._snapshot = None
        if not self.pool._command(self, "snapshot"):
            return self._snapshot
        self.wait_for(lambda: self._snapshot is not None or self.finished, timeout)
        return self._snapshot

    def checkpoints(self, timeout: float = 5.0) -> list[dict] | None:
        """The weights kept every k epochs when tracked: [{"epoch": e, "weights": {name: numpy array}}].

        A finished job has them from its end-of-run events; an unfinished one asks its worker. [] when the
        job keeps none (no `track={"checkpoints": n}`); None when they cannot be had (its worker died)."""
        if self.finished:
            keeps = bool((self.track or {}).get("checkpoints"))
            return self._checkpoints if self._checkpoints is not None or keeps else []
        with self._cond:
            self._checkpoints = None
        if not self.pool._command(self, "checkpoints"):
            return self._checkpoints
        self.wait_for(lambda: self._checkpoints is not None or self.finished, timeout)
        return self._checkpoints

    def events_since(self, cursor: int) -> tuple[list[dict], int]:
        """Epoch metrics after `cursor` and the new cursor (for streams and polling pages)."""
        with self._cond:
            return self.metrics[cursor:], len(self.metrics)

    def wait_for(self, predicate, timeout: float | None = None) -> bool:
        """Block until `predicate()` holds (checked on every event) or the timeout passes."""
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job has finished; False on timeout."""
        return self.wait_for(lambda: self.finished, timeout)

    def public(self) -> dict:
        """A JSON-ready view of the job's status."""
        return {"id": self.id, "state": self.state, "message": self.message, "info": self.info,
                "progress": self.progress, "epochs": self.epochs, "queue_position": self.queue_position,
                "version": self.version}

    def _apply(self, ev: dict) -> None:
        self._apply_all([ev])

    def _apply_all(self, events: list[dict]) -> None:
        # One batch under one lock: a waiter sees all of it or none of it (a backend may deliver many at once).
        with self._cond:
            for ev in events:
                self._apply_one(ev)
            self._cond.notify_all()

    def _apply_one(self, ev: dict) -> None:  # the caller holds self._cond
        kind = ev["type"]
        if kind == "state":
            if not self.finished:  # a finished job stays finished
                self.state, self.message = ev["state"], ev.get("message", self.message)
        elif kind == "metrics":
            self.metrics.append(ev["metrics"])
        elif kind == "progress":
            self.progress = ev["progress"]
        elif kind == "info":
            self.info = ev["info"]
        elif kind == "view":
            self.views[ev["name"]] = ev["data"]
        elif kind == "report":
            self.report = ev["report"]
        elif kind == "notice":
            self.notice = ev["message"]
        elif kind == "stats":
            self.stats.append(ev["stats"])
            if len(self.stats) > MAX_STATS:  # a long run: every other older entry goes, the newest stays
                self.stats = self.stats[:-1:2] + self.stats[-1:]
        elif kind == "checkpoints":
            self._checkpoints = ev["checkpoints"]
        elif kind == "snapshot":
            self._snapshot, self._snapshot_at = ev["weights"], time.monotonic()
            self._snapshot_version = self.version + 1  # the version once this event is counted
        self.version += 1
