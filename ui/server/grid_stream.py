"""GET /api/playground/{job}/stream?key=…: a job's 2-D live view as Server-Sent Events, for ui/components/grid_view.py.

Each event carries the state, the epoch metrics since the last event and, when the worker has made a
new one, the `grid2d` view packed small: maps as base64 bytes (0…255 for -1…1), weights as rounded
numbers. ~8 KB an event at 64×64, ~10 events a second; no Streamlit call, no script rerun. The worker
packs the maps (`grid2d(pack=True)`), so serving a frame here is base64 and JSON only. Only the run's owner
can read it (ui/server/access.py), and reading it never changes the run: a run nobody watches is bounded by
its owner's session (ui/server/owners.py), not by its viewers.
"""

from __future__ import annotations

import base64

import numpy as np
from starlette.requests import Request
from starlette.responses import Response

from playground.probe import pack2d
from ui.server.streams import slim, view_stream

POLL = 0.04  # seconds between looks at the job: a new view goes out within this


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype=np.uint8).tobytes()).decode()


def _round(a: np.ndarray, digits: int = 4) -> list:
    a = np.nan_to_num(np.asarray(a, dtype=np.float64), nan=0.0, posinf=1e6, neginf=-1e6)
    return np.round(np.clip(a, -1e6, 1e6), digits).tolist()


def encode_view(view: dict) -> dict:
    """A `probe.grid2d` view as JSON for the browser: the packed maps (see `probe.pack2d`) in base64."""
    v = pack2d(view)  # the worker packs already when asked (`pack=True`); this is a no-op then
    return {
        "epoch": int(v.get("epoch", 0)), "res": int(v["res"]), "nres": int(v.get("neuron_res", v["res"])),
        "mode": v["mode"], "surface": _b64(v["surface"]), "layers": v["layers"], "neurons": _b64(v["neurons"]),
        "weights": [_round(w) for w in v["weights"]], "biases": [_round(b) for b in v.get("biases", [])],
        "hidden": _b64(v["hidden"]), "hidden_scale": v["hidden_scale"],
    }


def event(job, cursor: int, view: dict | None) -> tuple[dict, int]:
    """One message: state, progress, new metrics since `cursor` and (when given) the packed view."""
    new, cursor = job.events_since(cursor)
    p = job.progress
    payload = {"state": job.state, "message": job.message, "epochs": job.epochs, "metrics": slim(new),
               "progress": {"epoch": p.get("epoch", 0), "steps_per_s": p.get("steps_per_s", 0)}}
    if view is not None:
        payload["view"] = encode_view(view)
    return payload, cursor


def view_of(job) -> dict | None:
    """The job's latest 2-D view."""
    return job.views.get("grid2d")


async def stream(request: Request) -> Response:
    """The route: events while the job lives, then 'end'; an unknown job or a wrong key gets a 404."""
    return await view_stream(request, view_of, event, POLL)
