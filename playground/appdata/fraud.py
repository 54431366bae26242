"""Card transactions with rare fraud: the share of frauds is exact, and the classes overlap."""

from __future__ import annotations

import numpy as np

FEATURES = ["log amount", "hour (sin)", "hour (cos)", "km from home", "merchant risk",
            "payments last hour", "foreign", "card age (years)", "online", "amount / usual"]


def transactions(n: int, noise: float, rng: np.random.Generator, fraud_rate: float) -> tuple:
    """`n` transactions, round(n·fraud_rate) (at least 1) of them frauds, in random order."""
    n_fraud = max(1, min(n - 1, round(n * fraud_rate)))
    y = np.zeros(n, np.int64)
    y[rng.permutation(n)[:n_fraud]] = 1
    f = y == 1
    hour = np.where(f, rng.normal(3.0, 3.0, n), rng.normal(14.0, 4.5, n)) % 24
    usual = rng.lognormal(3.5, 0.6, n)  # the card holder's usual spend
    ratio = np.where(f, rng.lognormal(1.0, 0.8, n), rng.lognormal(0.0, 0.45, n))
    x = np.stack([
        np.log1p(usual * ratio),
        np.sin(hour / 24 * 2 * np.pi),
        np.cos(hour / 24 * 2 * np.pi),
        np.where(f, rng.lognormal(3.0, 1.2, n), rng.lognormal(1.5, 1.0, n)),
        np.clip(np.where(f, rng.beta(4, 3, n), rng.beta(2, 5, n)), 0, 1),
        rng.poisson(np.where(f, 2.5, 0.6)),
        rng.random(n) < np.where(f, 0.45, 0.08),
        np.where(f, rng.gamma(1.2, 1.0, n), rng.gamma(2.5, 1.6, n)),
        rng.random(n) < np.where(f, 0.7, 0.35),
        ratio,
    ], 1).astype(np.float32)
    # noise blurs every feature by a share of its spread: at 1 the classes hardly differ
    x += rng.normal(0, 1, x.shape).astype(np.float32) * noise * x.std(0)
    info = {"class_names": ["genuine", "fraud"], "n_classes": 2, "feature_names": FEATURES,
            "standardize": True}
    return x, y, {}, info
