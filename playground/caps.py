"""The memory caps a host puts on a run and on a dataset, and how bytes read for people.

Apart from memory.py (which estimates a run by building its model) so that the dataset code can check its
own size without importing the builder.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator
from dataclasses import dataclass

from .registry import PlaygroundError

MB = 2**20
BUILD = 3  # building a dataset peaks at about three times its final size (measured: shapes, 40 MB → 118 MB)


@dataclass(frozen=True)
class Caps:
    """What one run and one dataset may take on this host; None means no cap (the command line's --no-limits)."""

    job_bytes: int | None = 512 * MB  # a run's estimated peak: data, model, optimizer state, activations
    data_bytes: int | None = 64 * MB  # one dataset's tensors (building one takes about BUILD times that)

    @classmethod
    def from_env(cls) -> Caps:
        """Defaults, overridden by PLAYGROUND_MAX_MEMORY_MB and PLAYGROUND_MAX_DATA_MB (0: no cap)."""
        def mb(name: str, default: int | None) -> int | None:
            v = os.environ.get(name, "").strip()
            if not v:
                return default
            return int(float(v) * MB) or None
        return cls(mb("PLAYGROUND_MAX_MEMORY_MB", cls.job_bytes), mb("PLAYGROUND_MAX_DATA_MB", cls.data_bytes))


NO_CAPS = Caps(None, None)
_CAPS: contextvars.ContextVar[Caps | None] = contextvars.ContextVar("playground_caps", default=None)


def caps() -> Caps:
    """The caps in effect (from the environment, unless a `using` block says otherwise)."""
    return _CAPS.get() or Caps.from_env()


@contextlib.contextmanager
def using(value: Caps) -> Iterator[Caps]:
    """Make `value` the caps within this block, in this thread only (e.g. NO_CAPS for --no-limits)."""
    token = _CAPS.set(value)
    try:
        yield value
    finally:
        _CAPS.reset(token)


class MemoryLimit(PlaygroundError):
    """A run would take more memory than this host allows a run."""


def fmt(n: float) -> str:
    """Bytes for people, in the binary units the caps are set in (PLAYGROUND_MAX_MEMORY_MB=512: '512 MB')."""
    for unit, size in (("GB", 2**30), ("MB", 2**20), ("kB", 2**10)):
        if n >= size:
            v = n / size
            return f"{v:.1f} {unit}" if v < 10 else f"{v:.0f} {unit}"
    return f"{int(n)} bytes"
