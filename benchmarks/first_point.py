"""How soon does the first loss point appear? Train click to first epoch point drawn, in headless Chromium.

    python benchmarks/first_point.py [--runs 5] [--workers N] [--env STREAMLIT_RUNNER_POST_SCRIPT_GC=false]

Starts `streamlit run app.py` (with PLAYGROUND_BENCH_ROUTES=1 for the job list), opens /train with the
default preset (spiral-mlp, CPU), waits for the training workers to import torch, then `--runs` times:
clicks Train from inside the page (performance.now() taken in the same task as the click), and times,
with the page's own clock, every step until the live chart has drawn its first epoch point:

  script runs   the Streamlit reruns the click causes (data-test-script-state on stApp)
  submit        the job's creation time on the server (Job.created, wall clock, from /api/debug/jobs)
  es_new        the chart component received the job and opened its EventSource
  es_open       the stream's response headers arrived
  first event   the first Server-Sent Event was handled
  first point   the chart drew an event carrying epoch metrics (canvas data-points > 0)

then waits for the run to end and presses Reset. The EventSource is wrapped by an init script (the
component's JS runs in the page's main world), so no app code is changed for this.

It also times the engine alone in this process: a warm JobPool(workers=1) — submit(), the worker's
Trainer construction (state "running"), the first epoch's metrics arriving back — so the server-side
part can be told apart from the browser's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

from common import ROOT, load, wait_until  # noqa: F401  (sets sys.path)

TARGET_S = 0.5
STLOAD = ROOT / "benchmarks" / "stload.py"  # our own load tool

INIT_JS = """(() => {
  const B = window.__bench = {t0: null, marks: []};
  const mark = (n, x) => B.marks.push([n, performance.now(), x === undefined ? null : x]);
  const ES = window.EventSource;
  class BenchES extends ES {
    constructor(url, opts) {
      super(url, opts);
      mark('es_new', String(url));
      this.addEventListener('open', () => mark('es_open'));
      // added after the chart sets es.onmessage, so it runs after the chart has drawn the event
      setTimeout(() => this.addEventListener('message', (ev) => {
        let n = 0; try { n = JSON.parse(ev.data).metrics.length; } catch (e) {}
        let pts = -1;
        for (const el of document.querySelectorAll('*')) {
          const c = el.shadowRoot && el.shadowRoot.querySelector('canvas.chart');
          if (c && c.__lc && c.__lc.es === this) { pts = +c.dataset.points; break; }
        }
        mark('es_msg', [n, pts]);
        if (pts > 0 && !B.painted) { B.painted = true; requestAnimationFrame(() => mark('painted')); }
      }), 0);
    }
  }
  window.EventSource = BenchES;
  // Streamlit's websocket: when the click's BackMsg leaves and each ForwardMsg arrives (sizes only)
  const WS = window.WebSocket;
  class BenchWS extends WS {
    constructor(...a) {
      super(...a);
      this.addEventListener('message', (ev) => {
        if (B.t0 !== null && B.marks.length < 400) mark('ws_msg', ev.data.byteLength ?? ev.data.size ?? ev.data.length);
      });
    }
    send(d) { if (B.t0 !== null) mark('ws_send', d.byteLength ?? d.size ?? d.length); return super.send(d); }
  }
  window.WebSocket = BenchWS;
  const obs = new MutationObserver((ms) => {
    for (const m of ms) if (m.target.getAttribute('data-testid') === 'stApp')
      mark('script_' + m.target.getAttribute('data-test-script-state'));
  });
  const hook = () => document.body ? obs.observe(document.body, {attributes: true, subtree: true,
      attributeFilter: ['data-test-script-state']}) : setTimeout(hook, 20);
  hook();
})();"""

CLICK_JS = """(b) => { const B = window.__bench; B.marks = []; B.painted = false;
    B.t0 = performance.now(); B.t0_wall = performance.timeOrigin + B.t0; b.click(); }"""


COLD: list[dict] = []  # the warm-up click's timeline


def browser_runs(url: str, runs: int, warm_s: float) -> list[dict]:
    from appserver import CHROMIUM_ARGS, READY, need_chromium
    from common import CHART_INFO, get_json, job_id_of
    from playwright.sync_api import sync_playwright
    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=need_chromium(), args=CHROMIUM_ARGS)
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
        ctx.add_init_script(INIT_JS)
        page = ctx.new_page()
        page.goto(f"{url}/train")
        page.wait_for_selector(READY, timeout=60_000)
        wait_until(lambda: page.evaluate(CHART_INFO), 30, what="live chart on /train")
        time.sleep(warm_s)  # the workers import torch while we wait
        train = page.get_by_role("button", name="Train", exact=True)
        reset = page.get_by_role("button", name="Reset", exact=True)
        for i in range(runs + 1):  # run 0 warms the page's code paths and is not counted
            wait_until(lambda: (page.evaluate(CHART_INFO) or {}).get("url") is None and train.is_enabled(), 30,
                       what="a reset chart and an enabled Train button")
            page.evaluate(CLICK_JS, train.element_handle())
            wait_until(lambda: any(m[0] == "es_msg" and m[2][1] > 0 for m in page.evaluate("window.__bench.marks")),
                       30, step=0.02, what="the first point")
            time.sleep(0.2)  # let the paint mark land
            b = page.evaluate("window.__bench")
            info = page.evaluate(CHART_INFO)
            job = job_id_of(info["url"])
            created = next((j["created"] for j in get_json(f"{url}/api/debug/jobs")["jobs"] if j["id"] == job), None)
            rec = timeline(b, created)
            rec["job"] = job
            (out if i else COLD).append(rec)
            print(f"  run {i}{' (warm-up, not counted)' if not i else ''}: " + "  ".join(
                f"{k} {v * 1e3:.0f}" for k, v in rec.items() if isinstance(v, float)) + " ms" + f"  [{load()}]",
                flush=True)
            wait_until(lambda: (page.evaluate(CHART_INFO) or {}).get("state") in ("done", "failed", "stopped"), 60,
                       what="the run to end")
            time.sleep(0.5)
            page.wait_for_selector(READY, timeout=30_000)
            reset.click()
            time.sleep(0.3)
            page.wait_for_selector(READY, timeout=30_000)
        browser.close()
    return out


def timeline(b: dict, created: float | None) -> dict:
    """Seconds from the click to each step of one run (from the page's marks)."""
    t0, marks = b["t0"], b["marks"]

    def first(name, pred=lambda x: True):
        return next(((t - t0) / 1e3 for n, t, x in marks if n == name and pred(x)), float("nan"))

    runs = [(t - t0) / 1e3 for n, t, _ in marks if n == "script_notRunning"]
    es_new = first("es_new")
    ws_in = [(t - t0) / 1e3 for n, t, _ in marks if n == "ws_msg"]
    rec = {"ws_send": first("ws_send"), "ws_first_in": ws_in[0] if ws_in else float("nan"),
           "submit": (created - b["t0_wall"] / 1e3) if created else float("nan"),
           "ws_in_before_es": max([t for t in ws_in if t <= es_new], default=float("nan")),
           "script_done_1": runs[0] if runs else float("nan"),
           "es_new": es_new, "es_open": first("es_open"), "first_event": first("es_msg"),
           "first_point": first("es_msg", lambda x: x[1] > 0), "painted": first("painted")}
    rec["script_runs"] = sum(1 for n, *_ in marks if n == "script_running")
    rec["events_before_point"] = sum(1 for n, t, x in marks if n == "es_msg" and x[1] <= 0)
    return rec


def server_click_latency(url: str, runs: int) -> list[float]:
    """The click as a websocket client sees it, no browser: BackMsg sent to script_finished (both runs the
    click causes: the one that submits and calls st.rerun, and the full rerun), via stload, one session."""
    import subprocess
    out = []
    for _ in range(runs):
        res = subprocess.run([sys.executable, str(STLOAD), url, "--sessions", "1", "--seconds", "0.5",
                              "--page", "Train", "--click", "Train"], capture_output=True, text=True, timeout=120)
        summary = json.loads(res.stdout.strip().splitlines()[-1])
        out += [summary["kinds"]["click"]["p50_ms"] / 1e3] if "click" in summary["kinds"] else []
    return out


def engine_timeline(runs: int, settle: float) -> dict:
    """submit → running (Trainer built in the worker) → first metrics back, on a JobPool(workers=1): the first
    job after the worker has imported torch (`cold_*`), then medians of `runs` more (warm)."""
    from playground import presets
    from playground.jobs import JobPool
    spec = presets.get("spiral-mlp")
    pool = JobPool(workers=1)
    marks: list[tuple[float, str, dict]] = []
    deliver = pool._deliver

    def spy(events):  # the reader thread's view: when each event reaches the app process
        now = time.perf_counter()
        marks.extend((now, ev["type"], ev) for ev in events)
        deliver(events)
    pool._deliver = spy
    try:
        time.sleep(settle)  # the worker imports torch meanwhile, as a server's workers do before the first click
        res = {"submit": [], "running": [], "first_metrics": [], "first_epoch_in_worker": []}
        for _ in range(runs + 1):
            marks.clear()
            t0 = time.perf_counter()
            job = pool.submit(spec, owner="bench")
            t1 = time.perf_counter()
            job.wait_for(lambda j=job: len(j.metrics) > 0, 30)
            t_run = next(t for t, k, ev in marks if k == "state" and ev["state"] == "running")
            t_met = next(t for t, k, ev in marks if k == "metrics")
            res["submit"].append(t1 - t0)
            res["running"].append(t_run - t0)
            res["first_metrics"].append(t_met - t0)
            res["first_epoch_in_worker"].append(t_met - t_run)
            job.stop()
            job.wait(10)
        out = {f"cold_{k}": v[0] for k, v in res.items()}
        return {**out, **{k: statistics.median(v[1:]) for k, v in res.items()}}
    finally:
        pool.shutdown()


def trainer_build_seconds(rounds: int = 5) -> tuple[float, float]:
    """(Trainer construction, first epoch) of spiral-mlp in this process, one thread, data cached."""
    import torch

    from playground import presets
    from playground.data import load_cached
    from playground.train import Trainer
    torch.set_num_threads(1)
    spec = presets.get("spiral-mlp")
    data = load_cached(spec.data)
    Trainer(spec, data=data).run_epoch()
    build, epoch = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        tr = Trainer(spec, data=data)
        t1 = time.perf_counter()
        tr.run_epoch()
        build.append(t1 - t0)
        epoch.append(time.perf_counter() - t1)
    return statistics.median(build), statistics.median(epoch)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="timed clicks (default 5, after one warm-up click)")
    ap.add_argument("--workers", type=int, default=0, help="training worker processes (default: one per core)")
    ap.add_argument("--warm", type=float, default=5.0, help="seconds to wait after the first page load")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                    help="extra server environment, e.g. STREAMLIT_RUNNER_POST_SCRIPT_GC=false (repeatable)")
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from appserver import streamlit_server

    print(f"host: {os.cpu_count()} cores, {load()} before the run", flush=True)
    load0 = os.getloadavg()[0]
    env = {"PLAYGROUND_WORKERS": str(args.workers), "PLAYGROUND_BENCH_ROUTES": "1",
           **dict(kv.split("=", 1) for kv in args.env)}
    if args.env:
        print(f"server environment: {' '.join(args.env)}", flush=True)
    with streamlit_server(env=env) as url:
        recs = browser_runs(url, args.runs, args.warm)
        server_clicks = server_click_latency(url, args.runs)
    load_browser = os.getloadavg()[0]
    browser_cold = [r["first_point"] for r in COLD]
    engine = engine_timeline(args.runs, args.warm + 3)
    build, epoch = trainer_build_seconds()
    load1 = os.getloadavg()[0]

    firsts = [r["first_point"] for r in recs]
    med, worst = statistics.median(firsts), max(firsts)
    ok = med <= TARGET_S and worst <= TARGET_S

    def m(key):
        return statistics.median(r[key] for r in recs)
    print(f"first point, median   {med:6.3f} s   (target <= {TARGET_S} s)   {'ok' if med <= TARGET_S else 'ABOVE'}"
          f"   [{args.runs} runs, load {load0:.2f} -> {load_browser:.2f}]")
    print(f"first point, max      {worst:6.3f} s   (target <= {TARGET_S} s)   {'ok' if worst <= TARGET_S else 'ABOVE'}")
    print("breakdown (medians, from the click): "
          f"BackMsg sent {m('ws_send') * 1e3:.0f} ms · first ForwardMsg {m('ws_first_in') * 1e3:.0f} ms · "
          f"job submitted {m('submit') * 1e3:.0f} ms · first script run done {m('script_done_1') * 1e3:.0f} ms · "
          f"last ForwardMsg before the chart got the job {m('ws_in_before_es') * 1e3:.0f} ms · "
          f"EventSource opened {m('es_new') * 1e3:.0f} ms · headers {m('es_open') * 1e3:.0f} ms · "
          f"first event {m('first_event') * 1e3:.0f} ms · first point {m('first_point') * 1e3:.0f} ms · "
          f"painted {m('painted') * 1e3:.0f} ms; script runs per click {m('script_runs'):.0f}, "
          f"events before the point {m('events_before_point'):.0f}")
    print(f"server side of the click (stload, one session, no browser): median "
          f"{statistics.median(server_clicks) * 1e3:.0f} ms, max {max(server_clicks) * 1e3:.0f} ms "
          f"(BackMsg to script_finished, both script runs)")
    cold = browser_cold[0] if browser_cold else float("nan")
    print(f"first click on a fresh server (warm-up run, not counted): first point {cold:.3f} s; engine alone, "
          f"first job on a fresh worker: running (Trainer built) after {engine['cold_running']:.3f} s, first metrics "
          f"{engine['cold_first_metrics']:.3f} s")
    print(f"engine alone (warm JobPool(workers=1) in this process, medians): submit() "
          f"{engine['submit'] * 1e3:.1f} ms · running (Trainer built) {engine['running'] * 1e3:.0f} ms · "
          f"first metrics back {engine['first_metrics'] * 1e3:.0f} ms; bare Trainer build {build * 1e3:.1f} ms, "
          f"first epoch {epoch * 1e3:.1f} ms   [load {load1:.2f}]")
    print(json.dumps({"benchmark": "first_point", "target_s": TARGET_S, "median_s": round(med, 4),
                      "max_s": round(worst, 4), "ok": ok, "runs": [{k: (round(v, 4) if isinstance(v, float) else v)
                                                                  for k, v in r.items()} for r in recs],
                      "engine": {k: round(v, 4) for k, v in engine.items()},
                      "server_click_s": [round(x, 4) for x in server_clicks],
                      "fresh_server_first_point_s": round(cold, 4),
                      "trainer_build_s": round(build, 4), "trainer_first_epoch_s": round(epoch, 4),
                      "load": [round(load0, 2), round(load_browser, 2), round(load1, 2)],
                      "workers": args.workers or os.cpu_count(), "env": args.env}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
