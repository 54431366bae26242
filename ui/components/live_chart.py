"""The live training chart: a components-v2 canvas that subscribes to a job's event stream.

Points are appended in the browser as Server-Sent Events arrive (~10 a second), so watching a run
costs no script rerun. If the stream cannot be opened (a proxy that drops the app's routes), the component
reports `stream: "failed"` and the page polls instead, handing it the run's data (`feed`); it retries the
stream meanwhile and reports `stream: "ok"` once it works (see ui/views/live.py).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui import keys, server
from ui.components import speak
from ui.server.streams import retry_s, thin

PALETTE = {"train": "#0072B2", "val": "#E69F00", "live": "#56B4E9", "other": "#999999"}  # Okabe–Ito

_HTML = """
<div class="lc">
  <div class="status" data-testid="live-status">Press Train to start a run.</div>
  <div class="bar"><div class="fill"></div></div>
  <div class="legend" data-testid="live-legend"></div>
  <canvas class="chart" data-points="0" data-updates="0" data-state="" role="img"
          aria-label="training curves: loss and accuracy per epoch, summed up below"></canvas>
  <p class="sr" role="status" aria-live="polite" aria-atomic="true" data-testid="live-summary"></p>
  <details class="table" data-testid="live-table"><summary>Show as table</summary>
    <div class="tbl" tabindex="0"></div></details>
</div>
"""

_CSS = """
.lc { font: 13px "Source Sans Pro", sans-serif; color: var(--st-text-color, #31333f); }
.status { min-height: 1.4em; margin-bottom: 4px; font-variant-numeric: tabular-nums; }
.bar { height: 6px; background: rgba(128,128,128,.2); border-radius: 3px; margin-bottom: 6px; }
.fill { height: 100%; width: 0; background: #0072B2; border-radius: 3px; transition: width .1s; }
.legend { display: flex; flex-wrap: wrap; gap: 2px 14px; min-height: 1.3em; font-size: 12px; }
.legend span { display: inline-flex; align-items: center; gap: 5px; white-space: nowrap; }
.legend i { display: inline-block; width: 22px; height: 0; border-top: 2px solid; }
canvas { width: 100%; height: 270px; display: block; }
@media (prefers-reduced-motion: reduce) { .fill { transition: none; } }
""" + speak.CSS

_JS = speak.JS + (Path(__file__).parent / "live_chart.js").read_text()

_component = st.components.v2.component("playground.live_chart", html=_HTML, css=_CSS, js=_JS)


def live_chart(job, overlay: list[dict] | None = None, metric: dict | None = None, key: str = keys.RUN("chart"),
               job_key: str = "", poll: bool = False, scale: str = ""):
    """Draw `job`'s curves live from its stream (opened with `job_key`, the run's route key), or from the data
    handed over on each call when `poll`; returns the component's state (ended, stream).

    `metric`: the task's score beside the loss, {"key": "accuracy", "title": "accuracy"} (a 0 … 1 panel of
    train_<key> and val_<key>), or None for the loss alone.
    `overlay`: earlier runs, each {"label", "metrics", "color"}, drawn dotted and named in the legend.
    Charts given the same `scale` (e.g. an A/B pair) share one loss axis, so their curves compare by eye."""
    data = {"base": server.base_path(), "palette": PALETTE, "job": job.id if job else "",
            "path": f"api/jobs/{job.id}/stream?key={job_key}" if job and job_key else None,
            "epochs": job.epochs if job else 1, "overlay": overlay or [], "metric": metric,
            "finished": bool(job and job.finished),
            "metrics": thin(job.metrics) if job and (job.finished or poll) else [],
            "state": job.state if job else "", "message": job.message if job else "",
            "feed": {"progress": job.progress, "info": job.info, "queue": job.queue_position}
            if job and poll else None, "retry": retry_s() * 1000, "scale": scale}
    return _component(data=data, key=key, default={"ended": None, "stream": None},
                      on_ended_change=lambda: None, on_stream_change=lambda: None, height="content")
