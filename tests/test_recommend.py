"""Recommendation: the ratings generator, Embedding on one id field, the figures (RMSE, recall@k, the
item-mean baseline) against hand computations, the item map, and the preset reaching its figure (slow)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from playground import data, presets, recommend
from playground.appdata import ratings
from playground.applications import APPLICATIONS
from playground.build import BuildError, build, summarize
from playground.data import DataInfo, Dataset
from playground.modules import Parallel, Select
from playground.spec import from_dict

OPTS = {"users": 12, "items": 15, "rank": 3}


def test_ratings_deterministic_by_seed_with_stated_shapes():
    a = ratings.ratings(100, 0.2, np.random.default_rng(3), **OPTS)
    b = ratings.ratings(100, 0.2, np.random.default_rng(3), **OPTS)
    c = ratings.ratings(100, 0.2, np.random.default_rng(4), **OPTS)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and np.array_equal(a[2]["true"], b[2]["true"])
    assert not np.array_equal(a[1], c[1])
    x, y, extras, info = a
    assert x.shape == (100, 2) and x.dtype == np.int64 and y.shape == (100, 1) and y.dtype == np.float32
    assert x[:, 0].max() < 12 and x[:, 1].max() < 15 and x.min() >= 0
    assert len({(u, i) for u, i in x}) == 100  # each pair rated once
    assert (y >= ratings.LOW).all() and (y <= ratings.HIGH).all()
    assert info["fields"] == {"user": (0, 1), "item": (1, 2)} and info["field_ids"] == {"user": 12, "item": 15}
    assert extras["user_taste"].shape == (100, 3) and extras["item_taste"].shape == (100, 4)


def test_the_hidden_tastes_do_not_depend_on_how_many_ratings_are_drawn():
    small = ratings.ratings(10, 0.0, np.random.default_rng(0), **OPTS)
    big = ratings.ratings(180, 0.0, np.random.default_rng(0), **OPTS)
    t = ratings.hidden(np.random.default_rng(0), 12, 15, 3)
    for x, _, extras, _ in (small, big):
        assert np.allclose(extras["user_taste"], t["users"][x[:, 0]])
        assert np.allclose(extras["true"], ratings.true_ratings(t, x[:, 0], x[:, 1]))
    assert ratings.ratings(10_000, 0.0, np.random.default_rng(0), **OPTS)[0].shape == (180, 2)  # at most all pairs


def test_noise_free_ratings_are_the_truth():
    _, y, extras, _ = ratings.ratings(50, 0.0, np.random.default_rng(1), **OPTS)
    assert np.allclose(y[:, 0], extras["true"], atol=1e-6)


def test_the_dataset_entry_declares_its_fields_and_a_sketch_agrees():
    spec = from_dict({"data": {"name": "ratings", "n_samples": 400, **OPTS}})
    info = data.info(spec.data)
    assert info.tokens and info.input_shape == (2,) and info.task == "regression"
    assert info.fields == {"user": (0, 1), "item": (1, 2)} and info.field_ids == {"user": 12, "item": 15}


def _two_towers(dim: int = 4) -> list:
    return [{"type": "Parallel", "merge": "multiply", "branches": [
        [{"type": "Select", "field": "user"}, {"type": "Embedding", "embedding_dim": dim}, {"type": "Flatten"}],
        [{"type": "Select", "field": "item"}, {"type": "Embedding", "embedding_dim": dim}, {"type": "Flatten"}]]},
        {"type": "Linear", "out_features": 1}]


def _spec(layers: list, **opts):
    return from_dict({"data": {"name": "ratings", "n_samples": 100, **{**OPTS, **opts}}, "model": {"layers": layers},
                      "train": {"loss": "mse", "task": "recommend"}})


def test_each_tower_embeds_its_own_field_with_a_table_of_that_many_ids():
    spec = _spec(_two_towers(4))
    info = data.info(spec.data)
    rows = {r.path: r for r in summarize(spec, info).rows}
    assert rows[(0, 0, 1)].params == 12 * 4 and rows[(0, 1, 1)].params == 15 * 4  # users, items
    model = build(spec, info)
    x = torch.tensor([[11, 14], [0, 0]])
    assert model(x).shape == (2, 1)  # the largest ids of both fields look up a row


def test_columns_of_exactly_one_field_count_its_ids():
    layers = _two_towers(2)
    layers[0]["branches"][1][0] = {"type": "Select", "columns": [1]}
    spec = _spec(layers)
    rows = {r.path: r for r in summarize(spec, data.info(spec.data)).rows}
    assert rows[(0, 1, 1)].params == 15 * 2


def test_an_embedding_of_several_fields_asks_for_a_select_first():
    spec = _spec([{"type": "Embedding", "embedding_dim": 4}, {"type": "Flatten"},
                  {"type": "Linear", "out_features": 1}])
    with pytest.raises(BuildError) as e:
        summarize(spec, data.info(spec.data))
    assert "layer 1 (Embedding)" in e.value.message and "Select(field='user')" in e.value.message
    assert e.value.fix["action"] == "insert" and e.value.fix["layer"] == {"type": "Select", "field": "user"}


# ---- the figures, by hand -------------------------------------------------------------------------------

def test_rmse_by_hand():
    assert recommend.rmse(np.array([1.0, 2.0, 4.0]), np.array([1.0, 4.0, 2.0])) == pytest.approx(np.sqrt(8 / 3))


def test_top_k_leaves_out_excluded_and_breaks_ties_by_index():
    s = np.array([0.5, 0.9, 0.9, 0.1, 0.7])
    assert recommend.top_k(s, np.array([0, 0, 0, 0, 1], bool), 3).tolist() == [1, 2, 0]
    assert recommend.top_k(s, np.array([1, 1, 1, 1, 0], bool), 3).tolist() == [4]  # fewer candidates than k


def _truth(pref: np.ndarray, seen: np.ndarray, genre: np.ndarray | None = None) -> recommend.Truth:
    return recommend.Truth(np.clip(pref, 1, 5), pref, np.zeros(pref.shape[1], int) if genre is None else genre, seen)


def test_recall_at_k_by_hand():
    pref = np.array([[5.0, 4.0, 3.0, 2.0, 1.0],
                     [1.0, 2.0, 3.0, 4.0, 5.0]])
    seen = np.zeros_like(pref, bool)
    seen[0, 0] = True  # user 0 rated item 0 in training: their best unseen two are items 1 and 2
    t = _truth(pref, seen)
    scores = np.array([[9.0, 1.0, 8.0, 7.0, 0.0],  # user 0: picks 2, 3 (item 0 is excluded): 1 of 2
                       [0.0, 0.0, 0.0, 2.0, 1.0]])  # user 1: picks 3, 4: 2 of 2
    assert recommend.recall_at_k(scores, t, k=2) == pytest.approx((1 / 2 + 2 / 2) / 2)
    assert recommend.recall_at_k(pref, t, k=2) == 1.0  # the truth ranks perfectly
    assert recommend.recall_at_k(np.array([0.0, 0.0, 0.0, 1.0, 1.0]), t, k=2) == pytest.approx((0 + 1) / 2)


def test_recall_leaves_out_items_that_never_appear():
    pref = np.array([[5.0, 4.0, 3.0]])
    t = _truth(pref, np.zeros_like(pref, bool), genre=np.array([-1, 0, 0]))  # item 0 unknown
    assert recommend.recall_at_k(np.array([[9.0, 1.0, 2.0]]), t, k=1) == 0.0  # item 2 picked; item 1 is best
    assert recommend.recall_at_k(np.array([[9.0, 2.0, 1.0]]), t, k=1) == 1.0


def _dataset(x_train, y_train, x_val, y_val, users: int, items: int) -> Dataset:
    info = DataInfo("ratings", "regression", "tabular", (2,), (1,), tokens=True, fields=dict(ratings.FIELDS),
                    field_ids={"user": users, "item": items})
    t = torch.tensor
    return Dataset(info, t(x_train), t(y_train, dtype=torch.float32).reshape(-1, 1), t(x_val),
                   t(y_val, dtype=torch.float32).reshape(-1, 1))


def test_item_means_by_hand():
    ds = _dataset([[0, 0], [1, 0], [0, 1]], [4.0, 2.0, 5.0], [[1, 1]], [1.0], users=2, items=3)
    assert recommend.item_means(ds).tolist() == pytest.approx([3.0, 5.0, 11 / 3])  # item 2: the overall mean


def test_truth_is_rebuilt_from_a_generated_dataset():
    spec = _spec(_two_towers())
    ds = data.load(spec.data)
    t = recommend.truth(ds)
    x = ds.x_val.numpy()
    assert np.allclose(t.ratings[x[:, 0], x[:, 1]], ds.extras_val["true"].numpy(), atol=1e-5)
    assert t.seen.sum() == len(ds.x_train) and not t.seen[x[:, 0], x[:, 1]].any()
    known = t.genre >= 0
    assert np.array_equal(np.unique(torch.cat([ds.x_train, ds.x_val])[:, 1].numpy()), known.nonzero()[0])


class _Table(nn.Module):
    """A model whose score of (user, item) is a given matrix's entry."""

    def __init__(self, matrix: np.ndarray):
        super().__init__()
        self.m = nn.Parameter(torch.tensor(matrix, dtype=torch.float32))

    def forward(self, x):
        return self.m[x[:, 0], x[:, 1]].unsqueeze(1)


def test_figures_of_a_model_that_knows_the_truth():
    spec = _spec(_two_towers(), noise=0.0)
    ds = data.load(spec.data)
    t = recommend.truth(ds)
    f = recommend.figures(_Table(np.nan_to_num(t.preference)), ds)
    assert f["recall@10"] == 1.0
    oracle = recommend.figures(_Table(np.nan_to_num(t.ratings)), ds)
    assert oracle["RMSE"] == pytest.approx(0.0, abs=1e-5)  # no noise: the true ratings are the ratings
    means = recommend.item_means(ds)
    xv = ds.x_val.numpy()
    assert f["item-mean RMSE"] == pytest.approx(recommend.rmse(means[xv[:, 1]], ds.y_val.numpy()[:, 0]))
    assert f["RMSE / item-mean"] == pytest.approx(f["RMSE"] / f["item-mean RMSE"])


def test_a_users_recommendations_leave_out_what_they_rated():
    spec = _spec(_two_towers())
    ds = data.load(spec.data)
    t = recommend.truth(ds)
    r = recommend.recommendations(_Table(np.nan_to_num(t.preference)), ds, 3, k=5)
    assert not t.seen[3, r["item"]].any() and r["hits"] == 5 and r["item"] == r["best"]
    assert r["true"] == pytest.approx(t.ratings[3, r["item"]].tolist()) and r["rated"] == t.seen[3].sum()


# ---- the item map -------------------------------------------------------------------------------------

def test_pca2_matches_numpy_and_explains_the_variance():
    rng = np.random.default_rng(0)
    v = rng.normal(0, 1, (50, 4)) * [3.0, 2.0, 0.5, 0.1]
    xy, share = recommend.pca2(v)
    cov = np.cov(v - v.mean(0), rowvar=False, bias=True)
    eig = np.sort(np.linalg.eigvalsh(cov))[::-1]
    assert share == pytest.approx(eig[:2] / eig.sum())
    assert xy.var(0) == pytest.approx(eig[:2])
    assert recommend.pca2(v[:, :1])[0][:, 1].tolist() == [0.0] * 50  # one dimension: a flat second axis


def test_separation_of_apart_and_mixed_genres():
    xy = np.array([[0, 0], [0.1, 0], [5, 5], [5.1, 5]])
    assert recommend.separation(xy, np.array([0, 0, 1, 1])) == 1.0
    assert recommend.separation(xy, np.array([0, 1, 0, 1])) == 0.5
    assert np.isnan(recommend.separation(xy, np.array([0, 0, 0, -1])))


def test_the_item_table_is_the_embedding_after_the_item_select():
    spec = _spec(_two_towers(4))
    ds = data.load(spec.data)
    model = build(spec, ds.info)
    par = model[0]
    assert isinstance(par, Parallel) and isinstance(par.branches[1][0], Select)
    assert np.array_equal(recommend.item_table(model, ds), par.branches[1][1].weight.detach().numpy())
    im = recommend.item_map(model, ds)
    assert im["xy"].shape == (15, 2) and im["dim"] == 4
    swapped = [{**_two_towers(4)[0], "branches": [_two_towers(4)[0]["branches"][0]]}, {"type": "Linear",
                                                                                        "out_features": 1}]
    assert recommend.item_table(build(_spec(swapped), ds.info), ds) is None  # a user tower alone: no item map


# ---- the preset -------------------------------------------------------------------------------------

def test_the_preset_is_a_two_tower_recommender():
    spec = presets.get("recommend-mf")
    assert spec.train.task == "recommend" and APPLICATIONS.get("recommend-mf").figure == "recall@10"


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_preset_reaches_its_figure(seed):
    from test_applications import BENCH  # the README table's own training and measuring
    app = APPLICATIONS.get("recommend-mf")
    _, figures = BENCH.run("recommend-mf", {}, seed)
    assert app.reached(figures), f"seed {seed}: {figures}, goal {app.goal_text()}"


def test_the_recommend_task_reports_a_regression_with_the_figures():
    from playground import probe
    from playground.train import Trainer
    d = _spec(_two_towers()).to_dict()
    d["train"].update(epochs=1, device="cpu")
    tr = Trainer(from_dict(d))
    tr.run_epoch()
    r = probe.report(tr)
    assert tr.task.name == "recommend" and r["kind"] == "regression"
    assert r["figures"] == pytest.approx(recommend.figures(tr.model, tr.data))
    assert r["figures"]["RMSE"] == pytest.approx(np.sqrt(r["mse"]), rel=1e-5)
