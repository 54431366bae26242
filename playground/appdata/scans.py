"""Synthetic scans: smooth textured noise, half of them with a faint round lesion somewhere."""

from __future__ import annotations

import numpy as np


def _smooth(field: np.ndarray, passes: int) -> np.ndarray:
    """Blur the last two axes with a 3×3 box, `passes` times (cheap texture from white noise)."""
    for _ in range(passes):
        p = np.pad(field, [(0, 0)] * (field.ndim - 2) + [(1, 1), (1, 1)], mode="wrap")
        field = sum(p[..., i:i + field.shape[-2], j:j + field.shape[-1]]
                    for i in range(3) for j in range(3)) / 9
    return field


def lesion_scans(n: int, noise: float, rng: np.random.Generator, size: int, contrast: float) -> tuple:
    """`n` single-channel `size`² scans in [0, 1], labels alternating healthy/lesion, and lesion masks."""
    y = (np.arange(n) % 2).astype(np.int64)
    tissue = _smooth(rng.normal(0, 1, (n, size, size)), 3)
    tissue = 0.5 + 0.075 * tissue / (tissue.std(axis=(1, 2), keepdims=True) + 1e-8)  # texture sd 0.075
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    masks = np.zeros((n, 1, size, size), np.float32)
    for i in np.nonzero(y)[0]:
        r = rng.uniform(0.08, 0.16) * size
        cx, cy = rng.uniform(r + 1, size - r - 1, 2)
        d2 = ((xx - cx) ** 2 + (yy - cy) ** 2) / (r * r)
        masks[i, 0] = d2 <= 1
        tissue[i] += contrast * np.exp(-d2 * 1.5)  # a soft bright spot, not a sharp disc
    x = tissue[:, None] + rng.normal(0, 1, (n, 1, size, size)) * noise
    info = {"class_names": ["healthy", "lesion"], "n_classes": 2}
    return np.clip(x, 0, 1).astype(np.float32), y, {"mask": masks}, info
