"""What is kept of this session's finished runs for Inspect and Explain: final weights, checkpoints and
statistics, bounded in number and in bytes. It imports neither the runner nor the model source, so both
can use it.
"""

from __future__ import annotations

import numpy as np

from playground.jobs import Job
from ui import state

KEEP = 8  # finished runs whose weights are kept
MAX_BYTES = 32 * 2**20  # all kept weights and checkpoints of one session together


def _nbytes(entry: dict) -> int:
    n = sum(np.asarray(v).nbytes for v in (entry.get("weights") or {}).values())
    return n + sum(np.asarray(v).nbytes for c in entry.get("checkpoints") or [] for v in c["weights"].values())


def store() -> dict:
    """Run id -> what is kept of it, in this session."""
    return state.get().inspect.kept


def entry(job: Job) -> dict | None:
    """What would be kept of a finished run (read from the job; nothing is stored): None when it has no weights."""
    if not job.finished:
        return None
    checkpoints = job.checkpoints() or []
    epoch = len(job.metrics)
    if checkpoints and checkpoints[-1]["epoch"] == epoch:  # tracked runs end with a copy of the final weights
        weights = checkpoints[-1]["weights"]
    else:  # else the last weights read while it trained, if any (their epoch is not known)
        weights, epoch = job.snapshot(timeout=0), None
    if weights is None:
        return None
    return {"weights": weights, "checkpoints": checkpoints, "stats": list(job.stats), "epoch": epoch}


def remember(job: Job) -> dict | None:
    """Keep a finished run's final weights, checkpoints and statistics (bounded); the kept entry."""
    kept = store()
    if job.id in kept or not job.finished:
        return kept.get(job.id)
    new = entry(job)
    if new is None:
        return None
    kept[job.id] = new
    while len(kept) > KEEP:
        kept.pop(next(iter(kept)))
    total = sum(_nbytes(e) for e in kept.values())
    for e in list(kept.values())[:-1]:  # over budget: the older runs give up their checkpoints first
        if total <= MAX_BYTES:
            break
        total -= _nbytes(e) - _nbytes({"weights": e["weights"]})
        e["checkpoints"] = []
    return kept[job.id]
