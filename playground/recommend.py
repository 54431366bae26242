"""Recommendation: the hidden truth of a ratings dataset, a model's scores for every (user, item) pair, the
item-mean baseline, RMSE and recall@k, a user's top items, and the learned item vectors projected to 2-D.

The ratings dataset (appdata/ratings.py) keeps each pair's hidden user and item vectors as extras, so the
whole hidden matrix is rebuilt from the dataset itself (for every user and item that appears in it).
Recall@k here asks: of the k items a user truly likes most among those they have not rated in training
(ranked by the hidden preference, before the 1 … 5 scale cuts it off, so there are no ties), how many are
in the model's k highest? Both lists come from the same candidates, so a perfect ranking scores 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .appdata.ratings import HIGH, LOW, preference
from .data import Dataset
from .modules import Select, layers_in
from .reports import regression

K = 10  # recall@10, the top ten shown


@dataclass
class Truth:
    """The hidden matrix of a ratings dataset, rebuilt from its extras."""

    ratings: np.ndarray  # (users, items) true ratings (noise-free); NaN where an item or user never appears
    preference: np.ndarray  # (users, items) the same before the rating scale clips it: what ranks items
    genre: np.ndarray  # (items,) hidden genre, -1 where the item never appears
    seen: np.ndarray  # (users, items) bool: rated in the training split


def has_fields(ds: Dataset) -> bool:
    """Does this dataset have the user and item id fields and the hidden tastes this module reads?"""
    return {"user", "item"} <= set(ds.info.field_ids) and "item_taste" in ds.extras_train


def counts(ds: Dataset) -> tuple[int, int]:
    """(users, items)."""
    return ds.info.field_ids["user"], ds.info.field_ids["item"]


def truth(ds: Dataset) -> Truth:
    """The hidden truth of a ratings dataset (see the module's docstring)."""
    n_users, n_items = counts(ds)
    x = torch.cat([ds.x_train, ds.x_val]).numpy()
    ex = {k: torch.cat([ds.extras_train[k], ds.extras_val[k]]).numpy().astype(np.float64)
          for k in ("user_taste", "item_taste")}
    rank = ex["user_taste"].shape[1]
    users, items = np.full((n_users, rank), np.nan), np.full((n_items, rank), np.nan)
    quality = np.full(n_items, np.nan)
    users[x[:, 0]] = ex["user_taste"]
    items[x[:, 1]] = ex["item_taste"][:, :rank]
    quality[x[:, 1]] = ex["item_taste"][:, rank]
    genre = np.full(n_items, -1, np.int64)
    genre[x[:, 1]] = torch.cat([ds.extras_train["genre"], ds.extras_val["genre"]]).numpy()
    u, i = np.meshgrid(np.arange(n_users), np.arange(n_items), indexing="ij")
    pref = preference({"users": users, "items": items, "quality": quality}, u, i)  # NaN where never seen
    seen = np.zeros((n_users, n_items), bool)
    tr = ds.x_train.numpy()
    seen[tr[:, 0], tr[:, 1]] = True
    return Truth(np.clip(pref, LOW, HIGH), pref, genre, seen)


@torch.no_grad()
def score_matrix(model: nn.Module, n_users: int, n_items: int, batch: int = 8192) -> np.ndarray:
    """The model's predicted rating of every (user, item) pair: (users, items)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    pairs = torch.cartesian_prod(torch.arange(n_users), torch.arange(n_items))
    out = torch.cat([model(pairs[i:i + batch].to(device))[:, 0].float().cpu() for i in range(0, len(pairs), batch)])
    model.train(was_training)
    return out.numpy().reshape(n_users, n_items)


def item_means(ds: Dataset) -> np.ndarray:
    """The baseline: each item's mean training rating (the overall mean for an item nobody rated in training)."""
    n_items = counts(ds)[1]
    item, y = ds.x_train[:, 1].numpy(), ds.y_train.reshape(-1).numpy().astype(np.float64)
    total, n = np.bincount(item, y, n_items), np.bincount(item, minlength=n_items)
    return np.where(n > 0, total / np.maximum(n, 1), y.mean())


def rmse(pred: np.ndarray, true: np.ndarray) -> float:
    """Root mean squared error."""
    return float(np.sqrt(np.mean((np.asarray(pred, np.float64) - np.asarray(true, np.float64)) ** 2)))


def top_k(scores: np.ndarray, exclude: np.ndarray, k: int = K) -> np.ndarray:
    """The indices of the k highest scores (highest first), leaving out `exclude` (bool, same shape); ties
    go to the lower index."""
    s = np.where(exclude, -np.inf, scores.astype(np.float64))
    order = np.argsort(-s, kind="stable")[:k]
    return order[np.isfinite(s[order])]


def recall_at_k(scores: np.ndarray, t: Truth, k: int = K) -> float:
    """Mean over users of |model's top k ∩ true top k| / k, both among the items the user did not rate in
    training and that appear in the data (see the module's docstring). `scores` is (users, items), or
    (items,) for one ranking shared by all users (the item-mean baseline)."""
    known = t.genre >= 0
    hits = []
    for u in range(t.ratings.shape[0]):
        if np.isnan(t.preference[u]).all():
            continue
        candidates = known & ~t.seen[u]
        want = min(k, int(candidates.sum()))
        if not want:
            continue
        row = scores[u] if scores.ndim == 2 else scores
        got = top_k(row, ~candidates, want)
        best = top_k(t.preference[u], ~candidates, want)
        hits.append(len(np.intersect1d(got, best)) / want)
    return float(np.mean(hits)) if hits else float("nan")


def figures(model: nn.Module, ds: Dataset) -> dict[str, float]:
    """RMSE on the validation split, the item-mean baseline's, their ratio, and recall@10 of both."""
    t = truth(ds)
    scores = score_matrix(model, *counts(ds))
    xv, yv = ds.x_val.numpy(), ds.y_val.reshape(-1).numpy()
    means = item_means(ds)
    err, base = rmse(scores[xv[:, 0], xv[:, 1]], yv), rmse(means[xv[:, 1]], yv)
    return {f"recall@{K}": recall_at_k(scores, t), "RMSE": err, "item-mean RMSE": base,
            "RMSE / item-mean": err / base, f"item-mean recall@{K}": recall_at_k(means, t)}


def report(trainer) -> dict:
    """The end-of-run report: a regression's (predicted vs true ratings) with the figures above, on data
    with user and item fields (other data: the regression's alone)."""
    r = regression(trainer)
    if has_fields(trainer.data):
        r["figures"] = figures(trainer.model, trainer.data)
    return r


def item_table(model: nn.Module, ds: Dataset) -> np.ndarray | None:
    """The item tower's embedding table (items, dim): the Embedding that follows a Select of the item field
    in the same layer list; None when the model has none."""
    start, stop = ds.info.fields.get("item", (None, None))
    if start is None:
        return None
    mods = layers_in(model)
    for path, m in mods:
        if not isinstance(m, nn.Embedding) or m.num_embeddings != counts(ds)[1]:
            continue
        before = [s for p, s in mods if p[:-1] == path[:-1] and p[-1] < path[-1] and isinstance(s, Select)]
        if before and before[-1].columns == list(range(start, stop)):
            return m.weight.detach().cpu().numpy()
    return None


def pca2(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The vectors projected on their two principal axes (n, 2), and the share of variance each explains.
    Vectors of one dimension get a zero second axis."""
    v = vectors.astype(np.float64) - vectors.mean(0)
    _, s, vt = np.linalg.svd(v, full_matrices=False)
    out = np.zeros((len(v), 2))
    n = min(2, vt.shape[0])
    out[:, :n] = v @ vt[:n].T
    var = s ** 2
    share = np.zeros(2)
    share[:n] = var[:n] / var.sum() if var.sum() > 0 else 0.0
    return out, share


def recommendations(model: nn.Module, ds: Dataset, user: int, k: int = K) -> dict:
    """The user's k highest-scored items among those they did not rate in training, each with its predicted
    and hidden true rating and genre; the user's true best k of the same candidates; and how many of the
    model's picks are among them (this user's recall@k, as a count)."""
    t = truth(ds)
    scores = score_matrix(model, *counts(ds))[user]
    candidates = (t.genre >= 0) & ~t.seen[user]
    picks = top_k(scores, ~candidates, k)
    best = top_k(t.preference[user], ~candidates, k) if not np.isnan(t.preference[user]).all() else np.array([], int)
    return {"item": picks.tolist(), "predicted": scores[picks].tolist(), "true": t.ratings[user, picks].tolist(),
            "genre": t.genre[picks].tolist(), "in_best": np.isin(picks, best).tolist(), "best": best.tolist(),
            "hits": int(np.isin(picks, best).sum()), "rated": int(t.seen[user].sum())}


def separation(xy: np.ndarray, genre: np.ndarray) -> float:
    """The share of items whose nearest genre centre (the mean of each genre's points) is their own genre's:
    1 when the genres lie apart, about 1/genres when they are mixed."""
    keep = genre >= 0
    xy, genre = xy[keep], genre[keep]
    names = np.unique(genre)
    if len(names) < 2:
        return float("nan")
    centres = np.stack([xy[genre == g].mean(0) for g in names])
    nearest = names[((xy[:, None, :] - centres[None]) ** 2).sum(-1).argmin(1)]
    return float((nearest == genre).mean())


def item_map(model: nn.Module, ds: Dataset) -> dict | None:
    """The learned item vectors projected on their two principal axes, with each item's hidden genre (-1
    when it never appears), the variance each axis explains, and how well the genres separate on the map;
    None when the model has no item table (see item_table)."""
    table = item_table(model, ds)
    if table is None:
        return None
    xy, share = pca2(table)
    genre = truth(ds).genre
    return {"xy": xy, "share": share, "genre": genre, "separation": separation(xy, genre), "dim": table.shape[1]}
