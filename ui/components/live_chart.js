// The live training chart (see live_chart.py): appends Server-Sent Events to a canvas, no reruns.
export default function ({ parentElement, data, setStateValue }) {
  const COLORS = data.palette;
  const root = parentElement;
  const canvas = root.querySelector("canvas"), status = root.querySelector(".status");
  const fill = root.querySelector(".fill"), legendBox = root.querySelector(".legend");
  const region = root.querySelector(".sr"), details = root.querySelector("details.table");
  const base = (data.base || "").replace(/^\/+|\/+$/g, "");
  const url = data.path ? `${location.origin}/${base ? base + "/" : ""}${data.path}` : null;
  // Streamlit re-invokes this function on every data change without calling the old cleanup:
  // keep state on the canvas and reuse an open stream for the same URL.
  const s = (canvas.__lc ||= { es: null, url: null, metrics: [], live: [], updates: 0, fails: 0, got: false,
                               said: null, timer: null, watch: null, speech: {}, tableAt: 0 });
  s.overlay = data.overlay || []; s.epochs = data.epochs || 1; s.metric = data.metric || null;
  s.feed = !!data.feed;  // the page polls and hands over the run's data: the stream failed here
  // charts with the same `scale` (an A/B pair) share one loss axis: each publishes its own top, draws to the max
  const scales = (window.__lcScales ||= {});
  s.scale = data.scale ? (scales[data.scale] ||= { tops: {}, redraw: {} }) : null;
  if (s.scale) s.scale.redraw[data.job] = () => draw(false);
  if (s.url !== url) {
    close(); clearTimeout(s.timer); s.timer = null;
    Object.assign(s, { url, metrics: data.metrics || [], live: [], fails: 0, info: null, progress: null,
                       state: data.state || "", message: data.message || "" });
    if (url && !data.finished) open();  // a new run: try its stream at once, also while the page polls
  } else if (data.finished && !s.es) {
    // the run ended: the page's own record is complete, whatever the stream last saw
    if ((data.metrics || []).length > s.metrics.length) s.metrics = data.metrics;
    s.state = data.state || s.state; s.message = data.message || s.message;
  }
  if (s.feed && !(s.es && s.got)) take();
  if (s.feed && url && !data.finished && !s.es && !s.timer) s.timer = setTimeout(retry, data.retry || 30000);
  draw();
  legend();
  details.ontoggle = () => { s.tableAt = 0; table(); };
  function take() {  // one polled update from the page (a fragment rerun)
    const f = data.feed;
    s.updates += 1; s.metrics = data.metrics || []; s.state = data.state || ""; s.message = data.message || "";
    s.progress = f.progress; s.info = f.info; s.queue = f.queue;
    const p = f.progress || {};
    if (p.running_loss != null && p.steps_per_epoch) s.live.push([p.epoch + p.batch / p.steps_per_epoch, p.running_loss]);
  }
  function say(v) { if (s.said !== v) { s.said = v; setStateValue("stream", v); } }
  function close() { if (s.es) { s.es.close(); s.es = null; } clearTimeout(s.watch); }
  function retry() { s.timer = null; if (s.feed && !s.es && s.url && !["done", "failed", "stopped"].includes(s.state)) open(); }
  function fail(es) {
    if (s.es !== es) return;
    close(); say("failed");
    if (s.feed) s.timer = setTimeout(retry, data.retry || 30000);
  }
  function open() {
    const es = new EventSource(url); s.es = es; s.got = false; s.fails = 0;
    // a proxy that buffers the stream lets nothing through: that is a failure too
    s.watch = setTimeout(() => { if (!s.got) fail(es); }, 10000);
    es.onmessage = (ev) => {
      const m = JSON.parse(ev.data);
      if (!s.got) { s.got = true; s.metrics = []; s.live = []; clearTimeout(s.watch); say("ok"); }  // it starts at epoch 1
      s.fails = 0; s.updates += 1; s.state = m.state; s.info = m.info; s.progress = m.progress;
      s.message = m.message; s.queue = m.queue_position;
      for (const e of m.metrics) s.metrics.push(e);
      const p = m.progress || {};
      if (p.running_loss != null && p.steps_per_epoch)
        s.live.push([p.epoch + p.batch / p.steps_per_epoch, p.running_loss]);
      if (m.epochs) s.epochs = m.epochs;
      draw(); if (s.live.length === 1) legend();
    };
    es.addEventListener("end", (ev) => {
      close();
      try { const m = JSON.parse(ev.data); s.state = m.state || s.state; s.message = m.message || s.message; }
      catch (e) { /* keep the last state */ }
      // a value new for every run, so that each run's end reruns the page (its report, its buttons)
      draw(); legend(); setStateValue("ended", `${data.job}:${s.state}`);
    });
    // refused (a 404 from a proxy, or a run that is not ours): closed at once; unreachable: retried by the
    // browser, given up after three tries without a message. A stream that worked reconnects by itself.
    es.onerror = () => { if (es.readyState === 2 || (!s.got && ++s.fails >= 3)) fail(es); };
  }
  function fmt(v) { return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(2); }
  function text() {
    const p = s.progress || {}, i = s.info || {}, last = s.metrics[s.metrics.length - 1];
    if (s.state === "queued" && s.queue) return `Busy: queued, position ${s.queue}. It starts when a place frees up.`;
    if (s.state === "failed") return `Failed: ${s.message}`;
    const why = s.state === "stopped" && s.message ? ` (${s.message})` : "";  // e.g. the time limit
    if (!last && !p.steps) return s.state ? `${s.state}${why}…` : "Press Train to start a run.";
    const ep = last ? last.epoch : 0, rate = s.state === "running" ? Math.round(p.steps_per_s || 0) : 0;
    const left = Math.max(0, (s.epochs - ep) * (p.steps_per_epoch || 0) - (p.batch || 0));
    const eta = rate > 0 ? ` · ETA ${Math.ceil(left / rate)} s` : "";
    const mk = s.metric ? `val_${s.metric.key}` : null;
    const acc = mk && last && last[mk] != null ? ` · val ${s.metric.short} ${(100 * last[mk]).toFixed(1)}%` : "";
    const loss = last ? ` · val loss ${fmt(last.val_loss)}` : "";
    // a speed only while it runs: a finished run has none, one step's rate means nothing
    const speed = rate > 0 ? ` · ${rate.toLocaleString()} steps/s${eta}` : "";
    return `${s.state}${why} · epoch ${ep}/${s.epochs}${loss}${acc}${speed}${i.device ? " · " + i.device : ""}`;
  }
  function legend() {
    // the legend as text above the canvas (textContent: run names are user text), one entry per line drawn
    const items = [["train", COLORS.train, "solid"], ["validation", COLORS.val, "dashed"]];
    if (liveLine().length) items.push(["train, running loss per batch", COLORS.live, "solid"]);
    for (const o of s.overlay) items.push([`${o.label} (validation)`, o.color || COLORS.other, "dotted"]);
    legendBox.replaceChildren(...items.map(([name, color, style]) => {
      const item = document.createElement("span"), mark = document.createElement("i");
      mark.style.borderTopColor = color; mark.style.borderTopStyle = style;
      item.append(mark, document.createTextNode(name));
      return item;
    }));
  }
  function sentence() {  // what a screen reader hears: "Training: epoch 120 of 300, training loss 0.21, …"
    const last = s.metrics[s.metrics.length - 1];
    const word = { running: "Training", paused: "Paused", done: "Finished", stopped: "Stopped", queued: "Queued",
                   starting: "Starting" }[s.state];
    if (s.state === "failed") return `The run failed: ${s.message}`;
    if (!s.state && !last) return "No run yet: press Train to start one.";
    const parts = [`epoch ${last ? last.epoch : 0} of ${s.epochs}`];
    if (last && last.train_loss != null) parts.push(`training loss ${num(last.train_loss, 2)}`);
    if (last && last.val_loss != null) parts.push(`validation loss ${num(last.val_loss, 2)}`);
    const mk = s.metric ? `val_${s.metric.key}` : null;  // the task's score beside the loss (accuracy, mean IoU)
    if (last && mk && last[mk] != null) parts.push(`validation ${s.metric.title} ${Math.round(100 * last[mk])} %`);
    return `${word || s.state}: ${parts.join(", ")}.`;
  }
  function table() {  // the data behind the chart, at most once a second while it trains
    if (s.state !== s.tableState) { s.tableState = s.state; s.tableAt = 0; }  // the last epoch of a run, at once
    if (!details.open || Date.now() - s.tableAt < 1000) return;
    s.tableAt = Date.now();
    const keys = [["epoch", "epoch"], ["train_loss", "training loss"], ["val_loss", "validation loss"]];
    if (s.metric) keys.push([`train_${s.metric.key}`, `training ${s.metric.title}`], [`val_${s.metric.key}`, `validation ${s.metric.title}`]);
    const shown = keys.filter(([k]) => k === "epoch" || s.metrics.some((m) => m[k] != null));
    const rows = thinRows(s.metrics).map((m) => shown.map(([k]) => k === "epoch" ? m.epoch
      : s.metric && k.endsWith(s.metric.key) ? (m[k] == null ? null : `${(100 * m[k]).toFixed(1)} %`) : num(m[k], 4)));
    const runs = s.overlay.length ? ` (this run; ${s.overlay.length} earlier run${s.overlay.length > 1 ? "s" : ""} not listed)` : "";
    fillTable(details, `Loss${s.metric ? ` and ${s.metric.title}` : ""} per epoch${runs}`, shown.map(([, h]) => h), rows);
  }
  function draw(publish = true) {
    status.textContent = text();
    speakTo(region, s.speech, sentence(), s.state);
    table();
    const p = s.progress || {};
    const done = (s.metrics.length ? s.metrics[s.metrics.length - 1].epoch : 0) + (p.steps_per_epoch ? (p.batch || 0) / p.steps_per_epoch : 0);
    fill.style.width = `${Math.min(100, 100 * done / s.epochs)}%`;
    canvas.dataset.points = String(s.metrics.length); canvas.dataset.updates = String(s.updates);
    canvas.dataset.state = s.state || ""; canvas.dataset.job = data.job || "";
    canvas.dataset.mode = s.es && s.got ? "stream" : s.feed ? "poll" : "";
    const dpr = window.devicePixelRatio || 1, W = canvas.clientWidth || 600, H = canvas.clientHeight || 280;
    if (canvas.width !== Math.round(W * dpr)) { canvas.width = Math.round(W * dpr); canvas.height = Math.round(H * dpr); }
    const g = canvas.getContext("2d"); g.setTransform(dpr, 0, 0, dpr, 0, 0); g.clearRect(0, 0, W, H);
    const ink = getComputedStyle(root.host || canvas).getPropertyValue("--st-text-color") || "#31333f";
    if (publish && s.scale) {  // a new top of this chart's loss axis redraws the others of its scale group
      const before = Math.max(0, ...Object.values(s.scale.tops));
      s.scale.tops[data.job] = lossTop();
      if (Math.max(...Object.values(s.scale.tops)) !== before)
        for (const [job, redraw] of Object.entries(s.scale.redraw)) if (job !== data.job) redraw();
    }
    const panels = s.metric ? [["loss", ["train_loss", "val_loss"]],
                               [s.metric.title, [`train_${s.metric.key}`, `val_${s.metric.key}`]]]
                            : [["loss", ["train_loss", "val_loss"]]];
    const pw = W / panels.length;
    panels.forEach(([title, keys], k) => panel(g, k * pw, 0, pw, H, title, keys, ink));
  }
  function liveLine() {  // the running loss sampled while it trains: a live aid, gone once the run has ended
    return ["done", "failed", "stopped", "gone"].includes(s.state) ? [] : s.live;
  }
  function overlayPoints(key) {
    return s.overlay.map((o) => ({ label: o.label, color: o.color || COLORS.other,
                                   pts: o.metrics.filter((m) => m[key] != null).map((m) => [m.epoch, m[key]]) }));
  }
  function lossTop() {  // the top of this chart's own loss axis
    const own = ["train_loss", "val_loss"].flatMap((k) => s.metrics.filter((m) => m[k] != null).map((m) => m[k]));
    const all = own.concat(liveLine().map((q) => q[1]), overlayPoints("val_loss").flatMap((o) => o.pts.map((q) => q[1])));
    return all.length ? Math.max(1e-6, ...all) * 1.05 : 0;
  }
  function panel(g, x0, y0, w, h, title, keys, ink) {
    const L = 52, R = 12, T = 22, B = 34, pw = w - L - R, ph = h - T - B;
    const isAcc = title !== "loss";  // the task's metric: a share, 0 … 1
    const series = keys.map((k) => s.metrics.filter((m) => m[k] != null).map((m) => [m.epoch, m[k]]));
    const overlay = overlayPoints(keys[1]);
    let all = series.flat().concat(overlay.flatMap((o) => o.pts));
    if (!isAcc) all = all.concat(liveLine());
    const xmax = Math.max(s.epochs, ...all.map((q) => q[0]), 1);
    let ymin = 0, ymax = isAcc || !all.length ? 1 : lossTop();
    if (!isAcc && s.scale) ymax = Math.max(ymax, ...Object.values(s.scale.tops));
    if (!isAcc) canvas.dataset.lossTop = ymax.toPrecision(6);  // for tests: the loss axis's top
    const X = (v) => x0 + L + (v / xmax) * pw, Y = (v) => y0 + T + ph - ((v - ymin) / (ymax - ymin || 1)) * ph;
    g.strokeStyle = "rgba(128,128,128,.35)"; g.fillStyle = ink; g.lineWidth = 1; g.font = "11px sans-serif";
    g.textAlign = "right"; g.textBaseline = "middle";
    for (let i = 0; i <= 4; i++) {
      const v = ymin + (ymax - ymin) * i / 4, yy = Y(v);
      g.beginPath(); g.moveTo(x0 + L, yy); g.lineTo(x0 + L + pw, yy); g.stroke();
      g.fillText(isAcc ? `${Math.round(v * 100)}%` : fmt(v), x0 + L - 6, yy);
    }
    g.textAlign = "center"; g.textBaseline = "top";
    // epochs at a round step (1, 2, 5, 10, 20, …): at most about five ticks, never a half epoch
    const raw = xmax / 5, mag = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
    const step = Math.max(1, [1, 2, 5, 10].map((k) => k * mag).find((v) => v >= raw) || 10 * mag);
    for (let v = 0; v <= xmax + 1e-9; v += step) g.fillText(String(v), X(v), y0 + T + ph + 4);
    g.fillText("epoch", x0 + L + pw / 2, y0 + h - 14);
    g.font = "bold 12px sans-serif"; g.textAlign = "left"; g.fillText(title, x0 + L, y0 + 2);
    const line = (pts, color, dash, width) => {
      if (!pts.length) return;
      g.strokeStyle = color; g.setLineDash(dash); g.lineWidth = width; g.beginPath();
      pts.forEach(([a, b], i) => (i ? g.lineTo(X(a), Y(b)) : g.moveTo(X(a), Y(b)))); g.stroke(); g.setLineDash([]);
      if (pts.length === 1) { g.fillStyle = color; g.beginPath(); g.arc(X(pts[0][0]), Y(pts[0][1]), 3, 0, 7); g.fill(); }
    };
    overlay.forEach((o) => line(o.pts, o.color, [2, 3], 1.5));
    if (!isAcc) line(liveLine(), COLORS.live, [], 1);
    line(series[0], COLORS.train, [], 2); line(series[1], COLORS.val, [6, 3], 2);
  }
  return () => { close(); clearTimeout(s.timer); s.timer = null; };
}
