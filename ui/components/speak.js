// Text alternatives for the canvas components (prepended to live_chart.js and grid_view.js; see speak.py).
// A chart "speaks" through a visually hidden polite live region (WCAG 1.1.1, 4.1.3): a screen reader reads
// its sentence when it changes, so while a run trains the sentence changes at a calm rate (CALM_MS), and at
// once when the run's state changes (started, paused, done). The data behind the chart is a table in a
// <details> ("Show as table"), rebuilt only while it is open. User text goes in with textContent only.
const CALM_MS = 10000;

function speakTo(region, holder, sentence, state) {
  // say `sentence` now if the state changed or the calm interval has passed; otherwise keep it for later
  const now = Date.now();
  holder.pending = sentence;
  if (state !== holder.state || now - (holder.at || 0) >= CALM_MS) {
    holder.state = state; holder.at = now;
    if (region.textContent !== sentence) region.textContent = sentence;
    clearTimeout(holder.later); holder.later = null;
  } else if (!holder.later) {  // a sentence held back is said when the interval is over, so none is lost
    holder.later = setTimeout(() => {
      holder.later = null; holder.at = Date.now();
      if (region.textContent !== holder.pending) region.textContent = holder.pending;
    }, CALM_MS - (now - holder.at));
  }
}

function fillTable(details, caption, head, rows, slot = ".tbl") {
  // the rows as an HTML table under the open <details>; nothing is built while it is closed
  if (!details.open) return;
  const table = document.createElement("table"), cap = document.createElement("caption");
  cap.textContent = caption; table.appendChild(cap);
  const tr = document.createElement("tr");
  for (const h of head) { const th = document.createElement("th"); th.scope = "col"; th.textContent = h; tr.appendChild(th); }
  const thead = document.createElement("thead"); thead.appendChild(tr); table.appendChild(thead);
  const body = document.createElement("tbody");
  for (const r of rows) {
    const row = document.createElement("tr");
    for (const v of r) { const td = document.createElement("td"); td.textContent = v == null ? "–" : String(v); row.appendChild(td); }
    body.appendChild(row);
  }
  table.appendChild(body);
  details.querySelector(slot).replaceChildren(table);
}

function thinRows(rows, most = 200) {
  // at most `most` rows, evenly spread, always with the last one: a long run stays a table one can read
  if (rows.length <= most) return rows;
  const step = rows.length / most, out = [];
  for (let i = 0; i < most - 1; i++) out.push(rows[Math.floor(i * step)]);
  out.push(rows[rows.length - 1]);
  return out;
}

function num(v, digits = 3) {  // a figure as people say it: 0.21, 1.5, 120 (never 1.2e+2 nor 6.8e-7)
  if (v == null || !isFinite(v)) return "–";
  if (Math.abs(v) >= 10 ** digits) return (+v).toFixed(0);
  // toPrecision writes e-notation below 0.000001 (a loss that has fit its data gets there): say the bound
  if (v !== 0 && Math.abs(v) < 1e-6) return v > 0 ? "under 0.000001" : "between -0.000001 and 0";
  const t = (+v).toPrecision(digits);
  return t.includes(".") && !t.includes("e") ? t.replace(/\.?0+$/, "") : t;
}
