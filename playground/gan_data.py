"""The GAN's target distributions: 2-D mixtures whose modes are known (so mode collapse can be counted), and
points a user draws (carried in the spec itself, bounded in count).

Each registers in data.DATASETS as a `generation` dataset of 2-D points: what a GAN learns to imitate
(task `generate`); a sample's target is the sample itself. The mixtures keep the mode each point came from
(extras "mode"); `DataInfo.modes` and `mode_std` hold the centres and the spread, for `gan.coverage`. Any
other numeric dataset (moons, digits) can be imitated too, with `train.task: generate`.
"""

from __future__ import annotations

import math

import numpy as np

from .data import POINT_RANGE, Samples, register
from .registry import Param

MIN_STD = 0.01  # a mixture with no spread still counts samples within 3 × this of a centre
MAX_DRAWN = 200  # points a drawing may hold (they travel in the spec and in links)


def _mixture(centres: np.ndarray, n: int, std: float, rng) -> Samples:
    """n points, as many from each centre (in turn), with Gaussian spread `std`."""
    mode = np.arange(n) % len(centres)
    x = (centres[mode] + rng.normal(0, 1, (n, 2)) * std).astype(np.float32)
    return Samples(x, x.copy(), extras={"points": x.copy(), "mode": mode.astype(np.int64)},
                   info={"modes": np.round(centres, 6).tolist(), "mode_std": max(std, MIN_STD)})


@register("ring", "generation", "points", "Gaussians on a circle (noise: each one's spread): the classic test "
          "of mode collapse for a GAN.",
          Param("modes", "int", 8, 2, 16, help="Gaussians on the circle."),
          Param("radius", "float", 2.0, 0.5, 5.0, help="Radius of the circle."),
          n_samples=5000, noise=0.05, max_samples=20000)
def _ring(n, noise, rng, modes, radius):
    a = 2 * math.pi * np.arange(modes) / modes
    return _mixture(radius * np.stack([np.cos(a), np.sin(a)], 1), n, noise, rng)


@register("grid", "generation", "points", "A square grid of Gaussians, 2 apart (noise: each one's spread): "
          "harder for a GAN to cover than the ring.",
          Param("side", "int", 5, 2, 7, help="Gaussians along each side (5: 25 in all)."),
          n_samples=5000, noise=0.05, max_samples=20000)
def _grid(n, noise, rng, side):
    c = (np.arange(side) - (side - 1) / 2) * 2.0
    gx, gy = np.meshgrid(c, c)
    return _mixture(np.stack([gx.ravel(), gy.ravel()], 1), n, noise, rng)


def _heart(k: int = 40) -> list[list[float]]:
    t = np.linspace(0, 2 * math.pi, k, endpoint=False)
    x, y = 16 * np.sin(t) ** 3, 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
    return np.round(np.stack([x, y + 2], 1) / 6, 3).tolist()


@register("drawn", "generation", "points", "Points you draw: the data is your drawing, each point spread by "
          "the noise.",
          Param("points", "points", _heart(), POINT_RANGE, MAX_DRAWN,
                help=f"The drawing: [x, y] points within ±{POINT_RANGE:g}, at most {MAX_DRAWN}."),
          n_samples=2000, noise=0.1, max_samples=20000)
def _drawn(n, noise, rng, points):
    p = np.asarray(points, np.float64)
    idx = rng.integers(0, len(p), n)
    x = (p[idx] + rng.normal(0, 1, (n, 2)) * noise).astype(np.float32)
    return Samples(x, x.copy(), extras={"points": x.copy()})
