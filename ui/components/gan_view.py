"""The GAN lab's live view: a components-v2 canvas fed by the job's view stream (ui/server/gan_stream.py).

For 2-D data it draws, as GAN Lab does, the real samples and the generated ones over the discriminator's
decision surface, an arrow on each of some generated samples along which the generator's next step pushes
it, and the generator's manifold (a grid of noise carried into data space); beside them a counter of the
modes the generator covers (filled rings on the plot: covered), both losses per epoch and the modes covered
over time, so that mode collapse shows and is counted. For images: a grid of samples from fixed noise and a
walk between two noise vectors. Layers switch on and off in the browser (no rerun). Frames arrive up to
~15 a second over Server-Sent Events; where the stream fails the page polls and hands over the latest frame
(`feed`, see ui/views/live.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

from ui import server
from ui.components.feed import JS as feed_js
from ui.components.feed import expected_state
from ui.server.gan_stream import encode_view, slim, view_of
from ui.server.streams import retry_s

COLORS = {"real": "#009E73", "fake": "#CC79A7", "mid": "#eeeeee", "arrow": "#333333", "manifold": "#7a3b69",
          "d": "#0072B2", "g": "#D55E00"}  # Okabe–Ito: real green, generated purple, D blue, G vermilion
HEIGHT = 560

_HTML = """
<div class="gl" data-state="" data-epoch="0" data-covered="">
  <div class="head">
    <span class="phase" data-testid="gan-phase"></span>
    <span>Epoch <b class="epoch">0</b></span>
    <span>generator steps <b class="gsteps">0</b> · discriminator steps <b class="dsteps">0</b></span>
    <span class="status"></span>
  </div>
  <div class="main">
    <div class="left">
      <div class="plot" aria-label="real and generated samples over the discriminator's view">
        <div class="clip"><canvas class="surface" data-draws="0" width="1" height="1"></canvas></div>
        <canvas class="layer"></canvas>
      </div>
      <div class="imgs" hidden>
        <div class="cap">Samples from fixed noise</div><canvas class="grid" data-draws="0"></canvas>
        <div class="cap">A walk from one noise vector to another</div><canvas class="walk"></canvas>
      </div>
      <div class="toggles"></div>
    </div>
    <div class="right">
      <div class="counter" hidden>
        <div class="big"><b class="covered" data-testid="gan-covered">–</b><span class="of"></span></div>
        <div class="what">modes covered</div>
        <div class="hq"></div>
      </div>
      <div class="losses"><span class="dl">discriminator loss <b class="dloss">–</b></span>
        <span class="gl2">generator loss <b class="gloss">–</b></span></div>
      <canvas class="lossplot" aria-label="both losses per epoch"></canvas>
      <canvas class="modeplot" aria-label="modes covered per epoch"></canvas>
      <div class="note"></div>
    </div>
  </div>
</div>
"""

_CSS = """
.gl { font: 13px "Source Sans Pro", sans-serif; color: var(--st-text-color, #31333f); user-select: none; }
.head { display: flex; flex-wrap: wrap; gap: 4px 16px; align-items: baseline; min-height: 24px;
        font-variant-numeric: tabular-nums; }
.phase { font-weight: 600; padding: 1px 8px; border-radius: 10px; background: rgba(128,128,128,.15); }
.status { opacity: .75; }
.main { display: flex; gap: 18px; align-items: flex-start; }
.left { flex: 0 0 auto; }
.plot { position: relative; }
.clip { position: absolute; overflow: hidden; }
.surface { position: absolute; image-rendering: auto; }
.layer { position: absolute; left: 0; top: 0; }
.imgs canvas { display: block; image-rendering: pixelated; margin-bottom: 4px; }
.cap { font-size: 12px; opacity: .8; margin: 2px 0; }
.toggles { display: flex; flex-wrap: wrap; gap: 2px 12px; margin-top: 4px; font-size: 12px; max-width: 520px; }
.toggles label { display: inline-flex; align-items: center; gap: 4px; cursor: pointer; white-space: nowrap; }
.toggles i { display: inline-block; width: 10px; height: 10px; border-radius: 50%; }
.right { flex: 1 1 auto; min-width: 200px; }
.counter { margin-bottom: 8px; }
.big { font-size: 40px; font-weight: 700; line-height: 1; font-variant-numeric: tabular-nums; }
.of { font-size: 22px; font-weight: 400; opacity: .7; margin-left: 4px; }
.what { font-size: 13px; } .hq { font-size: 12px; opacity: .75; }
.losses { display: flex; flex-wrap: wrap; gap: 2px 14px; font-variant-numeric: tabular-nums; }
.lossplot { width: 100%; height: 150px; display: block; }
.modeplot { width: 100%; height: 90px; display: block; margin-top: 6px; }
.note { font-size: 12px; opacity: .75; line-height: 1.35; margin-top: 6px; }
"""

_JS = (feed_js  # the stream and its polled fallback, shared with the 2-D page
       + Path(__file__).with_name("gan_view.js").read_text().replace("__COLORS__", json.dumps(COLORS)))

_component = st.components.v2.component("playground.gan_view", html=_HTML, css=_CSS, js=_JS)


def feed(job) -> dict:
    """What a polled update hands the view: the fields of a stream event, every epoch so far (the last 500)
    and the latest frame (with an id that changes when the frame does)."""
    view = view_of(job)
    return {"state": job.state, "message": job.message, "metrics": slim(job.metrics[-500:]),
            "progress": {"epoch": job.progress.get("epoch", 0)},
            "view": encode_view(view) if view is not None else None,
            "view_id": f"{id(view)}:{job.version}" if view is not None else None}


def gan_view(job, data: dict, key: str = "gan_view", job_key: str = "", poll: bool = False):
    """Draw the GAN lab's live view of `job` (None: nothing yet). Returns the component's state.

    data: kind ("points" or "images"), real ([[x, y], …] a sample of the real data), modes (centres, or []),
    std (their spread), range (half-width of the plot), note (a line under the charts). The view streams with
    `job_key` (the run's route key), or shows what each call hands it when `poll`."""
    payload = {"base": server.base_path(), "path": f"api/gan/{job.id}/stream?key={job_key}"
               if job and job_key else None, "state": expected_state(job), "message": job.message if job else "",
               "colors": COLORS, "height": HEIGHT, **data, "feed": feed(job) if job and poll else None,
               "retry": retry_s() * 1000}
    return _component(data=payload, key=key, default={"stream": None}, height=HEIGHT,
                      on_state_change=lambda: None, on_stream_change=lambda: None)
