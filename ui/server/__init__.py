"""Process-wide services of the app: the job pool and the streaming routes. No Streamlit calls here.

Route handlers (imported by uvicorn with app.py) and script runs share these objects. They live on a
module with no file, because Streamlit's file watcher drops edited project modules from sys.modules,
which would otherwise give script runs a second pool the routes never see.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import types

import numpy as np
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from playground.jobs import Job, JobPool, Limits

_STATE = sys.modules.setdefault("_playground_server_state", types.ModuleType("_playground_server_state"))
if not hasattr(_STATE, "lock"):
    _STATE.lock = threading.Lock()
    _STATE.pool = None
    _STATE.streaming = False  # True once app.py's routes are mounted (served through st.App)
STREAM_HZ = 10  # events a second per stream at most


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
    """The one job pool of this process, started on first use."""
    with _STATE.lock:
        if _STATE.pool is None or _STATE.pool._closed:
            workers = int(os.environ.get("PLAYGROUND_WORKERS", "0")) or None
            _STATE.pool = JobPool(workers=workers, limits=limits())
        return _STATE.pool


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


# ---- streams ---------------------------------------------------------------------------------

def job_event(job: Job, cursor: int) -> tuple[dict, int]:
    """What a stream sends: new epoch metrics since `cursor`, the latest progress and the state."""
    new, cursor = job.events_since(cursor)
    return {"state": job.state, "message": job.message, "metrics": new, "progress": job.progress,
            "info": job.info, "epochs": job.epochs, "queue_position": job.queue_position}, cursor


def sse(payload: dict, event: str | None = None, event_id: int | None = None) -> str:
    """One Server-Sent-Events message."""
    head = (f"event: {event}\n" if event else "") + (f"id: {event_id}\n" if event_id is not None else "")
    return f"{head}data: {json.dumps(payload, default=_plain)}\n\n"


def _plain(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(type(o).__name__)


async def stream_job(request: Request) -> Response:
    """GET /api/jobs/{id}/stream: a job's metrics as Server-Sent Events, ~10 a second, until it ends."""
    job = pool().get(request.path_params["job"])
    if job is None:
        return Response(sse({"error": "no such run (it ended, or the server restarted)"}, "gone"),
                        media_type="text/event-stream")

    async def events():
        # EventSource reconnects with Last-Event-ID: resume after the metrics it already has
        cursor = int(request.headers.get("last-event-id") or 0)
        seen = -1
        while not await request.is_disconnected():
            if job.version != seen or cursor < len(job.metrics):
                # read `finished` first: the worker's last metrics land before its final state,
                # so a payload taken after a finished job's state holds every epoch
                seen, finished = job.version, job.finished
                payload, cursor = job_event(job, cursor)
                yield sse(payload, event_id=cursor)
                if finished:
                    yield sse({"state": job.state}, "end")
                    return
            await asyncio.sleep(1 / STREAM_HZ)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def job_status(request: Request) -> Response:
    """GET /api/jobs/{id}: the job's status and all its metrics as JSON."""
    job = pool().get(request.path_params["job"])
    if job is None:
        return JSONResponse({"error": "no such run"}, status_code=404)
    payload, _ = job_event(job, 0)
    return JSONResponse(json.loads(json.dumps(payload, default=_plain)))


async def debug_jobs(request: Request) -> Response:
    """GET /api/debug/jobs, only with PLAYGROUND_BENCH_ROUTES=1 (it lists every session's runs): each
    job's id, state, submit time, epochs done and latest progress, for the benchmarks."""
    jobs = [{"id": j.id, "state": j.state, "created": j.created, "epochs": j.epochs, "metrics": len(j.metrics),
             "progress": j.progress} for j in pool().jobs()]
    return JSONResponse(json.loads(json.dumps({"stats": pool().stats(), "jobs": jobs}, default=_plain)))


def routes(prefix: str = "") -> list[Route]:
    """The app's own HTTP routes (mounted by app.py through st.App)."""
    from ui.server.grid_stream import stream as grid_stream  # the 2-D playground's live view
    debug = [Route(f"{prefix}/api/debug/jobs", debug_jobs)] if os.environ.get("PLAYGROUND_BENCH_ROUTES") == "1" else []
    return debug + [Route(f"{prefix}/api/jobs/{{job}}/stream", stream_job),
                    Route(f"{prefix}/api/playground/{{job}}/stream", grid_stream),
                    Route(f"{prefix}/api/jobs/{{job}}", job_status)]
