"""The loss landscape: the loss on a 2-D slice through weight space, and training paths drawn on it.

`loss_landscape` slices through the current weights along two filter-normalised random directions
(Li et al. 2018, "Visualizing the Loss Landscape of Neural Nets": each filter or neuron of the random
direction is scaled to the norm of the same filter of the weights, so the picture does not depend on
the weights' scale; biases and normalisation parameters are left out). `project_path` puts weight
snapshots (a job's checkpoints) on such a plane. `optimizer_paths` trains copies of one model with
several optimizers from the same start on the same batches and draws all their paths on one plane.

Directions and states are dicts {parameter name: numpy array}, as in a state dict.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable

import numpy as np
import torch
from torch import nn

from . import presets
from .data import load_cached
from .losses import LOSSES
from .registry import PlaygroundError, check_options
from .spec import Spec, from_dict
from .train import OPTIMIZERS, Trainer, optimizer_choice

Directions = tuple[dict[str, np.ndarray], dict[str, np.ndarray]]
MAX_PATH_FLOATS = 16_000_000  # weights kept over all recorded path points (128 MB as float64)


# ---- evaluating the loss at many points of a plane ---------------------------------------------

def _loss_fn(loss: str | Callable) -> Callable:
    return loss if callable(loss) else LOSSES.get(loss, "loss").fn


def _landscape_mode(model: nn.Module) -> None:
    """Dropout off, BatchNorm on the evaluated batch's statistics (running ones belong to other weights)."""
    model.eval()
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.train()


class _Plane:
    """A model copy whose weights can be set to center + α·d1 + β·d2 and evaluated."""

    def __init__(self, model: nn.Module, loss_fn: Callable, x: torch.Tensor, y: torch.Tensor,
                 directions: Directions) -> None:
        self.model = copy.deepcopy(model)  # never move the caller's weights
        _landscape_mode(self.model)
        device = next(self.model.parameters()).device
        self.params = dict(self.model.named_parameters())
        self.keys = [k for k in directions[0] if k in self.params]
        self.base = {k: self.params[k].detach().clone() for k in self.keys}
        self.d = [{k: torch.as_tensor(d[k], dtype=self.base[k].dtype, device=device) for k in self.keys}
                  for d in directions]
        self.loss_fn, self.x, self.y = loss_fn, x.to(device), y.to(device)

    @torch.no_grad()
    def loss(self, a: float, b: float) -> float:
        """The loss at center + a·d1 + b·d2 (NaN when it is not finite)."""
        for k in self.keys:
            self.params[k].copy_(self.base[k] + a * self.d[0][k] + b * self.d[1][k])
        v = float(self.loss_fn(self.model(self.x), self.y))
        return v if math.isfinite(v) else math.nan

    def grid(self, alphas: np.ndarray, betas: np.ndarray) -> np.ndarray:
        """(len(betas), len(alphas)) losses: row i is β = betas[i], column j is α = alphas[j]."""
        return np.array([[self.loss(a, b) for a in alphas] for b in betas], dtype=np.float32)


def random_directions(model: nn.Module, seed: int = 0) -> Directions:
    """Two filter-normalised random directions (Li et al. 2018); zero on biases and 1-D parameters."""
    g = torch.Generator().manual_seed(seed)
    out: tuple[dict, dict] = ({}, {})
    for d in out:
        for k, p in model.named_parameters():
            w = p.detach().float().cpu()
            if w.dim() <= 1:  # biases, BatchNorm/LayerNorm scales: left out, as in the paper
                d[k] = np.zeros(tuple(w.shape), np.float32)
                continue
            r = torch.randn(w.shape, generator=g)
            # per filter (Conv2d output channel) or neuron (Linear row): the weights' norm, not the noise's
            scale = w.flatten(1).norm(dim=1) / r.flatten(1).norm(dim=1).clamp_min(1e-10)
            d[k] = (r * scale.view(-1, *[1] * (w.dim() - 1))).numpy()
    return out


def loss_landscape(model: nn.Module, loss_fn: str | Callable, x: torch.Tensor, y: torch.Tensor, res: int = 21,
                   span: float = 1.0, directions: Directions | None = None, seed: int = 0, *,
                   bounds: tuple[float, float, float, float] | None = None, max_samples: int = 512) -> dict:
    """The loss on the plane through the model's weights spanned by two directions, on a res×res grid.

    `directions` default to filter-normalised random ones (from `seed`); α and β run over [-span, span]
    (or `bounds` = (α0, α1, β0, β1)). The loss is the mean over the first `max_samples` of (x, y), with
    Dropout off and BatchNorm on batch statistics. Returns alphas (res,), betas (res,), loss (res, res)
    float32 with loss[i, j] at (alphas[j], betas[i]) (NaN where it overflowed), center_loss, directions.
    The model is not changed.
    """
    if not 2 <= res <= 201:
        raise PlaygroundError(f"res must be between 2 and 201, got {res}")
    directions = directions or random_directions(model, seed)
    plane = _Plane(model, _loss_fn(loss_fn), x[:max_samples], y[:max_samples], directions)
    a0, a1, b0, b1 = bounds or (-span, span, -span, span)
    alphas = np.linspace(a0, a1, res, dtype=np.float32)
    betas = np.linspace(b0, b1, res, dtype=np.float32)
    return {"alphas": alphas, "betas": betas, "loss": plane.grid(alphas, betas), "center_loss": plane.loss(0, 0),
            "directions": directions}


# ---- putting weights on the plane --------------------------------------------------------------

def _weights(state) -> dict:
    return state["weights"] if isinstance(state, dict) and "weights" in state and "epoch" in state else state


def _flat(state: dict, keys: list[str]) -> np.ndarray:
    return np.concatenate([np.asarray(state[k], dtype=np.float64).ravel() for k in keys])


def project_path(states: Iterable[dict], center: dict, directions: Directions) -> np.ndarray:
    """(n, 2) coordinates (α, β) of weight snapshots on the plane center + α·d1 + β·d2 (least squares).

    `states` are state dicts {name: array} or checkpoints {"epoch", "weights"}; only the parameters the
    directions cover are used (what lies off the plane is dropped).
    """
    keys = [k for k in directions[0] if np.any(directions[0][k]) or np.any(directions[1][k])]
    d = np.stack([_flat(directions[0], keys), _flat(directions[1], keys)], 1)  # (P, 2)
    c = _flat(_weights(center), keys)
    delta = np.stack([_flat(_weights(s), keys) - c for s in states], 1)  # (P, n)
    coords, *_ = np.linalg.lstsq(d, delta, rcond=None)
    return coords.T  # (n, 2)


def pca_directions(states: Iterable[dict], center: dict) -> tuple[Directions, list[float]]:
    """The two principal directions of the snapshots' displacements from `center` (unit vectors), and the
    fraction of the displacements' squared length each explains. Signs put most points at positive α, β."""
    center = _weights(center)
    states = [_weights(s) for s in states]
    keys = [k for k in center if k in states[0] and np.issubdtype(np.asarray(center[k]).dtype, np.floating)]
    c = _flat(center, keys)
    m = np.stack([_flat(s, keys) - c for s in states])  # (n, P)
    if not np.any(m):
        raise PlaygroundError("the weights never moved away from the start, so there is no path to draw")
    # the plane through the start that holds as much of the paths' movement as any plane can
    gram = m @ m.T  # (n, n): cheaper than an SVD of (n, P) when P is large
    vals, vecs = np.linalg.eigh(gram)
    order = np.argsort(vals)[::-1][:2]
    dirs, explained = [], []
    total = float(np.trace(gram))
    for j in order:
        v = m.T @ vecs[:, j]
        v /= np.linalg.norm(v) or 1.0
        v *= 1.0 if (m @ v).sum() >= 0 else -1.0
        dirs.append(v)
        explained.append(float(max(vals[j], 0.0)) / total)
    while len(dirs) < 2:  # a single snapshot: any second axis will do
        dirs.append(np.zeros_like(c))
        explained.append(0.0)
    out = []
    for v in dirs:
        d, pos = {}, 0
        for k in keys:
            shape = np.asarray(center[k]).shape
            n = int(np.prod(shape))
            d[k] = v[pos:pos + n].reshape(shape).astype(np.float32)
            pos += n
        out.append(d)
    return (out[0], out[1]), explained


# ---- optimizers racing from the same start -------------------------------------------------------

def _optimizer(name: str, params, lr: float) -> torch.optim.Optimizer:
    """An optimizer of the shared vocabulary (`train.optimizer_names`) with its own option defaults, no decay."""
    kind, options, _ = optimizer_choice(name, "optimizers")
    entry = OPTIMIZERS.get(kind)
    return entry.make(params, lr, 0.0, **check_options(entry.params, options, f"optimizer {name}"))


def _state(model: nn.Module) -> dict[str, np.ndarray]:
    return {k: p.detach().cpu().numpy().copy() for k, p in model.named_parameters()}


def optimizer_paths(spec: Spec | dict | str, optimizers: Iterable[str] = ("SGD", "SGD+momentum", "RMSprop", "Adam"),
                    steps: int = 100, lr: float | dict[str, float] | None = None, res: int = 21,
                    points: int = 50, max_samples: int = 256) -> dict:
    """Train one copy of the spec's model per optimizer, from the SAME initial weights on the SAME batches,
    and draw every path on one plane with the loss landscape around them.

    The plane passes through the start and is spanned by the top two principal directions of all paths'
    displacements from it: random directions in a space of thousands of weights are nearly orthogonal to
    every path, so the paths would barely move on them; the principal plane keeps as much of the paths'
    movement as a plane can (Li et al. 2018, §7), so the optimizers' different routes show. `spec` is a Spec,
    a spec dict or a preset name; `optimizers` are names of `train.optimizer_names()`; `points` caps the recorded
    points per path (fewer for big models). `lr` is one rate for all, a dict by optimizer, or None for each one's
    suitable rate (the optimizer registry's `lr`). Returns optimizers, lr {name: lr}, steps, paths {name: (k, 2)
    coordinates}, path_steps {name: (k,) step numbers}, path_loss {name: (k,) loss at each recorded point},
    explained (the plane's share of the movement) and landscape (as `loss_landscape`, on the same plane and
    `max_samples` training samples).
    """
    spec = presets.get(spec) if isinstance(spec, str) else spec if isinstance(spec, Spec) else from_dict(spec)
    names = list(optimizers)
    defaults = {n: optimizer_choice(n, "optimizers")[2] for n in names}
    if not 1 <= steps <= 5000:
        raise PlaygroundError(f"steps must be between 1 and 5000, got {steps}")
    if isinstance(lr, dict):
        rates = {n: lr.get(n, defaults[n]) for n in names}
    else:
        rates = {n: lr if lr is not None else defaults[n] for n in names}
    tr = Trainer(spec, data=load_cached(spec.data), device="cpu")  # the spec's seed and init: the common start
    start_model, loss_fn = tr.model, tr.loss_fn
    n_params = sum(p.numel() for p in start_model.parameters())
    # every recorded point is a copy of the weights, and the plane's PCA reads them all (float64)
    points = min(points, MAX_PATH_FLOATS // (n_params * len(names)) - 1)
    if points < 2:
        raise PlaygroundError(f"the model has {n_params:,} weights: too many to keep {len(names)} training paths "
                              "in memory; use a smaller model or fewer optimizers")
    g = torch.Generator().manual_seed(spec.train.seed)
    per_epoch = max(1, tr.n // tr.batch_size)
    order = torch.cat([torch.randperm(tr.n, generator=g) for _ in range(math.ceil(steps / per_epoch))])
    batches = [order[i * tr.batch_size:(i + 1) * tr.batch_size] for i in range(steps)]  # shared by all
    every = max(1, math.ceil(steps / points))
    start = _state(start_model)
    paths, path_steps = {}, {}
    for n in names:
        model = copy.deepcopy(start_model)
        model.train()
        torch.manual_seed(spec.train.seed)  # the same dropout masks too
        opt = _optimizer(n, model.parameters(), rates[n])
        states, at = [start], [0]
        for s, idx in enumerate(batches, 1):
            opt.zero_grad(set_to_none=True)
            loss_fn(model(tr.x_train[idx]), tr.y_train[idx]).backward()
            opt.step()
            if s % every == 0 or s == steps:
                states.append(_state(model))
                at.append(s)
        paths[n], path_steps[n] = states, at
    directions, explained = pca_directions([s for n in names for s in paths[n]], start)
    coords = {n: project_path(paths[n], start, directions) for n in names}
    allc = np.concatenate(list(coords.values()))
    lo, hi = np.minimum(allc.min(0), 0.0), np.maximum(allc.max(0), 0.0)
    pad = 0.15 * (hi - lo) + 1e-3
    bounds = (lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1])
    x, y = tr.x_train[:max_samples], tr.y_train[:max_samples]
    land = loss_landscape(start_model, loss_fn, x, y, res=res, directions=directions, bounds=bounds,
                          max_samples=max_samples)
    plane = _Plane(start_model, loss_fn, x, y, directions)
    path_loss = {}
    for n in names:  # the loss at the real weights of each point (which lie a little off the plane)
        vals = []
        for s in paths[n]:
            with torch.no_grad():
                for k, p in plane.params.items():
                    p.copy_(torch.from_numpy(s[k]))
                vals.append(float(loss_fn(plane.model(plane.x), plane.y)))
        path_loss[n] = np.array(vals, np.float32)
    return {"optimizers": names, "lr": rates, "steps": steps, "paths": coords,
            "path_steps": {n: np.array(v) for n, v in path_steps.items()}, "path_loss": path_loss,
            "explained": explained, "landscape": land}
