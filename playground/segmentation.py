"""Segmentation as an application (preset `unet-shapes`): the mean IoU of a trained segmenter over the
validation split, and one image with its true and predicted masks for the Applications page's view.

A pixel is the object where the loss the run trained with reads it so (metrics.mask_of: a logit above 0 for
`bce_with_logits`, a score above 0.5 for the others); IoU as metrics.iou_counts counts it.
"""

from __future__ import annotations

import numpy as np
from torch import nn

from .losses import LOSSES, LossType
from .metrics import iou_counts, mask_of, mean_iou, outputs

PRESET_LOSS = "bce_with_logits"  # what unet-shapes trains with: the registry's measure reads its outputs so


def figures(model: nn.Module, ds, loss: LossType | None = None) -> dict[str, float]:
    """Mean IoU (object and background, averaged) and the object's IoU alone, over the validation split."""
    loss = loss or LOSSES.get(PRESET_LOSS)
    counts = iou_counts(outputs(model, ds.x_val), ds.y_val.float(), loss)
    c = counts.double()
    return {"mean IoU": mean_iou(counts), "object IoU": float(c[0] / c[1]) if c[1] else 1.0}


def sample(model: nn.Module, ds, i: int, loss: LossType) -> dict:
    """Validation image `i`: the picture (H, W, channels averaged), the true and the predicted mask (0/1), where
    they differ (missed: object the net left out; extra: background it took in), and the image's IoU."""
    out = outputs(model, ds.x_val[i:i + 1])
    true = ds.y_val[i:i + 1].float()
    pred = mask_of(out, loss)[0, 0].numpy()
    t = (true[0, 0] > 0.5).numpy()
    counts = iou_counts(out, true, loss).double()
    return {"picture": ds.x_val[i].float().mean(0).numpy(), "true": t.astype(np.uint8),
            "pred": pred.astype(np.uint8), "missed": int((t & ~pred).sum()), "extra": int((~t & pred).sum()),
            "object IoU": float(counts[0] / counts[1]) if counts[1] else 1.0, "mean IoU": mean_iou(counts)}
