"""detection.py and appdata/boxes.py: the shapes-with-boxes data, the detector's loss, pairing and scores
against hand computations, its report, and the preset training through the engine."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from playground import data, detection, presets, tasks
from playground.appdata import boxes
from playground.export import to_python
from playground.losses import LOSSES
from playground.registry import PlaygroundError
from playground.spec import from_dict
from playground.trainers import make_trainer

SPEC = {"name": "shape_boxes", "n_samples": 60, "size": 32, "grid": 4, "max_shapes": 3}


def _load(**opts):
    return data.load(from_dict({"data": {**SPEC, **opts}, "model": {"layers": []}}).data)


# ---- the data -------------------------------------------------------------------------------------

def test_deterministic_by_seed_with_stated_shapes():
    a, b, c = _load(seed=3), _load(seed=3), _load(seed=4)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_train, b.y_train)
    assert torch.equal(a.extras_val["boxes"], b.extras_val["boxes"])
    assert not torch.equal(a.x_train, c.x_train)
    assert a.info.task == "detection" and a.info.input_shape == (1, 32, 32) and a.info.target_shape == (8, 4, 4)
    assert a.extras_train["boxes"].shape == (48, 3, 4) and a.extras_train["classes"].shape == (48, 3)
    assert tasks.for_data(a.info).name == "detect"


@pytest.mark.parametrize("max_shapes,grid", [(1, 4), (3, 4), (6, 4), (4, 2)])
def test_each_image_has_1_to_k_shapes_apart_one_per_cell(max_shapes, grid):
    x, y, extras, _ = boxes.shape_boxes(80, 0.0, np.random.default_rng(0), 32, grid, max_shapes)
    counts = (extras["classes"] >= 0).sum(1)
    assert counts.min() >= 1 and counts.max() <= max_shapes
    assert (y[:, 0].reshape(80, -1).sum(1) == counts).all()  # one target cell per shape
    if max_shapes == 3:
        assert set(np.bincount(counts)[1:].nonzero()[0] + 1) == {1, 2, 3}  # every count occurs
        assert set(extras["classes"][extras["classes"] >= 0]) == {0, 1, 2}
    for i in range(80):
        b = extras["boxes"][i, :counts[i]]
        for j in range(len(b)):
            for k in range(j):  # boxes never touch
                assert b[j, 0] >= b[k, 2] or b[k, 0] >= b[j, 2] or b[j, 1] >= b[k, 3] or b[k, 1] >= b[j, 3]
        # each box is tight around lit pixels of the image (noise 0)
        for x0, y0, x1, y1 in (b * 32).round().astype(int):
            inside = x[i, 0, y0:y1, x0:x1]
            assert inside[0].any() and inside[-1].any() and inside[:, 0].any() and inside[:, -1].any()
        assert x[i, 0][extras["mask"][i, 0] == 0].max(initial=0) == 0


def test_the_target_decodes_back_to_the_boxes():
    x, y, extras, _ = boxes.shape_boxes(30, 0.1, np.random.default_rng(1), 32, 4, 3)
    got, on, cls = detection.decode(torch.from_numpy(y), logits=False)
    for i in range(30):
        keep = extras["classes"][i] >= 0
        want = sorted(map(tuple, np.round(extras["boxes"][i][keep], 5)))
        assert sorted(map(tuple, np.round(got[i][on[i]].numpy(), 5))) == want
        assert sorted(cls[i][on[i]].tolist()) == sorted(extras["classes"][i][keep].tolist())


def test_encode_by_hand():
    t = boxes.encode(np.array([[0.5, 0.0, 1.0, 0.25]]), np.array([2]), grid=2)
    assert t.shape == (8, 2, 2)
    assert t[:, 0, 1].tolist() == [1.0, 0.5, 0.25, 0.5, 0.25, 0.0, 0.0, 1.0]  # centre (0.75, 0.125): cell (0, 1)
    assert t[0].sum() == 1


# ---- loss, pairing and scores by hand -------------------------------------------------------------

def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def test_loss_matches_a_hand_computation():
    """One image, a 2 × 2 grid with one shape: every term worked out with plain math."""
    target = torch.zeros(1, 8, 2, 2)
    target[0, :5, 0, 0] = torch.tensor([1.0, 0.5, 0.5, 0.4, 0.2])
    target[0, 6, 0, 0] = 1.0  # class 1
    out = torch.zeros(1, 8, 2, 2)
    out[0, :5, 0, 0] = torch.tensor([_logit(0.8), 0.0, _logit(0.75), _logit(0.4), _logit(0.5)])
    out[0, 5:, 0, 0] = torch.tensor([0.0, math.log(2.0), 0.0])  # softmax (1, 2, 1) / 4
    out[0, 0, 1, 1] = _logit(0.1)  # an empty cell's object probability 0.1; the others 0.5
    obj = -math.log(0.8) - math.log(0.9) - 2 * math.log(0.5)
    box = 5.0 * (0 + 0.25 + 0 + 0.3)
    cls = -math.log(0.5)
    per = detection.loss(out, target, reduction="none")
    assert per.shape == out.shape
    assert detection.loss(out, target, reduction="sum").item() == pytest.approx(obj + box + cls, rel=1e-5)
    assert detection.loss(out, target).item() == pytest.approx((obj + box + cls) / out.numel(), rel=1e-5)
    # the object term alone is the BCE of each cell
    assert per[0, 0].sum().item() == pytest.approx(obj, rel=1e-5)
    assert per[0, 5].sum().item() == pytest.approx(cls, rel=1e-5)


def test_iou_by_hand():
    a = torch.tensor([[[0.0, 0.0, 0.5, 0.5], [0.0, 0.0, 1.0, 1.0]]])
    b = torch.tensor([[[0.25, 0.25, 0.75, 0.75], [0.6, 0.6, 0.7, 0.7]]])
    got = detection.iou(a, b)
    assert got[0, 0, 0].item() == pytest.approx(0.0625 / (0.25 + 0.25 - 0.0625))
    assert got[0, 0, 1].item() == 0
    assert got[0, 1, 0].item() == pytest.approx(0.25)
    assert got[0, 1, 1].item() == pytest.approx(0.01)


def test_pairing_is_one_to_one_most_overlap_first():
    true = torch.tensor([[[0.0, 0.0, 0.4, 0.4], [0.5, 0.5, 0.9, 0.9]]])
    # prediction 0 overlaps true 0 a little, prediction 1 overlaps it more; prediction 2 overlaps nothing
    pred = torch.tensor([[[0.1, 0.1, 0.5, 0.5], [0.0, 0.0, 0.4, 0.3], [0.95, 0.0, 1.0, 0.1]]])
    got, which = detection.match(pred, torch.ones(1, 3, dtype=torch.bool), true, torch.ones(1, 2, dtype=torch.bool))
    assert which.tolist() == [[1, -1]]  # true 1 is missed: no prediction overlaps it
    assert got[0, 0].item() == pytest.approx(0.75) and got[0, 1].item() == 0
    # a box switched off takes no part
    got, which = detection.match(pred, torch.tensor([[True, False, True]]), true, torch.ones(1, 2, dtype=torch.bool))
    assert which.tolist() == [[0, -1]]


def _grid(shapes: list[tuple[int, int, list[float], int]], g: int = 2, logits: bool = False) -> torch.Tensor:
    """A (1, 8, g, g) grid with a shape (row, col, [x, y, w, h], class) in each listed cell: a target, or
    outputs that say exactly that (logits ±20)."""
    t = torch.full((1, 8, g, g), -20.0) if logits else torch.zeros(1, 8, g, g)
    for r, c, box, k in shapes:
        if logits:
            t[0, 0, r, c] = 20.0
            t[0, 1:5, r, c] = torch.logit(torch.tensor(box))
            t[0, 5 + k, r, c] = 20.0
        else:
            t[0, :5, r, c] = torch.tensor([1.0, *box])
            t[0, 5 + k, r, c] = 1.0
    return t


def test_scores_by_hand():
    target = _grid([(0, 0, [0.5, 0.5, 0.25, 0.25], 0), (1, 1, [0.5, 0.5, 0.25, 0.25], 2)])
    perfect = _grid([(0, 0, [0.5, 0.5, 0.25, 0.25], 0), (1, 1, [0.5, 0.5, 0.25, 0.25], 2)], logits=True)
    f = detection.figures(detection.counts(perfect, target))
    assert f["mean IoU"] == pytest.approx(1.0, abs=1e-5) and f["accuracy"] == 1.0 and f["extra boxes per image"] == 0
    # shape 1 found with 0.6 of its width (IoU 0.6) but the wrong class; shape 2 missed; one box where nothing is
    out = _grid([(0, 0, [0.5, 0.5, 0.15, 0.25], 1), (0, 1, [0.5, 0.5, 0.1, 0.1], 0)], logits=True)
    c = detection.counts(out, target)
    assert c.tolist() == pytest.approx([0.6, 2, 0, 1, 1], abs=1e-5)
    f = detection.figures(c)
    assert f == pytest.approx({"mean IoU": 0.3, "accuracy": 0.0, "extra boxes per image": 1.0}, abs=1e-5)
    # the same, class right: found (IoU ≥ 0.5) with the right class
    out = _grid([(0, 0, [0.5, 0.5, 0.15, 0.25], 0)], logits=True)
    assert detection.figures(detection.counts(out, target))["accuracy"] == 0.5


def test_image_lists_pairs_misses_and_extras():
    target = _grid([(0, 0, [0.5, 0.5, 0.25, 0.25], 0), (1, 1, [0.5, 0.5, 0.25, 0.25], 2)])
    out = _grid([(0, 0, [0.5, 0.5, 0.15, 0.25], 1), (0, 1, [0.5, 0.5, 0.1, 0.1], 0)], logits=True)
    im = detection.image(out[0], target[0])
    assert [(t["class"], t["found"]) for t in im["true"]] == [("circle", True), ("triangle", False)]
    assert im["true"][0]["iou"] == pytest.approx(0.6, abs=1e-5)
    assert [(p["class"], p["pairs"]) for p in im["pred"]] == [("square", 0), ("circle", None)]
    assert im["pred"][0]["box"] == pytest.approx([0.175, 0.125, 0.325, 0.375], abs=1e-5)
    assert im["grid"] == 2


# ---- through the engine -----------------------------------------------------------------------------

def test_the_trainer_learns_boxes_with_the_tasks_metric():
    d = presets.get("detect-shapes").to_dict()
    d["data"]["n_samples"] = 300
    d["train"].update(epochs=4, device="cpu")
    tr = make_trainer(from_dict(d))
    assert tr.task.name == "detect"
    m = list(tr.fit())
    assert {"train_box_iou", "val_box_iou"} <= set(m[-1])
    assert m[-1]["val_loss"] < m[0]["val_loss"] and m[-1]["train_loss"] < 0.7 * m[0]["train_loss"]
    # the metric is the figure `measure` gives on the same split
    assert m[-1]["val_box_iou"] == pytest.approx(detection.measure(tr.model, tr.data)["mean IoU"], abs=1e-6)
    r = tr.task.report(tr)
    assert r["kind"] == "boxes" and len(r["boxes"]) == len(r["images"]) == 8
    assert r["mean IoU"] == pytest.approx(m[-1]["val_box_iou"], abs=1e-6)


def test_a_wrong_head_and_a_wrong_loss_are_named():
    d = presets.get("detect-shapes").to_dict()
    d["model"]["layers"][-1]["out_channels"] = 6
    with pytest.raises(PlaygroundError, match=r"layer 12 \(Conv2d\).*\(N, 8, 4, 4\)"):
        make_trainer(from_dict(d))
    d = presets.get("detect-shapes").to_dict()
    d["train"]["loss"] = "mse"
    with pytest.raises(PlaygroundError, match="mse does not suit the task 'detect'.*use detection"):
        make_trainer(from_dict(d))


def test_export_refuses_the_detector_by_its_loss():
    with pytest.raises(PlaygroundError, match="detection has no torch.nn.functional form"):
        to_python(presets.get("detect-shapes"))


@pytest.mark.parametrize("name,loss", [("plane", "detection"), ("shapes", "detection"), ("shape_boxes", "mse")])
def test_the_detection_loss_fits_detection_data_only(name, loss):
    info = data.info(from_dict({"data": {"name": name, "n_samples": 20}, "model": {"layers": []}}).data)
    with pytest.raises(PlaygroundError, match=rf"^train.loss: {loss} does not fit {name}, whose targets are"):
        LOSSES.get(loss).shapes(info)
    assert LOSSES.get("detection").shapes(data.info(from_dict({"data": SPEC, "model": {"layers": []}}).data)) \
        == [(8, 4, 4)]
