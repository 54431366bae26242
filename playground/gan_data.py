"""How well a GAN's samples cover its target distribution, and the drawing a "drawn" dataset starts with.

The targets themselves are registered in data.py (ring, grid: 2-D mixtures whose modes are known, so mode
collapse can be counted; drawn: points a user draws, carried in the spec, at most MAX_DRAWN) as `generation`
datasets of 2-D points, module-level there so an exported script copies them like any generator. The
mixtures keep the mode each point came from (extras "mode"); `DataInfo.modes` and `mode_std` hold the centres
and the spread. Any other numeric dataset (moons, digits) can be imitated too, with `train.task: generate`."""

from __future__ import annotations

import math

import numpy as np
import torch

MAX_DRAWN = 200  # points a drawing may hold (they travel in the spec and in links)
COVERED = 0.01  # a mode is covered when this share of the samples land within 3σ of it


def heart(k: int = 40) -> list[list[float]]:
    """The drawing a new "drawn" dataset starts with."""
    t = np.linspace(0, 2 * math.pi, k, endpoint=False)
    x, y = 16 * np.sin(t) ** 3, 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
    return np.round(np.stack([x, y + 2], 1) / 6, 3).tolist()


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
