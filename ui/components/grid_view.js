// The 2-D playground's live view (ui/grid_view.py): draws frames streamed by ui/grid_stream.py.
const TF = __TF__, OKABE = __OKABE__, NETFRAC = __NETFRAC__;
const RANGE = 6, FEATS = { "x1": (x, y) => x / 6, "x2": (x, y) => y / 6, "x1^2": (x, y) => x * x / 36,
  "x2^2": (x, y) => y * y / 36, "x1*x2": (x, y) => x * y / 36, "sin(x1)": (x, y) => Math.sin(x),
  "sin(x2)": (x, y) => Math.sin(y) };
const NAMES = { "x1": "x₁", "x2": "x₂", "x1^2": "x₁²", "x2^2": "x₂²", "x1*x2": "x₁x₂", "sin(x1)": "sin x₁",
  "sin(x2)": "sin x₂" };
const hex = (h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
const NEG = hex(TF.neg), MID = hex(TF.mid), POS = hex(TF.pos);
const mix = (a, b, t) => [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * t));
function diverging(discrete, strength) {  // 256 RGB entries for -1 … 1
  const lut = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i / 127.5 - 1, a = discrete ? (Math.abs(t) < 0.004 ? 0 : strength) : Math.abs(t) * strength;
    lut.set(t >= 0 ? mix(MID, POS, a) : mix(MID, NEG, a), i * 3);
  }
  return lut;
}
// Full strength for neurons and weights; the output surface is paler so that the points stand out on it.
const LUT = diverging(false, 1), LUT_D = diverging(true, 0.9), SURF = diverging(false, 0.72), SURF_D = diverging(true, 0.6);
const css = (c) => `rgb(${c[0]},${c[1]},${c[2]})`;
const valueColor = (v) => { const i = Math.max(0, Math.min(255, Math.round((v + 1) * 127.5))); return css(LUT.slice(i * 3, i * 3 + 3)); };
function bytes(b64) { const s = atob(b64 || ""), a = new Uint8Array(s.length); for (let i = 0; i < s.length; i++) a[i] = s.charCodeAt(i); return a; }
function fmt(v) { return v == null || !isFinite(v) ? "–" : Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(3); }

export default function ({ parentElement, data, setStateValue, setTriggerValue }) {
  const root = parentElement, pg = root.querySelector(".pg");
  const $ = (q) => pg.querySelector(q);
  const net = $(".net"), edgeCv = $(".edges"), nodesEl = $(".nodes"), tip = $(".tip");
  const surf = $(".surface"), overlay = $(".overlay"), clip = $(".clip"), plotEl = $(".plot");
  const region = $(".sr"), details = $("details.table");
  // Streamlit re-invokes this function on every data change with the same DOM and without calling the
  // old cleanup: all state lives on the root element, and an open stream for the same URL is kept.
  const s = (pg.__s ||= { es: null, url: null, view: null, metrics: [], draws: 0, sig: null, fails: 0,
                          state: "", epoch: 0, rate: [], nodes: [], edges: [], ro: null, told: null, got: false,
                          said: null, timer: null, watch: null, frameId: null, speech: {}, tableAt: 0 });
  s.data = data;
  s.classes = data.problem === "regression" ? 0 : data.classes;
  s.colors = s.classes > 2 ? OKABE.map(hex) : [POS, NEG];  // class 0 blue, class 1 orange
  const base = (data.base || "").replace(/^\/+|\/+$/g, "");
  const url = data.path ? `${location.origin}/${base ? base + "/" : ""}${data.path}` : null;
  const ENDED = ["done", "failed", "stopped"];
  // Handlers live on the state and are replaced on every call, so the stream (opened by an earlier
  // call) always draws with the latest options (discretise, show test data, ...).
  s.fn = { message, end, layout, move, leave, take, say, retry, showEdge };
  details.ontoggle = () => { s.tableAt = 0; speak(); };
  s.feed = data.feed || null;  // the page polls and hands over the run's data: the stream failed here
  if (s.url !== url) {
    close(); clearTimeout(s.timer); s.timer = null;
    Object.assign(s, { url, view: null, metrics: [], fails: 0, epoch: 0, rate: [], frameId: null,
                       state: data.state || "", message: data.message || "" });
    if (url && !ENDED.includes(data.state)) open();  // a new run: try its stream at once, also while polling
  }
  if (!s.es && data.state) { s.state = data.state; s.message = data.message || ""; }
  layout();
  if (s.feed && !(s.es && s.got)) s.fn.take(s.feed);
  if (s.feed && url && !ENDED.includes(data.state) && !s.es && !s.timer) s.timer = setTimeout(() => s.fn.retry(), data.retry || 30000);
  pg.dataset.mode = s.es && s.got ? "stream" : s.feed ? "poll" : "";
  if (!s.ro) { s.ro = new ResizeObserver(() => s.fn.layout()); s.ro.observe(pg); }
  return () => { close(); clearTimeout(s.timer); s.timer = null; if (s.ro) { s.ro.disconnect(); s.ro = null; } };

  function close() { if (s.es) { s.es.close(); s.es = null; } clearTimeout(s.watch); }
  function say(v) { if (s.said !== v) { s.said = v; setStateValue("stream", v); } }
  function retry() { s.timer = null; if (s.feed && !s.es && s.url && !ENDED.includes(s.state)) open(); }
  function fail(es) {
    if (s.es !== es) return;
    close(); s.fn.say("failed"); pg.dataset.mode = s.feed ? "poll" : "";
    if (s.feed) s.timer = setTimeout(() => s.fn.retry(), s.data.retry || 30000);
  }

  function open() {
    const es = new EventSource(url); s.es = es; s.got = false; s.fails = 0;
    s.watch = setTimeout(() => { if (!s.got) fail(es); }, 10000);  // a proxy that buffers lets nothing through
    es.onmessage = (ev) => {
      if (!s.got) {  // the first event starts at epoch 1 and carries the latest view
        s.got = true; s.metrics = []; s.rate = []; clearTimeout(s.watch); s.fn.say("ok"); pg.dataset.mode = "stream";
      }
      s.fn.message(JSON.parse(ev.data));
    };
    es.addEventListener("end", (ev) => { close(); s.fn.end(JSON.parse(ev.data)); });
    // refused (a 404 from a proxy, or a run that is not ours): closed at once; unreachable: retried by the
    // browser, given up after five tries without a message. A stream that worked reconnects by itself.
    es.onerror = () => { if (es.readyState === 2 || (!s.got && ++s.fails >= 5)) fail(es); };
  }

  // One polled update from the page (a fragment rerun): the same fields a stream event carries.
  function take(f) {
    s.state = f.state; s.message = f.message; s.metrics = f.metrics;
    s.epoch = f.epoch;
    const now = performance.now(); s.rate.push([now, s.epoch]);
    while (s.rate.length > 2 && now - s.rate[0][0] > 2000) s.rate.shift();
    if (f.view && f.view_id !== s.frameId) { s.frameId = f.view_id; s.view = decode(f.view); frame(); }
    text(); lossPlot();
  }

  function message(m) {
    s.fails = 0; s.state = m.state; s.message = m.message;
    for (const e of m.metrics) s.metrics.push(e);
    const last = s.metrics[s.metrics.length - 1];
    s.epoch = Math.max(last ? last.epoch : 0, (m.progress || {}).epoch || 0);
    const now = performance.now(); s.rate.push([now, s.epoch]);
    while (s.rate.length > 2 && now - s.rate[0][0] > 2000) s.rate.shift();
    if (m.view) { s.view = decode(m.view); frame(); }
    text(); lossPlot(); tell();
  }

  function end(m) { s.state = m.state; s.message = m.message; text(); tell(); }

  // The page's buttons show the state it was drawn in; when the run moves on (started, paused, ended)
  // ask for one rerun so that Play/Pause and Step follow. Once per state of each run: no loops.
  function tell() {
    const key = `${url}|${s.state}`;
    if (s.state && s.state !== data.state && s.state !== "starting" && s.state !== "queued" && s.told !== key) {
      s.told = key; setTriggerValue("state", s.state);
    }
  }

  function decode(v) {
    return { ...v, surface: bytes(v.surface), neurons: bytes(v.neurons), hidden: bytes(v.hidden) };
  }

  // ---- layout: rebuilt when the network's shape or the size changes --------------------------------
  function layout() {
    const W = Math.max(300, pg.clientWidth || 900), H = data.height - 30;
    const netW = Math.floor(W * NETFRAC) - 6, outW = W - netW - 12;
    net.style.width = netW + "px"; net.style.height = H + "px";
    const P = Math.max(120, Math.min(outW - 40, data.height - 315));  // losses, curve, axes, legend, hidden view
    s.geo = { P, L: 32, T: 4, B: 26 };
    plotEl.style.width = (P + 40) + "px"; plotEl.style.height = (P + s.geo.T + s.geo.B) + "px";
    Object.assign(clip.style, { left: s.geo.L + "px", top: s.geo.T + "px", width: P + "px", height: P + "px" });
    const sig = JSON.stringify([data.features, data.hidden, data.acts, data.outputs, s.classes, netW, H]);
    if (sig !== s.sig) { s.sig = sig; buildNet(netW, H); }
    const osig = JSON.stringify([P, data.points_key, data.show_test, s.classes]);
    if (osig !== s.osig) { s.osig = osig; drawOverlay(); }
    legend(); frame(); text(); lossPlot();
  }

  function buildNet(W, H) {
    nodesEl.textContent = "";
    const cols = [data.features.length, ...data.hidden, data.outputs];
    const nc = cols.length, slot = W / nc, top = 34;
    const rows = Math.max(...cols);
    const room = H - top - 24;  // the weights' legend takes the bottom line
    const ns = Math.max(10, Math.min(34, slot * 0.42, room / (rows * 1.28)));
    const gap = Math.min(ns * 0.28 + 2, (room - rows * ns) / Math.max(1, rows - 1));
    s.nodes = cols.map((n, c) => Array.from({ length: n }, (_, r) => {
      const cx = c === 0 ? slot * 0.68 : (c + 0.5) * slot;
      return { x: cx - ns / 2, y: top + r * (ns + gap), c, r };
    }));
    s.ns = ns;
    const heads = [`${cols[0]} input${cols[0] > 1 ? "s" : ""}`,
      ...data.hidden.map((n, i) => `${n} neuron${n > 1 ? "s" : ""}\n${data.acts[i] === "Identity" ? "Linear" : data.acts[i]}`),
      data.problem === "regression" ? "output" : `output\n${data.outputs} logit${data.outputs > 1 ? "s" : ""}`];
    heads.forEach((h, c) => {
      const d = document.createElement("div"); d.className = "colhead"; d.textContent = h;
      Object.assign(d.style, { left: c * slot + "px", width: slot + "px", whiteSpace: "pre" }); nodesEl.appendChild(d);
    });
    // edges: cubic curves on one canvas; 25 samples each for the hover hit-test
    const dpr = window.devicePixelRatio || 1;
    edgeCv.width = Math.round(W * dpr); edgeCv.height = Math.round(H * dpr);
    edgeCv.style.width = W + "px"; edgeCv.style.height = H + "px"; s.W = W; s.H = H;
    s.edges = [];
    for (let l = 0; l + 1 < nc; l++) for (let j = 0; j < cols[l + 1]; j++) for (let i = 0; i < cols[l]; i++) {
      const a = s.nodes[l][i], b = s.nodes[l + 1][j];
      const x1 = a.x + ns, y1 = a.y + ns / 2, x2 = b.x, y2 = b.y + ns / 2, mx = (x1 + x2) / 2;
      const pts = new Float32Array(50);
      for (let k = 0; k < 25; k++) {
        const t = k / 24, u = 1 - t;
        pts[2 * k] = u * u * u * x1 + 3 * u * u * t * mx + 3 * u * t * t * mx + t * t * t * x2;
        pts[2 * k + 1] = u * u * u * y1 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t * t * t * y2;
      }
      s.edges.push({ l, i, j, x1, y1, x2, y2, mx, pts });
    }
    net.onpointermove = (e) => s.fn.move(e);
    net.onpointerleave = () => s.fn.leave();
    net.setAttribute("aria-label", netLabel(data));
    net.onkeydown = (e) => walkKey(e, s, s.fn.showEdge);
    net.onblur = () => s.fn.leave();
    drawEdges();
    s.nodes.forEach((col, c) => col.forEach((n, r) => {
      const d = document.createElement("div"); d.className = "node";
      Object.assign(d.style, { left: n.x + "px", top: n.y + "px", width: ns + "px", height: ns + "px" });
      const isOut = c === nc - 1;
      let cv = null;
      if (isOut && data.problem !== "regression") {
        d.classList.add("outk"); d.style.background = css(s.colors[r % s.colors.length]);
      } else {
        cv = document.createElement("canvas"); d.appendChild(cv); n.canvas = cv;
      }
      d.dataset.c = String(c); d.dataset.r = String(r);
      nodesEl.appendChild(d);
      if (c === 0) {
        const lab = document.createElement("div"); lab.className = "lab"; lab.textContent = NAMES[data.features[r]] || data.features[r];
        Object.assign(lab.style, { right: (W - n.x + 4) + "px", top: (n.y + ns / 2 - 7) + "px" }); nodesEl.appendChild(lab);
        inputMap(cv, data.features[r]);
      }
      if (isOut && data.problem !== "regression" && data.class_names) {
        const lab = document.createElement("div"); lab.className = "lab"; lab.textContent = data.class_names[r] || "";
        Object.assign(lab.style, { left: (n.x + ns + 4) + "px", top: (n.y + ns / 2 - 7) + "px", textAlign: "left" }); nodesEl.appendChild(lab);
      }
    }));
  }

  function inputMap(cv, f) {
    const n = 24; cv.width = n; cv.height = n;
    const g = cv.getContext("2d"), img = g.createImageData(n, n), fn = FEATS[f] || FEATS.x1;
    for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) {
      const x = -RANGE + (c + .5) * 2 * RANGE / n, y = RANGE - (r + .5) * 2 * RANGE / n;
      const i = Math.max(0, Math.min(255, Math.round((fn(x, y) + 1) * 127.5)));
      img.data.set(LUT.subarray(i * 3, i * 3 + 3), (r * n + c) * 4); img.data[(r * n + c) * 4 + 3] = 255;
    }
    g.putImageData(img, 0, 0);
  }

  function label(c, r) {
    const nc = data.hidden.length + 2;
    if (c === 0) return NAMES[data.features[r]] || data.features[r];
    if (c === nc - 1) return data.problem === "regression" ? "output" : `output ${r + 1}${data.class_names && data.class_names[r] ? " (" + data.class_names[r] + ")" : ""}`;
    return `layer ${c} neuron ${r + 1}`;
  }
  function edgeText(e) {
    const v = s.view, w = v && v.weights[e.l] && v.weights[e.l][e.j] ? v.weights[e.l][e.j][e.i] : null;
    return `weight ${w == null ? "–" : w.toFixed(3)}: ${label(e.l, e.i)} → ${label(e.l + 1, e.j)}`;
  }
  function nodeText(c, r) {
    const v = s.view;
    if (c === 0) return `input ${label(c, r)}`;
    const b = v && v.biases[c - 1] ? v.biases[c - 1][r] : null;
    return `${label(c, r)} · bias ${b == null ? "–" : b.toFixed(3)}`;
  }
  function move(e) {
    const box = net.getBoundingClientRect(), x = e.clientX - box.left, y = e.clientY - box.top;
    const node = e.target.closest && e.target.closest(".node");
    if (node) { showTip(x, y, nodeText(+node.dataset.c, +node.dataset.r)); return; }
    let best = null, bd = 36;  // within 6 px
    for (const ed of s.edges) {
      if (x < ed.x1 - 6 || x > ed.x2 + 6) continue;
      for (let k = 0; k < 25; k++) {
        const dx = ed.pts[2 * k] - x, dy = ed.pts[2 * k + 1] - y, d = dx * dx + dy * dy;
        if (d < bd) { bd = d; best = ed; }
      }
    }
    if (best) showTip(x, y, edgeText(best)); else tip.hidden = true;
    s.hover = best;
    if (s.view) drawEdges();
  }

  function showEdge(ed) {  // the keyboard's hover: outline the edge, show and say its weight
    if (!ed) { leave(); return; }
    s.hover = ed; showTip(ed.mx, (ed.y1 + ed.y2) / 2, edgeText(ed));
    region.textContent = edgeText(ed);
    drawEdges();
  }

  function leave() { tip.hidden = true; s.hover = null; if (s.view) drawEdges(); }

  function showTip(x, y, t) {
    tip.textContent = t; tip.hidden = false;
    tip.style.left = Math.max(0, Math.min(x + 12, s.W - tip.offsetWidth - 2)) + "px"; tip.style.top = (y + 14) + "px";
  }

  // ---- one frame: surface, neuron maps, weights, hidden view ---------------------------------------
  function frame() {
    const v = s.view; if (!v) return;
    const lut = data.discretize ? SURF_D : SURF, res = v.res, g = s.geo;
    if (surf.width !== res) { surf.width = res; surf.height = res; }
    const w = g.P * res / Math.max(1, res - 1), off = -g.P / (2 * Math.max(1, res - 1));  // pixel centres on the grid
    Object.assign(surf.style, { width: w + "px", height: w + "px", left: off + "px", top: off + "px" });
    const ctx = surf.getContext("2d"), img = ctx.createImageData(res, res), px = img.data, a = v.surface;
    if (v.mode === "classes") {
      const K = s.classes;
      for (let p = 0; p < res * res; p++) {
        const k = a[2 * p], conf = a[2 * p + 1] / 255, c = s.colors[k % s.colors.length];
        const t = data.discretize ? .55 : Math.max(0, Math.min(1, (conf - 1 / K) / (1 - 1 / K))) * .72;
        px.set(mix(MID, c, t), p * 4); px[p * 4 + 3] = 255;
      }
    } else {
      for (let p = 0; p < res * res; p++) { const i = a[p] * 3; px[p * 4] = lut[i]; px[p * 4 + 1] = lut[i + 1]; px[p * 4 + 2] = lut[i + 2]; px[p * 4 + 3] = 255; }
    }
    ctx.putImageData(img, 0, 0);
    s.draws += 1; surf.dataset.draws = String(s.draws); surf.dataset.epoch = String(v.epoch);
    // neuron thumbnails
    const nr = v.nres, per = nr * nr, nlut = data.discretize ? LUT_D : LUT;
    let off8 = 0;
    v.layers.forEach((n, l) => {
      const col = s.nodes[l + 1] || [];
      for (let k = 0; k < n; k++, off8 += per) {
        const node = col[k]; if (!node || !node.canvas) continue;
        const cv = node.canvas; if (cv.width !== nr) { cv.width = nr; cv.height = nr; }
        const c2 = cv.getContext("2d"), im = c2.createImageData(nr, nr), d = im.data;
        for (let p = 0; p < per; p++) { const i = v.neurons[off8 + p] * 3; d[p * 4] = nlut[i]; d[p * 4 + 1] = nlut[i + 1]; d[p * 4 + 2] = nlut[i + 2]; d[p * 4 + 3] = 255; }
        c2.putImageData(im, 0, 0);
      }
    });
    // a regression output node shows the surface itself
    const outCol = s.nodes[s.nodes.length - 1];
    if (data.problem === "regression" && outCol && outCol[0] && outCol[0].canvas) {
      const cv = outCol[0].canvas; cv.width = res; cv.height = res; cv.getContext("2d").putImageData(img, 0, 0);
    }
    drawEdges();
    hiddenView();
  }

  // edges: colour by sign and size, width by size (as TensorFlow Playground); the hovered one outlined
  function drawEdges() {
    const v = s.view, dpr = window.devicePixelRatio || 1, g = edgeCv.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0); g.clearRect(0, 0, s.W, s.H);
    const wmax = s.ns * 0.3;
    for (const e of s.edges) {
      const row = v && v.weights[e.l] && v.weights[e.l][e.j], w = row ? row[e.i] : 0;
      g.strokeStyle = v ? valueColor(Math.max(-1, Math.min(1, w))) : "#ddd";
      g.lineWidth = 0.6 + Math.min(Math.abs(w), 5) / 5 * wmax;
      g.setLineDash(v && w < 0 ? [5, 3] : []);  // the sign without colour: negative weights are dashed
      g.beginPath(); g.moveTo(e.x1, e.y1); g.bezierCurveTo(e.mx, e.y1, e.mx, e.y2, e.x2, e.y2); g.stroke();
    }
    g.setLineDash([]);
    const h = s.hover;
    if (h) {
      g.strokeStyle = "rgba(0,0,0,.8)"; g.lineWidth = 1; g.setLineDash([3, 2]);
      g.beginPath(); g.moveTo(h.x1, h.y1); g.bezierCurveTo(h.mx, h.y1, h.mx, h.y2, h.x2, h.y2); g.stroke(); g.setLineDash([]);
    }
  }

  function hiddenView() {
    const cv = $(".hidden"), v = s.view, cap = $(".cap");
    const nh = data.hidden.length;
    const wide = nh ? data.hidden[nh - 1] > 2 : data.features.length > 2;
    cap.textContent = `${nh ? `Layer ${nh} sees` : "The inputs"}${wide ? " (PCA)" : ""}`;
    const dpr = window.devicePixelRatio || 1, S = 140;
    if (cv.width !== S * dpr) { cv.width = S * dpr; cv.height = S * dpr; }
    const g = cv.getContext("2d"); g.setTransform(dpr, 0, 0, dpr, 0, 0); g.clearRect(0, 0, S, S);
    const ax = wide ? ["PC 1", "PC 2"] : nh ? ["neuron 1", "neuron 2"] : [NAMES[data.features[0]], NAMES[data.features[1]] || ""];
    g.fillStyle = "rgba(90,90,90,.8)"; g.font = "10px sans-serif"; g.textAlign = "right"; g.textBaseline = "bottom";
    g.fillText(ax[0] + " →", S - 3, S - 2);
    g.save(); g.translate(2, S - 14); g.rotate(-Math.PI / 2); g.textAlign = "left"; g.textBaseline = "top"; g.fillText(ax[1] + " →", 0, 0); g.restore();
    if (!v || !v.hidden.length) return;
    const pts = data.points.train, n = Math.min(v.hidden.length / 2, pts.length);
    for (let i = 0; i < n; i++) {
      const x = (v.hidden[2 * i] / 255) * (S - 10) + 5, y = S - 5 - (v.hidden[2 * i + 1] / 255) * (S - 10);
      g.fillStyle = pointColor(pts[i][2]); drawShape(g, s.classes ? pts[i][2] : 0, x, y, 2.2); g.fill();
    }
  }

  function pointColor(y) {
    return s.classes ? css(s.colors[y % s.colors.length]) : valueColor(y);
  }

  function drawOverlay() {
    const g0 = s.geo, P = g0.P, dpr = window.devicePixelRatio || 1;
    const W = P + 40, H = P + g0.T + g0.B;
    overlay.width = W * dpr; overlay.height = H * dpr; overlay.style.width = W + "px"; overlay.style.height = H + "px";
    const g = overlay.getContext("2d"); g.setTransform(dpr, 0, 0, dpr, 0, 0); g.clearRect(0, 0, W, H);
    const X = (x) => g0.L + (x + RANGE) / (2 * RANGE) * P, Y = (y) => g0.T + (RANGE - y) / (2 * RANGE) * P;
    const ink = getComputedStyle(root.host || pg).getPropertyValue("--st-text-color") || "#31333f";
    g.strokeStyle = "rgba(128,128,128,.6)"; g.strokeRect(g0.L, g0.T, P, P);
    g.fillStyle = ink; g.font = "11px sans-serif"; g.textAlign = "center"; g.textBaseline = "top";
    for (let t = -6; t <= 6; t += 2) {
      g.fillText(String(t), X(t), g0.T + P + 3);
      g.beginPath(); g.moveTo(X(t), g0.T + P); g.lineTo(X(t), g0.T + P + 2); g.stroke();
    }
    g.fillText("x₁", g0.L + P / 2 + 0, g0.T + P + 14);
    g.textAlign = "right"; g.textBaseline = "middle";
    for (let t = -6; t <= 6; t += 2) { g.fillText(String(t), g0.L - 4, Y(t)); }
    g.save(); g.translate(9, g0.T + P / 2); g.rotate(-Math.PI / 2); g.textAlign = "center"; g.fillText("x₂", 0, 0); g.restore();
    const dot = (p, stroke) => {
      g.fillStyle = pointColor(p[2]); g.strokeStyle = stroke; g.lineWidth = 1;
      drawShape(g, s.classes ? p[2] : 0, X(p[0]), Y(p[1]), 3.2); g.fill(); g.stroke();  // the class by shape too
    };
    g.save(); g.beginPath(); g.rect(g0.L, g0.T, P, P); g.clip();
    for (const p of data.points.train) dot(p, "#fff");
    if (data.show_test) for (const p of data.points.test) dot(p, "#000");
    g.restore();
  }

  function legend() {
    const el = $(".legend"); el.textContent = "";
    if (s.classes > 2 || (s.classes === 2 && data.class_names)) {
      (data.class_names || []).forEach((n, k) => {
        const sp = document.createElement("span"), sw = document.createElement("span"); sw.className = "shape";
        sw.textContent = GLYPHS[k % GLYPHS.length]; sw.style.color = css(s.colors[k % s.colors.length]);
        sp.appendChild(sw); sp.appendChild(document.createTextNode(n)); el.appendChild(sp);
      });
    } else {
      const a = document.createElement("span"); a.textContent = "−1";
      const bar = document.createElement("span"); bar.className = "bar";
      bar.style.background = `linear-gradient(to right, ${TF.neg}, ${TF.mid}, ${TF.pos})`;
      const b = document.createElement("span"); b.textContent = "1"; el.append(a, bar, b);
    }
    const t = document.createElement("span"); t.style.opacity = ".75";
    t.textContent = data.show_test ? "· white ring: training, black ring: test" : "· training points"; el.appendChild(t);
    $(".note").textContent = data.note || "";
  }

  function text() {
    const ep = $(".epoch"); ep.textContent = String(s.epoch).padStart(6, "0").replace(/(\d{3})(\d{3})$/, "$1,$2");
    pg.dataset.epoch = String(s.epoch); pg.dataset.state = s.state || "";
    let rate = "";
    if (s.rate.length > 1 && s.state === "running") {
      const [t0, e0] = s.rate[0], [t1, e1] = s.rate[s.rate.length - 1];
      if (t1 > t0) rate = ` · ${((e1 - e0) * 1000 / (t1 - t0)).toFixed(1)} epochs/s`;
    }
    const st = s.state === "failed" ? `failed: ${s.message}` : s.state === "stopped" && s.message ? `stopped: ${s.message}` : s.state;
    $(".status").textContent = (st || "") + rate;
    const last = s.metrics[s.metrics.length - 1] || {};
    $(".test-loss").textContent = fmt(last.val_loss); $(".train-loss").textContent = fmt(last.train_loss);
    $(".acc").textContent = last.val_accuracy != null ? `Test accuracy ${(100 * last.val_accuracy).toFixed(1)}%` : "";
    speak();
  }

  function speak() {  // the live region at a calm rate; the tables (when open) at most once a second
    speakTo(region, s.speech, pgSentence(s), s.state);
    if (s.state !== s.tableState) { s.tableState = s.state; s.tableAt = 0; }
    if (details.open && Date.now() - s.tableAt >= 1000) { s.tableAt = Date.now(); pgTables(details, s, label); }
  }

  function lossPlot() {
    const cv = $(".lossplot"), dpr = window.devicePixelRatio || 1, W = cv.clientWidth || 300, H = 46;
    if (cv.width !== Math.round(W * dpr)) { cv.width = Math.round(W * dpr); cv.height = Math.round(H * dpr); }
    const g = cv.getContext("2d"); g.setTransform(dpr, 0, 0, dpr, 0, 0); g.clearRect(0, 0, W, H);
    const m = s.metrics; if (m.length < 2) return;
    const step = Math.max(1, Math.floor(m.length / W));
    let ymax = 1e-9; for (const e of m) ymax = Math.max(ymax, e.train_loss || 0, e.val_loss || 0);
    const X = (i) => (i / (m.length - 1)) * (W - 2) + 1, Y = (v) => H - 2 - (v / ymax) * (H - 6);
    for (const [key, color, width] of [["train_loss", "#999", 1.2], ["val_loss", "#333", 1.5]]) {
      g.strokeStyle = color; g.lineWidth = width; g.beginPath();
      for (let i = 0; i < m.length; i += step) { const v = m[i][key]; if (v == null || !isFinite(v)) continue; i ? g.lineTo(X(i), Y(v)) : g.moveTo(X(i), Y(v)); }
      g.stroke();
    }
  }
}
