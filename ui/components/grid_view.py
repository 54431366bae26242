"""The 2-D playground's live view: a components-v2 canvas fed by the job's view stream (ui/server/grid_stream.py).

One component draws the network (a thumbnail of what every neuron computes, edges coloured and sized by
the live weights, hover for a weight or a bias), the output's decision surface with the train and test
points, the loss curves and the last hidden layer's view of the data. Frames arrive ~10 a second over
Server-Sent Events and are drawn in the browser: watching a run costs no script rerun. Points are sent
once through `data=`; each frame is only the packed maps and weights. Where the stream fails (a proxy that
blocks the app's routes) the page polls and hands over the latest frame itself (`feed`, see ui/views/live.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

from ui import keys, server
from ui.components import speak
from ui.components.feed import JS as feed_js
from ui.components.feed import expected_state
from ui.server.grid_stream import encode_view
from ui.server.streams import retry_s, thin

TF = {"neg": "#f59322", "mid": "#e8eaeb", "pos": "#0877bd"}  # TensorFlow Playground: orange -1, blue +1
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9"]  # colour-blind safe
HEIGHT = 600
NET_FRACTION = 0.58  # share of the width the network takes; the page's layer controls use the same split

_HTML = """
<div class="pg" data-state="" data-epoch="0">
  <div class="head">
    <span class="ep">Epoch <b class="epoch" data-testid="pg-epoch">000,000</b></span>
    <span class="status"></span>
  </div>
  <div class="main">
    <div class="net" tabindex="0" role="group" data-testid="pg-net"><canvas class="edges"></canvas>
      <div class="nodes"></div><div class="tip" hidden></div>
      <div class="wlegend" aria-hidden="true"><span><i class="pos"></i>positive weight</span>
        <span><i class="neg"></i>negative weight</span></div></div>
    <div class="out">
      <div class="losses"><span>Test loss <b class="test-loss">–</b></span>
        <span>Training loss <b class="train-loss">–</b></span><span class="acc"></span></div>
      <canvas class="lossplot" role="img" aria-label="training and test loss per epoch (Show as table lists them)">
      </canvas>
      <div class="plot" role="img" aria-label="the network's output over the plane, with the data points">
        <div class="clip"><canvas class="surface" data-draws="0" width="1" height="1"></canvas></div>
        <canvas class="overlay"></canvas>
      </div>
      <div class="legend"></div>
      <div class="below">
        <div class="hid"><div class="cap"></div>
          <canvas class="hidden" role="img" aria-label="the data as the last hidden layer sees it"></canvas></div>
        <div class="note"></div>
      </div>
    </div>
  </div>
  <p class="sr" role="status" aria-live="polite" aria-atomic="true" data-testid="pg-summary"></p>
  <details class="table" data-testid="pg-table"><summary>Show as table</summary>
    <div class="tbl" tabindex="0"></div><div class="tbl2 tbl" tabindex="0"></div></details>
</div>
"""

_CSS = """
.pg { font: 12px "Source Sans Pro", sans-serif; color: var(--st-text-color, #31333f); user-select: none; }
.head { display: flex; gap: 14px; align-items: baseline; height: 26px; font-variant-numeric: tabular-nums; }
.ep { font-size: 13px; } .epoch { font-size: 20px; font-weight: 600; letter-spacing: .5px; }
.status { opacity: .75; }
.main { display: flex; gap: 12px; }
.net { position: relative; flex: 0 0 auto; }
.edges { position: absolute; left: 0; top: 0; cursor: help; }
.node { position: absolute; box-sizing: border-box; border: 1px solid rgba(128,128,128,.55); background: #fff;
        cursor: help; }
.node canvas { width: 100%; height: 100%; display: block; }
.node.outk { border-radius: 50%; }
.lab { position: absolute; font-size: 11px; text-align: right; white-space: nowrap; pointer-events: none; }
.colhead { position: absolute; top: 0; font-size: 11px; text-align: center; line-height: 1.25; opacity: .85;
           pointer-events: none; }
.tip { position: absolute; z-index: 5; background: rgba(30,30,30,.92); color: #fff; padding: 3px 6px;
       border-radius: 4px; font-size: 12px; pointer-events: none; white-space: nowrap; }
.out { flex: 1 1 auto; min-width: 0; }
.losses { display: flex; gap: 14px; height: 18px; font-variant-numeric: tabular-nums; }
.lossplot { width: 100%; height: 46px; display: block; }
.plot { position: relative; }
.clip { position: absolute; overflow: hidden; }
.surface { position: absolute; image-rendering: auto; }
.overlay { position: absolute; left: 0; top: 0; pointer-events: none; }
.legend { display: flex; gap: 8px; align-items: center; height: 18px; margin: 2px 0 4px 34px; font-size: 11px; }
.legend .bar { width: 120px; height: 8px; border-radius: 2px; }
.legend .sw { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 3px;
              vertical-align: -1px; }
.below { display: flex; gap: 10px; align-items: flex-start; }
.hid .cap { font-size: 11px; opacity: .85; height: 15px; }
.hidden { width: 140px; height: 140px; display: block; border: 1px solid rgba(128,128,128,.35); }
.note { font-size: 11px; opacity: .75; padding-top: 15px; max-width: 170px; line-height: 1.3; }
.wlegend { position: absolute; left: 0; bottom: 0; display: flex; gap: 12px; font-size: 11px; pointer-events: none; }
.wlegend i { display: inline-block; width: 22px; height: 0; border-top: 3px solid; margin-right: 4px;
             vertical-align: middle; }
.wlegend .pos { border-top-color: #0877bd; } .wlegend .neg { border-top-color: #f59322; border-top-style: dashed; }
.net:focus-visible { outline: 2px solid var(--st-primary-color, #0072B2); outline-offset: 2px; }
.shape { font-size: 12px; margin-right: 3px; }
""" + speak.CSS

_PARTS = ("grid_speak.js", "grid_view.js")  # kept apart: plain JavaScript, no escaping
_JS = ((speak.JS + feed_js + "".join(Path(__file__).with_name(f).read_text() for f in _PARTS))
       .replace("__TF__", json.dumps(TF)).replace("__OKABE__", json.dumps(OKABE_ITO))
       .replace("__NETFRAC__", str(NET_FRACTION)))

_component = st.components.v2.component("playground.grid_view", html=_HTML, css=_CSS, js=_JS)


def feed(job) -> dict:
    """What a polled update hands the view: the fields of a stream event, every epoch so far (thinned) and the
    latest frame (with an id that changes when the frame does)."""
    view = job.views.get("grid2d")
    p = job.progress
    last = job.metrics[-1]["epoch"] if job.metrics else 0
    return {"state": job.state, "message": job.message, "epoch": max(last, p.get("epoch", 0)),
            "metrics": thin(job.metrics), "view": encode_view(view) if view is not None else None,
            "view_id": f"{id(view)}:{job.version}" if view is not None else None}


def grid_view(job, structure: dict, points: dict, show_test: bool, discretize: bool, note: str = "",
              key: str = keys.PG2D("view"), job_key: str = "", poll: bool = False):
    """Draw the live 2-D view of `job` (None: the network without a run). Returns the component's state.

    structure: features, hidden, acts, outputs, problem, classes, class_names; points: {"train": [[x, y,
    label], …], "test": …, "key": a string that changes when the points do}. The view streams with `job_key`
    (the run's route key), or shows what each call hands it when `poll`.
    """
    data = {"base": server.base_path(), "path": f"api/playground/{job.id}/stream?key={job_key}"
            if job and job_key else None, "state": expected_state(job), "message": job.message if job else "",
            **structure, "points": {"train": points["train"], "test": points["test"]}, "points_key": points["key"],
            "show_test": show_test, "discretize": discretize, "note": note, "height": HEIGHT,
            "feed": feed(job) if job and poll else None, "retry": retry_s() * 1000}
    return _component(data=data, key=key, default={"stream": None}, height="content",
                      on_state_change=lambda: None, on_stream_change=lambda: None)
