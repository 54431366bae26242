"""The local backend: a small pool of worker processes on this host (spawned, at lowered priority), each
multiplexing its jobs in short time slices (worker.Worker) and sending events back on its own pipe."""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import threading
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait

from .base import Backend


@dataclass
class _Worker:
    index: int
    process: mp.process.BaseProcess
    commands: mp.queues.Queue
    events: Connection  # this worker's own event pipe: a killed worker can only break its own
    jobs: set = field(default_factory=set)


class LocalBackend(Backend):
    """Worker processes on this host, one per core by default; a worker that dies fails its jobs and is replaced."""

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.n_workers = max(1, workers or os.cpu_count() or 1)
        # Workers are spawned, never forked: the app process runs threads, and fork copies held locks.
        self._ctx = mp.get_context("spawn")
        self._workers: list[_Worker] = []
        self._closed = False
        self.pool = None

    def attach(self, pool) -> None:
        self.pool, self._lock = pool, pool._lock
        os.environ.setdefault("OMP_NUM_THREADS", "1")  # inherited by workers before they import torch
        with self._lock:
            self._workers = [self._start_worker(i) for i in range(self.n_workers)]
        self._reader = threading.Thread(target=self._read_events, name="playground-jobs", daemon=True)
        self._reader.start()

    # -- the Backend calls (under the pool's lock) --
    def capacity(self) -> int:
        return 1 << 30  # the pool's max_running is the limit

    def place(self, jobs: list, inputs: list[dict]) -> None:
        w = min(self._workers, key=lambda w: len(w.jobs))  # the least-loaded; a group goes as a whole
        for job, files in zip(jobs, inputs, strict=True):
            w.jobs.add(job.id)
            job.worker = w.index
            _put(w.commands, ("start", job.id, job.spec, job.epochs, job.start_paused, job.wanted_views,
                              job.group, job.track, files, job.keep_final))

    def command(self, job, cmd: tuple) -> bool:
        _put(self._workers[job.worker].commands, (cmd[0], job.id, *cmd[1:]))
        return True

    def release(self, job) -> None:
        for w in self._workers:
            w.jobs.discard(job.id)

    def placed(self) -> set[str]:
        return {i for w in self._workers for i in w.jobs}

    def workers(self) -> int:
        return self.n_workers

    def processes(self) -> list[mp.process.BaseProcess]:
        """The worker processes now (tests and benchmarks look at them)."""
        return [w.process for w in self._workers]

    def shutdown(self, timeout: float = 5.0) -> None:
        if self.pool is None:
            return
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for w in self._workers:
                _put(w.commands, ("quit",))
        for w in self._workers:
            w.process.join(timeout)
            if w.process.is_alive():
                w.process.kill()
                w.process.join(timeout)
        self._reader.join(timeout)
        for w in self._workers:
            w.commands.close()
            w.commands.join_thread()
            w.events.close()

    # -- internals --
    def _start_worker(self, index: int) -> _Worker:
        from ..worker import main
        commands = self._ctx.Queue()
        receive, send = self._ctx.Pipe(duplex=False)
        p = self._ctx.Process(target=main, args=(commands, send, self.pool.worker_config()),
                              name=f"playground-worker-{index}", daemon=True)
        p.start()
        send.close()  # the worker holds the sending end; EOF here then means it is gone
        return _Worker(index, p, commands, receive)

    def _read_events(self) -> None:
        # Wait on every worker's pipe and on its process sentinel at once: events arrive without
        # polling, and a dead worker is noticed the moment it dies.
        while not self._closed:
            with self._lock:
                workers = list(self._workers)
            by_handle = {w.events: w for w in workers} | {w.process.sentinel: w for w in workers}
            try:
                ready = wait(list(by_handle), timeout=0.5)
            except OSError:  # a handle was closed under us (shutdown, replacement): look again
                continue
            dead = set()
            for handle in ready:
                w = by_handle[handle]
                if handle is w.events:
                    try:
                        while w.events.poll():
                            self.pool._deliver([w.events.recv()])
                    except (EOFError, OSError, pickle.UnpicklingError):
                        dead.add(w.index)  # broken pipe: the worker died, maybe mid-message
                else:
                    dead.add(w.index)
            if dead:
                self._replace(dead)

    def _replace(self, indices: set[int]) -> None:
        # A worker that died (killed, out of memory) is replaced, then its jobs fail with a message.
        lost = []
        with self._lock:
            if self._closed:
                return
            for i in indices:
                w = self._workers[i]
                w.process.join(1.0)
                lost.append((set(w.jobs), f"the training process stopped unexpectedly (exit code "
                                          f"{w.process.exitcode}, e.g. out of memory); start the run again"))
                w.commands.cancel_join_thread()
                w.commands.close()
                w.events.close()
                self._workers[i] = self._start_worker(i)
        for ids, message in lost:
            self.pool._fail(ids, message)


def _put(q, item) -> None:
    try:
        q.put(item)
    except (ValueError, OSError):  # queue closed: the worker is gone and the reader will notice
        pass
