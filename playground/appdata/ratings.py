"""Synthetic user–item ratings from hidden tastes: a low-rank matrix plus noise, observed at random pairs.

Every item belongs to one hidden genre (a direction in taste space) and has a hidden quality; every user has
a hidden taste vector. A user's true rating of an item is 3 + quality + 0.8·(taste · item vector), kept
within 1 … 5; an observed rating adds Gaussian noise (std `noise`). Each sample is one observed pair: the
input is (user id, item id) as two integer fields, the target the rating. The hidden tastes are drawn first
from the generator, so they depend on the seed and the options but not on how many ratings are observed.
"""

from __future__ import annotations

import numpy as np

LOW, HIGH = 1.0, 5.0  # the rating scale
FIELDS = {"user": (0, 1), "item": (1, 2)}  # the input's columns: a Select(field=...) reads one


def hidden(rng: np.random.Generator, users: int, items: int, rank: int) -> dict[str, np.ndarray]:
    """The hidden tastes: users (users, rank), items (items, rank), quality (items,), genre (items,)."""
    genre = rng.integers(0, rank, items)
    item_vectors = np.eye(rank)[genre] * 1.2 + rng.normal(0, 0.35, (items, rank))
    user_vectors = rng.normal(0, 1, (users, rank))
    quality = rng.normal(0, 0.5, items)
    return {"users": user_vectors, "items": item_vectors, "quality": quality, "genre": genre}


def preference(tastes: dict[str, np.ndarray], user: np.ndarray, item: np.ndarray) -> np.ndarray:
    """How much each user truly likes each item, before the rating scale cuts it off: it ranks items
    without the ties that many 5-star ratings would make."""
    dot = (tastes["users"][user] * tastes["items"][item]).sum(-1)
    return 3.0 + tastes["quality"][item] + 0.8 * dot


def true_ratings(tastes: dict[str, np.ndarray], user: np.ndarray, item: np.ndarray) -> np.ndarray:
    """The noise-free rating of each (user, item) pair, on the 1 … 5 scale."""
    return np.clip(preference(tastes, user, item), LOW, HIGH)


def ratings(n: int, noise: float, rng: np.random.Generator, users: int, items: int, rank: int) -> tuple:
    """`n` observed ratings (at most users·items, each pair once) as (x, y, extras, info).

    x: (n, 2) int64 (user id, item id); y: (n, 1) float32 rating; extras: the pair's true rating ("true"),
    the item's hidden genre ("genre"), and the hidden vectors of the pair's user and item, so that the
    whole hidden matrix can be rebuilt from a dataset for the views and the figures (a model never reads
    extras)."""
    tastes = hidden(rng, users, items, rank)
    n = min(n, users * items)
    pairs = rng.choice(users * items, size=n, replace=False)
    user, item = pairs // items, pairs % items
    true = true_ratings(tastes, user, item)
    y = np.clip(true + rng.normal(0, 1, n) * noise, LOW, HIGH)
    x = np.stack([user, item], 1).astype(np.int64)
    extras = {"true": true.astype(np.float32), "genre": tastes["genre"][item].astype(np.int64),
              "user_taste": tastes["users"][user].astype(np.float32),
              "item_taste": np.c_[tastes["items"][item], tastes["quality"][item]].astype(np.float32)}
    info = {"fields": FIELDS, "field_ids": {"user": users, "item": items},
            "feature_names": ["user id", "item id"]}
    return x, y.astype(np.float32).reshape(-1, 1), extras, info
