"""Process-wide services of the app: the job pool, its limits and whether the routes stream. No Streamlit calls here.

Route handlers (imported by uvicorn with app.py) and script runs share these objects. They live on a
module with no file, because Streamlit's file watcher drops edited project modules from sys.modules,
which would otherwise give script runs a second pool the routes never see.

The rooms: `access` (each run's key, checked by every route), `streams` (the job routes), `grid_stream`
(the 2-D view's route), `routes` (the list app.py mounts), `owners` (which session's runs stop when).
This package's own module imports none of them, so none of them imports in a cycle.
"""

from __future__ import annotations

import os
import secrets
import sys
import threading
import types

from playground import backends
from playground.jobs import JobPool, Limits

_STATE = sys.modules.setdefault("_playground_server_state", types.ModuleType("_playground_server_state"))
if not hasattr(_STATE, "lock"):
    _STATE.lock = threading.Lock()
    _STATE.pool = None
    _STATE.streaming = False  # True once app.py's routes are mounted (served through st.App)
if not hasattr(_STATE, "key"):
    _STATE.key = secrets.token_bytes(32)  # this process's secret: every run's key derives from it (ui.server.access)
    _STATE.left = {}  # owner id -> a session that ended, waiting for its browser to come back (ui.server.owners)


def limits() -> Limits:
    """Limits from the environment (PLAYGROUND_MAX_PARAMS, …) over the defaults."""
    lim = Limits()
    for name in ("max_params", "max_epochs", "max_seconds", "jobs_per_owner", "max_running", "max_queued",
                 "max_memory_mb", "max_data_mb", "max_total_memory_mb", "keep_weights_mb"):
        v = os.environ.get(f"PLAYGROUND_{name.upper()}")
        if v:
            setattr(lim, name, type(getattr(lim, name))(float(v)))
    return lim


def pool() -> JobPool:
    """The one job pool of this process, started on first use, on the backend the environment names
    (PLAYGROUND_BACKEND=local|ray, RAY_ADDRESS, …; see playground/backends and docs/DEPLOY.md)."""
    with _STATE.lock:
        if _STATE.pool is None or _STATE.pool._closed:
            workers = int(os.environ.get("PLAYGROUND_WORKERS", "0")) or None
            backend, fallback = backends.make(backends.settings(), workers)
            _STATE.pool = JobPool(workers=workers, limits=limits(), backend=backend, fallback=fallback)
        return _STATE.pool


def started() -> bool:
    """Whether this process's pool is running (asking does not start it)."""
    return _STATE.pool is not None and not _STATE.pool._closed


def mark_streaming() -> None:
    """Called when uvicorn imports app.py: the routes are live, pages may stream."""
    _STATE.streaming = True


def streaming() -> bool:
    """Whether the app's own routes serve live streams (False under AppTest or a bare script run)."""
    return _STATE.streaming


def base_path() -> str:
    """server.baseUrlPath without slashes ('' when the app is served at the root)."""
    import streamlit as st  # config only; no script context needed
    return (st.get_option("server.baseUrlPath") or "").strip("/")
