"""landscape.py: filter-normalised directions, the loss on a plane, paths projected onto it, optimizer races."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from playground import landscape
from playground.registry import PlaygroundError

pytestmark = pytest.mark.usefixtures("one_torch_thread")



def tiny() -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 6), nn.Tanh(), nn.Linear(6, 3))
    x = torch.randn(40, 2)
    return model, x, (x[:, 0] > 0).long() + (x[:, 1] > 0).long()


def state(model: nn.Module) -> dict[str, np.ndarray]:
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def test_random_directions_are_filter_normalised():
    model, _, _ = tiny()
    d1, d2 = landscape.random_directions(model, seed=3)
    for d in (d1, d2):
        assert set(d) == {"0.weight", "0.bias", "2.weight", "2.bias"}
        assert not d["0.bias"].any() and not d["2.bias"].any()  # biases are left out
        for k in ("0.weight", "2.weight"):
            w = model.state_dict()[k].numpy()
            np.testing.assert_allclose(np.linalg.norm(d[k], axis=1), np.linalg.norm(w, axis=1), rtol=1e-5)
    assert not np.allclose(d1["0.weight"], d2["0.weight"])
    again = landscape.random_directions(model, seed=3)
    assert all(np.array_equal(again[0][k], d1[k]) for k in d1)  # seeded


def test_conv_filters_are_normalised_per_output_channel():
    conv = nn.Sequential(nn.Conv2d(2, 4, 3))
    d, _ = landscape.random_directions(conv)
    w = conv[0].weight.detach().numpy()
    np.testing.assert_allclose(np.linalg.norm(d["0.weight"].reshape(4, -1), axis=1),
                               np.linalg.norm(w.reshape(4, -1), axis=1), rtol=1e-5)


def test_loss_landscape_grid():
    model, x, y = tiny()
    before = state(model)
    r = landscape.loss_landscape(model, "cross_entropy", x, y, res=5, span=0.5, seed=1)
    assert r["alphas"].tolist() == pytest.approx([-0.5, -0.25, 0, 0.25, 0.5])
    assert r["loss"].shape == (5, 5) and r["loss"].dtype == np.float32
    with torch.no_grad():
        here = F.cross_entropy(model(x), y).item()
    assert r["center_loss"] == pytest.approx(here, rel=1e-6) and r["loss"][2, 2] == pytest.approx(here, rel=1e-5)
    # one corner by hand: row i is β = betas[i], column j is α = alphas[j]
    d1, d2 = r["directions"]
    moved = copy.deepcopy(model)
    with torch.no_grad():
        for k, p in moved.named_parameters():
            p.add_(torch.from_numpy(-0.5 * d1[k] + 0.5 * d2[k]))
        corner = F.cross_entropy(moved(x), y).item()
    assert r["loss"][4, 0] == pytest.approx(corner, rel=1e-5)
    assert all(np.array_equal(v, state(model)[k]) for k, v in before.items())  # the model is untouched
    with pytest.raises(PlaygroundError, match="res must be between"):
        landscape.loss_landscape(model, "cross_entropy", x, y, res=1)


def test_project_path_recovers_coordinates():
    model, _, _ = tiny()
    center = state(model)
    d = landscape.random_directions(model)
    coords = [(0.0, 0.0), (0.3, -0.2), (-1.0, 2.0)]
    states = [{k: center[k] + a * d[0][k] + b * d[1][k] for k in center} for a, b in coords]
    np.testing.assert_allclose(landscape.project_path(states, center, d), coords, atol=1e-5)
    checkpoints = [{"epoch": i, "weights": s} for i, s in enumerate(states)]  # what a tracked job keeps
    np.testing.assert_allclose(landscape.project_path(checkpoints, center, d), coords, atol=1e-5)


def test_pca_directions_span_a_path_in_a_plane():
    model, _, _ = tiny()
    center = state(model)
    rng = np.random.default_rng(0)
    u = {k: rng.normal(size=v.shape).astype(np.float32) for k, v in center.items()}
    v = {k: rng.normal(size=w.shape).astype(np.float32) for k, w in center.items()}
    states = [{k: center[k] + t * u[k] + t * t * v[k] for k in center} for t in np.linspace(0, 1, 8)]
    dirs, explained = landscape.pca_directions(states, center)
    assert sum(explained) == pytest.approx(1.0, abs=1e-6) and explained[0] >= explained[1]
    coords = landscape.project_path(states, center, dirs)
    assert (coords.sum(0) >= 0).all()  # signs chosen so the path heads to positive α, β
    # the path lies in the plane: projecting back reproduces every state
    for s, (a, b) in zip(states, coords, strict=True):
        for k in center:
            np.testing.assert_allclose(center[k] + a * dirs[0][k] + b * dirs[1][k], s[k], atol=1e-4)
    with pytest.raises(PlaygroundError, match="never moved"):
        landscape.pca_directions([center, center], center)


SPEC = {"data": {"name": "gauss", "n_samples": 80, "classes": 3, "seed": 0},
        "model": {"layers": [{"type": "Linear", "out_features": 6}, {"type": "Tanh"},
                             {"type": "Linear", "out_features": 3}]},
        "train": {"batch_size": 16, "seed": 0, "device": "cpu"}}


def test_optimizer_paths_share_the_start_and_the_plane():
    r = landscape.optimizer_paths(SPEC, steps=30, res=7, points=10)
    assert r["optimizers"] == ["SGD", "SGD+momentum", "RMSprop", "Adam"]
    assert r["lr"] == {"SGD": 0.05, "SGD+momentum": 0.05, "RMSprop": 0.003, "Adam": 0.003}
    ends = []
    for n in r["optimizers"]:
        p = r["paths"][n]
        assert p.shape == (11, 2) and r["path_steps"][n].tolist() == [0, *range(3, 31, 3)]
        np.testing.assert_allclose(p[0], 0.0, atol=1e-6)  # the same start: the plane's origin
        assert r["path_loss"][n].shape == (11,)
        ends.append(p[-1])
    assert len({tuple(np.round(e, 4)) for e in ends}) == 4  # four different routes
    first = {n: r["path_loss"][n][0] for n in r["optimizers"]}
    assert len(set(first.values())) == 1  # the same initial weights for all
    land = r["landscape"]
    assert land["loss"].shape == (7, 7) and sum(r["explained"]) <= 1 + 1e-6
    allp = np.concatenate(list(r["paths"].values()))
    assert land["alphas"][0] <= allp[:, 0].min() and land["alphas"][-1] >= allp[:, 0].max()
    assert land["betas"][0] <= allp[:, 1].min() and land["betas"][-1] >= allp[:, 1].max()
    assert land["center_loss"] == pytest.approx(first["SGD"], rel=1e-5)  # the plane passes through the start
    # the same call gives the same picture
    again = landscape.optimizer_paths(SPEC, optimizers=["Adam"], steps=30, res=3, points=10)
    assert again["path_loss"]["Adam"] == pytest.approx(r["path_loss"]["Adam"], rel=1e-5)


def test_optimizer_paths_options_and_errors():
    r = landscape.optimizer_paths(SPEC, optimizers=["SGD", "Adam"], steps=5, lr=0.1, res=3, points=5)
    assert r["lr"] == {"SGD": 0.1, "Adam": 0.1}
    r = landscape.optimizer_paths(SPEC, optimizers=["SGD"], steps=4, lr={"SGD": 0.2}, res=3, points=2)
    assert r["lr"] == {"SGD": 0.2} and r["path_steps"]["SGD"].tolist() == [0, 2, 4]
    with pytest.raises(PlaygroundError, match="unknown optimizer 'Adma'; did you mean 'Adam'"):
        landscape.optimizer_paths(SPEC, optimizers=["Adma"])
    with pytest.raises(PlaygroundError, match="steps must be between"):
        landscape.optimizer_paths(SPEC, steps=0)


def test_optimizer_paths_keep_memory_bounded(monkeypatch):
    monkeypatch.setattr(landscape, "MAX_PATH_FLOATS", 51 * 4 * 6)  # 51 copies of 6·2+6 + 6·3+3 = 39 weights
    r = landscape.optimizer_paths(SPEC, optimizers=["SGD", "Adam"], steps=40, res=3, points=50)
    assert len(r["paths"]["SGD"]) <= 51 * 4 * 6 // (39 * 2)  # fewer points, within the budget
    monkeypatch.setattr(landscape, "MAX_PATH_FLOATS", 39 * 4)
    with pytest.raises(PlaygroundError, match="39 weights: too many to keep 2 training paths"):
        landscape.optimizer_paths(SPEC, optimizers=["SGD", "Adam"], steps=4, res=3)


def test_optimizer_paths_take_a_preset_name():
    r = landscape.optimizer_paths("gauss-mlp", optimizers=["Adam"], steps=3, res=3, points=3)
    assert r["paths"]["Adam"].shape == (4, 2)
