"""Training jobs, run away from the UI process so that training never competes with pages for the GIL.

The app process holds light `Job` handles; a `JobPool` checks each job against the host's limits, queues it,
and hands it to a backend that trains it and sends its events back: state changes, per-epoch metrics,
progress at a bounded rate, live views and weight snapshots. Two backends implement the same calls
(`playground/backends/`): `local`, a small pool of worker processes on this host (the default), and `ray`,
trainers held by actors on a Ray cluster (a GPU behind a CPU-only app host). The app's handles, their events
and the pool's limits are the same with either.
Commands beyond these go by name (`Job.command`: a GAN's phase), so a backend needs no change for a new one.
"""

from __future__ import annotations

import atexit
import copy
import itertools
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from . import uploads
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
    pool: JobPool = field(repr=False)
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


class JobPool:
    """Takes jobs, checks them against this host's limits, queues them and hands them to a backend that trains
    them; one pool serves every session of an app process.

    `backend`: a `backends.Backend` (default: `LocalBackend(workers, nice)`, worker processes on this host).
    `fallback`: makes the backend to use when this one is lost (a Ray cluster that went away), or None to refuse
    new jobs with the lost backend's reason.
    """

    def __init__(self, workers: int | None = None, limits: Limits | None = None, nice: int = 10,
                 slice_seconds: float = 0.01, store: uploads.Store | None = None, backend=None,
                 fallback: Callable[[], object] | None = None, stack: bool | None = None) -> None:
        from .backends.local import LocalBackend
        self.limits = limits or Limits()
        # runs of one shape train as one stacked model in a worker (playground/stack/); PLAYGROUND_STACK=0 turns it off
        self.stack = stack if stack is not None else os.environ.get("PLAYGROUND_STACK", "1").strip() != "0"
        self.store = store or uploads.store()  # where owners' uploads are resolved when a job starts
        self.nice, self.slice_seconds = nice, slice_seconds
        self.fallback = fallback
        self._lock = threading.RLock()
        self._jobs: dict[str, Job] = {}
        self._pending: deque[Job] = deque()
        self._ids = itertools.count(1)
        self._closed = False
        self.backend = backend if backend is not None else LocalBackend(workers)
        self.backend.attach(self)
        atexit.register(self.shutdown)  # an exiting app takes its workers with it, cleanly

    def worker_config(self) -> dict:
        """What a backend's trainer loop reads (worker.Worker): the time slice, the nice level and the limits."""
        return {"nice": self.nice, "slice": self.slice_seconds, "stack": self.stack, **asdict(self.limits)}

    # -- the public calls --
    def submit(self, spec, owner: str = "", epochs: int | None = None, paused: bool = False,
               views: dict | None = None, track: dict | bool | None = None, final_weights: bool = False) -> Job:
        """Queue a job for `spec` (a Spec or dict); refuses with a clear message when over a limit.

        `track` opts in to training-time tracking (see health.py): e.g. {"stats": True, "checkpoints": 20}
        sends per-layer weight/gradient norms and histograms as `Job.stats` at a bounded rate and keeps about
        20 copies of the weights over the run (`Job.checkpoints()`); True means {"stats": True}.
        `final_weights`: the trainer sends the weights it ends with, so `Job.snapshot()` has them once done.
        """
        return self.submit_group([spec], owner, epochs, paused, views, track, final_weights)[0]

    def submit_group(self, specs: list, owner: str = "", epochs: int | None = None, paused: bool = False,
                     views: dict | None = None, track: dict | bool | None = None,
                     final_weights: bool = False) -> list[Job]:
        """Queue jobs that train in lock-step on one worker, one batch each in turn (A/B comparisons)."""
        from .health import track_options
        track = track_options(track)
        checked = [self._check(spec, epochs, owner) for spec in specs]
        lim = self.limits
        with self._lock:
            if self._closed:
                raise JobRefused("the training service is shutting down")
            self._check_backend()
            mine = [j for j in self._jobs.values() if j.owner == owner and not j.finished]
            if owner and len(mine) + len(specs) > lim.jobs_per_owner:
                raise JobRefused(f"you already have {len(mine)} runs going (the limit is "
                                 f"{lim.jobs_per_owner}); stop one first")
            if len(self._pending) >= lim.max_queued:
                raise JobRefused("the server is busy: too many runs are waiting; try again in a minute")
            group = f"g{next(self._ids)}" if len(specs) > 1 else None
            jobs = [Job(f"j{next(self._ids)}-{os.urandom(4).hex()}", owner, spec.to_dict(), n, self,
                        start_paused=paused, wanted_views=views or {}, info={"params": params}, group=group,
                        track=track, memory=memory + (track or {}).get("checkpoints", 0) * params * 4,
                        keep_final=final_weights)
                    for spec, n, params, memory in checked]
            for job in jobs:
                self._jobs[job.id] = job
                self._pending.append(job)
            self._dispatch()
        return jobs

    def _check_backend(self) -> None:
        """Under the lock: a lost backend makes way for the fallback, or refuses with its reason."""
        reason = self.backend.lost
        if reason is None:
            return
        if self.fallback is None:
            raise JobRefused(reason)
        old, self.backend = self.backend, self.fallback()
        self.fallback = None  # once: the fallback is this host's own workers
        self.backend.attach(self)
        old.shutdown()

    def _check(self, spec, epochs: int | None, owner: str = ""):
        """Everything a job is refused for, checked in this process without building its data: the spec, the
        epochs, the dataset's size, the parameters and the estimated memory (memory.py). An upload resolves
        only for its own owner."""
        from .data import DataTooLarge, check_size
        from .memory import MB, MemoryLimit
        from .memory import check as check_memory
        from .spec import Spec, from_dict
        from .tasks import summarize  # every network the run trains (a GAN has two)
        spec = spec if isinstance(spec, Spec) else from_dict(spec)
        lim = self.limits
        epochs = epochs or spec.train.epochs
        if epochs > lim.max_epochs:
            raise JobRefused(f"{epochs} epochs asked for; this server allows at most {lim.max_epochs} a run",
                             path="train.epochs")
        try:
            sketch = check_size(spec.data, self.store.access(owner), lim.max_data_mb * MB)
            params = summarize(spec, sketch.info).total_params
            if params > lim.max_params:
                raise JobRefused(f"the model has {params:,} parameters; this server allows at most "
                                 f"{lim.max_params:,}: use fewer or smaller layers", path="model.layers")
            estimate = check_memory(spec, sketch, lim.max_memory_mb * MB)
        except (DataTooLarge, MemoryLimit) as e:  # over this host's limits, like the checks above
            raise JobRefused(e.message, path=e.path) from None
        return spec, epochs, params, estimate.total

    def _inputs(self, job: Job) -> dict:
        """The uploads a job's spec names, read for its owner now, for its trainer (which has no store): bytes,
        never a path."""
        upload = (job.spec.get("data") or {}).get("upload")
        return self.store.access(job.owner).resolve([upload]).files if upload else {}

    def get(self, job_id: str) -> Job | None:
        """The job with this id, if this pool has it."""
        return self._jobs.get(job_id)

    def jobs(self, owner: str | None = None) -> list[Job]:
        """All jobs (of one owner), oldest first."""
        with self._lock:
            return [j for j in self._jobs.values() if owner is None or j.owner == owner]

    def forget(self, job: Job) -> None:
        """Drop a finished job's handle (its metrics go with it)."""
        with self._lock:
            if job.finished:
                self._jobs.pop(job.id, None)

    def queue_position(self, job: Job) -> int | None:
        with self._lock:
            return next((i + 1 for i, j in enumerate(self._pending) if j is job), None)

    def running(self) -> int:
        """Jobs placed on a trainer and not finished (training or paused)."""
        with self._lock:
            return len(self.backend.placed())

    def memory_in_use(self) -> float:
        """The estimated peak bytes of the jobs placed on trainers, together."""
        with self._lock:
            return sum(self._jobs[i].memory for i in self.backend.placed() if i in self._jobs)

    def stats(self) -> dict:
        """Load figures for a status line."""
        with self._lock:
            return {"backend": self.backend.name, "workers": self.backend.workers(), "running": self.running(),
                    "queued": len(self._pending), "limit": self.limits.max_running, **self.backend.describe()}

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop every job and trainer; leaves no process or thread behind."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for job in list(self._pending):
                job._apply({"type": "state", "state": "stopped", "message": "the server shut down"})
            self._pending.clear()
        self.backend.shutdown(timeout)
        for job in self._jobs.values():
            job._apply({"type": "state", "state": "stopped", "message": "the server shut down"})

    # -- what backends call --
    def _deliver(self, events: list[dict]) -> None:
        """Events from a backend, in order; each job's share is applied as one batch."""
        by_job: dict[str, list[dict]] = {}
        for ev in events:
            by_job.setdefault(ev.get("job"), []).append(ev)
        ended = False
        for job_id, evs in by_job.items():
            job = self._jobs.get(job_id)
            if job is None:
                continue
            job._apply_all(evs)
            if job.finished:
                ended = True
                with self._lock:
                    self.backend.release(job)
        if ended:
            with self._lock:
                if not self._closed:
                    self._dispatch()

    def _fail(self, job_ids, message: str) -> None:
        """A backend lost these jobs (its process or actor died, its cluster went away): they fail with `message`."""
        with self._lock:
            for job_id in job_ids:
                job = self._jobs.get(job_id)
                if job is not None and not job.finished:
                    job._apply({"type": "state", "state": "failed", "message": message})
                if job is not None:
                    self.backend.release(job)
            if not self._closed:
                self._dispatch()

    def _wake(self) -> None:
        """A backend can take jobs now, or never will (connected, or lost): the queue moves."""
        with self._lock:
            if not self._closed:
                self._dispatch()

    # -- internals --
    def _dispatch(self) -> None:
        # Under the lock: hand waiting jobs to the backend while there is room; a lock-step group goes as a
        # whole, onto one trainer. A backend that was lost fails them, unless a fallback takes over.
        try:
            self._check_backend()
        except JobRefused as e:
            while self._pending:
                self._pending.popleft()._apply({"type": "state", "state": "failed", "message": e.message})
            return
        budget = self.limits.max_total_memory_mb * 2**20
        while (self._pending and self.backend.lost is None
               and self.running() < min(self.limits.max_running, self.backend.capacity())):
            head = self._pending[0]
            group = [head] + [j for j in self._pending if head.group and j.group == head.group and j is not head]
            if self.running() and self.memory_in_use() + sum(j.memory for j in group) > budget:
                break  # the memory the running jobs may take is spoken for: wait (a job alone always runs)
            self._pending.popleft()
            for job in group[1:]:
                self._pending.remove(job)
            ready, inputs = [], []
            for job in group:
                try:
                    inputs.append(self._inputs(job))
                except PlaygroundError as e:  # its upload expired while it waited
                    job._apply({"type": "state", "state": "failed", "message": e.message})
                    continue
                ready.append(job)
                job._apply({"type": "state", "state": "starting"})
            if ready:
                self.backend.place(ready, inputs)
        self._prune()

    def _prune(self) -> None:
        # Finished jobs keep their metrics for comparison, but not forever: a class runs many.
        finished = [j for j in self._jobs.values() if j.finished]
        for job in finished[: max(0, len(finished) - self.limits.keep_finished)]:
            del self._jobs[job.id]
        # Their weights (a 2M-parameter model with 20 checkpoints is 160 MB) fit a byte budget, newest first;
        # a browser session that showed a run has already kept its own copy of what Inspect needs.
        budget = self.limits.keep_weights_mb * 2**20
        for job in reversed(finished[max(0, len(finished) - self.limits.keep_finished):]):
            size = job.kept_bytes()
            if size <= budget:
                budget -= size
            else:
                budget = 0
                job.drop_weights()

    def _command(self, job: Job, *cmd) -> bool:
        with self._lock:
            if job.worker is None or job.finished:
                return False
            return self.backend.command(job, cmd)

    def _stop(self, job: Job, reason: str = "") -> None:
        with self._lock:
            if job in self._pending:
                self._pending.remove(job)
                job._apply({"type": "state", "state": "stopped", "message": reason or "stopped before it started"})
                return
        self._command(job, "stop", reason)
