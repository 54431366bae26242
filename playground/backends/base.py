"""The interface a backend implements for `jobs.JobPool` (a module of its own: the backends import it, and the
package that chooses among them imports the backends)."""

from __future__ import annotations


class Backend:
    """What `JobPool` asks of a backend. The pool calls these under its lock (`pool._lock`, re-entrant); a
    backend reports back through `pool._deliver(events)` and `pool._fail(job_ids, message)`, never while holding
    a lock of its own that the pool's callers could wait on."""

    name = "?"
    lost: str | None = None  # why it takes no jobs now (its cluster went away), else None

    def attach(self, pool) -> None:
        """Start serving `pool` (its `worker_config()`, `_deliver`, `_fail`, `_lock`)."""
        raise NotImplementedError

    def capacity(self) -> int:
        """How many jobs it can hold at once (the pool also applies Limits.max_running)."""
        raise NotImplementedError

    def place(self, jobs: list, inputs: list[dict]) -> None:
        """Start `jobs` (a lock-step group goes onto one trainer) with their resolved uploads; sets `job.worker`."""
        raise NotImplementedError

    def command(self, job, cmd: tuple) -> bool:
        """Send (kind, *args) to the job's trainer; False when it cannot be reached."""
        raise NotImplementedError

    def release(self, job) -> None:
        """The job has finished: its place is free."""
        raise NotImplementedError

    def placed(self) -> set[str]:
        """Ids of the jobs placed on trainers and not released."""
        raise NotImplementedError

    def workers(self) -> int:
        """Trainer processes or actors it runs now (for a status line)."""
        raise NotImplementedError

    def describe(self) -> dict:
        """Backend-specific figures for a status line (JSON-ready)."""
        return {}

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop every trainer; leave no process, actor or thread behind."""
        raise NotImplementedError
