"""probe.py: end-of-run reports and the 2-D views agree with the model they describe."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from playground import probe
from playground.registry import PlaygroundError
from playground.train import Trainer

DEEP = [{"type": "Linear", "out_features": 6}, {"type": "Tanh"}, {"type": "Linear", "out_features": 4},
        {"type": "ReLU"}, {"type": "Dropout", "p": 0.1}, {"type": "Linear", "out_features": 3}]


@pytest.fixture
def classifier(make_spec):
    tr = Trainer(make_spec({"name": "gauss", "classes": 3, "n_samples": 90}, DEEP, epochs=2))
    list(tr.fit())
    return tr


@pytest.fixture
def regressor(make_spec):
    tr = Trainer(make_spec({"name": "multigauss", "n_samples": 80},
                           [{"type": "Linear", "out_features": 5}, {"type": "Tanh"},
                            {"type": "Linear", "out_features": 1}], loss="mse", epochs=2))
    list(tr.fit())
    return tr


def test_confusion_matrix_counts_the_validation_set(classifier):
    r = probe.report(classifier)
    m = np.array(r["matrix"])
    assert r["kind"] == "confusion" and m.shape == (3, 3) and r["classes"] == classifier.data.info.class_names
    assert m.sum() == len(classifier.data.x_val)
    true = classifier.data.y_val.numpy()
    assert (m.sum(1) == np.bincount(true, minlength=3)).all()  # rows are the true classes
    pred = classifier.predict(classifier.data.x_val).argmax(1).numpy()
    assert (m.sum(0) == np.bincount(pred, minlength=3)).all()  # columns the predicted ones
    assert r["accuracy"] == pytest.approx(np.trace(m) / m.sum())


def test_binary_report_with_one_logit(make_spec):
    tr = Trainer(make_spec("circle", [{"type": "Linear", "out_features": 1}], loss="bce_with_logits"))
    r = probe.report(tr)
    assert np.array(r["matrix"]).shape == (2, 2) and np.array(r["matrix"]).sum() == len(tr.data.x_val)


def test_regression_report_lists_true_and_predicted_values(regressor):
    r = probe.report(regressor)
    n = len(regressor.data.x_val)
    assert r["kind"] == "regression" and len(r["true"]) == len(r["pred"]) == n
    np.testing.assert_allclose(r["true"], regressor.data.y_val[:, 0].numpy())
    pred = regressor.predict(regressor.data.x_val)[:, 0].numpy()
    np.testing.assert_allclose(r["pred"], pred, rtol=1e-6)
    assert r["mse"] == pytest.approx(float(((pred - np.array(r["true"])) ** 2).mean()), rel=1e-5)


@pytest.mark.parametrize("res", [8, 16])
def test_grid2d_classification(classifier, res):
    v = probe.grid2d(classifier, res=res)
    assert v["res"] == res and v["epoch"] == 2
    assert v["surface"].shape == (res, res, 3)
    np.testing.assert_allclose(v["surface"].astype(np.float32).sum(-1), 1.0, atol=1e-2)  # probabilities
    # one map per hidden Linear layer, with that layer's neurons (the output layer is not hidden)
    assert [n.shape for n in v["neurons"]] == [(6, res, res), (4, res, res)]
    assert [w.shape for w in v["weights"]] == [(6, 2), (4, 6), (3, 4)]
    assert v["hidden"].shape == (len(v["hidden_labels"]), 2)
    assert classifier.model.training  # the view leaves the mode as it found it


def test_grid2d_surface_is_the_model_on_the_grid(classifier):
    res = 5
    v = probe.grid2d(classifier, res=res)
    lin = np.linspace(-6, 6, res, dtype=np.float32)
    top_left, bottom_right = [[lin[0], lin[-1]]], [[lin[-1], lin[0]]]  # row 0 is the top of the plot
    for point, (r, c) in ((top_left, (0, 0)), (bottom_right, (res - 1, res - 1))):
        p = torch.softmax(classifier.predict(torch.tensor(point)), 1)[0].numpy()
        np.testing.assert_allclose(v["surface"][r, c].astype(np.float32), p, atol=2e-3)
    # neuron maps: the first hidden layer after its Tanh, at the same point
    h = torch.tanh(classifier.model[0](torch.tensor(top_left)))[0].detach().numpy()
    np.testing.assert_allclose(v["neurons"][0][:, 0, 0].astype(np.float32), h, atol=2e-3)


def test_grid2d_with_one_logit_and_regression(make_spec, regressor):
    tr = Trainer(make_spec("xor", [{"type": "Linear", "out_features": 3}, {"type": "ReLU"},
                                   {"type": "Linear", "out_features": 1}], loss="bce_with_logits"))
    v = probe.grid2d(tr, res=6)
    assert v["surface"].shape == (6, 6, 2) and len(v["neurons"]) == 1
    r = probe.grid2d(regressor, res=7)
    assert r["surface"].shape == (7, 7, 1) and [n.shape for n in r["neurons"]] == [(5, 7, 7)]


def test_grid2d_uses_the_dataset_features(make_spec):
    tr = Trainer(make_spec({"name": "circle", "features": ["x1^2", "x2^2", "x1*x2"]},
                           [{"type": "Linear", "out_features": 2}]))
    v = probe.grid2d(tr, res=4)
    assert v["surface"].shape == (4, 4, 2) and v["neurons"] == []


def test_grid2d_refuses_other_data(make_spec):
    tr = Trainer(make_spec({"name": "iris"}, [{"type": "Linear", "out_features": 3}]))
    with pytest.raises(PlaygroundError, match="2-D point dataset; iris is tabular"):
        probe.grid2d(tr)


def test_neuron_layers_skip_to_after_the_activations():
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Dropout(),
                                torch.nn.Linear(3, 3), torch.nn.Linear(3, 2))
    assert probe.neuron_layers(model) == [2, 3]


def test_views_registry():
    assert probe.VIEWS.get("grid2d") is probe.grid2d
