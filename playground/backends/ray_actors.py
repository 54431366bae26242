"""What runs on the Ray cluster: trainer actors and the event hub. Plain classes (no Ray import here): the app
side turns them into actors with `ray.remote(...)` (ray_cluster.py), and tests drive them directly.

A `TrainerActor` runs worker.Worker's loop (the same code as a local worker process) over its jobs. Commands
arrive as actor calls, numbered, and are taken in the order the app sent them. Events leave in batches: a
flusher thread pushes them to the app's `EventHub` at most every `interval` seconds (at once for state changes
and answers to commands), keeping only the newest unsent progress and live view of each job, so a slow
reader bounds the backlog; the app pulls the hub once for every trainer together.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import threading
import time
import traceback
from collections import deque

URGENT = frozenset({"state", "info", "snapshot", "checkpoints", "report", "ready"})  # answers, lifecycle: at once
LATEST_ONLY = frozenset({"progress", "view"})  # an unsent one is replaced by a newer one of the same job


class Inbox:
    """Commands in the order they were numbered (a threaded actor may run two calls out of order); read with
    `get`/`get_nowait` like the queue a local worker reads."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._ready: deque = deque()
        self._held: dict[int, tuple] = {}
        self._next = 0

    def put(self, seq: int, cmd: tuple) -> None:
        with self._cond:
            self._held[seq] = cmd
            while self._next in self._held:
                self._ready.append(self._held.pop(self._next))
                self._next += 1
            self._cond.notify_all()

    def get_nowait(self) -> tuple:
        with self._cond:
            if not self._ready:
                raise queue.Empty
            return self._ready.popleft()

    def get(self, timeout: float | None = None) -> tuple:
        with self._cond:
            if not self._cond.wait_for(lambda: self._ready, timeout):
                raise queue.Empty
            return self._ready.popleft()


class Outbox:
    """A trainer's events waiting to leave (`send` is what worker.Worker calls)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._items: list[dict] = []
        self._urgent = False
        self.closed = False

    def send(self, ev: dict) -> None:
        with self._cond:
            if ev["type"] in LATEST_ONLY:
                key = (ev["job"], ev["type"], ev.get("name"))
                self._items = [e for e in self._items if (e["job"], e["type"], e.get("name")) != key]
            self._items.append(ev)
            self._urgent = self._urgent or ev["type"] in URGENT
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def take(self, not_before: float, timeout: float = 1.0) -> tuple[list[dict], bool]:
        """(events, urgent) once there are some, no sooner than `not_before` (time.monotonic) unless one is
        urgent; ([], False) after `timeout` with none."""
        end = time.monotonic() + timeout
        with self._cond:
            while not self.closed:
                now = time.monotonic()
                if (self._items and (self._urgent or now >= not_before)) or now >= end:
                    break
                self._cond.wait(max(0.0, (min(end, not_before) if self._items else end) - now))
            items, urgent = self._items, self._urgent
            self._items, self._urgent = [], False
            return items, urgent


class TrainerActor:
    """One trainer: worker.Worker over the jobs the app places here. `run()` is its loop for the actor's whole
    life (the app watches that call to learn when the actor dies); `start` and `command` bring the work."""

    def __init__(self, key: str, hub, cfg: dict, interval: float = 0.1) -> None:
        os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported in this process
        self.key, self.hub, self.cfg, self.interval = key, hub, cfg, interval
        self.inbox, self.outbox = Inbox(), Outbox()
        self._flusher = threading.Thread(target=self._flush, name="playground-flush", daemon=True)
        self._flusher.start()

    def run(self) -> str:
        """Train until told to quit (the app kills an actor it no longer needs, so this rarely returns)."""
        if self.cfg.get("nice"):
            try:
                os.nice(self.cfg["nice"])
            except OSError:
                pass
        from ..worker import Worker, warm_up
        warm_up()
        self.outbox.send({"job": None, "type": "ready"})  # the app prefers warm actors for new jobs
        try:
            Worker(self.inbox, self.outbox, self.cfg).run()
        finally:
            self.outbox.close()
            self._flusher.join(5.0)
        return "quit"

    def start(self, seq: int, job_id: str, spec_json: str, epochs: int, paused: bool, views: dict | None,
              group: str | None, track: dict | None, inputs: dict, final: bool = False) -> None:
        """Queue a job: its spec arrives as JSON text, its uploads as the bytes the app resolved for its owner."""
        spec = json.loads(spec_json)
        self.inbox.put(seq, ("start", job_id, spec, epochs, paused, views, group, track, inputs, final))

    def command(self, seq: int, cmd: tuple) -> None:
        """Queue a command for a job (pause, resume, step, tune, stop, snapshot, checkpoints) or `("quit",)`."""
        self.inbox.put(seq, tuple(cmd))

    def pid(self) -> int:
        """This actor's process id (tests end it to see a dead actor fail its jobs)."""
        return os.getpid()

    def _flush(self) -> None:
        import ray
        last = 0.0
        while True:
            items, urgent = self.outbox.take(last + self.interval)
            if items:
                # The next batch is due one interval after this one was taken, not after its push returns: a
                # push's round trip (tens of ms to a remote cluster) would otherwise add to every interval.
                last = time.monotonic()
                try:  # waits for the hub: one batch at a time, in order
                    ray.get(self.hub.push.remote(self.key, items, urgent))
                except Exception:  # the hub is gone: the app sees that too, and fails this actor's jobs
                    traceback.print_exc()
                    return
            elif self.outbox.closed:
                return


class EventHub:
    """The app's one mailbox on the cluster (an async actor): trainers push batches, the app pulls them all
    at once, so the app makes one call per `interval` whatever the number of jobs."""

    def __init__(self) -> None:
        self._items: list[tuple[str, list[dict]]] = []
        self._urgent = False
        self._wake = asyncio.Event()
        self._last = 0.0

    async def push(self, key: str, events: list[dict], urgent: bool) -> None:
        self._items.append((key, events))
        self._urgent = self._urgent or urgent
        self._wake.set()

    async def pull(self, wait: float, interval: float) -> list[tuple[str, list[dict]]]:
        """[(trainer key, events)] in arrival order, once there are some, at most once per `interval` unless
        one is urgent; [] after `wait` seconds with none."""
        loop = asyncio.get_running_loop()
        end = loop.time() + wait
        while True:
            now = loop.time()
            if self._items and (self._urgent or now >= self._last + interval):
                break
            if now >= end:
                break
            until = min(end, self._last + interval) if self._items else end
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), max(0.0, until - now))
            except asyncio.TimeoutError:
                pass
        items, self._items, self._urgent = self._items, [], False
        self._last = loop.time()
        return items
