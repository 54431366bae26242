"""losses.py: outputs → labels and probabilities, per loss, against hand computations; one reading everywhere."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from playground import losses, probe, tasks
from playground.data import DATASETS, builtin
from playground.losses import LOSSES
from playground.train import Trainer


def sig(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


ONE = torch.tensor([[-2.0], [0.3], [0.7], [1.5]])  # one output per sample
MANY = torch.tensor([[2.0, 0.0, -1.0], [0.2, 0.9, 0.4], [-3.0, -3.0, -3.0]])  # three classes


def _softmax(row):
    e = [math.exp(v) for v in row]
    return [v / sum(e) for v in e]


def _normalised(row):
    return [v / sum(row) for v in row] if sum(row) > 0 else [1 / len(row)] * len(row)


# Worked out by hand for every loss: (probabilities of ONE, labels of ONE, probabilities of MANY, labels of MANY)
HAND = {
    "cross_entropy": (None, None, [_softmax(r) for r in MANY.tolist()], [0, 1, 0]),
    "bce_with_logits": ([[1 - sig(v), sig(v)] for v in (-2.0, 0.3, 0.7, 1.5)], [0, 1, 1, 1],
                        [_normalised([sig(v) for v in r]) for r in MANY.tolist()], [0, 1, 0]),
    "mse": ([[1.0, 0.0], [0.7, 0.3], [0.3, 0.7], [0.0, 1.0]], [0, 0, 1, 1],
            [[1.0, 0.0, 0.0], _normalised([0.2, 0.9, 0.4]), [1 / 3] * 3], [0, 1, 0]),
}
HAND["l1"] = HAND["huber"] = HAND["mse"]
READ_AS_CLASSES = losses.for_problem(True) + losses.for_problem(False)  # not a detector's (its outputs are boxes)


@pytest.mark.parametrize("name", READ_AS_CLASSES)
def test_probabilities_and_labels_match_hand_computations(name):
    loss = LOSSES.get(name)
    p1, l1, pm, lm = HAND[name]
    if loss.kind != "labels":  # cross_entropy never trains a one-output head (its shapes refuse it)
        np.testing.assert_allclose(loss.probabilities(ONE).numpy(), p1, atol=1e-6)
        assert loss.labels(ONE).tolist() == l1
    np.testing.assert_allclose(loss.probabilities(MANY).numpy(), pm, atol=1e-6)
    assert loss.labels(MANY).tolist() == lm


@pytest.mark.parametrize("name", READ_AS_CLASSES)
def test_probabilities_are_distributions_whose_likeliest_class_is_the_label(name):
    loss = LOSSES.get(name)
    g = torch.Generator().manual_seed(0)
    for k in (1, 2, 5):
        out = torch.randn(64, k, generator=g) * 3
        p = loss.probabilities(out)
        assert p.shape == (64, max(2, k)) and (p >= 0).all()
        torch.testing.assert_close(p.sum(1), torch.ones(64))
        if k > 1 or loss.kind != "labels":  # the label is a likeliest class (clamping may tie several)
            labels = loss.labels(out)
            assert torch.equal(p[torch.arange(64), labels], p.max(1).values)


def test_one_output_scores_are_not_squashed_by_a_sigmoid():
    """The bug the three copies had: a one-output classifier trained with mse gives 0/1 scores, not logits."""
    p = LOSSES.get("mse").probabilities(torch.tensor([[0.9]]))
    assert p[0, 1].item() == pytest.approx(0.9)  # a sigmoid would say 0.71
    assert LOSSES.get("bce_with_logits").probabilities(torch.tensor([[0.9]]))[0, 1].item() == pytest.approx(sig(0.9))


def test_trainer_and_the_2d_surface_read_outputs_through_the_loss(make_spec):
    tr = Trainer(make_spec("circle", [{"type": "Linear", "out_features": 3}, {"type": "Tanh"},
                                      {"type": "Linear", "out_features": 1}], loss="mse"))
    out = torch.tensor([[0.4], [0.6]])
    assert tr.predict_labels(out).tolist() == [0, 1]  # a 0/1 score: the threshold is 0.5
    v = probe.grid2d(tr, res=4)
    x = torch.from_numpy(probe.features_of(probe.grid_points(4), tr.data.info.feature_names))
    want = tr.predict(x).clamp(0, 1).reshape(4, 4)
    np.testing.assert_allclose(v["surface"][..., 1].astype(np.float32), want.numpy(), atol=2e-3)
    surface = probe.decision_surface(tr.model, tr.data.info, tr.loss_type, res=4)
    np.testing.assert_allclose(surface[..., 1], want.numpy(), atol=1e-6)


# a CSV's data decides its task; a GAN's loss is its own (train.gan.loss, gan.GAN_LOSSES)
@pytest.mark.parametrize("task", sorted({DATASETS.get(n).task for n in builtin()
                                         if tasks.for_kind(DATASETS.get(n).task, "").loss_option == "train.loss"}))
def test_every_task_has_a_default_loss_that_fits_it(task):
    name = losses.default(task)
    assert task in LOSSES.get(name).default_for
    assert tasks.for_kind(task, "").losses[0] == name  # the task registry starts with the same loss


def test_losses_by_problem():
    assert losses.for_problem(True) == ["cross_entropy", "bce_with_logits"]
    assert losses.for_problem(False) == ["mse", "l1", "huber"]
