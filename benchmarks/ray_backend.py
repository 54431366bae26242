"""The Ray backend against the local one on the same host: first point after Train, training and update rates,
and the app process's memory with a class of jobs.

    python benchmarks/ray_backend.py [--jobs 30] [--seconds 10] [--rounds 5] [--jobs-per-actor 1 15] [--no-client]

Each scenario runs in a fresh process (memory figures are not polluted by an earlier one, and a process holds one
Ray connection), as the app would: a JobPool whose backend is `local` (worker processes, one per core), `ray` (a
cluster this process starts, as with PLAYGROUND_BACKEND=ray and no RAY_ADDRESS) or `ray-client` (a head node
started here with `ray start --head` on 127.0.0.1 and reached through Ray Client, as from Streamlit Cloud).

Trainers (local workers and Ray actors alike) run at normal priority here, not niced as the app's are: on a host
that other work loads, niced trainers get whatever is left, and the figures would measure the other work.

- first point: a warm pool (its workers or a spare actor ready), the default preset (spiral-mlp): submit → the
  first epoch's metrics in the app process; the median of `--rounds`.
- one job: its steps/s over `--seconds`, and updates/s: how often its handle changes as the stream route sees it
  (polled at 10 Hz, as ui/server/streams.py does).
- a class: `--jobs` jobs at once (once per `--jobs-per-actor` on Ray): total steps/s, per-job updates/s (min,
  median), the app process's resident memory, and the trainers' memory (worker processes, or every Ray process:
  PSS, which counts shared pages once).

Prints one line per figure with its ratio to local, then a JSON summary. Needs `pip install -e '.[ray]'`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time

from common import ROOT, pss_mb, ray_env, ray_head, rss_mb

PRESET = "spiral-mlp"
NICE = 0  # trainers not niced (the app nices them by 10): on a host that others load, niced trainers crawl


# ---- one scenario, in a process of its own ----------------------------------------------------------------

def _children(pid: int) -> list[int]:
    """Every descendant of `pid` (the in-process cluster's gcs, raylet and actor processes; the local workers)."""
    from pathlib import Path
    parent: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            parent[int(stat.parent.name)] = int(fields[1])
    out, frontier = [], [pid]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out += kids
        frontier += kids
    return out


def make_pool(backend: str, address: str | None, spare: int, per_actor: int):
    from playground.jobs import JobPool
    if backend == "local":
        return JobPool(nice=NICE)
    from playground.backends.ray_cluster import RayBackend
    b = RayBackend(address, spare=spare, jobs_per_actor=per_actor)
    pool = JobPool(backend=b, nice=NICE)
    if not b.connected(300):
        raise SystemExit(f"ray: {b.lost}")
    return pool


def wait_warm(pool, n: int, timeout: float = 600) -> None:
    """Until `n` trainers are ready: local workers import torch at start; Ray actors say so."""
    t0 = time.time()
    backend = pool.backend
    while time.time() - t0 < timeout:
        if backend.name == "local" or sum(a.warm for a in list(backend._actors.values())) >= n:
            if backend.name == "local":
                time.sleep(3)  # a fresh worker imports torch in about this long here; a warm-up job follows
            return
        time.sleep(0.2)
    raise SystemExit(f"only {sum(a.warm for a in backend._actors.values())} of {n} actors warm after {timeout} s")


def updates(jobs: list, seconds: float) -> tuple[list[float], float]:
    """(updates/s of each job, total steps/s) over `seconds`: version changes seen at 10 Hz, steps from progress."""
    counts, seen = [0] * len(jobs), [j.version for j in jobs]
    s0, t0 = sum(j.progress.get("steps", 0) for j in jobs), time.perf_counter()
    end = t0 + seconds
    while time.perf_counter() < end:
        time.sleep(0.1)
        for i, j in enumerate(jobs):
            if j.version != seen[i]:
                seen[i], counts[i] = j.version, counts[i] + 1
    t1 = time.perf_counter()
    s1 = sum(j.progress.get("steps", 0) for j in jobs)
    assert not any(j.finished for j in jobs), [j.message for j in jobs if j.finished]
    return [c / (t1 - t0) for c in counts], (s1 - s0) / (t1 - t0)


def scenario(args) -> dict:
    """Run one scenario; the figures as a dict."""
    from playground import presets
    spec = presets.get(PRESET)
    n = args.jobs if args.what == "class" else 1
    spare = max(1, -(-n // args.per_actor)) if args.backend != "local" else 0
    pool = make_pool(args.backend, args.address, spare, args.per_actor)
    try:
        wait_warm(pool, spare)
        warm = pool.submit(spec, owner="warm-up")  # every trainer's first job pays one-off costs (torch._dynamo)
        warm.wait(120)
        if args.what == "first":
            times = []
            for i in range(args.rounds):
                time.sleep(1.0)  # the finished job's actor is idle and warm again
                t0 = time.perf_counter()
                job = pool.submit(spec, owner=f"first{i}")
                assert job.wait_for(lambda j=job: len(j.metrics) > 0, 120), job.message
                times.append(time.perf_counter() - t0)
                job.stop()
                job.wait(30)
            return {"first_point_s": statistics.median(times), "first_point_all_s": times}
        jobs = [pool.submit(spec, owner=f"student{i}", epochs=5000) for i in range(n)]
        t0 = time.time()
        while not all(j.progress.get("steps", 0) > 0 for j in jobs):
            assert time.time() - t0 < 600, [j.state for j in jobs]
            time.sleep(0.2)
        time.sleep(2.0)
        rates, steps = updates(jobs, args.seconds)
        me = os.getpid()
        if args.backend == "ray-client":
            from common import process_group
            trainers = process_group(args.pgid)
        else:
            trainers = _children(me)
        out = {"steps_per_s": steps, "updates_min": min(rates), "updates_median": statistics.median(rates),
               "app_rss_mb": rss_mb([me]), "app_pss_mb": pss_mb([me]), "trainers_pss_mb": pss_mb(trainers),
               "trainers_rss_mb": rss_mb(trainers), "trainer_processes": len(trainers),
               "actors": pool.backend.workers()}
        for j in jobs:
            j.stop()
        return out
    finally:
        pool.shutdown()


def run(backend: str, what: str, args, address: str | None = None, pgid: int = 0, per_actor: int = 1) -> dict:
    cmd = [sys.executable, __file__, "--scenario", what, "--backend", backend, "--jobs", str(args.jobs),
           "--seconds", str(args.seconds), "--rounds", str(args.rounds), "--per-actor", str(per_actor),
           "--pgid", str(pgid)] + (["--address", address] if address else [])
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, cwd=ROOT)
    lines = [line for line in r.stdout.splitlines() if line.startswith("{")]
    if r.returncode != 0 or not lines:
        raise SystemExit(f"{backend} {what} failed:\n{r.stdout[-2000:]}\n{r.stderr[-4000:]}")
    return json.loads(lines[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=30, help="jobs in the class scenario (default 30)")
    ap.add_argument("--seconds", type=float, default=10.0, help="measuring window (default 10)")
    ap.add_argument("--rounds", type=int, default=5, help="first-point repeats (default 5)")
    ap.add_argument("--jobs-per-actor", type=int, nargs="+", default=[1, 15],
                    help="PLAYGROUND_RAY_JOBS_PER_ACTOR values for the class scenario on Ray (default 1 and 15)")
    ap.add_argument("--no-client", action="store_true", help="skip the Ray Client scenarios (no head node)")
    ap.add_argument("--scenario", choices=["first", "one", "class"], help=argparse.SUPPRESS)
    ap.add_argument("--backend", default="local", help=argparse.SUPPRESS)
    ap.add_argument("--address", help=argparse.SUPPRESS)
    ap.add_argument("--per-actor", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--pgid", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.scenario:  # a child process: one scenario, one JSON line
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        args.what = args.scenario
        threading.current_thread().name = "bench"
        print(json.dumps(scenario(args)), flush=True)
        return 0
    ray_env()  # before anything imports ray
    try:
        import ray  # noqa: F401
    except ImportError:
        raise SystemExit("ray is not installed: pip install -e '.[ray]'") from None
    print(f"host: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; preset {PRESET}", flush=True)
    results: dict = {}
    for what in ("first", "one", "class"):
        results[("local", what, 0)] = r = run("local", what, args)
        print(f"local      {what:5s} {json.dumps(r)}", flush=True)
        for per in (args.jobs_per_actor if what == "class" else [1]):
            results[("ray", what, per)] = r = run("ray", what, args, per_actor=per)
            print(f"ray        {what:5s} per-actor {per:<3d} {json.dumps(r)}", flush=True)
        if not args.no_client:
            with ray_head() as (address, pgid):
                for per in (args.jobs_per_actor if what == "class" else [1]):
                    results[("ray-client", what, per)] = r = run("ray-client", what, args, address, pgid, per)
                    print(f"ray-client {what:5s} per-actor {per:<3d} {json.dumps(r)}", flush=True)
    print("--- ratios to local (same host, same preset)")
    lo = {w: results[("local", w, 0)] for w in ("first", "one", "class")}
    rows = []
    for (backend, what, per), r in results.items():
        if backend == "local":
            continue
        base = lo[what]
        ratios = {k: r[k] / base[k] for k in ("first_point_s", "steps_per_s", "updates_median", "updates_min",
                                              "app_rss_mb") if k in r and base.get(k)}
        rows.append({"backend": backend, "scenario": what, "jobs_per_actor": per, **ratios})
        print(f"{backend:10s} {what:5s} per-actor {per:<3d} " + ", ".join(f"{k} {v:.2f}" for k, v in ratios.items()))
    print(json.dumps({"benchmark": "ray_backend", "jobs": args.jobs, "seconds": args.seconds,
                      "results": [{"backend": b, "scenario": w, "jobs_per_actor": p, **r}
                                  for (b, w, p), r in results.items()], "ratios": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
