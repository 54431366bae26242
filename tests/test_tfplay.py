"""tfplay.py: TensorFlow Playground's settings <-> the spec, both ways, and every edit stays a valid spec."""

from __future__ import annotations

from dataclasses import replace

import pytest

from playground import presets, tfplay
from playground.build import summarize
from playground.data import FEATURES, load_cached
from playground.spec import from_dict
from playground.tfplay import Settings


def valid(spec: dict) -> None:
    """The spec parses, its data loads and its model builds with the right head."""
    s = from_dict(spec)
    summarize(s, load_cached(s.data).info)


@pytest.mark.parametrize("name", presets.names())
def test_presets_read_back_unchanged(name):
    spec = presets.get(name).to_dict()
    cfg = tfplay.from_spec(spec)
    two_d = spec["data"]["name"] in tfplay.CLASSIFICATION + tfplay.REGRESSION
    assert (cfg is not None) == two_d  # every 2-D preset is a plain MLP; nothing else is
    if cfg is not None:
        assert from_dict(tfplay.to_spec(cfg, spec)).to_dict() == from_dict(spec).to_dict()


def test_default_is_tensorflow_playgrounds_first_screen():
    spec = tfplay.default_spec()
    valid(spec)
    cfg = tfplay.from_spec(spec)
    assert cfg == Settings()
    assert (cfg.dataset, cfg.hidden, cfg.activations, cfg.lr, cfg.batch_size, cfg.train_ratio, cfg.optimizer) == \
        ("circle", (4, 2), ("Tanh", "Tanh"), 0.03, 10, 50, "SGD")
    assert [x["type"] for x in spec["model"]["layers"]] == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]


def test_settings_land_in_the_spec():
    cfg = Settings(dataset="spiral", classes=4, noise=20, train_ratio=70, batch_size=7, seed=3,
                   features=("x1", "x2", "sin(x1)"), hidden=(5, 3), activations=("ReLU", "Sigmoid"), dropout=0.2,
                   lr=0.1, optimizer="SGD+momentum", regularization="L2", reg_rate=0.01)
    spec = tfplay.to_spec(cfg)
    valid(spec)
    d, t = spec["data"], spec["train"]
    assert d == {"name": "spiral", "n_samples": 500, "noise": 0.2, "val_fraction": 0.3, "seed": 3,
                 "features": ["x1", "x2", "sin(x1)"], "classes": 4}
    assert t["optimizer"] == {"type": "SGD", "lr": 0.1, "weight_decay": 0.01, "momentum": 0.9}
    assert t["batch_size"] == 7 and t["l1"] == 0.0 and t["loss"] == "cross_entropy"
    assert spec["model"]["layers"] == [
        {"type": "Linear", "out_features": 5}, {"type": "ReLU"}, {"type": "Dropout", "p": 0.2},
        {"type": "Linear", "out_features": 3}, {"type": "Sigmoid"}, {"type": "Dropout", "p": 0.2},
        {"type": "Linear", "out_features": 4}]  # one output per class
    assert tfplay.from_spec(spec) == cfg


def test_l1_goes_to_the_trainer_and_l2_to_weight_decay():
    l1 = tfplay.to_spec(Settings(regularization="L1", reg_rate=0.03))["train"]
    l2 = tfplay.to_spec(Settings(regularization="L2", reg_rate=0.03))["train"]
    assert (l1["l1"], l1["optimizer"]["weight_decay"]) == (0.03, 0.0)
    assert (l2["l1"], l2["optimizer"]["weight_decay"]) == (0.0, 0.03)
    assert tfplay.from_spec(tfplay.to_spec(Settings(regularization="L1", reg_rate=0.03))).regularization == "L1"


def test_regression_has_one_output_and_mse():
    cfg = tfplay.with_problem(Settings(), "regression")
    assert cfg.dataset == "plane" and cfg.loss == "mse" and cfg.outputs == 1 and cfg.n_classes == 0
    spec = tfplay.to_spec(cfg)
    valid(spec)
    assert spec["model"]["layers"][-1] == {"type": "Linear", "out_features": 1}
    assert tfplay.with_problem(cfg, "classification").dataset == "circle"


def test_the_base_spec_keeps_what_the_page_does_not_show():
    base = presets.get("spiral-mlp").to_dict()
    base["train"].update(epochs=77, seed=5, grad_clip=1.0)
    spec = tfplay.to_spec(replace(tfplay.from_spec(base), lr=0.3), base)
    assert spec["name"] == base["name"] and spec["description"] == base["description"]
    assert (spec["train"]["epochs"], spec["train"]["seed"], spec["train"]["grad_clip"]) == (77, 5, 1.0)
    assert spec["train"]["optimizer"]["lr"] == 0.3


@pytest.mark.parametrize("layers", [
    [{"type": "Linear", "out_features": 4}, {"type": "BatchNorm1d"}, {"type": "Linear", "out_features": 2}],
    [{"type": "Linear", "out_features": 4, "bias": False}, {"type": "Linear", "out_features": 2}],
    [{"type": "Linear", "out_features": 99}, {"type": "Tanh"}, {"type": "Linear", "out_features": 2}],
    [{"type": "Linear", "out_features": 4}, {"type": "Tanh"}],
    [{"type": "Linear", "out_features": 3}],  # wrong head for two classes
    [],
])
def test_what_is_not_a_plain_mlp(layers):
    spec = {"data": {"name": "circle"}, "model": {"layers": layers}, "train": {"loss": "cross_entropy"}}
    assert tfplay.from_spec(spec) is None


@pytest.mark.parametrize("bad", [None, 3, "x", {}, {"data": {}}, {"data": {"name": "circle"}, "model": {}},
                                 {"data": {"name": "circle", "features": ["x9"]}, "model": {"layers": []}}])
def test_garbage_is_not_2d_and_never_raises(bad):
    assert tfplay.from_spec(bad) is None and not tfplay.is_2d(bad)
    valid(tfplay.to_spec(tfplay.coerce(bad), tfplay.default_spec()))


def test_coerce_keeps_2d_data_and_layer_sizes():
    spec = {"data": {"name": "xor", "noise": 0.3, "val_fraction": 0.4, "features": ["x1", "x1*x2"]},
            "model": {"layers": [{"type": "Linear", "out_features": 40}, {"type": "BatchNorm1d"}, {"type": "ReLU"},
                                 {"type": "Linear", "out_features": 6}, {"type": "Linear", "out_features": 2}]},
            "train": {"loss": "cross_entropy"}}
    cfg = tfplay.coerce(spec)
    assert (cfg.dataset, cfg.noise, cfg.train_ratio, cfg.features) == ("xor", 30, 60, ("x1", "x1*x2"))
    assert cfg.hidden == (tfplay.MAX_NEURONS, 6) and cfg.activations == ("ReLU", "ReLU")
    valid(tfplay.to_spec(cfg, tfplay.default_spec()))
    digits = presets.get("digits-cnn").to_dict()
    assert tfplay.coerce(digits).dataset == "circle"


def test_layer_edits_stay_in_bounds():
    cfg = Settings(hidden=(), activations=())
    for _ in range(tfplay.MAX_LAYERS + 2):
        cfg = tfplay.add_layer(cfg)
    assert len(cfg.hidden) == tfplay.MAX_LAYERS == len(cfg.activations)
    cfg = tfplay.resize(cfg, 0, +100)
    assert cfg.hidden[0] == tfplay.MAX_NEURONS
    cfg = tfplay.resize(cfg, 1, -100)
    assert cfg.hidden[1] == 1
    assert tfplay.resize(cfg, 99, 1) == cfg
    valid(tfplay.to_spec(cfg))
    for _ in range(tfplay.MAX_LAYERS + 2):
        cfg = tfplay.remove_layer(cfg)
    assert cfg.hidden == () and cfg.activations == ()
    valid(tfplay.to_spec(cfg))  # no hidden layer: a linear model


def test_activation_per_layer_or_all():
    cfg = Settings(hidden=(3, 3, 3), activations=("Tanh",) * 3)
    one = tfplay.set_activation(cfg, "ReLU", 1)
    assert one.activations == ("Tanh", "ReLU", "Tanh")
    assert tfplay.set_activation(one, "Identity").activations == ("Identity",) * 3
    assert tfplay.set_activation(one, "Nope") == one
    spec = tfplay.to_spec(tfplay.set_activation(one, "Identity", 0))
    assert [x["type"] for x in spec["model"]["layers"]][:2] == ["Linear", "Identity"]
    assert tfplay.label("Identity") == "Linear" and tfplay.label("ReLU") == "ReLU"


def test_features_toggle_in_order_and_one_stays():
    cfg = Settings(features=("x2",))
    assert tfplay.toggle_feature(cfg, "x2", False) == cfg  # the last input cannot go
    cfg = tfplay.toggle_feature(tfplay.toggle_feature(cfg, "sin(x1)", True), "x1", True)
    assert cfg.features == ("x1", "x2", "sin(x1)")  # always in TensorFlow Playground's order
    assert tfplay.toggle_feature(cfg, "x7", True) == cfg
    every = Settings(features=tuple(FEATURES))
    valid(tfplay.to_spec(every))


def test_check_clamps_every_field():
    wild = Settings(dataset="nope", noise=900, train_ratio=0, batch_size=0, classes=40, features=("bad",),
                    hidden=(0, 500), activations=("Nope",), dropout=3.0, lr=float("nan"), optimizer="Newton",
                    regularization="L3", reg_rate=7.0, loss="hinge", n_samples=5, seed=-1)
    cfg = tfplay.check(wild)
    assert (cfg.dataset, cfg.noise, cfg.train_ratio, cfg.batch_size, cfg.classes) == ("circle", 100, 10, 1, 6)
    assert cfg.features == ("x1",) and cfg.hidden == (1, tfplay.MAX_NEURONS) and cfg.activations == ("Tanh", "Tanh")
    assert (cfg.dropout, cfg.lr, cfg.optimizer, cfg.regularization, cfg.reg_rate, cfg.loss) == \
        (0.9, 0.03, "SGD", "none", 1.0, "cross_entropy")
    valid(tfplay.to_spec(cfg))


def test_values_off_the_lists_are_kept():
    spec = tfplay.to_spec(Settings(lr=0.05, batch_size=64, noise=7, train_ratio=67, dropout=0.25))
    cfg = tfplay.from_spec(spec)
    assert (cfg.lr, cfg.batch_size, cfg.noise, cfg.train_ratio, cfg.dropout) == (0.05, 64, 7, 67, 0.25)
