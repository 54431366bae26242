"""A class submitting at once: STUDENTS threads each join a class and submit RUNS runs (100-epoch curves) to
the class board, all released together; then the teacher's board is read.

    python benchmarks/classboard.py [--students 30] [--runs 2] [--db sqlite|URL] [--rounds 3]

`--db sqlite` (the default) uses a new SQLite file in a temporary folder; a URL (postgresql://user:pw@host/db)
uses that database, in a class of its own. Prints, per round: submissions stored and expected, the wall
time of all of them, one submission's median and worst latency, and the board read.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]


def one_round(board, spec: dict, students: int, runs: int) -> dict:
    """One class of `students` submitting `runs` runs each at once."""
    cls, teacher = board.start_class(f"benchmark {time.time():.0f}", address=f"bench-{time.time()}")
    curve = [{"epoch": i, "train_loss": 1 / i, "val_loss": 1.1 / i, "val_accuracy": 1 - 1 / (i + 1)}
             for i in range(1, 101)]
    keys = [board.join(cls.code, f"Student {i}")[2] for i in range(students)]
    latencies: list[float] = []
    start = threading.Barrier(students)

    def student(key: str) -> None:
        start.wait()
        for r in range(runs):
            t = time.perf_counter()
            board.submit(key, f"run-{r}", spec, curve[-1], curve)
            latencies.append(time.perf_counter() - t)

    threads = [threading.Thread(target=student, args=(k,)) for k in keys]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    t = time.perf_counter()
    stored = board.submissions(cls.id)
    read = time.perf_counter() - t
    board.end_class(teacher)  # leave no benchmark class behind
    return {"stored": len(stored), "expected": students * runs, "wall_s": wall,
            "median_s": statistics.median(latencies), "worst_s": max(latencies), "read_s": read}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--students", type=int, default=30)
    p.add_argument("--runs", type=int, default=2)
    p.add_argument("--db", default="sqlite", help="sqlite (a temporary file) or a database URL")
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    from playground import presets
    from playground.classroom import Board, engine
    url = f"sqlite:///{tempfile.mkdtemp()}/classes.db" if args.db == "sqlite" else args.db
    board = Board(engine(url))
    spec = presets.get("spiral-mlp").to_dict()
    for i in range(args.rounds):
        r = one_round(board, spec, args.students, args.runs)
        print(f"round {i + 1}: {r['stored']}/{r['expected']} stored, all in {r['wall_s']:.2f} s, one submission "
              f"{r['median_s'] * 1000:.0f} ms median, {r['worst_s'] * 1000:.0f} ms worst; board read "
              f"{r['read_s'] * 1000:.0f} ms (load {os.getloadavg()[0]:.2f})")
    board.engine.dispose()


if __name__ == "__main__":
    main()
