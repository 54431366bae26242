"""The loss registry: each loss knows the output shapes it accepts, the targets it compares with, and how
to read a model's outputs as class labels and probabilities (one place, so training, the live views and
the inspection pages agree).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .data import DataInfo
from .detection import loss as detection_loss
from .registry import PlaygroundError, Registry


@dataclass(frozen=True)
class LossType:
    name: str
    description: str
    fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    kind: str  # "labels" (class indices) | "binary" (0/1 logits) | "values" | "boxes" (a detector's grid)
    default_for: tuple[str, ...] = ()  # dataset tasks that start with this loss (see `default`)

    def shapes(self, info: DataInfo) -> list[tuple[int, ...]]:
        """Output shapes this loss accepts on this dataset (first = preferred); refuses a task it cannot fit."""
        k = info.n_classes
        if self.kind == "labels":
            if not info.classification:
                raise PlaygroundError(f"train.loss: {self.name} needs a classification dataset, but {info.name} "
                                      f"is {info.task}; use {default(info.task)}", path="train.loss")
            return [(k,)]
        if (self.kind == "boxes") != (info.task == "detection"):  # a detector's grid, and only a detector's
            raise PlaygroundError(f"train.loss: {self.name} does not fit {info.name}, whose targets are "
                                  f"{info.task}; use {default(info.task)}", path="train.loss")
        if info.classification:
            return [(1,), (k,)] if k == 2 else [(k,)]
        if self.kind == "binary" and info.task not in ("segmentation", "reconstruction"):
            raise PlaygroundError(f"train.loss: {self.name} needs 0/1 targets, but {info.name} is {info.task}; "
                                  f"use {default(info.task)}", path="train.loss")
        return [tuple(info.target_shape)]

    def expects(self, info: DataInfo) -> tuple[int, ...]:
        """The preferred output shape."""
        return self.shapes(info)[0]

    def target(self, y: torch.Tensor, info: DataInfo, out_shape: tuple[int, ...]) -> torch.Tensor:
        """Targets in the form this loss compares with outputs of `out_shape`."""
        if self.kind == "labels" or not info.classification:
            return y if self.kind == "labels" else y.float()
        if out_shape == (1,):
            return y.float().unsqueeze(-1)  # (N, 1) of 0/1
        return F.one_hot(y, info.n_classes).float()

    # -- a classifier's outputs, read the way this loss trained them --
    def probabilities(self, out: torch.Tensor) -> torch.Tensor:
        """(B, classes) probabilities from a classifier's outputs (B, 1) or (B, classes); rows sum to 1.

        One output is p(class 1): a logit for bce_with_logits (sigmoid), a 0/1 score for a value loss
        (clamped to 0 … 1). Several outputs: softmax for cross_entropy (what it trains); for
        bce_with_logits each output's sigmoid, for a value loss each output clamped to 0 … 1 (what they
        train towards a one-hot target), normalised to sum to 1 (uniform where all are 0).
        """
        out = out.float()
        if out.shape[1] == 1:
            p = torch.sigmoid(out) if self.kind == "binary" else out.clamp(0, 1)
            return torch.cat([1 - p, p], 1)
        if self.kind == "labels":
            return torch.softmax(out, 1)
        p = torch.sigmoid(out) if self.kind == "binary" else out.clamp(0, 1)
        total = p.sum(1, keepdim=True)
        return torch.where(total > 0, p / total.clamp_min(torch.finfo(p.dtype).tiny), 1.0 / p.shape[1])

    def labels(self, out: torch.Tensor) -> torch.Tensor:
        """Predicted class indices (B,) from a classifier's outputs: a likeliest class of `probabilities`
        (one output: logit > 0 for bce_with_logits, score > 0.5 otherwise; several: the largest output,
        which also decides between classes that clamping left equally likely)."""
        if out.shape[1] == 1:
            return (out[:, 0] > (0.0 if self.kind == "binary" else 0.5)).long()
        return out.argmax(1)  # softmax, sigmoid and clamping all keep the largest output the largest


LOSSES: Registry[LossType] = Registry("loss")
for _l in [
    LossType("cross_entropy", "Softmax + negative log-likelihood: the classification loss.", F.cross_entropy,
             "labels", ("binary", "multiclass")),
    LossType("bce_with_logits", "Sigmoid + binary cross-entropy, per output (binary, multi-label, masks).",
             F.binary_cross_entropy_with_logits, "binary", ("segmentation",)),
    LossType("mse", "Mean squared error: the regression loss.", F.mse_loss, "values", ("regression", "reconstruction")),
    LossType("l1", "Mean absolute error: robust to outliers.", F.l1_loss, "values"),
    LossType("huber", "Squared for small errors, absolute for large ones.", F.huber_loss, "values"),
    LossType("detection", "Per grid cell: is a shape here, its box and its class (detection.py).", detection_loss,
             "boxes", ("detection",)),
]:
    LOSSES.add(_l.name, _l)


def default(task: str) -> str:
    """The loss a new setup for a dataset of this task starts with."""
    for name, loss in LOSSES.items():
        if task in loss.default_for:
            return name
    raise PlaygroundError(f"no loss is the default for the task '{task}'")


def for_problem(classification: bool) -> list[str]:
    """The losses that train a classifier (class labels or 0/1 logits), or a regressor (values)."""
    return [n for n, t in LOSSES.items() if t.kind in (("labels", "binary") if classification else ("values",))]
