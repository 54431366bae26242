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


def _grid(res: int) -> np.ndarray:
    """(res*res, 2) points of a res×res grid over the plot, row 0 at the top (y = +6)."""
    lin = np.linspace(-POINT_RANGE, POINT_RANGE, res, dtype=np.float32)
    gx, gy = np.meshgrid(lin, lin[::-1])
    return np.stack([gx.ravel(), gy.ravel()], 1)


@torch.no_grad()
def grid2d(trainer, res: int = 40, points: int = 300, neuron_res: int | None = None, pack: bool = False) -> dict:
    """Decision surface, every neuron's map over the plane, the weights and the last hidden layer's view.

    `neuron_res` draws the per-neuron maps on a coarser grid (thumbnails need less than the surface);
    `pack` returns them as bytes, ready for a browser (see `pack2d`), so the app process only forwards them.
    """
    info = trainer.data.info
    if info.modality != "points":
        raise PlaygroundError(f"the 2-D views need a 2-D point dataset; {info.name} is {info.modality}")
    model = trainer.model
    mods = list(model)
    shown = neuron_layers(model)
    nres = neuron_res or res
    was_training = model.training
    model.eval()
    x = torch.from_numpy(features_of(_grid(res), info.feature_names)).to(trainer.device)
    outs = []
    for m in mods:
        x = m(x)
        outs.append(x)
    if nres != res:  # a second, small pass for the thumbnails
        x = torch.from_numpy(features_of(_grid(nres), info.feature_names)).to(trainer.device)
        small = []
        for m in mods[: (shown[-1] + 1 if shown else 0)]:
            x = m(x)
            small.append(x)
    else:
        small = outs
    out = outs[-1]
    if info.classification:
        surface = (torch.sigmoid(out[:, :1]) if out.shape[1] == 1 else torch.softmax(out, 1))
        if surface.shape[1] == 1:
            surface = torch.cat([1 - surface, surface], 1)
    else:
        surface = out[:, :1]
    # The last hidden layer's view of the training points (first two PCA axes if it is wider than 2).
    hidden = trainer.x_train[:points]
    for m in mods[: (shown[-1] + 1 if shown else 0)]:
        hidden = m(hidden)
    model.train(was_training)
    linear = [m for m in mods if isinstance(m, nn.Linear)]
    view = {
        "res": res,
        "neuron_res": nres,
        "surface": surface.reshape(res, res, -1).cpu().numpy().astype(np.float16),  # (res, res, C or 1)
        "neurons": [small[i].T.reshape(-1, nres, nres).cpu().numpy().astype(np.float16) for i in shown],
        "weights": [m.weight.detach().cpu().numpy() for m in linear],  # (out, in) each
        "biases": [m.bias.detach().cpu().numpy() if m.bias is not None else np.zeros(m.out_features, np.float32)
                   for m in linear],
        "hidden": _pca2(hidden.cpu().numpy()),
        "hidden_labels": trainer.data.y_train[:points].numpy(),
        "epoch": trainer.epoch,
    }
    return pack2d(view) if pack else view


def _u8(v) -> np.ndarray:
    """-1 … 1 (clamped; NaN and inf to the middle) as 0 … 255."""
    v = np.nan_to_num(np.asarray(v, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    return np.rint((np.clip(v, -1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)


def pack2d(view: dict) -> dict:
    """A `grid2d` view as bytes for drawing: every map 0 … 255 for -1 … 1, in one flat uint8 array each.

    surface: mode 'diverging' (p(class 0) - p(class 1), or the regression output; one byte a pixel) or
    'classes' (the likeliest class and its probability; two bytes a pixel). neurons: every map of every
    hidden layer in order (`layers` gives their counts). hidden: the projected points scaled to -1 … 1.
    Weights and biases stay float32.
    """
    if view.get("packed"):
        return view
    with np.errstate(invalid="ignore", over="ignore"):  # a diverged model: NaN and inf become the middle
        s = np.asarray(view["surface"], dtype=np.float32)  # (res, res, C)
        if s.shape[-1] == 1:
            mode, surface = "diverging", _u8(s[..., 0])
        elif s.shape[-1] == 2:
            mode, surface = "diverging", _u8(s[..., 0] - s[..., 1])
        else:
            conf = np.nan_to_num(s.max(-1), nan=0.0).clip(0, 1)
            mode, surface = "classes", np.stack([np.nan_to_num(s, nan=0.0).argmax(-1), np.rint(conf * 255)], -1)
        h = np.nan_to_num(np.asarray(view["hidden"], dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
        scale = float(np.abs(h).max()) if h.size else 0.0
        neurons = [np.asarray(n) for n in view["neurons"]]
        return {**view, "packed": True, "mode": mode, "surface": surface.astype(np.uint8).ravel(),
                "layers": [int(n.shape[0]) for n in neurons],
                "neurons": np.concatenate([_u8(n).ravel() for n in neurons]) if neurons else np.zeros(0, np.uint8),
                "hidden": _u8(h / scale if scale > 0 else h).ravel(), "hidden_scale": scale}


def _pca2(h: np.ndarray) -> np.ndarray:
    if h.shape[1] <= 2:
        return h if h.shape[1] == 2 else np.concatenate([h, np.zeros_like(h)], 1)
    c = h - h.mean(0)
    _, _, vt = np.linalg.svd(c, full_matrices=False)
    vt = vt[:2] * np.sign(vt[:2].sum(1, keepdims=True) + 1e-12)  # a fixed sign: no flip between frames
    return c @ vt.T


VIEWS: Registry = Registry("view")
VIEWS.add("grid2d", grid2d)
