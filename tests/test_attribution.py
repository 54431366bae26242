"""attribution.py: properties every attribution must have, checked on tiny hand-weighted models (as Captum's
own tests do), on a briefly trained shapes CNN (Grad-CAM looks at the shape) and on text models."""

from __future__ import annotations

import copy
import re

import pytest
import torch
from torch import nn

import playground as pg
from playground.attribution import METHODS, attribute, make_baseline, unavailable
from playground.build import build
from playground.data import load_cached
from playground.registry import PlaygroundError
from playground.train import Trainer

pytestmark = pytest.mark.usefixtures("one_torch_thread")



GRADIENT_METHODS = ["saliency", "input_x_gradient", "integrated_gradients", "deeplift", "gradient_shap",
                    "neuron_conductance"]
DETERMINISTIC = ["saliency", "input_x_gradient", "integrated_gradients", "deeplift", "occlusion",
                 "feature_ablation", "neuron_conductance"]


def feature0_model() -> nn.Sequential:
    """4 features → 2 outputs, hand-weighted so that only feature 0 matters."""
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1.0, 0, 0, 0], [-2.0, 0, 0, 0], [0.5, 0, 0, 0]]))
        model[0].bias.copy_(torch.tensor([0.1, -0.2, 0.3]))
        model[2].weight.copy_(torch.tensor([[1.0, -1.0, 2.0], [0.5, 1.5, -1.0]]))
        model[2].bias.copy_(torch.tensor([0.0, 0.2]))
    return model


X = torch.tensor([[0.8, -1.0, 2.0, 0.5], [-0.6, 3.0, -2.0, 1.0], [1.5, 0.2, 0.1, -0.4]])


@pytest.mark.parametrize("method", GRADIENT_METHODS + ["occlusion", "feature_ablation"])
def test_only_the_feature_that_matters_gets_attribution(method):
    a = attribute(feature0_model(), X, method, target=1).values
    assert a.shape == X.shape
    assert a[:, 1:].abs().max() < 1e-6
    assert a[:, 0].abs().min() > 1e-3  # and feature 0 does get some


def test_integrated_gradients_completeness():
    model = feature0_model()
    base = make_baseline(X, "zeros")
    a = attribute(model, X, "integrated_gradients", target=0, baselines=base, steps=50)
    with torch.no_grad():
        change = model(X)[:, 0] - model(base)[:, 0]
    total = a.values.sum(1)
    # Captum's delta is exactly how far the sum is from the output's change; it is small with 50 steps
    torch.testing.assert_close(total - change, a.delta, atol=1e-5, rtol=0)
    assert a.delta.abs().max() < 1e-2 * change.abs().max()
    assert a.meta == {"steps": 50}


def test_deeplift_is_complete_too():
    model = feature0_model()
    a = attribute(model, X, "deeplift", target=1)
    with torch.no_grad():
        change = model(X)[:, 1] - model(torch.zeros_like(X))[:, 1]
    torch.testing.assert_close(a.values.sum(1), change, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("method", DETERMINISTIC)
def test_batched_equals_one_at_a_time(method):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3))
    x = torch.randn(4, 4)
    batched = attribute(model, x, method, target=2).values
    single = torch.cat([attribute(model, x[i:i + 1], method, target=2).values for i in range(len(x))])
    if method == "neuron_conductance":  # its default neuron is the most active one over the batch
        batched = attribute(model, x, method, target=2, neuron=1).values
        single = torch.cat([attribute(model, x[i:i + 1], method, target=2, neuron=1).values for i in range(4)])
    torch.testing.assert_close(batched, single, atol=1e-5, rtol=1e-4)


def test_attribute_leaves_the_model_as_it_was():
    model = nn.Sequential(nn.Linear(4, 3), nn.Dropout(0.5), nn.Linear(3, 2))
    model.train()
    a = attribute(model, X, "saliency", target=0)
    b = attribute(model, X, "saliency", target=0)
    torch.testing.assert_close(a.values, b.values)  # explained without dropout: the same each time
    assert model.training and all(p.grad is None for p in model.parameters())
    with pytest.raises(PlaygroundError, match="target 5 does not exist: the model has 2 outputs"):
        attribute(model, X, "saliency", target=5)
    with pytest.raises(PlaygroundError, match="unknown attribution method 'saliancy'; did you mean 'saliency'"):
        attribute(model, X, "saliancy")


# ---- a CNN trained briefly on shapes ---------------------------------------------------------------

@pytest.fixture(scope="module")
def shapes_cnn() -> Trainer:
    spec = pg.from_dict({
        "data": {"name": "shapes", "n_samples": 300, "size": 16, "seed": 0},
        "model": {"layers": [{"type": "Conv2d", "out_channels": 8, "kernel_size": 3, "padding": 1}, {"type": "ReLU"},
                             {"type": "MaxPool2d", "kernel_size": 2},
                             {"type": "Conv2d", "out_channels": 8, "kernel_size": 3, "padding": 1}, {"type": "ReLU"},
                             {"type": "Flatten"}, {"type": "Linear", "out_features": 3}]},
        "train": {"epochs": 10, "batch_size": 32, "seed": 0, "device": "cpu",
                  "optimizer": {"type": "Adam", "lr": 0.01}}})
    tr = Trainer(spec, data=load_cached(spec.data))
    last = list(tr.fit())[-1]
    assert last["val_accuracy"] > 0.6  # it learnt something (a few seconds of training)
    return tr


def test_grad_cam_looks_at_the_shape(shapes_cnn):
    x, y = shapes_cnn.data.x_val[:24], shapes_cnn.data.y_val[:24]
    mask = shapes_cnn.data.extras_val["mask"][:24] > 0  # (N, 1, 16, 16)
    inside, outside = [], []
    for i in range(len(x)):
        a = attribute(shapes_cnn.model, x[i:i + 1], "grad_cam", target=int(y[i]))
        assert a.values.shape == (1, 1, 16, 16) and a.meta == {"layer": 3}  # the last Conv2d by default
        inside.append(a.values[0][mask[i]].mean())
        outside.append(a.values[0][~mask[i]].mean())
    assert torch.stack(inside).mean() > 2 * torch.stack(outside).mean()
    first = attribute(shapes_cnn.model, x[:2], "grad_cam", target=0, layer=0)
    assert first.meta == {"layer": 0} and first.values.shape == (2, 1, 16, 16)
    with pytest.raises(PlaygroundError, match=r"layer 2 is not a Conv2d layer; choose one of \[1, 4\]"):
        attribute(shapes_cnn.model, x[:1], "grad_cam", target=0, layer=1)


def _rank_correlation(a: torch.Tensor, b: torch.Tensor) -> float:
    ra, rb = a.flatten().argsort().argsort().float(), b.flatten().argsort().argsort().float()
    return torch.corrcoef(torch.stack([ra, rb]))[0, 1].item()


def test_model_randomisation_changes_the_explanation(shapes_cnn):
    # Adebayo et al. 2018: an explanation that survives re-initialising the weights does not explain the model
    trained = shapes_cnn.model
    random = copy.deepcopy(trained)
    torch.manual_seed(1)
    for m in random.modules():
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()
    x = shapes_cnn.data.x_val[:6]
    for method in ("saliency", "grad_cam"):
        a = attribute(trained, x, method, target=0).values
        b = attribute(random, x, method, target=0).values
        corr = sum(_rank_correlation(a[i].abs(), b[i].abs()) for i in range(len(x))) / len(x)
        assert corr < 0.5, (method, corr)
    a = attribute(trained, x, "integrated_gradients", target=0).values
    b = attribute(random, x, "integrated_gradients", target=0).values
    cos = nn.functional.cosine_similarity(a.flatten(1), b.flatten(1)).mean()
    assert cos < 0.9


# ---- every method on every kind of model: the input's shape, or a reason --------------------------

MODELS = {
    "mlp": ({"name": "iris"}, [{"type": "Linear", "out_features": 5}, {"type": "ReLU"},
                               {"type": "Linear", "out_features": 3}]),
    "cnn": ({"name": "shapes", "n_samples": 30, "size": 8},
            [{"type": "Conv2d", "out_channels": 2, "kernel_size": 3}, {"type": "ReLU"}, {"type": "Flatten"},
             {"type": "Linear", "out_features": 3}]),
    "gru": ({"name": "sentiment", "n_samples": 30, "seq_len": 10},
            [{"type": "Embedding", "embedding_dim": 4}, {"type": "GRU", "hidden_size": 4},
             {"type": "Linear", "out_features": 2}]),
    "transformer": ({"name": "sentiment", "n_samples": 30, "seq_len": 10},
                    [{"type": "Embedding", "embedding_dim": 4}, {"type": "TransformerEncoderLayer", "nhead": 2,
                                                                 "dim_feedforward": 8, "dropout": 0.0},
                     {"type": "Flatten"}, {"type": "Linear", "out_features": 2}]),
    "lstm": ({"name": "sine", "n_samples": 30, "seq_len": 6},
             [{"type": "LSTM", "hidden_size": 3}, {"type": "Linear", "out_features": 1}]),
}
REFUSED = {  # (model, method) → why, in the message
    ("mlp", "grad_cam"): "needs an image model with a Conv2d layer",
    ("gru", "grad_cam"): "needs an image model", ("transformer", "grad_cam"): "needs an image model",
    ("lstm", "grad_cam"): "needs an image model",
    ("gru", "deeplift"): "DeepLIFT cannot explain GRU layers",
    ("transformer", "deeplift"): "DeepLIFT cannot explain TransformerEncoderLayer layers",
    ("lstm", "deeplift"): "DeepLIFT cannot explain LSTM layers",
    ("gru", "gradient_shap"): "needs float inputs", ("transformer", "gradient_shap"): "needs float inputs",
    ("gru", "neuron_conductance"): "needs float inputs",
    ("transformer", "neuron_conductance"): "needs float inputs",
}


@pytest.fixture(scope="module")
def models() -> dict:
    out = {}
    for name, (data, layers) in MODELS.items():
        spec = pg.from_dict({"data": data, "model": {"layers": layers},
                             "train": {"loss": "mse" if name == "lstm" else "cross_entropy"}})
        torch.manual_seed(0)
        ds = load_cached(spec.data)
        out[name] = (build(spec, ds.info), ds.x_val[:2])
    return out


@pytest.mark.parametrize("method", METHODS.names())
@pytest.mark.parametrize("kind", list(MODELS))
def test_every_method_returns_the_input_shape_or_says_why(models, kind, method):
    model, x = models[kind]
    if (kind, method) in REFUSED:
        with pytest.raises(PlaygroundError, match=REFUSED[kind, method]):
            attribute(model, x, method, target=0)
        return
    a = attribute(model, x, method, target=0, steps=8)
    assert a.values.shape == x.shape and a.values.is_floating_point() and torch.isfinite(a.values).all()
    assert a.method == method


@pytest.mark.parametrize("kind", list(MODELS))
def test_the_registry_lists_exactly_the_methods_that_refuse_a_model(models, kind):
    model, x = models[kind]
    said = unavailable(model, x)
    assert set(said) == {m for k, m in REFUSED if k == kind}  # the rest run (the test above)
    for method, why in said.items():
        assert REFUSED[kind, method] in why
        with pytest.raises(PlaygroundError, match=re.escape(why)):
            attribute(model, x, method, target=0)


def test_text_models_get_one_attribution_per_token(models):
    model, x = models["gru"]
    assert x.shape == (2, 10) and not x.is_floating_point()
    a = attribute(model, x, "integrated_gradients", target=1, steps=16)
    assert a.values.shape == (2, 10) and a.meta["through"] == "Embedding"
    # padding (token 0, the baseline) contributes nothing: its embedding equals the baseline's
    assert a.values[x == 0].abs().max() < 1e-6
    with torch.no_grad():
        change = model(x)[:, 1] - model(torch.zeros_like(x))[:, 1]
    torch.testing.assert_close(a.values.sum(1) - change, a.delta, atol=1e-4, rtol=0)


def test_outputs_that_are_not_flat_are_refused():
    model = nn.Sequential(nn.Conv2d(1, 1, 3, padding=1))
    with pytest.raises(PlaygroundError, match="needs a flat output"):
        attribute(model, torch.zeros(1, 1, 4, 4), "saliency")


def test_to_dict_is_numpy():
    d = attribute(feature0_model(), X, "integrated_gradients", target=0, steps=8).to_dict()
    assert d["values"].shape == X.shape and d["delta"].shape == (3,) and d["method"] == "integrated_gradients"
    assert d["target"] == 0 and d["meta"] == {"steps": 8}
