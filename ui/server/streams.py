"""The job routes: a run's status as JSON and its metrics as Server-Sent Events, for its owner only."""

from __future__ import annotations

import asyncio
import json
import os

import numpy as np
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from playground.jobs import Job
from playground.tasks import metric_keys
from ui import server
from ui.server import access

STREAM_HZ = 10  # events a second per stream at most
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
RETRY = 30.0  # seconds between a live view's tries of a stream that failed (PLAYGROUND_STREAM_RETRY_S)
# what live views draw: the losses and each task's metric (accuracy, mean IoU, …)
METRIC_KEYS = ("epoch", "train_loss", "val_loss", *metric_keys())


def job_event(job: Job, cursor: int) -> tuple[dict, int]:
    """What a stream sends: new epoch metrics since `cursor`, the latest progress and the state."""
    new, cursor = job.events_since(cursor)
    return {"state": job.state, "message": job.message, "metrics": new, "progress": job.progress,
            "info": job.info, "epochs": job.epochs, "queue_position": job.queue_position}, cursor


def retry_s() -> float:
    """Seconds between a live view's tries of a stream that failed (it polls meanwhile)."""
    v = os.environ.get("PLAYGROUND_STREAM_RETRY_S")
    return float(v) if v else RETRY


def slim(metrics: list[dict]) -> list[dict]:
    """Only what the live views draw of each epoch's metrics."""
    return [{k: m[k] for k in METRIC_KEYS if k in m} for m in metrics]


def thin(metrics: list[dict], most: int = 500) -> list[dict]:
    """At most about `most` epochs of `slim` metrics, evenly spread, always with the last one (a polled view
    gets every epoch so far on each update, so a long run must not grow without bound)."""
    step = max(1, -(-len(metrics) // most))
    kept = metrics[::step]
    if metrics and kept[-1] is not metrics[-1]:
        kept.append(metrics[-1])
    return slim(kept)


def sse(payload: dict, event: str | None = None, event_id: int | None = None) -> str:
    """One Server-Sent-Events message."""
    head = (f"event: {event}\n" if event else "") + (f"id: {event_id}\n" if event_id is not None else "")
    return f"{head}data: {json.dumps(payload, default=plain)}\n\n"


def plain(o):
    """JSON for numpy values (json.dumps' `default`)."""
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(type(o).__name__)


async def stream_job(request: Request) -> Response:
    """GET /api/jobs/{id}/stream?key=…: a job's metrics as Server-Sent Events, ~10 a second, until it ends.
    Reading it changes nothing about the job."""
    job = access.find(request)
    if job is None:
        return access.not_found()
    cursor = access.resume_from(request, job)  # EventSource reconnects with Last-Event-ID: skip what it has

    async def events():
        nonlocal cursor
        seen = -1
        while not await request.is_disconnected():
            if job.version != seen or cursor < len(job.metrics):
                # read `finished` first: the worker's last metrics land before its final state,
                # so a payload taken after a finished job's state holds every epoch
                seen, finished = job.version, job.finished
                payload, cursor = job_event(job, cursor)
                yield sse(payload, event_id=cursor)
                if finished:
                    yield sse({"state": job.state, "message": job.message}, "end")
                    return
            await asyncio.sleep(1 / STREAM_HZ)

    return StreamingResponse(events(), media_type="text/event-stream", headers=HEADERS)


async def job_status(request: Request) -> Response:
    """GET /api/jobs/{id}?key=…: the job's status and all its metrics as JSON."""
    job = access.find(request)
    if job is None:
        return access.not_found()
    payload, _ = job_event(job, 0)
    return JSONResponse(json.loads(json.dumps(payload, default=plain)), headers={"Cache-Control": "no-store"})


async def debug_jobs(request: Request) -> Response:
    """GET /api/debug/jobs, mounted only with PLAYGROUND_BENCH_ROUTES=1 (it lists every session's runs, with
    their keys, for the benchmarks): each job's id, key, state, submit time, epochs done and latest progress."""
    jobs = [{"id": j.id, "key": access.job_key(j.id), "state": j.state, "created": j.created, "epochs": j.epochs,
             "metrics": len(j.metrics), "progress": j.progress} for j in server.pool().jobs()]
    return JSONResponse(json.loads(json.dumps({"stats": server.pool().stats(), "jobs": jobs}, default=plain)))
