// The GAN lab's live view (ui/components/gan_view.py): draws frames streamed by ui/server/gan_stream.py.
const C = __COLORS__;
const hex = (h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
const REAL = hex(C.real), FAKE = hex(C.fake), MID = hex(C.mid);
const mix = (a, b, t) => [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * t));
const LUT = new Uint8ClampedArray(256 * 3);  // the discriminator's p(real): 0 purple … 0.5 grey … 1 green
for (let i = 0; i < 256; i++) { const t = i / 127.5 - 1; LUT.set(t >= 0 ? mix(MID, REAL, t * 0.42) : mix(MID, FAKE, -t * 0.42), i * 3); }
const LAYERS = [["real", "Real samples", C.real], ["fake", "Generated samples", C.fake],
  ["surface", "Discriminator's view (green: real)", null], ["arrows", "Generator's gradients", C.arrow],
  ["manifold", "Generator's manifold", C.manifold], ["modes", "Modes (filled: covered)", "#000"]];
const ENDED = ["done", "failed", "stopped"];
function bytes(b64) { const s = atob(b64 || ""), a = new Uint8Array(s.length); for (let i = 0; i < s.length; i++) a[i] = s.charCodeAt(i); return a; }
function floats(b64) { const b = bytes(b64); return new Float32Array(b.buffer, 0, b.length >> 2); }
function fmt(v) { return v == null || !isFinite(v) ? "–" : Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(3); }

export default function ({ parentElement, data, setStateValue, setTriggerValue }) {
  const root = parentElement, gl = root.querySelector(".gl");
  const $ = (q) => gl.querySelector(q);
  const surf = $(".surface"), layer = $(".layer"), clip = $(".clip"), plotEl = $(".plot");
  // Streamlit re-invokes this function on every data change with the same DOM and without the old cleanup:
  // all state lives on the root element, and an open stream for the same URL is kept.
  const s = (gl.__s ||= { es: null, url: null, view: null, metrics: [], draws: 0, fails: 0, state: "", epoch: 0,
                          show: { real: true, fake: true, surface: true, arrows: true, manifold: false, modes: true },
                          ro: null, told: null, got: false, said: null, timer: null, watch: null, frameId: null });
  s.data = data;
  const base = (data.base || "").replace(/^\/+|\/+$/g, "");
  const url = data.path ? `${location.origin}/${base ? base + "/" : ""}${data.path}` : null;
  s.fn = { message, end, layout, take, say, retry, draw };
  s.feed = data.feed || null;
  if (s.url !== url || s.kind !== data.kind) {
    close(); clearTimeout(s.timer); s.timer = null;
    Object.assign(s, { url, kind: data.kind, view: null, metrics: [], fails: 0, epoch: 0, frameId: null,
                       state: data.state || "", message: data.message || "" });
    if (url && !ENDED.includes(data.state)) open();
  }
  if (!s.es && data.state) { s.state = data.state; s.message = data.message || ""; }
  toggles();
  layout();
  if (s.feed && !(s.es && s.got)) s.fn.take(s.feed);
  if (s.feed && url && !ENDED.includes(data.state) && !s.es && !s.timer) s.timer = setTimeout(() => s.fn.retry(), data.retry || 30000);
  gl.dataset.mode = s.es && s.got ? "stream" : s.feed ? "poll" : "";
  if (!s.ro) { s.ro = new ResizeObserver(() => s.fn.layout()); s.ro.observe(gl); }
  return () => { close(); clearTimeout(s.timer); s.timer = null; if (s.ro) { s.ro.disconnect(); s.ro = null; } };

  function close() { if (s.es) { s.es.close(); s.es = null; } clearTimeout(s.watch); }
  function say(v) { if (s.said !== v) { s.said = v; setStateValue("stream", v); } }
  function retry() { s.timer = null; if (s.feed && !s.es && s.url && !ENDED.includes(s.state)) open(); }
  function fail(es) {
    if (s.es !== es) return;
    close(); s.fn.say("failed"); gl.dataset.mode = s.feed ? "poll" : "";
    if (s.feed) s.timer = setTimeout(() => s.fn.retry(), s.data.retry || 30000);
  }
  function open() {
    const es = new EventSource(url); s.es = es; s.got = false; s.fails = 0;
    s.watch = setTimeout(() => { if (!s.got) fail(es); }, 10000);  // a proxy that buffers lets nothing through
    es.onmessage = (ev) => {
      if (!s.got) { s.got = true; s.metrics = []; clearTimeout(s.watch); s.fn.say("ok"); gl.dataset.mode = "stream"; }
      s.fn.message(JSON.parse(ev.data));
    };
    es.addEventListener("end", (ev) => { close(); s.fn.end(JSON.parse(ev.data)); });
    es.onerror = () => { if (es.readyState === 2 || (!s.got && ++s.fails >= 5)) fail(es); };
  }
  function take(f) {  // one polled update from the page: the fields a stream event carries
    s.state = f.state; s.message = f.message; s.metrics = f.metrics;
    if (f.view && f.view_id !== s.frameId) { s.frameId = f.view_id; s.view = decode(f.view); }
    s.fn.draw();
  }
  function message(m) {
    s.fails = 0; s.state = m.state; s.message = m.message;
    for (const e of m.metrics) s.metrics.push(e);
    if (m.view) s.view = decode(m.view);
    s.fn.draw(); tell();
  }
  function end(m) { s.state = m.state; s.message = m.message; text(); tell(); }
  // The page's buttons show the state it was drawn in: when the run moves on, ask for one rerun (once per state).
  function tell() {
    const key = `${url}|${s.state}`;
    if (s.state && s.state !== data.state && s.state !== "starting" && s.state !== "queued" && s.told !== key) {
      s.told = key; setTriggerValue("state", s.state);
    }
  }
  function decode(v) {
    const out = { ...v };
    for (const k of ["fake", "arrows", "manifold"]) if (v[k] != null) out[k] = floats(v[k]);
    for (const k of ["surface", "samples", "walk"]) if (v[k] != null) out[k] = bytes(v[k]);
    return out;
  }

  // ---- layout and the layer switches ---------------------------------------------------------------
  function toggles() {
    const box = $(".toggles");
    const want = data.kind === "points" ? LAYERS.filter(([k]) => k !== "modes" || (data.modes || []).length) : [];
    if (box.dataset.sig === JSON.stringify(want.map((w) => w[0]))) return;
    box.dataset.sig = JSON.stringify(want.map((w) => w[0])); box.textContent = "";
    for (const [k, label, color] of want) {
      const l = document.createElement("label"), cb = document.createElement("input");
      cb.type = "checkbox"; cb.checked = s.show[k]; cb.dataset.layer = k;
      cb.onchange = () => { s.show[k] = cb.checked; s.fn.draw(); };
      l.appendChild(cb);
      if (color) { const i = document.createElement("i"); i.style.background = color; l.appendChild(i); }
      l.appendChild(document.createTextNode(label)); box.appendChild(l);
    }
  }
  function layout() {
    const W = Math.max(320, gl.clientWidth || 900), H = data.height - 80;
    const points = data.kind === "points";
    gl.dataset.kind = data.kind || "";
    $(".plot").hidden = !points; $(".imgs").hidden = points; $(".counter").hidden = !(data.modes || []).length;
    $(".modeplot").style.display = (data.modes || []).length ? "block" : "none";
    const P = Math.max(200, Math.min(H - 40, W * 0.58 - 40));
    s.geo = { P, L: 40, T: 6, B: 28 };
    plotEl.style.width = (P + s.geo.L + 6) + "px"; plotEl.style.height = (P + s.geo.T + s.geo.B) + "px";
    Object.assign(clip.style, { left: s.geo.L + "px", top: s.geo.T + "px", width: P + "px", height: P + "px" });
    $(".left").style.width = (P + s.geo.L + 6) + "px";
    $(".note").textContent = data.note || "";
    s.fn.draw();
  }

  // ---- one frame -------------------------------------------------------------------------------------
  function draw() {
    if (data.kind === "points") plot(); else grids();
    text(); lossPlot(); modePlot();
  }
  function plot() {
    const g0 = s.geo, P = g0.P, R = (s.view && s.view.range) || data.range || 3, dpr = window.devicePixelRatio || 1;
    const v = s.view;
    if (v && v.surface) {
      const res = v.res;
      if (surf.width !== res) { surf.width = res; surf.height = res; }
      const w = P * res / Math.max(1, res - 1), off = -P / (2 * Math.max(1, res - 1));  // pixel centres on the grid
      Object.assign(surf.style, { width: w + "px", height: w + "px", left: off + "px", top: off + "px" });
      const ctx = surf.getContext("2d"), img = ctx.createImageData(res, res), px = img.data, a = v.surface;
      for (let p = 0; p < res * res; p++) { const i = a[p] * 3; px[p * 4] = LUT[i]; px[p * 4 + 1] = LUT[i + 1]; px[p * 4 + 2] = LUT[i + 2]; px[p * 4 + 3] = 255; }
      ctx.putImageData(img, 0, 0);
      s.draws += 1; surf.dataset.draws = String(s.draws);
    }
    surf.style.visibility = s.show.surface ? "visible" : "hidden";
    const W = P + g0.L + 6, H = P + g0.T + g0.B;
    if (layer.width !== Math.round(W * dpr)) { layer.width = Math.round(W * dpr); layer.height = Math.round(H * dpr); }
    layer.style.width = W + "px"; layer.style.height = H + "px";
    const g = layer.getContext("2d"); g.setTransform(dpr, 0, 0, dpr, 0, 0); g.clearRect(0, 0, W, H);
    const X = (x) => g0.L + (x + R) / (2 * R) * P, Y = (y) => g0.T + (R - y) / (2 * R) * P;
    const ink = getComputedStyle(root.host || gl).getPropertyValue("--st-text-color") || "#31333f";
    g.strokeStyle = "rgba(128,128,128,.6)"; g.lineWidth = 1; g.strokeRect(g0.L, g0.T, P, P);
    g.fillStyle = ink; g.font = "11px sans-serif"; g.textAlign = "center"; g.textBaseline = "top";
    const step = R <= 2 ? 0.5 : R <= 5 ? 1 : 2;
    for (let t = -Math.floor(R / step) * step; t <= R + 1e-9; t += step) {
      g.fillText(String(+t.toFixed(1)), X(t), g0.T + P + 3);
    }
    g.fillText("x₁", g0.L + P / 2, g0.T + P + 15);
    g.textAlign = "right"; g.textBaseline = "middle";
    for (let t = -Math.floor(R / step) * step; t <= R + 1e-9; t += step) g.fillText(String(+t.toFixed(1)), g0.L - 4, Y(t));
    g.save(); g.translate(7, g0.T + P / 2); g.rotate(-Math.PI / 2); g.textAlign = "center"; g.fillText("x₂", 0, 0); g.restore();
    g.save(); g.beginPath(); g.rect(g0.L, g0.T, P, P); g.clip();
    const dot = (x, y, color, r) => { g.fillStyle = color; g.beginPath(); g.arc(X(x), Y(y), r, 0, 7); g.fill(); };
    if (s.show.real) {  // a thin white edge keeps them apart from the discriminator's green
      g.strokeStyle = "rgba(255,255,255,.8)"; g.lineWidth = 0.6;
      for (const p of data.real || []) { dot(p[0], p[1], C.real, 2.3); g.stroke(); }
    }
    if (v && s.show.manifold && v.manifold) {
      const n = v.grid, m = v.manifold; g.strokeStyle = C.manifold; g.globalAlpha = 0.55; g.lineWidth = 1;
      for (let i = 0; i < n; i++) for (const dir of [0, 1]) {
        g.beginPath();
        for (let j = 0; j < n; j++) { const k = dir ? j * n + i : i * n + j; j ? g.lineTo(X(m[2 * k]), Y(m[2 * k + 1])) : g.moveTo(X(m[2 * k]), Y(m[2 * k + 1])); }
        g.stroke();
      }
      g.globalAlpha = 1;
    }
    if (v && s.show.fake && v.fake) { for (let i = 0; i < v.fake.length; i += 2) dot(v.fake[i], v.fake[i + 1], C.fake, 2.4); }
    if (v && s.show.arrows && v.arrows) {
      const a = v.arrows, f = v.fake; let top = 0;
      for (let i = 0; i < a.length; i += 2) top = Math.max(top, Math.hypot(a[i], a[i + 1]));
      const scale = top > 0 ? 0.12 * R / top : 0;  // the longest arrow: 12 % of the half-width
      g.strokeStyle = C.arrow; g.lineWidth = 1; g.globalAlpha = 0.8;
      for (let i = 0; i < a.length; i += 2) {
        const x0 = X(f[i]), y0 = Y(f[i + 1]), x1 = X(f[i] + a[i] * scale), y1 = Y(f[i + 1] + a[i + 1] * scale);
        const len = Math.hypot(x1 - x0, y1 - y0); if (len < 1.5) continue;
        const ux = (x1 - x0) / len, uy = (y1 - y0) / len, hd = Math.min(4, len * 0.4);
        g.beginPath(); g.moveTo(x0, y0); g.lineTo(x1, y1);
        g.moveTo(x1, y1); g.lineTo(x1 - hd * (ux - uy * 0.5), y1 - hd * (uy + ux * 0.5));
        g.moveTo(x1, y1); g.lineTo(x1 - hd * (ux + uy * 0.5), y1 - hd * (uy - ux * 0.5)); g.stroke();
      }
      g.globalAlpha = 1;
    }
    if (s.show.modes && (data.modes || []).length) {
      const cov = (v && v.covered) || [], rad = Math.max(6, 3 * data.std / (2 * R) * P);
      data.modes.forEach((c, k) => {
        g.beginPath(); g.arc(X(c[0]), Y(c[1]), rad, 0, 7); g.lineWidth = 1.6; g.strokeStyle = "#000";
        if (cov[k]) { g.fillStyle = "rgba(0,0,0,.28)"; g.fill(); }
        g.stroke();
      });
    }
    g.restore();
  }
  function grids() {
    const v = s.view, gcv = $(".grid"), wcv = $(".walk");
    if (!v || !v.samples) return;
    const h = v.h, w = v.w, n = v.samples.length / (h * w), cols = Math.ceil(Math.sqrt(n)), rows = Math.ceil(n / cols);
    const wn = v.walk.length / (h * w), pad = 4;
    const room = Math.max(260, Math.min(data.height - 150, (gl.clientWidth || 900) * 0.5));
    const cell = Math.max(24, Math.floor(Math.min(room / cols, (room * 0.8) / rows) - pad));
    const wcell = Math.max(20, Math.floor(Math.max(cols * (cell + pad), 360) / wn) - pad);
    paint(gcv, v.samples, n, cols, rows, h, w, cell, pad);
    paint(wcv, v.walk, wn, wn, 1, h, w, wcell, pad);
    $(".left").style.width = Math.max(cols * (cell + pad), wn * (wcell + pad)) + "px";
    const sc = v.scores;
    $(".imgs .cap").textContent = sc && sc.length ?
      `Samples from fixed noise · the discriminator calls ${Math.round(100 * sc.filter((p) => p > 0.5).length / sc.length)}% of them real` :
      "Samples from fixed noise";
    s.draws += 1; gcv.dataset.draws = String(s.draws);
  }
  function paint(cv, px, n, cols, rows, h, w, cell, pad) {
    const W = cols * (cell + pad), H = rows * (cell + pad);
    if (cv.width !== W || cv.height !== H) { cv.width = W; cv.height = H; cv.style.width = W + "px"; cv.style.height = H + "px"; }
    const g = cv.getContext("2d"); g.imageSmoothingEnabled = false; g.fillStyle = "#fff"; g.fillRect(0, 0, W, H);
    const tile = document.createElement("canvas"); tile.width = w; tile.height = h;
    const tg = tile.getContext("2d"), im = tg.createImageData(w, h);
    g.strokeStyle = "rgba(128,128,128,.45)"; g.lineWidth = 1;
    for (let k = 0; k < n; k++) {
      for (let p = 0; p < h * w; p++) { const val = 255 - Math.round(px[k * h * w + p] * 221 / 255); im.data[p * 4] = im.data[p * 4 + 1] = im.data[p * 4 + 2] = val; im.data[p * 4 + 3] = 255; }
      tg.putImageData(im, 0, 0);
      const x = (k % cols) * (cell + pad) + 1, y = Math.floor(k / cols) * (cell + pad) + 1;
      g.drawImage(tile, x, y, cell, cell); g.strokeRect(x - 0.5, y - 0.5, cell + 1, cell + 1);
    }
  }
  function text() {
    const v = s.view, last = s.metrics[s.metrics.length - 1] || {};
    const run = s.state === "running", phase = v ? v.phase : "both";
    $(".phase").textContent = !s.state ? "no run" : !run ? s.state :
      phase === "d" ? "training the discriminator only" : phase === "g" ? "training the generator only" : "training both";
    $(".epoch").textContent = String(v ? v.epoch : last.epoch || 0);
    $(".gsteps").textContent = String(v ? v.g_steps : 0); $(".dsteps").textContent = String(v ? v.d_steps : 0);
    const st = s.state === "failed" ? `failed: ${s.message}` : s.state === "stopped" && s.message ? `stopped: ${s.message}` : "";
    $(".status").textContent = st;
    gl.dataset.state = s.state || ""; gl.dataset.epoch = String(v ? v.epoch : 0);
    $(".dloss").textContent = fmt(v && v.d_loss != null ? v.d_loss : last.d_loss);
    $(".gloss").textContent = fmt(v && v.g_loss != null ? v.g_loss : last.g_loss);
    if ((data.modes || []).length) {
      const cov = v && v.modes_covered != null ? v.modes_covered : last.modes_covered;
      $(".covered").textContent = cov == null ? "–" : String(cov); $(".of").textContent = `/ ${data.modes.length}`;
      gl.dataset.covered = cov == null ? "" : String(cov);
      const hq = v && v.high_quality != null ? v.high_quality : last.high_quality;
      $(".hq").textContent = hq == null ? "" : `${(100 * hq).toFixed(0)}% of 2,500 samples within 3σ of a mode`;
    }
  }
  function axes(g, W, H, L, B, T, xmax, ymax, ylabel, ink) {
    g.strokeStyle = "rgba(128,128,128,.35)"; g.fillStyle = ink; g.font = "11px sans-serif"; g.lineWidth = 1;
    g.textAlign = "right"; g.textBaseline = "middle";
    for (let i = 0; i <= 2; i++) {
      const yy = T + (H - T - B) * (1 - i / 2), v = ymax * i / 2;
      g.beginPath(); g.moveTo(L, yy); g.lineTo(W - 4, yy); g.stroke();
      g.fillText(Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 1 : 0), L - 4, yy);
    }
    g.textAlign = "center"; g.textBaseline = "top"; g.fillText(`epoch (of ${xmax})`, L + (W - L) / 2, H - B + 3);
    g.save(); g.translate(7, T + (H - T - B) / 2); g.rotate(-Math.PI / 2); g.textBaseline = "middle"; g.fillText(ylabel, 0, 0); g.restore();
  }
  function series(g, pts, X, Y, color, width) {
    g.strokeStyle = color; g.lineWidth = width; g.beginPath(); let first = true;
    for (const [a, b] of pts) { if (b == null || !isFinite(b)) continue; first ? g.moveTo(X(a), Y(b)) : g.lineTo(X(a), Y(b)); first = false; }
    g.stroke();
  }
  function lossPlot() {
    const cv = $(".lossplot"), dpr = window.devicePixelRatio || 1, W = cv.clientWidth || 300, H = 150;
    if (cv.width !== Math.round(W * dpr)) { cv.width = Math.round(W * dpr); cv.height = Math.round(H * dpr); }
    const g = cv.getContext("2d"); g.setTransform(dpr, 0, 0, dpr, 0, 0); g.clearRect(0, 0, W, H);
    const m = s.metrics, ink = getComputedStyle(root.host || gl).getPropertyValue("--st-text-color") || "#31333f";
    const L = 46, B = 18, T = 8, xmax = Math.max(1, ...m.map((e) => e.epoch));
    let ymax = 1e-9; for (const e of m) ymax = Math.max(ymax, e.d_loss || 0, e.g_loss || 0);
    ymax = m.length ? Math.ceil(ymax * 1.1 * 2) / 2 : 2;  // a round top: 0.5 steps
    axes(g, W, H, L, B, T, xmax, ymax, "loss", ink);
    const X = (e) => L + (e / xmax) * (W - L - 6), Y = (v) => T + (H - T - B) * (1 - v / ymax);
    series(g, m.map((e) => [e.epoch, e.d_loss]), X, Y, C.d, 2);
    series(g, m.map((e) => [e.epoch, e.g_loss]), X, Y, C.g, 2);
    $(".dl").style.color = C.d; $(".gl2").style.color = C.g;
  }
  function modePlot() {
    const n = (data.modes || []).length; if (!n) return;
    const cv = $(".modeplot"), dpr = window.devicePixelRatio || 1, W = cv.clientWidth || 300, H = 90;
    if (cv.width !== Math.round(W * dpr)) { cv.width = Math.round(W * dpr); cv.height = Math.round(H * dpr); }
    const g = cv.getContext("2d"); g.setTransform(dpr, 0, 0, dpr, 0, 0); g.clearRect(0, 0, W, H);
    const m = s.metrics, ink = getComputedStyle(root.host || gl).getPropertyValue("--st-text-color") || "#31333f";
    const L = 46, B = 18, T = 8, xmax = Math.max(1, ...m.map((e) => e.epoch));
    axes(g, W, H, L, B, T, xmax, n, "modes", ink);
    const X = (e) => L + (e / xmax) * (W - L - 6), Y = (v) => T + (H - T - B) * (1 - v / n);
    series(g, m.map((e) => [e.epoch, e.modes_covered]), X, Y, "#000", 2);
  }
}
