"""GET /api/gan/{job}/stream?key=…: the GAN lab's live view as Server-Sent Events, for ui/components/gan_view.py.

Each event carries the state, the epoch metrics since the last event (both losses, modes covered) and, when
the worker has made a new one, the `gan2d` or `gan_images` view (playground/gan_views.py) with its arrays as
base64 bytes: float32 points for the made samples, the arrows and the manifold, one byte a pixel for the
surface and the images. ~15 KB an event, up to ~15 a second; no Streamlit call, no script rerun. Only the
run's owner can read it (ui/server/access.py); reading it never changes the run.
"""

from __future__ import annotations

import asyncio
import base64
import time

import numpy as np
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ui.server import access
from ui.server.streams import HEADERS, sse

POLL = 0.02  # seconds between looks at the job: a new view goes out within this
MIN_GAP = 0.09  # seconds between events that carry no new view (metrics, progress)
VIEWS = ("gan2d", "gan_images")
KEYS = ("epoch", "d_loss", "g_loss", "train_loss", "val_loss", "modes_covered", "high_quality")
ARRAYS = ("fake", "arrows", "manifold", "surface", "samples", "walk")


def _b64(a: np.ndarray) -> str:
    a = np.asarray(a)
    a = np.ascontiguousarray(a, dtype=np.uint8 if a.dtype == np.uint8 else np.float32)
    return base64.b64encode(a.tobytes()).decode()


def view_of(job) -> dict | None:
    """The job's latest GAN view, whichever kind it asked for."""
    return next((job.views[k] for k in VIEWS if k in job.views), None)


def encode_view(view: dict) -> dict:
    """A GAN view as JSON for the browser: arrays as base64 bytes, everything else as it is."""
    out = {}
    for k, v in view.items():
        if k in ARRAYS:
            out[k] = _b64(v)
        elif isinstance(v, np.generic):
            out[k] = v.item()
        else:
            out[k] = v
    return out


def slim(metrics: list[dict]) -> list[dict]:
    """What the lab draws of each epoch's metrics."""
    return [{k: m[k] for k in KEYS if k in m} for m in metrics]


def event(job, cursor: int, view: dict | None) -> tuple[dict, int]:
    """One message: state, progress, new metrics since `cursor` and (when given) the encoded view."""
    new, cursor = job.events_since(cursor)
    p = job.progress
    payload = {"state": job.state, "message": job.message, "metrics": slim(new),
               "progress": {"epoch": p.get("epoch", 0), "steps": p.get("steps", 0),
                            "steps_per_s": p.get("steps_per_s", 0)}}
    if view is not None:
        payload["view"] = encode_view(view)
    return payload, cursor


async def stream(request: Request) -> Response:
    """The route: events while the job lives, then 'end'; an unknown job or a wrong key gets a 404."""
    job = access.find(request)
    if job is None:
        return access.not_found()
    cursor = access.resume_from(request, job)

    async def events():
        nonlocal cursor
        sent_view, seen, last = None, -1, 0.0
        while not await request.is_disconnected():
            done = job.finished  # read first: a finished job's last view arrived before its end state
            view = view_of(job)
            fresh = view is not None and view is not sent_view
            now = time.monotonic()
            if fresh or (job.version != seen and (done or now - last >= MIN_GAP)):
                seen, last = job.version, now
                payload, cursor = event(job, cursor, view if fresh else None)
                sent_view = view
                yield sse(payload, event_id=cursor)
            if done:
                yield sse({"state": job.state, "message": job.message}, "end")
                return
            await asyncio.sleep(POLL)

    return StreamingResponse(events(), media_type="text/event-stream", headers=HEADERS)
