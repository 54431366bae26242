"""A pad to draw points on (components v2, no iframe): the data a GAN learns to imitate, drawn by hand.

Click to place a point; drag to lay down a trail of points (one every few pixels). When a stroke ends the
pad sends all its points as `{"points": [[x, y], …], "n": nonce}` in data coordinates (x right, y up,
within ±`range`), at most `most` of them; Clear sends an empty drawing (the page keeps its last one).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

_HTML = """
<div class="pc">
  <canvas class="pad" width="240" height="240" aria-label="drawing pad: click or drag to draw points"></canvas>
  <div class="row"><button type="button" class="clear">Clear</button><span class="hint"></span></div>
</div>
"""

_CSS = """
.pc { font: 13px "Source Sans Pro", sans-serif; color: var(--st-text-color, #31333f); user-select: none; }
.pad { width: 100%; max-width: 240px; height: auto; aspect-ratio: 1; display: block;
       border: 1px solid rgba(128,128,128,.6); border-radius: 4px;
       background: #fff; cursor: crosshair; touch-action: none; }
.row { display: flex; gap: 10px; align-items: center; margin-top: 6px; }
.clear { font: inherit; padding: 3px 12px; border-radius: 6px; cursor: pointer; background: transparent;
         color: inherit; border: 1px solid rgba(128,128,128,.6); }
.hint { opacity: .7; font-size: 12px; }
"""

_JS = Path(__file__).with_name("point_canvas.js").read_text()

_component = st.components.v2.component("playground.point_canvas", html=_HTML, css=_CSS, js=_JS)


def point_canvas(points: list, points_key: str, range_: float, most: int, color: str, key: str,
                 on_change=None):
    """Draw the pad with `points` ([[x, y], …]); returns its state ({"drawing": {"points", "n"}} after a stroke).
    `points_key` changes when the page's points do (the pad then shows them instead of its own)."""
    return _component(data={"points": points, "points_key": points_key, "range": range_, "most": most,
                            "color": color}, key=key, default={"drawing": None}, height=280,
                      on_drawing_change=on_change or (lambda: None))
