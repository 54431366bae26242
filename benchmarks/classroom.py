"""A class of 30 on one host: page runs and clicks under load, every live chart's stream rate, memory.

    python benchmarks/classroom.py [--sessions 30] [--seconds 20] [--rerun-every 0.25 2] [--workers N]
                                   [--backend local|ray] [--jobs-per-actor K]

Starts `streamlit run app.py` (PLAYGROUND_BENCH_ROUTES=1 for GET /api/debug/jobs, which lists every
session's jobs), warms it (one session opens /train, so the first page run's imports are done), then for
each `--rerun-every` value runs the load tool (`benchmarks/stload.py`): `--sessions`
websocket sessions each open Train, click Train (the default preset, spiral-mlp) and then rerun the app on
a fixed clock. Meanwhile this process plays the 30 browsers' live charts: for every new job it opens the
job's Server-Sent-Events stream (/api/jobs/{id}/stream, raw HTTP/1.0 over asyncio) and timestamps each
update. It also samples the job list (training throughput: all jobs' steps, summed) and the resident
memory of the Streamlit process plus its worker processes (/proc).

Printed per scenario, each with its target and the load average: page-run (steady rerun) and click
latency p50/p95 and time-outs from stload's JSON summary; min / median updates a second across the
live streams over stload's steady window; total training steps/s; server memory.

Model of a class: with the streamed chart the Train page does not rerun while it trains, so stload's
0.25 s clock (the old polling page's rate) is an upper bound; 2 s models students clicking about.

`--backend ray`: the server trains on a Ray cluster (PLAYGROUND_BACKEND=ray), as a Streamlit Cloud app would on a
GPU cluster: a head node started here on 127.0.0.1 (`ray start --head`, token authentication) reached through
Ray Client, with `--jobs-per-actor` jobs per trainer actor and enough actors started and warm before the class
clicks. Memory is then the server's (what the app host holds) plus every Ray process's (the cluster's, PSS:
shared pages counted once), each printed, and their sum against the 2.7 GB a Streamlit Cloud app gets.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import statistics
import sys
import time
import urllib.parse

from common import (
    ROOT,
    cpu_seconds,
    get_json,
    load,
    pct,
    process_group,
    processes,
    pss_mb,
    ray_head,
    rss_mb,
    wait_until,
)

STLOAD = ROOT / "benchmarks" / "stload.py"  # our own load tool
TARGET_P95_S = 0.5
TARGET_UPDATES = 5.0  # a second, every live stream
TARGET_MEMORY_MB = 2700  # a Streamlit Cloud app's memory
MIN_SPAN = 2.0  # seconds a stream must be live inside the window to get a rate


class Stream:
    """One subscriber: timestamps of the job's update events (wall clock)."""

    def __init__(self, job: str, key: str) -> None:
        self.job, self.times, self.ended, self.error = job, [], None, None
        self.key = key  # the run's route key (the debug listing hands it out)
        self.opened: float | None = None

    async def run(self, host: str, port: int, prefix: str) -> None:
        try:
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(f"GET {prefix}/api/jobs/{self.job}/stream?key={self.key} HTTP/1.0\r\nHost: {host}\r\n"
                         f"Accept: text/event-stream\r\n\r\n".encode())
            await writer.drain()
            self.opened = time.time()
            event = None
            while True:
                line = await reader.readline()
                if not line:
                    break
                line = line.rstrip(b"\r\n")
                if line.startswith(b"event:"):
                    event = line[6:].strip().decode()
                elif line.startswith(b"data:"):
                    if event in (None, "message"):
                        self.times.append(time.time())
                    elif event in ("end", "gone"):
                        self.ended = time.time()
                elif not line:
                    event = None
            writer.close()
        except (OSError, asyncio.IncompleteReadError) as e:
            self.error = repr(e)
        if self.ended is None:
            self.ended = time.time()

    def rate(self, w0: float, w1: float) -> float | None:
        """Updates a second over the part of [w0, w1] in which this stream was live (None: too short)."""
        if not self.times:
            return None
        a, b = max(w0, self.times[0]), min(w1, self.ended or w1)
        if b - a < MIN_SPAN:
            return None
        return sum(1 for t in self.times if a <= t <= b) / (b - a)

    def max_gap(self, w0: float, w1: float) -> float:
        ts = [t for t in self.times if w0 <= t <= w1]
        return max((b - a for a, b in zip(ts, ts[1:], strict=False)), default=float("nan"))


def memory(pids: dict) -> tuple[float, float, float]:
    """(server RSS, server PSS, Ray cluster PSS) in MB: Streamlit plus its worker processes; every process of
    the Ray head node's group (0 with the local backend)."""
    server = pids["streamlit"] + pids["workers"]
    ray = process_group(pids["ray"]) if pids.get("ray") else []
    return rss_mb(server), pss_mb(server), pss_mb(ray)


async def scenario(url: str, sessions: int, seconds: float, rerun_every: float, pids: dict) -> dict:
    """One stload run plus one stream subscriber per job; returns the figures."""
    u = urllib.parse.urlsplit(url)
    known = {j["id"] for j in get_json(f"{url}/api/debug/jobs")["jobs"]}
    streams: dict[str, Stream] = {}
    tasks: list[asyncio.Task] = []
    samples: list[tuple] = []  # (time, total steps, sum of steps/s, running, (server RSS, server PSS, Ray PSS) MB)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(STLOAD), url, "--sessions", str(sessions), "--seconds", str(seconds), "--page", "Train",
        "--click", "Train", "--rerun-every", str(rerun_every), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    out_task = asyncio.create_task(proc.stdout.read())
    cpu_pids = {k: v for k, v in pids.items() if k != "ray"}
    cpu0, t_cpu0 = {k: cpu_seconds(v) for k, v in cpu_pids.items()}, time.time()
    me0 = resource.getrusage(resource.RUSAGE_SELF)
    while proc.returncode is None:
        t = time.time()
        try:
            listing = await asyncio.to_thread(get_json, f"{url}/api/debug/jobs", 10)
        except OSError:
            listing = None
        if listing:
            mine = [j for j in listing["jobs"] if j["id"] not in known]
            for j in mine:
                if j["id"] not in streams and j["state"] not in ("done", "failed", "stopped"):
                    streams[j["id"]] = s = Stream(j["id"], j["key"])
                    tasks.append(asyncio.create_task(s.run(u.hostname, u.port, u.path.rstrip("/"))))
            live = [j for j in mine if j["state"] == "running"]
            samples.append((t, sum(j["progress"].get("steps", 0) for j in mine),
                            sum(j["progress"].get("steps_per_s", 0) for j in live), len(live),
                            memory(pids)))
        try:
            await asyncio.wait_for(proc.wait(), 0.5)
        except asyncio.TimeoutError:
            pass
    cpu1, t_cpu1 = {k: cpu_seconds(v) for k, v in cpu_pids.items()}, time.time()
    me1 = resource.getrusage(resource.RUSAGE_SELF)
    text = (await out_task).decode(errors="replace")
    summary = json.loads(text.strip().splitlines()[-1])
    await asyncio.sleep(1.0)  # sessions closed: their jobs stop and the streams end
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

    w0, w1 = summary["steady_window"]
    rates = {j: s.rate(w0, w1) for j, s in streams.items()}
    live_rates = [r for r in rates.values() if r is not None]
    inside = [x for x in samples if w0 <= x[0] <= w1]
    steps_per_s = ((inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0])) if len(inside) > 1 else float("nan")
    kinds = summary["kinds"]
    page = [kinds[k] for k in ("full", "fragment") if k in kinds]
    return {
        "rerun_every": rerun_every, "sessions": sessions, "seconds": seconds,
        "page_runs": {"n": sum(p["n"] for p in page), "p50_ms": summary["p50_ms"], "p95_ms": summary["p95_ms"],
                      "max_ms": summary["max_ms"]},
        "clicks": kinds.get("click", {"n": 0, "p50_ms": float("nan"), "p95_ms": float("nan"), "max_ms": float("nan")}),
        "initial": kinds.get("initial"), "page_switch": kinds.get("page_switch"),
        "timeouts": summary["timeouts"], "missed_ticks": summary["missed_ticks"], "sent": summary["sent"],
        "errors": summary["errors"][:5], "disconnects": summary["disconnects"],
        "setup_failures": summary["setup_failures"],
        "jobs": len(streams), "streams_with_rate": len(live_rates),
        "updates_min": min(live_rates, default=float("nan")),
        "updates_p10": pct(live_rates, 10),
        "updates_median": statistics.median(live_rates) if live_rates else float("nan"),
        "streams_below_target": sum(1 for r in live_rates if r < TARGET_UPDATES),
        "max_gap_s": max((s.max_gap(w0, w1) for s in streams.values() if s.times), default=float("nan")),
        "stream_errors": [s.error for s in streams.values() if s.error][:3],
        "streams": [{"job": s.job, "first": round(s.times[0] - w0, 2) if s.times else None,
                     "ended": round(s.ended - w0, 2) if s.ended else None, "events": len(s.times),
                     "rate": None if rates[j] is None else round(rates[j], 2)} for j, s in streams.items()],
        "steps_per_s_total": steps_per_s,
        "steps_per_s_reported_sum": statistics.median(x[2] for x in inside) if inside else float("nan"),
        "running_jobs_median": statistics.median(x[3] for x in inside) if inside else 0,
        "memory_mb_max": max((x[4][0] for x in samples), default=float("nan")),
        "memory_mb_end_of_window": inside[-1][4][0] if inside else float("nan"),
        "server_pss_mb_max": max((x[4][1] for x in samples), default=float("nan")),
        "ray_pss_mb_max": max((x[4][2] for x in samples), default=float("nan")),
        "total_pss_mb_max": max((x[4][1] + x[4][2] for x in samples), default=float("nan")),
        "cpu": {**{k: round((cpu1[k] - cpu0[k]) / (t_cpu1 - t_cpu0), 3) for k in cpu0},
                "stload client": round(summary["client_cpu_s"] / summary["elapsed_s"], 3),
                "stream clients (this process)": round((me1.ru_utime + me1.ru_stime - me0.ru_utime - me0.ru_stime)
                                                       / (t_cpu1 - t_cpu0), 3)},
        "load": os.getloadavg()[0],
    }


def engine_ceiling(n_jobs: int, workers: int, slice_s: float, seconds: float = 10.0, warm: float = 2.0) -> dict:
    """The same class without Streamlit: `n_jobs` default-preset jobs on a JobPool in this process; total
    steps/s and each job's updates a second as the stream route would send them (job.version polled at
    the route's 10 Hz). Shows what the worker's round-robin allows, apart from the web server's load."""
    import threading

    from playground import presets
    from playground.jobs import JobPool
    spec = presets.get("spiral-mlp")
    pool = JobPool(workers=workers, slice_seconds=slice_s)
    try:
        warmers = [pool.submit(spec) for _ in range(workers)]  # every worker's first job (torch._dynamo import)
        for j in warmers:
            j.wait(120)
        jobs = [pool.submit(spec, owner=f"student{i}") for i in range(n_jobs)]
        wait_until(lambda: all(j.progress.get("steps", 0) > 0 for j in jobs), 120, what="every job to train")
        time.sleep(warm)
        counts, stop = [0] * n_jobs, threading.Event()

        def poll():  # what stream_job does for each subscriber, for all of them
            seen = [j.version for j in jobs]
            while not stop.wait(0.1):
                for i, j in enumerate(jobs):
                    if j.version != seen[i]:
                        seen[i] = j.version
                        counts[i] += 1
        t = threading.Thread(target=poll, daemon=True)
        workers_pids = processes()["workers"]
        c0 = cpu_seconds(workers_pids)
        s0, t0 = sum(j.progress["steps"] for j in jobs), time.perf_counter()
        t.start()
        time.sleep(seconds)
        stop.set()
        t.join()
        s1, t1 = sum(j.progress["steps"] for j in jobs), time.perf_counter()
        c1 = cpu_seconds(workers_pids)
        assert not any(j.finished for j in jobs), "a job ended inside the window"
        rates = [c / (t1 - t0) for c in counts]
        return {"jobs": n_jobs, "workers": workers, "slice_ms": slice_s * 1e3, "steps_per_s": (s1 - s0) / (t1 - t0),
                "workers_cpu": (c1 - c0) / (t1 - t0), "steps_per_cpu_s": (s1 - s0) / max(1e-9, c1 - c0),
                "updates_min": min(rates), "updates_median": statistics.median(rates), "load": os.getloadavg()[0]}
    finally:
        pool.shutdown()


def report(r: dict) -> bool:
    pr, cl = r["page_runs"], r["clicks"]
    ok_page = pr["p95_ms"] <= TARGET_P95_S * 1e3
    ok_click = cl["p95_ms"] <= TARGET_P95_S * 1e3
    ok_to = r["timeouts"] == 0
    ok_stream = r["streams_with_rate"] > 0 and r["updates_min"] >= TARGET_UPDATES
    tag = f"[{r['sessions']} sessions, rerun every {r['rerun_every']} s, load {r['load']:.2f}]"
    yes = lambda ok: "ok" if ok else "MISSED"  # noqa: E731
    target = f"(target p95 <= {TARGET_P95_S * 1e3:.0f} ms)"
    print(f"page runs p50/p95  {pr['p50_ms']:7.0f} / {pr['p95_ms']:7.0f} ms   {target}"
          f"   {yes(ok_page)}   n={pr['n']}, missed ticks {r['missed_ticks']}   {tag}")
    print(f"clicks    p50/p95  {cl['p50_ms']:7.0f} / {cl['p95_ms']:7.0f} ms   {target}"
          f"   {yes(ok_click)}   n={cl['n']}, max {cl['max_ms']:.0f} ms")
    print(f"time-outs          {r['timeouts']:7d}        (target 0)   {yes(ok_to)}   disconnects {r['disconnects']}, "
          f"setup failures {r['setup_failures']}")
    print(f"stream updates/s   min {r['updates_min']:5.2f}, p10 {r['updates_p10']:5.2f}, "
          f"median {r['updates_median']:5.2f}"
          f"   (target every stream >= {TARGET_UPDATES})   {yes(ok_stream)}   {r['streams_with_rate']} of {r['jobs']} "
          f"streams live >= {MIN_SPAN:.0f} s in the window, {r['streams_below_target']} below; longest gap "
          f"{r['max_gap_s']:.2f} s")
    print(f"training           {r['steps_per_s_total']:7.0f} steps/s in total (sum of reported steps/s "
          f"{r['steps_per_s_reported_sum']:.0f}; {r['running_jobs_median']:.0f} jobs running)")
    print(f"server memory      {r['memory_mb_max']:7.0f} MB max (Streamlit + workers RSS; "
          f"{r['memory_mb_end_of_window']:.0f} "
          f"MB at the end of the window; Streamlit Cloud allows ~2,700 MB)")
    total_ok = r["total_pss_mb_max"] <= TARGET_MEMORY_MB
    print(f"memory (PSS)       {r['total_pss_mb_max']:7.0f} MB max in all: server {r['server_pss_mb_max']:.0f} MB + "
          f"Ray's processes {r['ray_pss_mb_max']:.0f} MB   (target <= {TARGET_MEMORY_MB})   "
          f"{'ok' if total_ok else 'MISSED'}")
    print("CPU (cores)        " + ", ".join(f"{k} {v:.2f}" for k, v in r["cpu"].items()))
    if r["errors"]:
        print("  stload errors: " + "; ".join(r["errors"][:3]))
    return ok_page and ok_click and ok_to and ok_stream


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=20.0, help="stload's steady phase (default 20)")
    ap.add_argument("--rerun-every", type=float, nargs="+", default=[0.25, 2.0],
                    help="stload's rerun clock(s), one scenario each (default 0.25 and 2)")
    ap.add_argument("--workers", type=int, default=0, help="PLAYGROUND_WORKERS (default 0: one per core)")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                    help="extra server environment, e.g. STREAMLIT_RUNNER_POST_SCRIPT_GC=false (repeatable)")
    ap.add_argument("--engine-slices", type=float, nargs="*", default=[10.0, 4.0], metavar="MS",
                    help="also run the engine alone (no Streamlit) with these worker time slices (ms); none: skip "
                         "(local backend only)")
    ap.add_argument("--backend", choices=["local", "ray"], default="local",
                    help="where the server trains: its own worker processes, or a Ray head node started here and "
                         "reached through Ray Client (needs pip install -e '.[ray]')")
    ap.add_argument("--jobs-per-actor", type=int, default=1, help="with --backend ray: PLAYGROUND_RAY_JOBS_PER_ACTOR")
    args = ap.parse_args(argv)
    from appserver import streamlit_server

    from playground.jobs import Limits
    lim = Limits()
    env = {"PLAYGROUND_WORKERS": str(args.workers), "PLAYGROUND_BENCH_ROUTES": "1",
           **dict(kv.split("=", 1) for kv in args.env)}
    print(f"host: {os.cpu_count()} cores, {load()} before the run; workers {args.workers or os.cpu_count()} "
          f"(PLAYGROUND_WORKERS={args.workers}), limits: max_running {lim.max_running}, jobs_per_owner "
          f"{lim.jobs_per_owner}, max_queued {lim.max_queued}"
          + (f"; server env {' '.join(args.env)}" if args.env else ""),
          flush=True)
    results, ok = [], True
    with contextlib.ExitStack() as stack:
        pgid = 0
        if args.backend == "ray":
            address, pgid = stack.enter_context(ray_head())
            actors = -(-args.sessions // args.jobs_per_actor)
            env.update(PLAYGROUND_BACKEND="ray", RAY_ADDRESS=address, PLAYGROUND_RAY_SPARE=str(actors),
                       PLAYGROUND_RAY_JOBS_PER_ACTOR=str(args.jobs_per_actor))
            print(f"Ray head node at {address}; {actors} actors of {args.jobs_per_actor} jobs each, started ahead",
                  flush=True)
        url = stack.enter_context(streamlit_server(env=env))
        pids = processes()
        pids = {"streamlit": pids["streamlit"], "workers": pids["workers"], "ray": pgid}
        if args.backend == "ray":
            t = time.time()
            wait_until(lambda: get_json(f"{url}/api/debug/jobs")["stats"].get("warm", 0) >= actors, 900,
                       step=1.0, what="the Ray actors to be warm")
            print(f"{actors} actors warm after {time.time() - t:.0f} s", flush=True)
        server, _, cluster = memory(pids)
        print(f"idle server memory: {server:.0f} MB "
              f"(Streamlit {rss_mb(pids['streamlit']):.0f} MB + {len(pids['workers'])} workers)"
              + (f"; Ray's processes {cluster:.0f} MB PSS" if pgid else ""), flush=True)
        # warm-up: one session per worker opens Train and trains at once (the first page run's imports, and
        # every worker's first job, which imports torch._dynamo with the first optimizer: seconds)
        import subprocess
        t = time.time()
        warmers = len(pids["workers"]) or 2
        subprocess.run([sys.executable, str(STLOAD), url, "--sessions", str(warmers), "--seconds", "8",
                        "--ramp", "0", "--page", "Train", "--click", "Train", "--rerun-every", "4"],
                       capture_output=True, timeout=180)
        wait_until(lambda: all(j["state"] in ("done", "failed", "stopped")
                               for j in get_json(f"{url}/api/debug/jobs")["jobs"]), 60, what="the warm-up jobs to end")
        print(f"warm-up ({warmers} sessions, one job each): {time.time() - t:.1f} s", flush=True)
        time.sleep(3)
        for every in args.rerun_every:
            print(f"--- {args.sessions} sessions, rerun every {every} s, {args.seconds:.0f} s steady", flush=True)
            r = asyncio.run(scenario(url, args.sessions, args.seconds, every, pids))
            ok = report(r) and ok
            results.append(r)
            time.sleep(5)  # the last scenario's jobs stop with their sessions
    engine = []
    for ms in args.engine_slices if args.backend == "local" else []:
        e = engine_ceiling(args.sessions, args.workers or os.cpu_count(), ms / 1e3)
        engine.append(e)
        print(f"engine alone, {e['jobs']} jobs on {e['workers']} workers, {ms:g} ms slices: {e['steps_per_s']:.0f} "
              f"steps/s ({e['steps_per_cpu_s']:.0f} per worker CPU-second, workers {e['workers_cpu']:.2f} cores); "
              f"per-job updates/s min {e['updates_min']:.2f}, median {e['updates_median']:.2f} "
              f"(target >= {TARGET_UPDATES})   {'ok' if e['updates_min'] >= TARGET_UPDATES else 'MISSED'}   "
              f"[load {e['load']:.2f}]", flush=True)
    print(json.dumps({"benchmark": "classroom",
                      "engine_alone": [{k: round(v, 3) if isinstance(v, float) else v for k, v in e.items()}
                                       for e in engine],
                      "targets": {"p95_s": TARGET_P95_S, "updates_per_s": TARGET_UPDATES},
                      "ok": ok, "workers": args.workers or os.cpu_count(), "env": args.env, "backend": args.backend,
                      "jobs_per_actor": args.jobs_per_actor if args.backend == "ray" else None,
                      "limits": {"max_running": lim.max_running, "jobs_per_owner": lim.jobs_per_owner},
                      "scenarios": [{k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}
                                    for r in results]}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
