"""The Ray backend: each job's trainer in an actor on a Ray cluster (ray_actors.TrainerActor), which asks for a
GPU share when the cluster has GPUs; the app reaches it through Ray Client (`ray://host:10001`), as a driver on
a cluster node (`auto`), or starts a cluster in this process (no address).

What crosses the wire: a job's spec as JSON text and its uploads as bytes (resolved for the owner here, never a
path); commands as small tuples; events back as dicts of numbers and arrays, in batches through one hub actor
that this process pulls at a bounded rate (`interval`), not one call per step or per job.

A dead actor fails its jobs with a message; a lost cluster fails every job and makes the backend `lost`, so the
pool refuses new jobs with the reason (or hands them to its fallback). The app itself keeps working.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field

from .base import Backend
from .ray_actors import EventHub, TrainerActor

DEAD_ACTOR = "the trainer on the Ray cluster stopped unexpectedly ({why}); start the run again"
LOST = "lost the connection to the training cluster ({why}); start the run again"
REFUSED = "the training cluster cannot be reached ({why}); try again later"
TRIES = 3  # connecting through Ray Client (see init)
SLOW_PULLS = 5  # timeouts a pull of the hub may take before the cluster counts as lost (see RayBackend._pull)


@dataclass
class _Actor:
    key: str
    handle: object
    gpu: bool
    run: object  # the ObjectRef of its run() call: ready means the actor has died (or quit)
    jobs: set = field(default_factory=set)
    seq: int = 0
    warm: bool = False  # it has imported torch and is ready (its first batch of events has come)

    def call(self, method: str, *args) -> None:
        getattr(self.handle, method).remote(self.seq, *args)
        self.seq += 1


class RayBackend(Backend):
    """Jobs on a Ray cluster: actors hold the trainers (`jobs_per_actor` each, a lock-step group together),
    `spare` idle ones are kept warm, and each asks for `gpus` of a GPU when the cluster has any."""

    name = "ray"

    def __init__(self, address: str | None = None, gpus: float = 1.0, jobs_per_actor: int = 1, spare: int = 1,
                 interval: float = 0.1, ship_code: bool | None = None, timeout: float = 60.0) -> None:
        self.address, self.gpus, self.jobs_per_actor, self.spare = address, gpus, jobs_per_actor, spare
        self.interval, self.timeout = interval, timeout
        # A remote cluster gets this process's engine code with the actors (py_modules), so both ends match.
        self.ship_code = ship_code if ship_code is not None else bool(address and address.startswith("ray://"))
        self._actors: dict[str, _Actor] = {}
        self._count = 0
        self._closed = False
        self._owns = False
        self.has_gpu, self.total_gpus = False, 0.0
        self.pool = None

    # -- connecting --
    def attach(self, pool) -> None:
        """Connect in the background (Ray Client takes up to 30 s to give up on a cluster that is down): jobs
        submitted meanwhile wait in the queue, and go once it is up (or fail, or fall back, if it never is)."""
        self.pool, self._lock = pool, pool._lock
        self._ready = threading.Event()
        # One thread connects, then reads events for the backend's whole life. It must outlive the connection:
        # a cluster that ray.init starts here dies with the thread that started it (Ray's PR_SET_PDEATHSIG).
        self._reader = threading.Thread(target=self._serve, name="playground-ray", daemon=True)
        self._reader.start()

    def connected(self, timeout: float | None = None) -> bool:
        """Wait for the connection attempt to end (up to `timeout` seconds); whether it succeeded."""
        self._ready.wait(timeout)
        return self._ready.is_set() and self.lost is None and hasattr(self, "hub")

    def _serve(self) -> None:
        try:
            up = self._connect()
        finally:
            self._ready.set()
        self.pool._wake()  # the queue moves: onto the cluster, or the fallback, or it fails with the reason
        try:
            if up:
                self._read()
        finally:
            if self._owns:  # a cluster this thread started ends here, gracefully, before the thread does
                self._quietly(self.ray.shutdown)
                self._owns = False

    def _connect(self) -> bool:
        # Both settings are read once, when ray is imported: this process imports it here, after them.
        if os.environ.get("RAY_AUTH_TOKEN") and not os.environ.get("RAY_AUTH_MODE"):
            os.environ["RAY_AUTH_MODE"] = "token"  # a token given (e.g. as a Streamlit secret) means token mode
        if self.address is None:  # a cluster of this process alone: every Ray port on 127.0.0.1, not the network
            os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        try:
            import ray
        except ImportError:
            with self._lock:
                self.lost = REFUSED.format(why="this server has no ray package: pip install 'playground[ray]'")
            return False
        try:
            self.ray = ray
            if not ray.is_initialized():
                kwargs: dict = {"log_to_driver": False}
                if self.ship_code:  # the engine's code travels with the actors, so both ends run the same
                    from .. import __file__ as package
                    kwargs["runtime_env"] = {"py_modules": [os.path.dirname(package)]}
                if self.address is None:
                    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, **kwargs)
                else:
                    init(ray, self.address, **kwargs)
                self._owns = True
            self.total_gpus = float(ray.cluster_resources().get("GPU", 0))
            self.has_gpu = self.total_gpus > 0 and self.gpus > 0
            self._trainer = ray.remote(TrainerActor)
            hub = ray.remote(EventHub).options(num_cpus=0).remote()
        except Exception as e:  # the app goes on: new jobs are refused with this reason, or fall back
            with self._lock:
                self.lost = REFUSED.format(why=_why(e))
            return False
        with self._lock:
            self.hub = hub
            if self._closed:
                return False
            for _ in range(min(self.spare, self.capacity() // self.jobs_per_actor)):
                self._new_actor(self.has_gpu)
        return True

    # -- the Backend calls (under the pool's lock) --
    def capacity(self) -> int:
        if self.lost is not None or not hasattr(self, "hub"):  # lost, or not connected yet: jobs wait
            return 0
        if not self.has_gpu:
            return 1 << 30  # the pool's max_running is the limit
        return int(self.total_gpus / self.gpus + 1e-9) * self.jobs_per_actor

    def place(self, jobs: list, inputs: list[dict]) -> None:
        gpu = self.has_gpu and any(j.spec.get("train", {}).get("device", "auto") in ("auto", "cuda") for j in jobs)
        try:
            actor = self._actor_for(len(jobs), gpu)
            for job, files in zip(jobs, inputs, strict=True):
                actor.jobs.add(job.id)
                job.worker = actor.key
                actor.call("start", job.id, json.dumps(job.spec), job.epochs, job.start_paused, job.wanted_views,
                           job.group, job.track, files, job.keep_final)
            self._top_up()
        except Exception as e:  # the cluster went away between two calls
            self._lose(e, also=jobs)

    def command(self, job, cmd: tuple) -> bool:
        actor = self._actors.get(job.worker)
        if actor is None:
            return False
        try:
            actor.call("command", (cmd[0], job.id, *cmd[1:]))
        except Exception as e:
            self._lose(e)
            return False
        return True

    def release(self, job) -> None:
        actor = self._actors.get(job.worker)
        if actor is None or job.id not in actor.jobs:
            return
        actor.jobs.discard(job.id)
        if not actor.jobs:
            if actor.gpu != self.has_gpu:
                self._kill(actor)
                return
            idle = [a for a in self._actors.values() if not a.jobs and a.gpu == self.has_gpu]
            if len(idle) > self.spare:  # one too many idle: the coldest goes (a new one may still be starting)
                self._kill(min(idle, key=lambda a: (a.warm, a is actor)))

    def placed(self) -> set[str]:
        return {i for a in self._actors.values() for i in a.jobs}

    def workers(self) -> int:
        return len(self._actors)

    def describe(self) -> dict:
        return {"address": self.address or "local", "connected": hasattr(self, "hub") and self.lost is None,
                "lost": self.lost, "warm": sum(a.warm for a in self._actors.values()),
                "idle": sum(not a.jobs for a in self._actors.values()), "gpus": self.total_gpus}

    def shutdown(self, timeout: float = 5.0) -> None:
        if self.pool is None or self._closed:
            return
        self._ready.wait(timeout)
        with self._lock:
            self._closed = True
            actors, self._actors = list(self._actors.values()), {}
        if hasattr(self, "hub"):  # connected once (a cluster already gone makes these fail at once)
            for a in actors:
                self._quietly(self.ray.kill, a.handle)
            self._quietly(self.ray.kill, self.hub)
        # its pull ends within a second (or fails now that the hub is gone), then it stops a cluster it started
        if threading.current_thread() is not self._reader:  # (the reader itself may hand over to a fallback)
            self._reader.join(max(timeout, 30.0))

    # -- internals --
    def _actor_for(self, n: int, gpu: bool) -> _Actor:
        """The least-loaded actor of the right kind with room for `n` more jobs (an idle one takes a lock-step
        group of any size), warm ones first; else a new one."""
        room = [a for a in self._actors.values()
                if a.gpu == gpu and (not a.jobs or len(a.jobs) + n <= self.jobs_per_actor)]
        if room:
            return min(room, key=lambda a: (len(a.jobs), not a.warm))
        return self._new_actor(gpu)

    def _new_actor(self, gpu: bool) -> _Actor:
        self._count += 1
        key = f"a{self._count}"
        options = {"max_concurrency": 4, "num_gpus": self.gpus} if gpu else {"max_concurrency": 4}
        handle = self._trainer.options(**options).remote(key, self.hub, self.pool.worker_config(), self.interval)
        actor = _Actor(key, handle, gpu, handle.run.remote())
        self._actors[key] = actor
        return actor

    def _top_up(self) -> None:
        """Start one actor of the cluster's kind ahead of need when none has room for another job (a warm one takes
        the next job in a fraction of a second; a new one takes seconds). Idle ones beyond `spare` end with a job."""
        room = any(a.gpu == self.has_gpu and len(a.jobs) < self.jobs_per_actor for a in self._actors.values())
        if self.spare and not room and len(self._actors) < self.capacity() // self.jobs_per_actor:
            self._new_actor(self.has_gpu)

    def _kill(self, actor: _Actor) -> None:
        self._actors.pop(actor.key, None)
        self._quietly(self.ray.kill, actor.handle)

    @staticmethod
    def _quietly(fn, *args) -> None:
        try:
            fn(*args)
        except Exception:  # the cluster may be gone already; nothing is left to clean up then
            pass

    def _lose(self, error: BaseException, also: list | None = None) -> None:
        """Under the pool's lock: the cluster is gone. Every job on it fails; new jobs are refused (or fall back)."""
        if self.lost is not None or self._closed:
            return
        self.lost = REFUSED.format(why=_why(error))
        ids = {i for a in self._actors.values() for i in a.jobs} | {j.id for j in also or []}
        self._actors = {}
        message = LOST.format(why=_why(error))
        for job in also or []:  # placed just now: not in the pool's `placed` any more
            job._apply({"type": "state", "state": "failed", "message": message})
        threading.Thread(target=self.pool._fail, args=(ids, message), daemon=True).start()

    def _read(self) -> None:
        # One pull for every trainer's events (blocks up to a second), then a look at which actors have died.
        checked = 0.0
        while not self._closed:
            try:
                batches = self._pull()
            except Exception as e:
                if not self._closed:
                    with self._lock:
                        self._lose(e)
                return
            if batches:
                with self._lock:
                    for key, _ in batches:
                        if key in self._actors:
                            self._actors[key].warm = True
            events = [ev for _, evs in batches for ev in evs]
            if events:
                self.pool._deliver(events)
            if time.monotonic() - checked > 0.5:
                checked = time.monotonic()
                self._check_actors()

    def _pull(self) -> list:
        """One pull of the hub. A pull that is slow to answer (a loaded cluster or link) is waited for, up to
        SLOW_PULLS timeouts in all: only a broken connection, or that long a silence, means the cluster is lost."""
        ref = self.hub.pull.remote(1.0, self.interval)
        for waited in range(1, SLOW_PULLS + 1):
            try:
                return self.ray.get(ref, timeout=self.timeout)
            except self.ray.exceptions.GetTimeoutError:
                if waited == SLOW_PULLS or self._closed:
                    raise
        return []

    def _check_actors(self) -> None:
        ray = self.ray
        with self._lock:
            runs = {a.run: a for a in self._actors.values()}
        if not runs:
            return
        try:
            done, _ = ray.wait(list(runs), num_returns=len(runs), timeout=0)
        except Exception as e:
            with self._lock:
                self._lose(e)
            return
        for ref in done:
            actor = runs[ref]
            try:
                ray.get(ref, timeout=self.timeout)
                why = "it quit"
            except Exception as e:
                why = _why(e)
            with self._lock:
                if self._actors.get(actor.key) is not actor:
                    continue  # killed on purpose meanwhile
                self._actors.pop(actor.key)
                ids = set(actor.jobs)
                self._top_up()
            self.pool._fail(ids, DEAD_ACTOR.format(why=why))


def init(ray, address: str, tries: int = TRIES, **kwargs) -> None:
    """`ray.init(address)`, tried again when Ray Client reached the cluster but the server it starts for each client
    died as it started (ray-project/ray#63202, a few percent of connections); an address that does not answer
    fails at once."""
    for attempt in range(tries):
        try:
            ray.init(address, **kwargs)
            return
        except Exception as e:
            if attempt == tries - 1 or not address.startswith("ray://") or "connection timeout" in str(e):
                raise
            try:
                ray.shutdown()
            except Exception:  # nothing was connected
                pass


def _why(e: BaseException) -> str:
    """A one-line reason from a Ray error (their texts run to tracebacks)."""
    text = " ".join(str(e).split())
    for marker in ("The actor died because of an error raised in its creation task",
                   "The actor is dead because its worker process has died",
                   "The actor died unexpectedly before finishing this task"):
        if marker in text:
            return marker[0].lower() + marker[1:]
    text = text or type(e).__name__
    return text if len(text) <= 160 else text[:157] + "…"
