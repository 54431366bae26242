"""What looking inside costs: attributions, activation capture and training-time tracking, on the CPU.

    python benchmarks/inspection.py [--rounds 7] [--seconds 3]

One line per figure, then one JSON line with all of them:

  ig_digits        Integrated Gradients (50 steps) on one digits image (digits-cnn), in ms and as a
                   multiple of one forward+backward pass of that image
  gradcam_shapes   Grad-CAM on one shapes image (shapes-cnn), likewise
  capture_*        probe.capture of one input as a multiple of one forward pass (no_grad) of it;
                   target ≤ 1.5× (digits-cnn is the headline; tiny MLPs show the fixed Python cost of a
                   few µs a layer); `-no-kernels`: without copying the Conv2d weights (kernels=False)
  tracking_*       training throughput with tracking on ({"stats": True, "checkpoints": 20}, the worker's
                   code path: health.Tracker at every epoch end, payload pickled as the worker sends it)
                   ÷ without; target ≥ 0.90. `-every-epoch` sets the statistics interval to 0 (a
                   statistics event after every epoch), the worst case the default rate limit avoids.

Every comparison alternates its two sides in one process, one torch thread, on CPU time, and keeps the
best round (the host is shared; the load average is printed with the figures).
"""

from __future__ import annotations

import os
import sys

# This file is called inspect.py, like the standard library's module that torch imports: take the script's
# own folder off the import path before importing anything, or `import inspect` would find this file.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
sys.path.insert(0, os.path.dirname(_here))  # the repository root: the playground package

import argparse  # noqa: E402
import json  # noqa: E402
import pickle  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402

from playground import presets, probe  # noqa: E402
from playground.attribution import attribute  # noqa: E402
from playground.build import build  # noqa: E402
from playground.data import load_cached  # noqa: E402
from playground.health import Tracker  # noqa: E402
from playground.train import Trainer  # noqa: E402

CAPTURE_TARGET = 1.5
TRACKING_TARGET = 0.90


def best_pair(f, g, n: int, rounds: int) -> tuple[float, float]:
    """CPU seconds per call of f and of g, alternating `rounds` rounds of n calls each; the best round of each.

    CPU time, not wall time: on a shared host the wall clock also counts the time other processes held
    the core, which lands on whichever side happened to be running."""
    a, b = [], []
    for _ in range(rounds):
        for fn, acc in ((f, a), (g, b)):
            t0 = time.process_time()
            for _ in range(n):
                fn()
            acc.append((time.process_time() - t0) / n)
    return min(a), min(b)


def model_and_input(name: str) -> tuple[torch.nn.Module, torch.Tensor, int]:
    spec = presets.get(name)
    ds = load_cached(spec.data)
    torch.manual_seed(0)
    return build(spec, ds.info).eval(), ds.x_val[:1], int(ds.y_val[0])


def attribution_cost(name: str, method: str, rounds: int, **options) -> tuple[float, float]:
    """(ms of one attribution, its multiple of one forward+backward pass) for one image of a preset."""
    model, x, target = model_and_input(name)

    def fwd_bwd():
        xi = x.clone().requires_grad_(True)
        model(xi)[0, target].backward()  # what a gradient method needs at the least: d output / d input

    def explain():
        attribute(model, x, method, target=target, **options)

    explain()  # warm-up (Captum's imports, allocator)
    base, t = best_pair(fwd_bwd, explain, 5, rounds)
    return t * 1e3, t / base


def capture_cost(name: str, rounds: int, kernels: bool = True) -> float:
    """probe.capture of one input ÷ one no_grad forward pass of it."""
    model, x, _ = model_and_input(name)

    def forward():
        with torch.no_grad():
            model(x)

    def cap():
        probe.capture(model, x, kernels=kernels)

    cap()
    f, c = best_pair(forward, cap, 200, rounds)
    return c / f


def tracking_throughput(name: str, seconds: float, interval: float = 0.25) -> float:
    """Steps/s with tracking ÷ steps/s without: two trainers of one spec, alternating epochs."""
    spec = presets.get(name)
    data = load_cached(spec.data)
    plain, tracked = Trainer(spec, data=data, device="cpu"), Trainer(spec, data=data, device="cpu")
    epochs = 10_000
    tracker = Tracker(epochs, stats=True, checkpoints=20, interval=interval)
    tracker.start(tracked)
    plain.run_epoch(), tracked.run_epoch()  # warm-up
    t_plain = t_tracked = 0.0
    while t_plain + t_tracked < 2 * seconds:
        t0 = time.process_time()
        plain.run_epoch()
        t1 = time.process_time()
        tracked.run_epoch()
        stats = tracker.epoch_end(tracked)
        if stats is not None:
            pickle.dumps(stats)  # what the worker's event pipe does with it
        t2 = time.process_time()
        t_plain += t1 - t0
        t_tracked += t2 - t1
    return t_plain / t_tracked  # the same number of epochs (of equal steps) on each side


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7, help="alternating rounds per comparison (best is kept)")
    ap.add_argument("--seconds", type=float, default=3.0, help="seconds of training per tracking comparison side")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    out: dict[str, float] = {"load": round(os.getloadavg()[0], 2)}
    print(f"host: {os.cpu_count()} cores, load {out['load']:.2f}, torch {torch.__version__}, 1 thread", flush=True)

    ms, x = attribution_cost("digits-cnn", "integrated_gradients", args.rounds, steps=50)
    out.update(ig_digits_ms=round(ms, 2), ig_digits_x=round(x, 1))
    print(f"ig_digits ms={ms:.2f} x_fwd_bwd={x:.1f}  (Integrated Gradients, 50 steps, one 8×8 digit)", flush=True)
    ms, x = attribution_cost("shapes-cnn", "grad_cam", args.rounds)
    out.update(gradcam_shapes_ms=round(ms, 2), gradcam_shapes_x=round(x, 1))
    print(f"gradcam_shapes ms={ms:.2f} x_fwd_bwd={x:.1f}  (Grad-CAM, one 16×16 shape)", flush=True)

    for name in ("digits-cnn", "shapes-cnn", "sentiment-transformer", "sine-lstm", "spiral-mlp"):
        r = capture_cost(name, args.rounds)
        out[f"capture_{name}"] = round(r, 2)
        print(f"capture_{name} ratio={r:.2f}  (target ≤ {CAPTURE_TARGET})", flush=True)
    for name in ("digits-cnn", "shapes-cnn"):  # flipping through inputs: the kernels do not change
        r = capture_cost(name, args.rounds, kernels=False)
        out[f"capture_{name}-no-kernels"] = round(r, 2)
        print(f"capture_{name}-no-kernels ratio={r:.2f}  (target ≤ {CAPTURE_TARGET})", flush=True)

    for name in ("spiral-mlp", "digits-cnn"):
        r = tracking_throughput(name, args.seconds)
        out[f"tracking_{name}"] = round(r, 3)
        print(f"tracking_{name} ratio={r:.3f}  (target ≥ {TRACKING_TARGET})", flush=True)
    r = tracking_throughput("spiral-mlp", args.seconds, interval=0.0)
    out["tracking_spiral-mlp-every-epoch"] = round(r, 3)
    print(f"tracking_spiral-mlp-every-epoch ratio={r:.3f}  (no rate limit: statistics after every epoch)",
          flush=True)
    out["load_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
