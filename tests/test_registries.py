"""Adding a dataset, an activation or an optimizer is one registry entry: a new one shows in every list the
engine offers (the 2-D page, A/B variants, neuron maps, health checks, backprop by hand, the optimizer race)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from playground import backprop, edit, health, landscape, layers, presets, probe, tfplay
from playground.activations import Activation, sigmoid
from playground.data import DATASETS, FEATURE_PARAM, FEATURES, Samples, register
from playground.registry import Param
from playground.spec import from_dict
from playground.train import OPTIMIZERS, Choice, Trainer, optimizer_names

MISH = Activation("Mish", "x · tanh(softplus(x)): a smooth ReLU.", family="relu",
                  f=lambda z, m: z * np.tanh(np.logaddexp(0.0, z)),
                  df=lambda z, m: np.tanh(np.logaddexp(0.0, z))
                  + z * sigmoid(z) * (1.0 - np.tanh(np.logaddexp(0.0, z)) ** 2))


@pytest.fixture
def mish():
    layers.add_activation(MISH)
    yield "Mish"
    layers.LAYERS.entries.pop("Mish")


def _ring(n, noise, rng, features):
    p = rng.uniform(-5, 5, (n, 2))
    y = (np.abs(np.hypot(p[:, 0], p[:, 1]) - 3) < 1).astype(np.int64)
    x = np.stack([FEATURES[f](p) for f in features], 1).astype(np.float32)
    return Samples(x, y, extras={"points": p.astype(np.float32)},
                   info={"feature_names": list(features), "class_names": ["off", "on"], "n_classes": 2})


@pytest.fixture
def ring():
    register("onering", "binary", "points", "A ring of one class.", FEATURE_PARAM)(_ring)
    yield "onering"
    DATASETS.entries.pop("onering")


@pytest.fixture
def nadam():
    OPTIMIZERS.add("NAdam", Choice("NAdam", "Adam with Nesterov momentum.",
                                   (Param("momentum_decay", "float", 0.004, 0.0, 1.0),),
                                   lambda ps, lr, wd, momentum_decay: torch.optim.NAdam(
                                       ps, lr, weight_decay=wd, momentum_decay=momentum_decay),
                                   0.003, (("NAdam+fast", {"momentum_decay": 0.04}),)))
    yield "NAdam"
    OPTIMIZERS.entries.pop("NAdam")


def test_a_new_activation_shows_everywhere(mish, spiral_dict):
    assert mish in layers.activations() and mish in tfplay.ACTIVATIONS and mish in backprop.activations()
    # the 2-D page: choose it, write it into the spec, read it back
    cfg = tfplay.set_activation(tfplay.Settings(), mish)
    assert tfplay.from_spec(tfplay.to_spec(cfg)) == cfg
    # A/B: every per-neuron activation becomes it; dropout goes after it
    b = edit.variant(spiral_dict, "activation", mish)
    assert [x["type"] for x in b["model"]["layers"]] == ["Linear", mish, "Linear", mish, "Linear"]
    assert [x["type"] for x in edit.add_dropout(b)["model"]["layers"]].count("Dropout") == 2
    # a model with it: neuron maps after it, health checks it as a ReLU, backprop works it out by hand
    model = nn.Sequential(nn.Linear(2, 4), nn.Mish(), nn.Linear(4, 2))
    assert probe.neuron_layers(model) == [1]
    x = torch.randn(16, 2)
    assert [a["kind"] for a in health.activation_health(model, x)] == ["dead"]
    y = torch.randint(0, 2, (16,))
    r = backprop.backprop_step(model, x, y, "cross_entropy")
    torch.nn.functional.cross_entropy(model(x), y).backward()
    np.testing.assert_allclose(r["steps"][0]["grad_weight"], model[0].weight.grad.double().numpy(), atol=1e-5)


def test_a_new_2d_dataset_shows_on_the_2d_page(ring):
    assert ring in tfplay.CLASSIFICATION and ring not in tfplay.REGRESSION and ring not in tfplay.WITH_CLASSES
    cfg = tfplay.check(tfplay.Settings(dataset=ring))
    assert cfg.dataset == ring and cfg.problem == "classification"
    spec = tfplay.to_spec(cfg)
    assert tfplay.from_spec(spec) == cfg
    assert presets.blank(ring)["train"]["loss"] == "cross_entropy"
    tr = Trainer(from_dict({**spec, "train": {**spec["train"], "epochs": 1, "device": "cpu"}}))
    assert tr.data.info.name == ring and tr.run_epoch()["epoch"] == 1


def test_a_new_optimizer_shows_everywhere(nadam, spiral_dict):
    assert optimizer_names()[-2:] == ["NAdam", "NAdam+fast"]
    assert tfplay.OPTIMIZERS == tuple(optimizer_names())
    spec = tfplay.to_spec(tfplay.Settings(optimizer="NAdam+fast"))
    assert spec["train"]["optimizer"]["type"] == "NAdam" and spec["train"]["optimizer"]["momentum_decay"] == 0.04
    assert tfplay.from_spec(spec).optimizer == "NAdam+fast"
    assert edit.variant(spiral_dict, "optimizer", "NAdam")["train"]["optimizer"]["type"] == "NAdam"
    r = landscape.optimizer_paths(from_dict(spiral_dict), ["SGD", "NAdam+fast"], steps=4, res=3, points=4)
    assert r["lr"] == {"SGD": 0.05, "NAdam+fast": 0.003} and len(r["paths"]["NAdam+fast"]) == 5


def test_the_2d_lists_are_the_registries():
    assert tfplay.CLASSIFICATION == ("circle", "xor", "gauss", "spiral", "moons")
    assert tfplay.REGRESSION == ("plane", "multigauss") and tfplay.WITH_CLASSES == ("gauss", "spiral")
    assert tfplay.ACTIVATIONS[:4] == ("Tanh", "ReLU", "Sigmoid", "Identity")
    assert set(tfplay.ACTIVATIONS) == set(layers.activations()) and "Softmax" not in tfplay.ACTIVATIONS
    assert tfplay.LOSSES == {"classification": ("cross_entropy", "bce_with_logits"),
                             "regression": ("mse", "l1", "huber")}
    assert tfplay.OPTIMIZERS == ("SGD", "SGD+momentum", "SGD+nesterov", "Adam", "AdamW", "RMSprop", "Adagrad")
    with pytest.raises(AttributeError):
        tfplay.NOT_A_LIST  # noqa: B018


def test_every_builtin_activation_is_worked_out_by_hand():
    assert backprop.activations() == layers.activations()  # a new one needs its numpy value and slope
