// The GAN lab's drawing pad (ui/components/point_canvas.py): click or drag to place points.
export default function ({ parentElement, data, setStateValue }) {
  const root = parentElement.querySelector(".pc"), pad = root.querySelector(".pad"), g = pad.getContext("2d");
  const S = pad.width, R = data.range, most = data.most;
  const s = (root.__s ||= { pts: null, down: false, last: null, n: 0, sent: [] });
  // The page's points replace the pad's unless they are a drawing the pad sent itself (a rerun caught up with
  // an earlier stroke while the next was drawn): an undo, a link or another page's change shows; a fast
  // second stroke is not lost.
  const given = JSON.stringify(data.points || []);
  if (s.pts === null || (data.points_key !== s.key && !s.sent.includes(given))) {
    s.pts = (data.points || []).map((p) => p.slice());
  }
  s.key = data.points_key;
  const toXY = (e) => { const b = pad.getBoundingClientRect(); const px = (e.clientX - b.left) * S / b.width, py = (e.clientY - b.top) * S / b.height;
    return [Math.round((px / S * 2 * R - R) * 1000) / 1000, Math.round((R - py / S * 2 * R) * 1000) / 1000]; };
  const add = (p) => { if (s.pts.length < most) s.pts.push(p); };
  pad.onpointerdown = (e) => { pad.setPointerCapture(e.pointerId); s.down = true; const p = toXY(e); add(p); s.last = p; draw(); };
  pad.onpointermove = (e) => { if (!s.down) return; const p = toXY(e);
    if (Math.hypot(p[0] - s.last[0], p[1] - s.last[1]) >= R / 20) { add(p); s.last = p; draw(); } };
  pad.onpointerup = () => { if (!s.down) return; s.down = false; send(); };
  root.querySelector(".clear").onclick = () => { s.pts = []; draw(); send(); };
  draw();
  function send() {
    s.n += 1; s.sent = [...s.sent.slice(-30), JSON.stringify(s.pts)];
    setStateValue("drawing", { points: s.pts, n: s.n });
  }
  function draw() {
    g.clearRect(0, 0, S, S); g.strokeStyle = "rgba(128,128,128,.35)"; g.lineWidth = 1;
    g.beginPath(); g.moveTo(S / 2, 0); g.lineTo(S / 2, S); g.moveTo(0, S / 2); g.lineTo(S, S / 2); g.stroke();
    g.fillStyle = data.color;
    for (const [x, y] of s.pts) { g.beginPath(); g.arc((x + R) / (2 * R) * S, (R - y) / (2 * R) * S, 3, 0, 7); g.fill(); }
    root.querySelector(".hint").textContent = `${s.pts.length} of at most ${most} points · click or drag`;
  }
}
