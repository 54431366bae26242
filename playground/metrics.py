"""Scores beside the loss, by hand-checkable formulas: class accuracy and segmentation's IoU (no registry here:
tasks.py says which task keeps which)."""

from __future__ import annotations

import torch
from torch import nn


def accuracy(out: torch.Tensor, labels: torch.Tensor, loss) -> float:
    """The share of samples whose predicted class (read as `loss` trained the outputs) is the true one."""
    return (loss.labels(out) == labels).sum().item() / max(1, len(labels))


def mask_of(out: torch.Tensor, loss) -> torch.Tensor:
    """0/1 masks from a segmenter's outputs, read as its loss trained them (a logit > 0, a score > 0.5)."""
    return out > (0.0 if loss.kind == "binary" else 0.5)


def iou_counts(out: torch.Tensor, target: torch.Tensor, loss) -> torch.Tensor:
    """(4,) counts of pixels: foreground intersection and union, background intersection and union; a pixel is
    predicted foreground where the loss reads it so (`mask_of`), true foreground where the target > 0.5."""
    pred, true = mask_of(out, loss), target > 0.5
    return torch.stack([(pred & true).sum(), (pred | true).sum(), (~pred & ~true).sum(), (~pred | ~true).sum()])


def mean_iou(counts: torch.Tensor) -> float:
    """Mean over the two classes (foreground, background) of intersection / union, over the whole split, as
    semantic segmentation scores it; a class that appears in neither masks nor predictions is left out."""
    c = counts.double().tolist()
    ious = [c[i] / c[i + 1] for i in (0, 2) if c[i + 1] > 0]
    return sum(ious) / len(ious) if ious else 1.0


@torch.no_grad()
def outputs(model: nn.Module, x: torch.Tensor, batch: int = 512) -> torch.Tensor:
    """The model's outputs on `x` in eval mode, on the CPU."""
    model.eval()
    device = next(model.parameters()).device
    return torch.cat([model(x[i:i + batch].to(device)).cpu() for i in range(0, len(x), batch)])
