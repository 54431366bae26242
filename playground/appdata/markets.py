"""Price series, as windows of log prices relative to the last day: forecast tomorrow's change.

A pure random walk has independent daily changes, so nothing beats "tomorrow = today" (a change of 0);
the `regimes` series has persistent trends (changes that follow the last ones), which a net can use.
"""

from __future__ import annotations

import numpy as np

KINDS = ("random_walk", "regimes")


def series(length: int, rng: np.random.Generator, kind: str, noise: float) -> np.ndarray:
    """Daily log prices of one series (starting at 0)."""
    shocks = rng.normal(0, 0.01 * (1 + 4 * noise), length)
    if kind == "random_walk":
        return np.cumsum(shocks)
    # regime switching: a drift that flips sign now and then, plus momentum in the daily change
    changes = np.empty(length)
    drift, last = 0.004, 0.0
    for t in range(length):
        if rng.random() < 0.02:
            drift = -drift
        last = 0.6 * last + drift * 0.4 + shocks[t]
        changes[t] = last
    return np.cumsum(changes)


def price_windows(n: int, noise: float, rng: np.random.Generator, kind: str, seq_len: int) -> tuple:
    """`n` windows of `seq_len` days (log price minus the window's last day, ×100) and the next change."""
    s = series(n + seq_len, rng, kind, noise)
    idx = np.arange(n)[:, None] + np.arange(seq_len)[None, :]
    last = s[idx[:, -1]]
    x = ((s[idx] - last[:, None]) * 100)[..., None].astype(np.float32)  # (n, T, 1), in % of price
    y = ((s[np.arange(n) + seq_len] - last) * 100)[:, None].astype(np.float32)
    info = {"feature_names": ["log price − last (%)"], "naive": "a change of 0 (tomorrow = today)"}
    return x, y, {"price": np.exp(s[idx[:, -1]]).astype(np.float32)}, info
