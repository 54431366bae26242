"""End-of-run reports, each a plain dict with a `kind` the pages know how to draw.

Every report reads the validation split through the trainer's own networks (the task registry in tasks.py
says which report a task gets).
"""

from __future__ import annotations

import numpy as np
import torch

from .gan_data import coverage
from .metrics import iou_counts, mask_of, mean_iou

SHOWN = 8  # images or windows a report shows


@torch.no_grad()
def confusion(trainer) -> dict:
    """Class ids predicted against true ones on the validation split, and the accuracy."""
    info = trainer.data.info
    out = trainer.predict(trainer.data.x_val)
    pred = trainer.predict_labels(out).numpy()
    true = trainer.data.y_val.numpy()
    k = info.n_classes
    cm = np.bincount(true * k + pred, minlength=k * k).reshape(k, k)
    return {"kind": "confusion", "classes": info.class_names, "matrix": cm.tolist(),
            "accuracy": float((pred == true).mean())}


@torch.no_grad()
def regression(trainer) -> dict:
    """Predicted against true values (the first output of each sample, at most 500) and the MSE over all."""
    out = trainer.predict(trainer.data.x_val)
    y = trainer.data.y_val
    true = y.reshape(len(out), -1)[:, 0].numpy()
    pred = out.reshape(len(out), -1)[:, 0].numpy()
    keep = np.arange(min(len(true), 500))
    return {"kind": "regression", "true": true[keep].tolist(), "pred": pred[keep].tolist(),
            "mse": float(((out - y.reshape(out.shape)) ** 2).mean())}


@torch.no_grad()
def forecast(trainer, k: int = 4) -> dict:
    """A few validation windows with the true next value and the predicted one; the MSE over all, and the
    predicted-vs-true points (so the report reads like a regression's too)."""
    r = regression(trainer)
    x = trainer.data.x_val[:k]
    window = x[..., 0] if x.dim() == 3 else x.reshape(len(x), -1)  # (k, T): the first feature over time
    return {**r, "kind": "forecast", "windows": window.numpy().tolist(), "next_true": r["true"][:k],
            "next_pred": r["pred"][:k]}


@torch.no_grad()
def reconstruction(trainer, k: int = SHOWN) -> dict:
    """The first `k` validation images and the model's rebuilt versions, as (k, H, W) arrays (channels
    averaged), and the reconstruction error over the whole split; a non-image dataset reports as a regression."""
    if len(trainer.data.info.input_shape) != 3:
        return regression(trainer)
    x = trainer.data.y_val  # the target is the input
    rebuilt = trainer.predict(trainer.data.x_val).reshape(x.shape)  # (N, C, H, W)
    return {"kind": "reconstruction", "inputs": x[:k].mean(1).numpy(), "outputs": rebuilt[:k].mean(1).numpy(),
            "mse": float(((rebuilt - x) ** 2).mean())}


@torch.no_grad()
def masks(trainer, k: int = SHOWN) -> dict:
    """The first `k` validation images with their true and predicted masks (first mask channel), and the
    mean IoU over the split (see tasks.mean_iou)."""
    out = trainer.predict(trainer.data.x_val)
    y = trainer.data.y_val.float()
    pred = mask_of(out, trainer.loss_type)
    counts = iou_counts(out, y, trainer.loss_type)
    return {"kind": "masks", "images": trainer.data.x_val[:k].mean(1).numpy(),
            "true": y[:k, 0].numpy(), "pred": pred[:k, 0].float().numpy(),
            "mean_iou": mean_iou(counts), "foreground_iou": float(counts[0] / counts[1]) if counts[1] else 1.0}


@torch.no_grad()
def gan(trainer, k: int = 1000) -> dict:
    """End of run: made samples beside real ones (2-D data: points and the coverage of its modes; images:
    a grid of them), from the run's fixed evaluation noise."""
    info = trainer.data.info
    fake = trainer.samples()
    if len(info.input_shape) == 3:  # images: the first 64, channels averaged
        return {"kind": "gan_images", "samples": fake[:64].mean(1).clamp(0, 1).numpy(),
                "real": trainer.data.x_val[:64].float().mean(1).numpy()}
    k = min(k, len(trainer.data.x_val))  # as many generated as real ones
    out = {"kind": "gan_points", "fake": fake[:k].reshape(-1, fake[0].numel())[:, :2].numpy().tolist(),
           "real": trainer.data.x_val[:k].reshape(-1, fake[0].numel())[:, :2].numpy().tolist(),
           "range": trainer.range, "features": info.feature_names[:2]}
    if info.modes:
        c = coverage(fake, info.modes, info.mode_std)
        out.update(c, centres=info.modes, std=info.mode_std)
    return out

