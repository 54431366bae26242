"""Run every lesson's experiment (or the ones named) over seeds 0–4 and print a markdown table: each measured
number as mean ± std [min–max], how many seeds the claim held in, and the seconds of one run.

    python benchmarks/lessons.py [NAME ...] [--seeds 0 1 2 3 4] [--jobs 2] [--threads 1]

This is how the lessons' figures in the README were measured: the same code the app's "Check the claim" and
`python -m playground lesson NAME` run (playground.lessons.run_here), one process per (lesson, seed).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1])]


def _one(args: tuple[str, int, int]) -> dict:
    name, seed, threads = args
    import torch
    torch.set_num_threads(threads)
    import time

    from playground import lessons
    t0 = time.process_time()
    out = lessons.run_here(lessons.get(name), seed)
    return {**out, "cpu_seconds": time.process_time() - t0}  # what the run itself used, whatever else shares the CPU


def _fmt(v: float) -> str:
    return f"{v:.3g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.1e}"


def table(name: str, results: list[dict]) -> list[str]:
    """Markdown rows for one lesson: one per measured number, then the verdict."""
    rows = []
    labels = results[0]["labels"]
    for key in results[0]["measured"]:
        vals = [r["measured"][key] for r in results if isinstance(r["measured"].get(key), (int, float))]
        if not vals:
            rows.append(f"| {name} | {labels[key]} | — | |")
            continue
        sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
        rows.append(f"| {name} | {labels[key]} | {_fmt(statistics.mean(vals))} ± {_fmt(sd)} | "
                    f"{_fmt(min(vals))}–{_fmt(max(vals))} |")
    held = sum(r["holds"] for r in results)
    secs = [r["seconds"] for r in results]
    cpu = [r.get("cpu_seconds", 0.0) for r in results]
    rows.append(f"| {name} | **holds** | **{held}/{len(results)} seeds** | {min(secs):.1f}–{max(secs):.1f} s a run "
                f"({min(cpu):.1f}–{max(cpu):.1f} CPU s) |")
    return rows


def main() -> None:
    from playground import lessons
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="lessons (default: all)")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="processes at once")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per process")
    a = ap.parse_args()
    names = a.names or lessons.names()
    work = [(n, s, a.threads) for n in names for s in a.seeds]
    with mp.get_context("spawn").Pool(a.jobs) as pool:
        results = pool.map(_one, work, chunksize=1)  # a process per (lesson, seed), two at a time by default
    print("| lesson | measured | mean ± std over seeds " + " ".join(map(str, a.seeds)) + " | min–max |")
    print("|---|---|---|---|")
    for n in names:
        mine = [r for r in results if r["lesson"] == n]
        print("\n".join(table(n, mine)), flush=True)
        for r in mine:
            if not r["holds"]:
                print(f"<!-- {n} seed {r['seed']} does not hold: {r['checks']} {r.get('errors', '')} -->")


if __name__ == "__main__":
    main()
