"""The GAN's target distributions, and how well made samples cover them.

2-D mixtures whose modes are known (so mode collapse can be counted: `coverage`) and points a user draws
(carried in the spec itself, bounded in count). data.py registers the generators here as `generation`
datasets of 2-D points (what a GAN learns to imitate, task `generate`); a sample's target is the sample
itself. The mixtures keep the mode each point came from (extras "mode"); `DataInfo.modes` and `mode_std`
hold the centres and the spread. Any other numeric dataset (moons, digits) can be imitated too, with
`train.task: generate`.
"""

from __future__ import annotations

import math

import numpy as np
import torch

MIN_STD = 0.01  # a mixture with no spread still counts samples within 3 × this of a centre
MAX_DRAWN = 200  # points a drawing may hold (they travel in the spec and in links)
COVERED = 0.01  # a mode is covered when this share of the samples land within 3σ of it


def mixture(centres: np.ndarray, n: int, std: float, rng) -> tuple:
    """(x, y, extras, info) of n points, as many from each centre (in turn), with Gaussian spread `std`."""
    mode = np.arange(n) % len(centres)
    x = (centres[mode] + rng.normal(0, 1, (n, 2)) * std).astype(np.float32)
    return x, x.copy(), {"points": x.copy(), "mode": mode.astype(np.int64)}, \
        {"modes": np.round(centres, 6).tolist(), "mode_std": max(std, MIN_STD)}


def ring(n, noise, rng, modes, radius) -> tuple:
    """`modes` Gaussians on a circle of `radius`, spread `noise`."""
    a = 2 * math.pi * np.arange(modes) / modes
    return mixture(radius * np.stack([np.cos(a), np.sin(a)], 1), n, noise, rng)


def grid(n, noise, rng, side) -> tuple:
    """side × side Gaussians 2 apart, centred on 0, spread `noise`."""
    c = (np.arange(side) - (side - 1) / 2) * 2.0
    gx, gy = np.meshgrid(c, c)
    return mixture(np.stack([gx.ravel(), gy.ravel()], 1), n, noise, rng)


def heart(k: int = 40) -> list[list[float]]:
    """The drawing a new "drawn" dataset starts with."""
    t = np.linspace(0, 2 * math.pi, k, endpoint=False)
    x, y = 16 * np.sin(t) ** 3, 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
    return np.round(np.stack([x, y + 2], 1) / 6, 3).tolist()


def drawn(n, noise, rng, points) -> tuple:
    """n samples of the drawing: each one of its points, spread `noise`."""
    p = np.asarray(points, np.float64)
    x = (p[rng.integers(0, len(p), n)] + rng.normal(0, 1, (n, 2)) * noise).astype(np.float32)
    return x, x.copy(), {"points": x.copy()}, {}


def coverage(samples, centres, std: float) -> dict:
    """How well made 2-D `samples` cover a mixture's `centres` (LESSON-CLAIMS claim 12): a sample is high
    quality within 3·`std` of its nearest centre; a mode is covered when at least 1 % of all the samples
    are high-quality hits on it. Returns modes_covered, modes (their number), high_quality (the share of
    high-quality samples), hits (per mode) and covered (per mode)."""
    x = torch.as_tensor(np.asarray(samples, dtype=np.float32)).reshape(len(samples), -1)[:, :2]
    c = torch.as_tensor(np.asarray(centres, dtype=np.float32)).reshape(-1, 2)
    dist, nearest = torch.cdist(x, c).min(1)
    good = dist <= 3 * std
    hits = torch.bincount(nearest[good], minlength=len(c))
    covered = hits >= COVERED * len(x)
    return {"modes_covered": int(covered.sum()), "modes": len(c),
            "high_quality": float(good.float().mean()) if len(x) else 0.0, "hits": hits.tolist(),
            "covered": covered.tolist()}
