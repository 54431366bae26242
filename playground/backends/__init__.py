"""Where jobs train: the interface a backend implements for `jobs.JobPool`, and the choice of one by configuration.

A backend places jobs on trainers, carries commands to them and brings their events back; the pool does the
rest (limits, the queue, the app's `Job` handles). Two implement it:

- `local` (`local.LocalBackend`): worker processes on this host, each multiplexing its jobs in time slices;
  the embedded default.
- `ray` (`ray_cluster.RayBackend`): each job's trainer in an actor on a Ray cluster, which may ask for a GPU;
  events come back in batches at a bounded rate.

Settings (environment): PLAYGROUND_BACKEND=local|ray; for ray, RAY_ADDRESS (`ray://host:10001` through Ray
Client, `auto` on a cluster node, unset for a cluster started in this process), PLAYGROUND_RAY_GPUS (the GPU
share each trainer actor asks for when the cluster has GPUs, e.g. 0.25; default 1), PLAYGROUND_RAY_JOBS_PER_ACTOR
(default 1), PLAYGROUND_RAY_SPARE (warm idle actors kept, default 1) and PLAYGROUND_RAY_FALLBACK=local (train on
this host's workers when the cluster cannot be reached, instead of refusing new jobs). docs/DEPLOY.md has more.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from ..registry import PlaygroundError
from .base import Backend

__all__ = ["BACKENDS", "Backend", "Settings", "make", "settings"]

BACKENDS = ("local", "ray")


@dataclass(frozen=True)
class Settings:
    """The backend configuration, read from the environment (`settings()`)."""

    backend: str = "local"
    address: str | None = None  # RAY_ADDRESS
    gpus: float = 1.0  # GPU share per trainer actor, when the cluster has GPUs
    jobs_per_actor: int = 1
    spare: int = 1
    fallback: str | None = None  # "local" or None


def settings(environ: Mapping[str, str] | None = None) -> Settings:
    """The backend settings in `environ` (default os.environ); a bad value is an error naming the variable."""
    env = os.environ if environ is None else environ
    backend = (env.get("PLAYGROUND_BACKEND") or "local").strip().lower()
    if backend not in BACKENDS:
        raise PlaygroundError(f"PLAYGROUND_BACKEND={backend[:40]!r}: use one of {', '.join(BACKENDS)}")
    fallback = (env.get("PLAYGROUND_RAY_FALLBACK") or "").strip().lower() or None
    if fallback not in (None, "local"):
        raise PlaygroundError(f"PLAYGROUND_RAY_FALLBACK={fallback[:40]!r}: use local, or leave it unset")
    return Settings(backend, (env.get("RAY_ADDRESS") or "").strip() or None,
                    _number(env, "PLAYGROUND_RAY_GPUS", 1.0, float, 0.0, 64.0),
                    _number(env, "PLAYGROUND_RAY_JOBS_PER_ACTOR", 1, int, 1, 1000),
                    _number(env, "PLAYGROUND_RAY_SPARE", 1, int, 0, 64), fallback)


def _number(env: Mapping[str, str], name: str, default, kind, lo, hi):
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise PlaygroundError(f"{name}={raw[:40]!r} is not a number") from None
    if not lo <= value <= hi:
        raise PlaygroundError(f"{name}={raw[:40]}: use a value from {lo} to {hi}")
    return value


def make(s: Settings, workers: int | None = None) -> tuple[Backend, object]:
    """The backend `s` names, and the fallback factory for `JobPool(fallback=…)` (None when not configured)."""
    from .local import LocalBackend
    if s.backend == "local":
        return LocalBackend(workers), None
    from .ray_cluster import RayBackend
    fallback = (lambda: LocalBackend(workers)) if s.fallback == "local" else None
    return RayBackend(s.address, gpus=s.gpus, jobs_per_actor=s.jobs_per_actor, spare=s.spare), fallback
