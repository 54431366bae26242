"""Looking inside a model while and after it trains: end-of-run reports and live views.

Views are a registry `name -> fn(trainer, **options) -> dict of numpy arrays / plain values`; a job
asks its worker for the views it wants and gets them at a bounded rate (see `jobs.py`).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .data import FEATURES, POINT_RANGE
from .registry import PlaygroundError, Registry

ACTIVATIONS = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Sigmoid, nn.Tanh, nn.Softplus, nn.Identity,
               nn.Softmax, nn.Dropout)


@torch.no_grad()
def report(trainer) -> dict:
    """End-of-run evaluation on the validation split: confusion matrix, or predicted vs. true values."""
    out = trainer.predict(trainer.data.x_val)
    info = trainer.data.info
    if info.classification:
        pred = trainer.predict_labels(out).numpy()
        true = trainer.data.y_val.numpy()
        k = info.n_classes
        cm = np.bincount(true * k + pred, minlength=k * k).reshape(k, k)
        return {"kind": "confusion", "classes": info.class_names, "matrix": cm.tolist(),
                "accuracy": float((pred == true).mean())}
    true = trainer.data.y_val.reshape(len(out), -1)[:, 0].numpy()
    pred = out.reshape(len(out), -1)[:, 0].numpy()
    keep = np.arange(min(len(true), 500))
    return {"kind": "regression", "true": true[keep].tolist(), "pred": pred[keep].tolist(),
            "mse": float(((out - trainer.data.y_val.reshape(out.shape)) ** 2).mean())}


def neuron_layers(model: nn.Module) -> list[int]:
    """Indices of the module outputs that show each dense layer's neurons (after its activation)."""
    mods = list(model)
    shown = []
    for i, m in enumerate(mods[:-1]):
        if isinstance(m, nn.Linear):
            j = i
            while j + 1 < len(mods) and isinstance(mods[j + 1], ACTIVATIONS):
                j += 1
            shown.append(j)
    return shown


def features_of(points: np.ndarray, names: list[str]) -> np.ndarray:
    """The feature columns a 2-D dataset feeds the network, for raw points (n, 2)."""
    return np.stack([FEATURES[f](points) for f in names], 1).astype(np.float32)


@torch.no_grad()
def grid2d(trainer, res: int = 40, points: int = 300) -> dict:
    """Decision surface, every neuron's map over the plane, the weights and the last hidden layer's view."""
    info = trainer.data.info
    if info.modality != "points":
        raise PlaygroundError(f"the 2-D views need a 2-D point dataset; {info.name} is {info.modality}")
    lin = np.linspace(-POINT_RANGE, POINT_RANGE, res, dtype=np.float32)
    gx, gy = np.meshgrid(lin, lin[::-1])  # row 0 is the top of the plot (y = +6)
    grid = np.stack([gx.ravel(), gy.ravel()], 1)
    x = torch.from_numpy(features_of(grid, info.feature_names)).to(trainer.device)
    model = trainer.model
    was_training = model.training
    model.eval()
    outs = []
    h = x
    for m in model:
        h = m(h)
        outs.append(h)
    shown = neuron_layers(model)
    out = outs[-1]
    if info.classification:
        surface = (torch.sigmoid(out[:, :1]) if out.shape[1] == 1 else torch.softmax(out, 1))
        if surface.shape[1] == 1:
            surface = torch.cat([1 - surface, surface], 1)
    else:
        surface = out[:, :1]
    # The last hidden layer's view of the training points (first two PCA axes if it is wider than 2).
    sub = trainer.x_train[:points]
    hidden = sub
    for m in list(model)[: (shown[-1] + 1 if shown else 0)]:
        hidden = m(hidden)
    model.train(was_training)
    return {
        "res": res,
        "surface": surface.reshape(res, res, -1).cpu().numpy().astype(np.float16),  # (res, res, C or 1)
        "neurons": [outs[i].T.reshape(-1, res, res).cpu().numpy().astype(np.float16) for i in shown],
        "weights": [m.weight.detach().cpu().numpy() for m in model if isinstance(m, nn.Linear)],
        "hidden": _pca2(hidden.cpu().numpy()),
        "hidden_labels": trainer.data.y_train[:points].numpy(),
        "epoch": trainer.epoch,
    }


def _pca2(h: np.ndarray) -> np.ndarray:
    if h.shape[1] <= 2:
        return h if h.shape[1] == 2 else np.concatenate([h, np.zeros_like(h)], 1)
    c = h - h.mean(0)
    _, _, vt = np.linalg.svd(c, full_matrices=False)
    return c @ vt[:2].T


VIEWS: Registry = Registry("view")
VIEWS.add("grid2d", grid2d)
