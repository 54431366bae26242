"""A drawing pad (components v2: inline HTML/CSS/JS, no iframe): draw a digit with a mouse, pen, finger or the
keyboard (Tab to the pad; arrow keys move the pen, Space lifts or lowers it, and a lifted pen sends the drawing).

Strokes are drawn on a fine hidden canvas; when one ends, the ink is fitted to the picture the way the
digits data was made (the drawing's bounding box scaled to the full height and centred, when `fit`) and
averaged down to h×w pixels in [0, 1] (1 = ink). The pad shows those pixels, so what you see is what the
model gets. The value comes back as `{"pixels": [h*w floats], "n": nonce}`; Clear sends `{"cleared": true}`.
"""

from __future__ import annotations

import streamlit as st

from ui import state

_HTML = """
<div class="dc">
  <canvas class="pad" width="224" height="224" tabindex="0" role="application" aria-roledescription="drawing pad"
    aria-label="Drawing pad: draw with the mouse or a finger, or with the keyboard: arrow keys move the pen,
    Space lowers or lifts it; lifting it sends the drawing"></canvas>
  <div class="row"><button type="button" class="clear">Clear</button><span class="hint"></span></div>
</div>
"""

_CSS = """
.dc { font: 13px "Source Sans Pro", sans-serif; color: var(--st-text-color, #31333f); user-select: none; }
.pad { width: 224px; height: 224px; display: block; border: 1px solid rgba(128,128,128,.6); border-radius: 4px;
       background: #fff; cursor: crosshair; touch-action: none; }
.row { display: flex; gap: 10px; align-items: center; margin-top: 6px; }
.clear { font: inherit; padding: 3px 12px; border-radius: 6px; cursor: pointer; background: transparent;
         color: inherit; border: 1px solid rgba(128,128,128,.6); }
.clear:hover { border-color: var(--st-primary-color, #ff4b4b); }
.hint { opacity: .7; }
.pad:focus-visible, .clear:focus-visible { outline: 2px solid var(--st-primary-color, #0072B2); outline-offset: 2px; }
"""

_JS = r"""
export default function ({ parentElement, data, setStateValue }) {
  const root = parentElement.querySelector(".dc");
  const pad = root.querySelector(".pad"), ctx = pad.getContext("2d");
  const h = data.h, w = data.w, S = pad.width;
  // all state on the element: Streamlit calls this again with the same DOM when `data` changes
  const s = (root.__s ||= { ink: null, pixels: null, drawing: false, last: null, sent: null });
  if (!s.ink) {
    s.ink = document.createElement("canvas"); s.ink.width = S; s.ink.height = S;
    if (Array.isArray(data.pixels) && data.pixels.length === h * w) {  // a drawing kept from before: repaint it
      s.pixels = data.pixels.slice();
      const c = s.ink.getContext("2d");
      data.pixels.forEach((v, i) => { if (v > 0) { c.fillStyle = `rgba(0,0,0,${v})`;
        c.fillRect((i % w) * S / w, Math.floor(i / w) * S / h, S / w, S / h); } });
    }
  }
  const inkCtx = s.ink.getContext("2d");
  root.querySelector(".hint").textContent = data.hint || "";
  draw();

  function pixels() {
    const img = inkCtx.getImageData(0, 0, S, S).data;
    let x0 = S, y0 = S, x1 = -1, y1 = -1;
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) if (img[(y * S + x) * 4 + 3] > 24) {
      if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y; }
    if (x1 < 0) return null;
    const fine = document.createElement("canvas"); fine.width = 4 * w; fine.height = 4 * h;
    const f = fine.getContext("2d"); f.imageSmoothingEnabled = true; f.imageSmoothingQuality = "high";
    if (data.fit) {  // the bounding box scaled to fill the picture, centred (how the digits were made)
      const bw = x1 - x0 + 1, bh = y1 - y0 + 1, k = Math.min(4 * w / bw, 4 * h / bh);
      const dw = bw * k, dh = bh * k;
      f.drawImage(s.ink, x0, y0, bw, bh, (4 * w - dw) / 2, (4 * h - dh) / 2, dw, dh);
    } else f.drawImage(s.ink, 0, 0, S, S, 0, 0, 4 * w, 4 * h);
    const a = f.getImageData(0, 0, 4 * w, 4 * h).data, out = new Array(h * w).fill(0);
    for (let y = 0; y < 4 * h; y++) for (let x = 0; x < 4 * w; x++)
      out[Math.floor(y / 4) * w + Math.floor(x / 4)] += a[(y * 4 * w + x) * 4 + 3] / 255 / 16;
    const m = Math.max(...out);
    return out.map((v) => Math.round((m > 0 ? v / m : 0) * 1000) / 1000);
  }

  function draw() {
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, S, S);
    if (s.pixels) s.pixels.forEach((v, i) => {
      const g = Math.round(255 - v * 221);
      ctx.fillStyle = `rgb(${g},${g},${g})`;
      ctx.fillRect((i % w) * S / w, Math.floor(i / w) * S / h, S / w + 0.5, S / h + 0.5);
    });
    if (s.drawing) { ctx.globalAlpha = 0.35; ctx.drawImage(s.ink, 0, 0); ctx.globalAlpha = 1; }
    ctx.strokeStyle = "rgba(128,128,128,.25)"; ctx.lineWidth = 1; ctx.beginPath();
    for (let i = 1; i < w; i++) { ctx.moveTo(i * S / w + 0.5, 0); ctx.lineTo(i * S / w + 0.5, S); }
    for (let i = 1; i < h; i++) { ctx.moveTo(0, i * S / h + 0.5); ctx.lineTo(S, i * S / h + 0.5); }
    ctx.stroke();
    if (s.pen && root.getRootNode().activeElement === pad) {
      const [x, y] = s.pen, r = S * (data.brush || 0.085) / 2;  // the keyboard's pen: a ring, filled when down
      ctx.strokeStyle = "#D55E00"; ctx.lineWidth = 2; ctx.beginPath(); ctx.arc(x, y, r, 0, 7); ctx.stroke();
      if (s.down) { ctx.fillStyle = "rgba(213,94,0,.35)"; ctx.fill(); }
    }
  }

  function at(e) { const r = pad.getBoundingClientRect(); return [(e.clientX - r.left) * S / r.width,
                                                                     (e.clientY - r.top) * S / r.height]; }
  function line(p, q) {
    inkCtx.strokeStyle = "#000"; inkCtx.lineCap = "round"; inkCtx.lineJoin = "round";
    inkCtx.lineWidth = S * (data.brush || 0.085);
    inkCtx.beginPath(); inkCtx.moveTo(p[0], p[1]); inkCtx.lineTo(q[0], q[1]); inkCtx.stroke();
  }
  pad.onpointerdown = (e) => {
    if (e.pointerType === "mouse" && e.button !== 0) return;
    e.preventDefault(); pad.setPointerCapture(e.pointerId);
    s.drawing = true; s.last = at(e); line(s.last, s.last); draw();
  };
  pad.onpointermove = (e) => {
    if (!s.drawing) return;
    const p = at(e); line(s.last, p); s.last = p;
    if (!s.frame) s.frame = requestAnimationFrame(() => { s.frame = 0; s.pixels = pixels(); draw(); });
  };
  const end = () => {
    if (!s.drawing) return;
    s.drawing = false; s.pixels = pixels(); draw();
    if (s.pixels) setStateValue("pixels", { pixels: s.pixels, n: `${Date.now()}-${Math.random()}` });
  };
  pad.onpointerup = end; pad.onpointercancel = end;
  // the keyboard: the pen moves one picture pixel per arrow press, drawing while it is down
  s.pen ||= [S / 2, S / 2];
  pad.onfocus = draw; pad.onblur = () => { if (s.down) { s.down = false; end(); } draw(); };
  pad.onkeydown = (e) => {
    const step = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[e.key];
    if (step) {
      e.preventDefault();
      const clamp = (v) => Math.max(0, Math.min(S, v));
      const p = s.pen, q = [clamp(p[0] + step[0] * S / w), clamp(p[1] + step[1] * S / h)];
      if (s.down) line(p, q);
      s.pen = q;
      if (s.down) s.pixels = pixels();
      draw();
    } else if (e.key === " " || e.key === "Enter") {
      e.preventDefault();
      if (!s.down) { s.down = true; s.drawing = true; line(s.pen, s.pen); s.pixels = pixels(); draw(); }
      else { s.down = false; end(); }
    }
  };
  root.querySelector(".clear").onclick = () => {
    inkCtx.clearRect(0, 0, S, S); s.pixels = null; draw();
    setStateValue("pixels", { cleared: true, n: `${Date.now()}-${Math.random()}` });
  };
}
"""

_component = st.components.v2.component("playground.draw_canvas", html=_HTML, css=_CSS, js=_JS)


def draw_canvas(h: int, w: int, key: str, pixels: list[float] | None = None, fit: bool = True,
                hint: str = "") -> tuple[list[float] | None, bool]:
    """Draw the pad; returns (the h*w pixel values, row by row, 0 … 1, of the latest drawing or None,
    whether the pad was cleared).

    `pixels` repaints an earlier drawing (e.g. after a page switch). Reads the widget's value (ui.state.widget),
    so a test can set it under `key` to `{"pixels": [...]}`.
    """
    _component(data={"h": h, "w": w, "fit": fit, "pixels": pixels, "hint": hint}, key=key,
               default={"pixels": None}, on_pixels_change=lambda: None, height=262)
    value = state.widget(key)
    got = value.get("pixels") if hasattr(value, "get") else None
    if isinstance(got, dict):
        if got.get("cleared"):
            return None, True
        got = got.get("pixels")
    if isinstance(got, list) and len(got) == h * w:
        try:
            return [min(1.0, max(0.0, float(v))) for v in got], False
        except (TypeError, ValueError):
            pass
    return None, False
