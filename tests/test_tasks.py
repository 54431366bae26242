"""tasks.py: every kind of learning from one registry; its losses and metrics against hand computations."""

from __future__ import annotations

import math

import pytest
import torch

from playground import presets, probe, tasks
from playground.data import DATASETS, builtin, load_cached
from playground.data import info as data_info
from playground.gan_build import GAN_LOSSES
from playground.losses import LOSSES
from playground.metrics import iou_counts, mean_iou
from playground.registry import PlaygroundError
from playground.spec import DataSpec, from_dict
from playground.tasks import ACCURACY, MEAN_IOU, TASKS, VIEWS
from playground.train import Trainer, validate


@pytest.mark.parametrize("name", TASKS.names())
def test_every_task_is_complete(name):
    t = TASKS.get(name)
    assert t.description and t.batch and t.losses and callable(t.report) and t.live
    known = GAN_LOSSES if t.loss_option == "train.gan.loss" else LOSSES
    assert all(loss in known for loss in t.losses)
    assert set(t.not_applicable) <= set(VIEWS) and all(len(why) > 20 for why in t.not_applicable.values())
    for view in VIEWS:
        assert (t.why_not(view) is None) == (view not in t.not_applicable)


def test_the_tasks_the_issue_names():
    assert {"classify", "regress", "forecast", "reconstruct", "generate", "segment"} <= set(TASKS.names())


@pytest.mark.parametrize(("data", "task"), [
    ({"name": "spiral"}, "classify"), ({"name": "digits"}, "classify"), ({"name": "plane"}, "regress"),
    ({"name": "sine"}, "forecast"), ({"name": "digits", "target": "input"}, "reconstruct"),
    ({"name": "shapes", "target": "mask", "n_samples": 30}, "segment"),
    ({"name": "shapes", "target": "box"}, "regress"),
    ({"name": "ring"}, "generate"), ({"name": "grid"}, "generate"), ({"name": "drawn"}, "generate")])
def test_a_spec_without_train_task_takes_its_datasets(data, task):
    spec = from_dict({"data": data, "model": {"layers": []}})
    assert tasks.of(spec, data_info(spec.data)).name == task


def test_every_dataset_one_can_pick_has_a_task():
    for name in builtin():
        d = DATASETS.get(name)
        assert tasks.for_kind(d.task, d.modality).name in TASKS


def test_train_task_overrides_the_dataset_and_is_checked():
    moons = from_dict({"data": {"name": "moons"}, "train": {"task": "generate"}})
    assert tasks.of(moons, data_info(moons.data)).name == "generate"
    plane = from_dict({"data": {"name": "plane"}, "train": {"task": "classify"}})
    with pytest.raises(PlaygroundError, match="train.task: classify cannot learn from plane, whose samples are "
                                              "regression; regress can"):
        tasks.of(plane, data_info(plane.data))
    words = from_dict({"data": {"name": "sentiment"}, "train": {"task": "generate"}})
    with pytest.raises(PlaygroundError, match="needs numbers to imitate, but sentiment holds tokens"):
        tasks.of(words, data_info(words.data))
    with pytest.raises(PlaygroundError, match="unknown task 'clasify'; did you mean 'classify'"):
        tasks.of(from_dict({"data": {"name": "plane"}, "train": {"task": "clasify"}}), data_info(plane.data))


def test_a_loss_that_does_not_suit_the_task_is_refused_by_name_with_its_fix(make_spec):
    spec = make_spec("plane", [{"type": "Linear", "out_features": 1}], loss="cross_entropy")
    with pytest.raises(PlaygroundError, match="train.loss: cross_entropy needs a classification dataset, but plane "
                                              "is regression; use mse") as e:
        validate(spec)
    assert e.value.fixes == [{"action": "set_path", "path": ["train", "loss"], "value": "mse"}]
    with pytest.raises(PlaygroundError, match="train.loss: cross_entropy does not suit the task 'reconstruct'.*use "
                                              "mse, bce_with_logits, l1, huber") as e:
        TASKS.get("reconstruct").check_loss("cross_entropy")
    assert e.value.fixes == [{"action": "set_path", "path": ["train", "loss"], "value": "mse"}]
    with pytest.raises(PlaygroundError, match="train.gan.loss: mse does not suit the task 'generate'") as e:
        TASKS.get("generate").check_loss("mse")
    assert e.value.fixes == [{"action": "set_path", "path": ["train", "gan", "loss"], "value": "bce"}]


def test_a_layer_error_comes_before_the_loss_it_would_need(make_spec):
    """The layers are checked first: their errors name the layer and carry its fix (as before tasks)."""
    spec = make_spec("sine", [{"type": "Conv2d"}], loss="cross_entropy")
    with pytest.raises(PlaygroundError, match=r"layer 1 \(Conv2d\)"):
        validate(spec)


# ---- losses and metrics by hand ------------------------------------------------------------------

def test_each_tasks_default_loss_by_hand():
    ce = LOSSES.get(TASKS.get("classify").losses[0]).fn
    assert ce(torch.tensor([[0.0, math.log(3)]]), torch.tensor([1])).item() == pytest.approx(-math.log(3 / 4))
    for name in ("regress", "forecast", "reconstruct"):
        mse = LOSSES.get(TASKS.get(name).losses[0]).fn
        assert mse(torch.tensor([[1.0], [2.0]]), torch.tensor([[0.0], [4.0]])).item() == pytest.approx(2.5)
    bce = LOSSES.get(TASKS.get("segment").losses[0]).fn  # per pixel, averaged
    got = bce(torch.tensor([[[[0.0, 2.0]]]]), torch.tensor([[[[1.0, 0.0]]]])).item()
    assert got == pytest.approx((math.log(2) + math.log(1 + math.e ** 2)) / 2)
    gan = GAN_LOSSES.get(TASKS.get("generate").losses[0])  # bce: D's two terms, G's non-saturating one
    r, f = torch.tensor([[0.0], [1.0]]), torch.tensor([[0.0], [-1.0]])
    sp = lambda v: math.log(1 + math.exp(v))  # noqa: E731
    assert gan.d(r, f).item() == pytest.approx((sp(0) + sp(-1)) / 2 + (sp(0) + sp(-1)) / 2)
    assert gan.g(f).item() == pytest.approx((sp(0) + sp(1)) / 2)
    w = GAN_LOSSES.get("wgan-gp")
    assert w.d(r, f).item() == pytest.approx(-0.5 - 0.5) and w.g(f).item() == pytest.approx(0.5)


def test_accuracy_by_hand():
    ce, bce = LOSSES.get("cross_entropy"), LOSSES.get("bce_with_logits")
    outs = [torch.tensor([[2.0, 0.0], [0.0, 1.0]]), torch.tensor([[1.0, 3.0]])]  # two batches: 0, 1, 1
    kept = [ACCURACY.keep(o, None, ce) for o in outs]
    assert ACCURACY.score(kept, torch.tensor([0, 0, 1]), ce) == pytest.approx(2 / 3)
    assert ACCURACY.score([torch.tensor([[-1.0], [2.0], [0.5]])], torch.tensor([0, 1, 0]), bce) == pytest.approx(2 / 3)


def test_mean_iou_by_hand():
    bce, mse = LOSSES.get("bce_with_logits"), LOSSES.get("mse")
    out = torch.tensor([[[[1.0, -1.0], [1.0, 1.0]]]])  # predicted shape: (0,0), (1,0), (1,1)
    true = torch.tensor([[[[1.0, 1.0], [0.0, 1.0]]]])  # true shape: (0,0), (0,1), (1,1)
    c = iou_counts(out, true, bce)
    assert c.tolist() == [2, 4, 0, 2]  # shape: 2 shared of 4; background: none shared of 2
    assert mean_iou(c) == pytest.approx((2 / 4 + 0 / 2) / 2)
    assert iou_counts(torch.tensor([[[[0.6, 0.4]]]]), torch.tensor([[[[1.0, 0.0]]]]), mse).tolist() == [1, 1, 1, 1]
    batches = [iou_counts(out, true, bce), iou_counts(true * 2 - 1, true, bce)]  # the second batch is perfect
    assert MEAN_IOU.score(batches, None, bce) == pytest.approx((5 / 7 + 1 / 3) / 2)
    assert mean_iou(torch.tensor([0, 0, 4, 4])) == 1.0  # nothing anywhere, all background: perfect


def test_the_trainer_scores_a_segmenter_with_the_tasks_metric():
    d = presets.get("shapes-segment").to_dict()
    d["data"].update(n_samples=60)
    d["train"].update(epochs=1, device="cpu", batch_size=16)
    tr = Trainer(from_dict(d))
    m = tr.run_epoch()
    assert tr.task.name == "segment" and {"train_mean_iou", "val_mean_iou"} <= set(m)
    out = tr.predict(tr.data.x_val)
    assert m["val_mean_iou"] == pytest.approx(mean_iou(iou_counts(out, tr.data.y_val, tr.loss_type)))
    r = probe.report(tr)
    assert r["kind"] == "masks" and r["pred"].shape == r["true"].shape == (8, 16, 16)
    assert r["mean_iou"] == pytest.approx(m["val_mean_iou"])


@pytest.mark.parametrize(("preset", "kind"), [("spiral-mlp", "confusion"), ("plane-regression", "regression"),
                                              ("sine-lstm", "forecast"), ("digits-autoencoder", "reconstruction")])
def test_each_task_reports_in_its_own_kind(preset, kind):
    d = presets.get(preset).to_dict()
    d["train"].update(epochs=1, device="cpu")
    tr = Trainer(from_dict(d))
    tr.run_epoch()
    r = probe.report(tr)
    assert r["kind"] == kind
    if kind == "forecast":
        assert len(r["windows"]) == 4 and len(r["windows"][0]) == 24 and r["next_true"] == r["true"][:4]


def test_live_views_know_every_tasks_metric():
    assert {"train_accuracy", "val_accuracy", "train_mean_iou", "val_mean_iou"} <= set(tasks.metric_keys())
    assert tasks.chart_metric(TASKS.get("segment")) == {"key": "mean_iou", "title": "mean IoU", "short": "mean IoU"}
    assert tasks.chart_metric(TASKS.get("regress")) is None


def test_a_blank_gan_starts_with_an_empty_discriminator():
    spec = from_dict(presets.blank("ring"))
    assert spec.discriminator.layers == [] and spec.train.gan.loss == "bce"
    info = load_cached(DataSpec(name="ring", n_samples=100)).info
    assert tasks.of(spec, info).name == "generate"
