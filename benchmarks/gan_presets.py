"""Do the GAN presets reach their figures? Modes covered over seeds (gan-ring) and digits a classifier reads
(gan-digits), each trained in its default budget by the engine, one thread.

    python benchmarks/gan_presets.py [--seeds 0,1,2,3,4] [--only ring|digits]

gan-ring: after every 1,000 generator steps, the modes covered (LESSON-CLAIMS claim 12: a mode is covered
when at least 1 % of 2,500 samples land within 3σ of it) and the share of samples that near a mode; the
claim to meet is >= 6 of 8 in every seed. gan-digits: 500 samples from fixed noise read by the digits-cnn
preset's classifier (trained here first; its validation accuracy is printed): the share it recognises with
probability >= 0.9, and the classes it finds among them (a class counts when >= 1 % of the samples, 5, are
recognised as it); the claim to meet is "most samples" and >= 8 of 10 classes.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

CONFIDENT = 0.9  # the classifier's probability that counts as recognised
SAMPLES = 500


def ring(seeds: list[int]) -> bool:
    from playground import presets
    from playground.spec import from_dict
    from playground.trainers import make_trainer
    print("| gan-ring seed | modes covered after 1,000 / 2,000 / 3,000 steps | near a mode | s |")
    print("|---:|---|---:|---:|")
    finals = []
    for seed in seeds:
        d = presets.get("gan-ring").to_dict()
        d["train"].update(seed=seed, device="cpu")
        t0 = time.perf_counter()
        tr = make_trainer(from_dict(d))
        trajectory = [m["modes_covered"] for m in tr.fit() if m["g_steps"] % 1000 == 0]
        finals.append(trajectory[-1])
        print(f"| {seed} | {' → '.join(map(str, trajectory))} | {m_last(tr)['high_quality']:.2f} | "
              f"{time.perf_counter() - t0:.1f} |", flush=True)
    ok = min(finals) >= 6
    print(f"\ngan-ring: {', '.join(map(str, finals))} of 8 modes covered (min {min(finals)}): "
          f"{'ok' if ok else 'BELOW the claim of >= 6 in every seed'}\n")
    return ok


def m_last(tr) -> dict:
    from playground.gan_data import coverage
    return coverage(tr.samples(), tr.data.info.modes, tr.data.info.mode_std)


def digits(seeds: list[int]) -> bool:
    import torch

    from playground import presets
    from playground.spec import from_dict
    from playground.train import Trainer
    from playground.trainers import make_trainer
    clf = Trainer(presets.get("digits-cnn"), device="cpu")
    acc = list(clf.fit())[-1]["val_accuracy"]
    print(f"classifier: the digits-cnn preset, validation accuracy {acc:.3f}\n")
    print("| gan-digits seed | recognised (p >= 0.9) | classes found | samples per class | s |")
    print("|---:|---:|---:|---|---:|")
    ok = True
    for seed in seeds:
        d = presets.get("gan-digits").to_dict()
        d["train"].update(seed=seed, device="cpu")
        t0 = time.perf_counter()
        tr = make_trainer(from_dict(d))
        for _ in tr.fit():
            pass
        x = tr.samples(torch.randn(SAMPLES, tr.noise, generator=torch.Generator().manual_seed(1000 + seed)))
        with torch.no_grad():
            p = torch.softmax(clf.predict(x), 1)
        conf, cls = p.max(1)
        sure = conf >= CONFIDENT
        counts = torch.bincount(cls[sure], minlength=10)
        found = int((counts >= 0.01 * SAMPLES).sum())
        share = float(sure.float().mean())
        ok = ok and share > 0.5 and found >= 8
        print(f"| {seed} | {share:.1%} | {found} | {counts.tolist()} | {time.perf_counter() - t0:.0f} |", flush=True)
    print(f"\ngan-digits: {'ok' if ok else 'BELOW the claim (most samples recognised, >= 8 classes)'}\n")
    return ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0,1,2,3,4", help="comma-separated seeds (default 0-4)")
    ap.add_argument("--only", choices=["ring", "digits"], help="one preset only")
    args = ap.parse_args(argv)
    import torch
    torch.set_num_threads(1)
    seeds = [int(s) for s in args.seeds.split(",")]
    ok = True
    if args.only in (None, "ring"):
        ok = ring(seeds) and ok
    if args.only in (None, "digits"):
        ok = digits(seeds) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
