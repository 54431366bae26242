"""Does watching cost training speed? Steps/s while the Train page streams the chart ÷ the same training headless.

    python benchmarks/streaming.py [--preset spiral-mlp] [--epochs 3000] [--seconds 10] [--rounds 2]
                                   [--toggles 3] [--browser-nice 19]

Headless: a JobPool(workers=1) in this process (worker at nice 10, as the server's) trains the preset;
the steps it made in a `--seconds` window after a warm-up, read from `job.progress["steps"]`.
Streaming: `streamlit run app.py` with PLAYGROUND_WORKERS=1 (same worker count, same niceness), /train
opened in headless Chromium with the same setup in its link (?s=…), Train clicked; the job id comes from
the live chart's EventSource URL (`canvas.__lc.url`), and the steps from GET /api/jobs/{id} at both ends
of the window. The chart's own update counter (data-updates) shows that it really streamed meanwhile.

The two alternate `--rounds` times (headless, streaming, headless, …) so that drifting load from other
work on the host hits both; the ratio is median(streaming) ÷ median(headless). The load average is
printed beside every figure, with the CPU each process used and the steps per worker CPU-second.

Because host load drifts between rounds, each streaming round then also closes and reopens the chart's
EventSource on the same job (`--toggles` pairs of `--toggle-seconds` windows, in the page): steps/s with
the stream on ÷ off, the cost of streaming itself with everything else the same. `--browser-nice 19`
starts Chromium under `nice`, as if the browser ran on the student's machine instead of the server.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import CHART_INFO, FIND_CHART, ROOT, cpu_seconds, get_json, job_id_of, load, processes, wait_until  # noqa: F401

TARGET = 0.90


def the_spec(preset: str, epochs: int) -> dict:
    from playground import presets
    spec = presets.get(preset).to_dict()
    spec["train"]["epochs"] = epochs
    spec["train"]["device"] = "cpu"
    return spec


def headless(spec: dict, warm: float, seconds: float) -> dict:
    """Steps/s of one job on a JobPool(workers=1) in this process, nobody watching."""
    from playground.jobs import JobPool
    pool = JobPool(workers=1)
    try:
        job = pool.submit(spec, owner="bench")
        wait_until(lambda: job.progress.get("steps", 0) > 0 or job.finished, 120, what="the headless job to start")
        time.sleep(warm)
        procs = processes()
        c0, s0, t0 = cpu_seconds(procs["workers"]), job.progress["steps"], time.perf_counter()
        time.sleep(seconds)
        c1, s1, t1 = cpu_seconds(procs["workers"]), job.progress["steps"], time.perf_counter()
        assert not job.finished, "the job ended inside the window: raise --epochs"
        return {"steps_per_s": (s1 - s0) / (t1 - t0), "reported_steps_per_s": job.progress.get("steps_per_s"),
                "steps_per_cpu_s": (s1 - s0) / max(1e-9, c1 - c0),
                "worker_cpu": (c1 - c0) / (t1 - t0), "load": os.getloadavg()[0]}
    finally:
        pool.shutdown()


STREAM_OFF = """() => { const c = (%s)(); const s = c.__lc; s._h = s.es.onmessage; s.es.close(); s.es = null; }"""
STREAM_ON = """() => { const c = (%s)(); const s = c.__lc; s.metrics = []; s.live = [];
    const es = new EventSource(s.url); es.onmessage = s._h; s.es = es; }"""  # the first event resends every epoch


def streaming(spec: dict, warm: float, seconds: float, browser_nice: int = 0, toggles: int = 0,
              toggle_s: float = 3.0) -> dict:
    """Steps/s of the same job started from the Train page in Chromium while its chart streams; then, with
    `toggles`, the same job with the chart's stream closed and reopened in turn (`toggle_s` each)."""
    from appserver import CHROMIUM_ARGS, READY, need_chromium, streamlit_server
    from playwright.sync_api import sync_playwright

    from playground.spec import encode, from_dict
    exe = need_chromium()
    if browser_nice:  # model a browser on another machine: Chromium (every process and thread) yields the cores
        wrapper = Path(tempfile.mkdtemp()) / "chromium-niced"
        wrapper.write_text(f'#!/bin/sh\nexec nice -n {browser_nice} {exe} "$@"\n')
        wrapper.chmod(0o755)
        exe = str(wrapper)
    with streamlit_server(env={"PLAYGROUND_WORKERS": "1", "PLAYGROUND_BENCH_ROUTES": "1"}) as url, \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/train?s={encode(from_dict(spec))}")
        page.wait_for_selector(READY, timeout=60_000)
        wait_until(lambda: page.evaluate(CHART_INFO), 30, what="the live chart")
        time.sleep(5)  # the worker imports torch
        page.get_by_role("button", name="Train", exact=True).click()
        job = job_id_of(wait_until(lambda: (page.evaluate(CHART_INFO) or {}).get("url"), 60, what="the stream URL"))
        def status():  # the job's entry in the (small) debug list, not /api/jobs/{id} with every epoch's metrics
            return next(j for j in get_json(f"{url}/api/debug/jobs")["jobs"] if j["id"] == job)
        wait_until(lambda: status()["progress"].get("steps", 0) > 0, 120, what="the job to start")
        time.sleep(warm)
        procs = processes()
        cpu0 = {k: cpu_seconds(v) for k, v in procs.items()}
        u0, s0, t0 = page.evaluate(CHART_INFO)["updates"], status()["progress"]["steps"], time.perf_counter()
        time.sleep(seconds)
        u1, st1, t1 = page.evaluate(CHART_INFO)["updates"], status(), time.perf_counter()
        cpu1 = {k: cpu_seconds(v) for k, v in procs.items()}
        assert st1["state"] == "running", f"the job is {st1['state']} at the end of the window: raise --epochs"
        pairs = []
        for _ in range(toggles):
            rates = {}
            for phase, js in (("off", STREAM_OFF), ("on", STREAM_ON)):
                page.evaluate(js % FIND_CHART)
                time.sleep(0.5)  # settle (the reopened stream's first event carries every epoch so far)
                a, ta = status()["progress"]["steps"], time.perf_counter()
                time.sleep(toggle_s)
                rates[phase] = (status()["progress"]["steps"] - a) / (time.perf_counter() - ta)
            pairs.append(rates)
        assert status()["state"] == "running", "the job ended during the on/off windows: raise --epochs"
        page.screenshot(path=str(ROOT / "test-artifacts" / "streaming-bench.png"))
        browser.close()
    if browser_nice:
        shutil.rmtree(Path(exe).parent, ignore_errors=True)
    dt = t1 - t0
    return {"steps_per_s": (st1["progress"]["steps"] - s0) / dt, "reported_steps_per_s": st1["progress"]["steps_per_s"],
            "steps_per_cpu_s": (st1["progress"]["steps"] - s0) / max(1e-9, cpu1["workers"] - cpu0["workers"]),
            "chart_updates_per_s": (u1 - u0) / dt, "load": os.getloadavg()[0], "toggles": pairs,
            **{f"{k}_cpu": (cpu1[k] - cpu0[k]) / dt for k in cpu0}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="spiral-mlp", help="preset to train (default spiral-mlp, the default setup)")
    ap.add_argument("--epochs", type=int, default=3000, help="epochs, enough to outlast warm-up + window")
    ap.add_argument("--seconds", type=float, default=10.0, help="measuring window (default 10)")
    ap.add_argument("--warm", type=float, default=2.0, help="seconds of training skipped before the window")
    ap.add_argument("--rounds", type=int, default=2, help="headless/streaming pairs, alternating (default 2)")
    ap.add_argument("--toggles", type=int, default=3,
                    help="then close and reopen the chart's stream this many times on the same job (default 3)")
    ap.add_argument("--toggle-seconds", type=float, default=3.0, help="window per stream-off / stream-on phase")
    ap.add_argument("--browser-nice", type=int, default=0,
                    help="renice Chromium to this (e.g. 19: as if the browser ran on the student's machine)")
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    spec = the_spec(args.preset, args.epochs)
    print(f"host: {os.cpu_count()} cores, {load()} before the run; {args.preset}, {args.epochs} epochs, "
          f"1 worker at nice 10 in both" + (f"; Chromium at nice {args.browser_nice}" if args.browser_nice else ""),
          flush=True)
    runs: dict[str, list[dict]] = {"headless": [], "streaming": []}
    for r in range(args.rounds):
        for kind, fn in (("headless", headless), ("streaming", streaming)):
            more = [args.browser_nice, args.toggles, args.toggle_seconds] if kind == "streaming" else []
            res = fn(spec, args.warm, args.seconds, *more)
            runs[kind].append(res)
            extra = "  ".join(f"{k} {v:.2f}" for k, v in res.items() if k not in ("steps_per_s", "load")
                              and isinstance(v, float))
            print(f"  round {r + 1} {kind:9s} {res['steps_per_s']:8.1f} steps/s   {extra}   [load {res['load']:.2f}]",
                  flush=True)
    h = statistics.median(x["steps_per_s"] for x in runs["headless"])
    s = statistics.median(x["steps_per_s"] for x in runs["streaming"])
    ratio = s / h
    upd = statistics.median(x["chart_updates_per_s"] for x in runs["streaming"])
    pairs = [t for x in runs["streaming"] for t in x["toggles"]]
    onoff = statistics.median(t["on"] / t["off"] for t in pairs) if pairs else float("nan")
    eff = (statistics.median(x["steps_per_cpu_s"] for x in runs["streaming"])
           / statistics.median(x["steps_per_cpu_s"] for x in runs["headless"]))
    loads = [x["load"] for v in runs.values() for x in v]
    print(f"streaming/headless   {ratio:6.3f}   (target >= {TARGET})   {'ok' if ratio >= TARGET else 'BELOW'}"
          f"   [{s:.0f} vs {h:.0f} steps/s, medians of {args.rounds}; load {min(loads):.2f}-{max(loads):.2f}]")
    print(f"chart updates/s while streaming   {upd:5.1f}   (the stream's rate is 10/s)")
    if pairs:
        each = ", ".join(f"{t['on']:.0f}/{t['off']:.0f}" for t in pairs)
        print(f"same job, chart stream on/off   {onoff:6.3f}   (target >= {TARGET})   "
              f"{'ok' if onoff >= TARGET else 'BELOW'}   [median of {len(pairs)} pairs of {args.toggle_seconds:g} s "
              f"windows: {each} steps/s]")
    print(f"steps per worker CPU-second, streaming/headless   {eff:6.3f}   (1.0: streaming costs the worker nothing; "
          f"below the wall-clock ratio's gap, the rest is CPU the host gave elsewhere)")
    print(json.dumps({"benchmark": "streaming", "target": TARGET, "ratio": round(ratio, 4), "ok": ratio >= TARGET,
                      "preset": args.preset, "epochs": args.epochs, "seconds": args.seconds,
                      "headless_steps_per_s": round(h, 1), "streaming_steps_per_s": round(s, 1),
                      "per_cpu_second_ratio": round(eff, 4), "browser_nice": args.browser_nice,
                      "stream_on_off_ratio": round(onoff, 4),
                      "runs": {k: [{a: round(b, 3) if isinstance(b, float) else b for a, b in x.items()} for x in v]
                               for k, v in runs.items()}}))
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
