// The 2-D view's second cues and text alternatives (prepended to grid_view.js after speak.js): class markers
// by shape as well as colour, the network described in words, the run's sentence for the live region, the
// tables behind the view, and the keyboard walk over the network's weights.
const SHAPES = ["circle", "square", "triangle", "diamond", "cross", "star"];
const GLYPHS = ["●", "■", "▲", "◆", "✚", "★"];  // the same shapes in the legend's text

function drawShape(g, k, x, y, r) {  // class k's marker (a path to fill and stroke), about as large as a dot of radius r
  const kind = SHAPES[k % SHAPES.length];
  g.beginPath();
  if (kind === "circle") g.arc(x, y, r, 0, 7);
  else if (kind === "square") g.rect(x - r * 0.9, y - r * 0.9, r * 1.8, r * 1.8);
  else if (kind === "triangle") { g.moveTo(x, y - r * 1.15); g.lineTo(x + r * 1.1, y + r * 0.85); g.lineTo(x - r * 1.1, y + r * 0.85); g.closePath(); }
  else if (kind === "diamond") { g.moveTo(x, y - r * 1.2); g.lineTo(x + r * 1.2, y); g.lineTo(x, y + r * 1.2); g.lineTo(x - r * 1.2, y); g.closePath(); }
  else if (kind === "cross") { const a = r * 0.45, b = r * 1.15; g.moveTo(x - a, y - b); g.lineTo(x + a, y - b); g.lineTo(x + a, y - a); g.lineTo(x + b, y - a); g.lineTo(x + b, y + a); g.lineTo(x + a, y + a); g.lineTo(x + a, y + b); g.lineTo(x - a, y + b); g.lineTo(x - a, y + a); g.lineTo(x - b, y + a); g.lineTo(x - b, y - a); g.lineTo(x - a, y - a); g.closePath(); }
  else for (let i = 0; i < 10; i++) { const a = -Math.PI / 2 + i * Math.PI / 5, q = i % 2 ? r * 0.55 : r * 1.25; g[i ? "lineTo" : "moveTo"](x + q * Math.cos(a), y + q * Math.sin(a)); }
}

function netLabel(data) {  // the network in one sentence, for the keyboard walk's focus target
  const feats = data.features.map((f) => NAMES[f] || f).join(", ");
  const hidden = data.hidden.length
    ? `${data.hidden.length} hidden layer${data.hidden.length > 1 ? "s" : ""} of ${data.hidden.join(", ")} neurons (${data.acts.join(", ")})`
    : "no hidden layer";
  const out = data.problem === "regression" ? "one output" : `${data.outputs} output${data.outputs > 1 ? "s" : ""}`;
  return `The network: ${data.features.length} input${data.features.length > 1 ? "s" : ""} (${feats}), ${hidden}, ${out}. ` +
    "Arrow keys step through its weights; positive weights are blue and solid, negative ones orange and dashed.";
}

function pgSentence(s) {  // "Training: epoch 120, training loss 0.21, test loss 0.23, test accuracy 94 %."
  const last = s.metrics[s.metrics.length - 1] || {};
  const word = { running: "Training", paused: "Paused", done: "Finished", stopped: "Stopped", starting: "Starting",
                 queued: "Queued" }[s.state];
  if (s.state === "failed") return `The run failed: ${s.message}`;
  const parts = [`epoch ${s.epoch}`];
  if (last.train_loss != null) parts.push(`training loss ${num(last.train_loss, 2)}`);
  if (last.val_loss != null) parts.push(`test loss ${num(last.val_loss, 2)}`);
  if (last.val_accuracy != null) parts.push(`test accuracy ${Math.round(100 * last.val_accuracy)} %`);
  return `${word || "Ready"}: ${parts.join(", ")}.`;
}

function pgTables(details, s, label) {  // the losses per epoch, and every weight with its sign in words
  if (!details.open) return;
  const rows = thinRows(s.metrics).map((m) => [m.epoch, num(m.train_loss, 4), num(m.val_loss, 4),
    m.val_accuracy == null ? null : `${(100 * m.val_accuracy).toFixed(1)} %`]);
  const acc = s.metrics.some((m) => m.val_accuracy != null);
  fillTable(details, "Loss per epoch", ["epoch", "training loss", "test loss", ...(acc ? ["test accuracy"] : [])],
            rows.map((r) => (acc ? r : r.slice(0, 3))), ".tbl");
  const v = s.view, w = [];
  for (const e of s.edges) {
    const x = v && v.weights[e.l] && v.weights[e.l][e.j] ? v.weights[e.l][e.j][e.i] : null;
    w.push([label(e.l, e.i), label(e.l + 1, e.j), num(x, 3), x == null ? null : x >= 0 ? "positive" : "negative"]);
  }
  fillTable(details, `Weights at epoch ${s.epoch}`, ["from", "to", "weight", "sign"], w, ".tbl2");
}

function walkKey(e, s, show) {  // arrow keys over the network: one edge after another, its weight said
  const n = s.edges.length, keys = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };
  if (!n || !(e.key in keys || e.key === "Home" || e.key === "End" || e.key === "Escape")) return;
  e.preventDefault();
  if (e.key === "Escape") { show(null); return; }
  const at = s.edges.indexOf(s.hover);
  const next = e.key === "Home" ? 0 : e.key === "End" ? n - 1 : at < 0 ? 0 : (at + keys[e.key] + n) % n;
  show(s.edges[next]);
}
