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
import itertools
import os
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import asdict

from . import uploads
from .job import MAX_STATS, TERMINAL, Job, JobRefused, Limits
from .registry import PlaygroundError

__all__ = ["MAX_STATS", "TERMINAL", "Job", "JobPool", "JobRefused", "Limits"]



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
