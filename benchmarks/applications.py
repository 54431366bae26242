"""Train each application's preset and measure its figure: the README's table of applications.

    python benchmarks/applications.py [NAME ...] [--seeds 0 1]

Each row: the application, the dataset variant, the seed, the wall seconds of training, and the figures
its registry entry measures on the validation data; the last column says whether the headline figure
reached the goal the README states.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from playground import data, presets
from playground.applications import APPLICATIONS
from playground.spec import from_dict
from playground.train import Trainer


def run(name: str, variant: dict, seed: int) -> tuple[float, dict[str, float]]:
    """Train the preset (data options replaced by `variant`, data and training seeded) and measure it."""
    app = APPLICATIONS.get(name)
    d = presets.get(name).to_dict()
    d["data"].update(variant, seed=seed)
    d["train"]["seed"] = seed
    spec = from_dict(d)
    t0 = time.perf_counter()
    ds = data.load(spec.data)
    trainer = Trainer(spec, ds, device="cpu")
    for _ in trainer.fit():
        pass
    return time.perf_counter() - t0, app.measure(trainer.model, ds)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="applications (default: all)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    print("| application | data | seed | seconds | figures | goal |")
    print("|---|---|---:|---:|---|---|")
    ok = True
    for name in args.names or APPLICATIONS.names():
        app = APPLICATIONS.get(name)
        for label, variant in app.variants.items():
            for seed in args.seeds:
                secs, figs = run(name, variant, seed)
                shown = ", ".join(f"{k} {v:.3f}" for k, v in figs.items())
                goal = "—"
                if label in ("", next(iter(app.variants))):  # the headline variant carries the goal
                    hit = app.reached(figs)
                    ok &= hit
                    goal = f"{app.goal_text()}: {'yes' if hit else 'NO'}"
                print(f"| {name} | {label or 'default'} | {seed} | {secs:.1f} | {shown} | {goal} |", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
