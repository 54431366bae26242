"""segmentation.py: the segmentation application's figures equal the run's own report (reports.masks), and one
image's masks, mistakes and IoU agree with a count by hand."""

from __future__ import annotations

import numpy as np
import pytest

import playground as pg
from playground import presets, segmentation
from playground.applications import APPLICATIONS
from playground.reports import masks


@pytest.fixture(scope="module")
def trainer():
    spec = presets.get("unet-shapes").to_dict()
    spec["data"].update(n_samples=200)
    spec["train"].update(epochs=2, device="cpu")
    t = pg.Trainer(pg.from_dict(spec))
    list(t.fit(2))
    return t


def test_the_figures_are_the_runs_own_mean_iou(trainer):
    got = segmentation.figures(trainer.model, trainer.data)
    report = masks(trainer)
    assert got["mean IoU"] == pytest.approx(report["mean_iou"], abs=1e-9)
    assert got["object IoU"] == pytest.approx(report["foreground_iou"], abs=1e-9)
    assert APPLICATIONS.get("unet-shapes").measure is segmentation.figures


@pytest.mark.parametrize("i", [0, 3, 17])
def test_one_images_masks_and_mistakes_agree_with_a_count_by_hand(trainer, i):
    s = segmentation.sample(trainer.model, trainer.data, i, trainer.loss_type)
    t, p = s["true"].astype(bool), s["pred"].astype(bool)
    assert np.array_equal(t, trainer.data.y_val[i, 0].numpy() > 0.5)
    assert np.array_equal(p, trainer.predict(trainer.data.x_val[i:i + 1])[0, 0].numpy() > 0)  # logits: > 0
    assert (s["missed"], s["extra"]) == ((t & ~p).sum(), (~t & p).sum())
    fg = (t & p).sum() / max((t | p).sum(), 1)
    bg = (~t & ~p).sum() / max((~t | ~p).sum(), 1)
    assert s["object IoU"] == pytest.approx(fg if (t | p).any() else 1.0)
    assert s["mean IoU"] == pytest.approx((fg + bg) / 2 if (t | p).any() else bg)
    assert s["picture"].shape == t.shape
