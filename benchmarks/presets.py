"""Train every preset (or the ones named) in its default epochs and print a markdown table.

    python benchmarks/presets.py [NAME ...] [--repeat N] [--threads T] [--device D]

Each row: the preset, its epochs, the wall seconds of `Trainer(spec).fit()` for every repeat
(dataset generation included, as a user running the preset pays it; generation alone follows in
brackets), the least CPU seconds a repeat used (close to the wall time on an idle machine, and
steadier when other work shares the cores), and the headline result: the task's metric on the
validation split (accuracy for classification, mean IoU for segmentation); for a GAN the modes
covered (where the data has modes) and both losses; otherwise (regression, forecasting,
reconstruction) the validation MSE against the variance of the validation targets (the MSE of
always predicting the mean target), so a ratio of 0 is perfect and 1 is no better than the mean.
The first Trainer in a process also pays a one-off ~1 s import inside torch.optim; a warm-up run
keeps it out of the table. Each preset trains with its task's trainer (trainers.make_trainer).
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from playground import data, presets
from playground.train import Trainer, device_name, resolve_device
from playground.trainers import make_trainer


def target_variance(ds: data.Dataset) -> float:
    """Variance of the validation targets around their mean: the MSE of always guessing the mean."""
    y = ds.y_val.float()
    return float(((y - y.mean(0)) ** 2).mean())


def run(name: str, repeat: int, device: str | None) -> tuple[int, list[float], list[float], float, str]:
    spec = presets.get(name)
    t0 = time.perf_counter()
    ds = data.load(spec.data)
    data_seconds = time.perf_counter() - t0
    times, cpu, last = [], [], None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        tr = make_trainer(spec, device=device)
        for m in tr.fit():
            last = m
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    metric = tr.task.metric
    if metric is not None:
        result = f"val {metric.title} {last[f'val_{metric.key}']:.3f}"
    elif "d_loss" in last:  # a GAN: what it covers, and the game's two losses
        modes = f"{last['modes_covered']} of {len(ds.info.modes)} modes covered, " if "modes_covered" in last else ""
        result = f"{modes}D loss {last['d_loss']:.3f}, G loss {last['g_loss']:.3f}"
    else:
        var = target_variance(ds)
        result = f"val MSE {last['val_loss']:.4f} vs variance {var:.4f} (ratio {last['val_loss'] / var:.3f})"
    return spec.train.epochs, times, cpu, data_seconds, result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="presets to run (default: all)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per preset; the table shows every time")
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    ap.add_argument("--device", default=None, help="auto, cpu or cuda (default: the spec's, auto)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    names = args.names or presets.names()
    unknown = [n for n in names if n not in presets.names()]
    if unknown:
        ap.error(f"unknown preset(s): {', '.join(unknown)}")
    warm = presets.get("gauss-mlp") if "gauss-mlp" in presets.names() else presets.get(names[0])
    next(Trainer(warm, device=args.device).fit(1))  # pay the one-off import cost outside the table
    device = resolve_device(args.device or "auto")
    print(f"torch {torch.__version__}, {args.threads} thread(s), device {device_name(device)}", file=sys.stderr)
    print("| preset | epochs | seconds (data) | CPU seconds | result |")
    print("|---|---:|---:|---:|---|")
    for name in names:
        epochs, times, cpu, data_seconds, result = run(name, args.repeat, args.device)
        secs = " / ".join(f"{t:.1f}" for t in times) + f" ({data_seconds:.1f})"
        print(f"| {name} | {epochs} | {secs} | {min(cpu):.1f} | {result} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
