"""Is training healthy? Per-layer weight and gradient statistics while a job trains (opt-in), dead and
saturated activations, gradient norms by layer, and plain-language hints about what to change.

Tracking (`Tracker`) runs only at epoch end and only when a job asks for it (`JobPool.submit(...,
track={"stats": True, "checkpoints": 20})`): the training step itself is never touched. Statistics are
sent about `points` times over a run (every k epochs, plus the first and last), never closer than
`interval` seconds (stretched by the worker when it holds many jobs); checkpoints are light copies
of the state dict every k epochs (k chosen so that a run keeps at most `checkpoints` of them, within
`max_bytes`).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from .layers import activation
from .losses import LOSSES
from .modules import layers_in
from .probe import layer_name, param_layers
from .registry import Param, PlaygroundError, check_options

TRACK_PARAMS = (
    Param("stats", "bool", True, help="Send per-layer weight and gradient norms and histograms."),
    Param("checkpoints", "int", 0, 0, 100, help="Keep about this many copies of the weights over the run."),
    Param("bins", "int", 30, 2, 200, help="Histogram bins."),
    Param("points", "int", 50, 2, 1000, help="About this many statistics events over the run."),
    Param("interval", "float", 0.05, 0.0, 60.0,
          help="Least seconds between two statistics events (longer while a worker holds over 4 jobs)."),
)


def track_options(track: dict | bool | None) -> dict | None:
    """A job's `track` argument checked and completed (True means the defaults); None when off."""
    if not track:
        return None
    return check_options(TRACK_PARAMS, {} if track is True else dict(track), "track")


# ---- statistics of the weights and gradients --------------------------------------------------

def _summary(v: torch.Tensor, bins: int) -> torch.Tensor:
    """[norm, min, max, counts × bins] of a flat tensor, on its device (no host sync)."""
    lo, hi = v.min(), v.max()
    width = (hi - lo).clamp_min(1e-30)
    idx = ((v - lo) / width * bins).long().clamp_(0, bins - 1)
    counts = torch.bincount(idx, minlength=bins)[:bins].float()
    return torch.cat([v.norm().reshape(1), lo.reshape(1), hi.reshape(1), counts])


def _hist(row: np.ndarray, bins: int) -> dict:
    lo, hi, counts = float(row[1]), float(row[2]), row[3:].astype(np.int64)
    if not hi > lo:  # one value (e.g. all zeros): a bin around it
        lo, hi = lo - 0.5, hi + 0.5
        counts = np.zeros(bins, np.int64)
        counts[bins // 2] = int(row[3:].sum())
    return {"counts": counts, "edges": np.linspace(lo, hi, bins + 1, dtype=np.float32)}


@torch.no_grad()
def layer_stats(model: nn.Module, bins: int = 30) -> list[dict]:
    """Per layer with weights: the norm and a histogram of its parameters and of their current gradients.

    Each entry: layer (0-based index of the top-level layer; a block's layers share their block's), name
    ('layer 1 (Linear)', 'layer 3.1 (Conv2d)' inside a block), weight_norm, grad_norm (None before
    the first backward pass), weight_hist and grad_hist ({counts: (bins,) int64, edges: (bins+1,) float32},
    grad_hist None without gradients). Norms and histograms cover all of a layer's parameters (weights
    and biases together). Everything is reduced on the model's device and read in one transfer.
    """
    rows, layers = [], []
    for i, m, ps in param_layers(model):
        w = torch.cat([p.detach().reshape(-1) for p in ps]).float()
        grads = [p.grad for p in ps]
        has_grad = all(g is not None for g in grads)
        rows.append(_summary(w, bins))
        if has_grad:
            rows.append(_summary(torch.cat([g.reshape(-1) for g in grads]).float(), bins))
        layers.append((i, m, has_grad))
    if not rows:
        return []
    table = torch.stack(rows).cpu().numpy()  # the one host transfer
    out, r = [], 0
    for i, m, has_grad in layers:
        w = table[r]
        g = table[r + 1] if has_grad else None
        r += 2 if has_grad else 1
        out.append({"layer": i[0], "name": layer_name(i, m), "weight_norm": float(w[0]),
                    "grad_norm": None if g is None else float(g[0]), "weight_hist": _hist(w, bins),
                    "grad_hist": None if g is None else _hist(g, bins)})
    return out


def state_copy(model: nn.Module) -> dict[str, np.ndarray]:
    """The model's state dict as numpy arrays (copies: later training does not change them)."""
    return {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}


class Tracker:
    """Opt-in tracking of one run, called at epoch ends only: statistics at a bounded rate, checkpoints.

    `start(trainer)` keeps the initial weights (epoch 0) when checkpoints are on; `epoch_end(trainer)`
    returns a statistics payload when one is due (else None) and keeps a checkpoint when one is due;
    `finish(trainer)` adds the last weights if the run ended between checkpoints. `checkpoints` is a list
    of {"epoch": e, "weights": {name: numpy array}}.
    """

    def __init__(self, epochs: int, stats: bool = True, checkpoints: int = 0, bins: int = 30, points: int = 50,
                 interval: float = 0.05, max_bytes: int = 32 * 2**20) -> None:
        self.epochs, self.want_stats, self.bins, self.interval = epochs, stats, bins, interval
        self.stride = max(1, math.ceil(epochs / points))  # epochs between two statistics events
        self.want_checkpoints, self.max_bytes = checkpoints, max_bytes
        self.every = 0  # epochs between checkpoints; 0: none (set by `start`, once the model's size is known)
        self.checkpoints: list[dict] = []
        self._last = -math.inf

    def start(self, trainer) -> None:
        """Plan the checkpoints for this model's size and keep the initial weights."""
        if not self.want_checkpoints:
            return
        size = sum(v.numel() * v.element_size() for v in trainer.model.state_dict().values())
        # the budget holds the initial and final weights as well as the regular ones
        fit = int(self.max_bytes // max(1, size)) - 2
        n = min(self.want_checkpoints, fit)
        if n < 1:
            return  # a model too large for even one copy: no checkpoints (the run itself goes on)
        self.every = max(1, math.ceil(self.epochs / n))
        self.checkpoints.append({"epoch": trainer.epoch, "weights": state_copy(trainer.model)})

    def epoch_end(self, trainer, stretch: float = 1.0) -> dict | None:
        """After `trainer.end_epoch()`: keep a checkpoint if due; the statistics payload if due, else None.
        `stretch` multiplies the least spacing of statistics (a worker holding many jobs sends each fewer)."""
        e = trainer.epoch
        last = e >= self.epochs
        if self.every and (e % self.every == 0 or last):
            self.checkpoints.append({"epoch": e, "weights": state_copy(trainer.model)})
        now = time.perf_counter()
        due = e == 1 or last or (e % self.stride == 0 and now - self._last >= self.interval * stretch)
        if not self.want_stats or not due:
            return None
        self._last = now
        # the last batch's gradients are still there: the next zero_grad comes before the next backward
        return {"epoch": e, "step": trainer.step, "layers": layer_stats(trainer.model, self.bins)}

    def finish(self, trainer) -> None:
        """Keep the final weights if the run stopped between two checkpoints."""
        if self.every and self.checkpoints and self.checkpoints[-1]["epoch"] != trainer.epoch:
            self.checkpoints.append({"epoch": trainer.epoch, "weights": state_copy(trainer.model)})


# ---- activations ---------------------------------------------------------------------------------

@torch.no_grad()
def activation_health(model: nn.Module, x: torch.Tensor, chunk: int = 1024) -> list[dict]:
    """Dead units of every ReLU-family layer and saturated outputs of every Sigmoid/Tanh layer, over `x`.

    The families are the activation registry's (activations.py). ReLU family (ReLU, LeakyReLU, ELU, GELU,
    SiLU): a unit is dead when its input is ≤ 0 for every sample of `x` (a ReLU then outputs 0 and passes no
    gradient); a unit is a feature, or a whole channel of an image. Entry: layer, name, type, kind 'dead',
    units, dead, dead_pct. Saturating (Sigmoid, Tanh): the share of outputs in the flat tails, within 0.01
    of either end of the range (|tanh| > 0.99; sigmoid < 0.01 or > 0.99). Entry: layer, name, type, kind
    'saturation', values, saturated, saturated_pct. Runs in eval mode, in chunks of `chunk` samples. The
    activations inside blocks count too, named by their path ('layer 3.2 (ReLU)'; `layer` is the top-level one).
    """
    # every activation layer, those inside blocks too, watched through a forward hook while the model runs
    watch = [(path, m, a) for path, m in layers_in(model)
             if (a := activation(type(m).__name__)) is not None and a.family in ("relu", "saturating")]
    alive: dict[tuple, torch.Tensor] = {}  # per unit: positive on some sample
    sat: dict[tuple, torch.Tensor] = {}  # saturated outputs counted
    total: dict[tuple, int] = {}

    def seen(path: tuple, kind, h: torch.Tensor) -> None:
        h = h[0] if isinstance(h, tuple) else h
        if kind.family == "relu":
            # (B, C, H, W): a channel is the unit; otherwise every output element is one
            pos = (h > 0).flatten(2).any(2) if h.dim() == 4 else (h > 0).flatten(1)
            pos = pos.any(0)
            alive[path] = pos if path not in alive else alive[path] | pos
        else:
            lo, hi = kind.bounds  # the flat tails: within 0.01 of either end of its range
            s = (h < lo + 0.01) | (h > hi - 0.01)
            sat[path] = s.sum() + sat.get(path, 0)
            total[path] = total.get(path, 0) + h.numel()

    hooks = [m.register_forward_hook(lambda _m, _x, h, path=path, kind=a: seen(path, kind, h)) for path, m, a in watch]
    p = next(model.parameters(), None)
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(x), chunk):
            model(x[start:start + chunk] if p is None else x[start:start + chunk].to(p.device))
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    out = []
    for path, m, _ in watch:
        base = {"layer": path[0], "name": layer_name(path, m), "type": type(m).__name__}
        if path in alive:
            units = alive[path].numel()
            dead = int(units - alive[path].sum().item())
            out.append({**base, "kind": "dead", "units": units, "dead": dead, "dead_pct": 100.0 * dead / units})
        elif path in sat:
            n = int(sat[path].item())
            out.append({**base, "kind": "saturation", "values": total[path], "saturated": n,
                        "saturated_pct": 100.0 * n / max(1, total[path])})
    return out


# ---- gradients -------------------------------------------------------------------------------------

def _loss_fn(loss: str | Callable) -> Callable:
    return loss if callable(loss) else LOSSES.get(loss, "loss").fn


def gradient_norms(model: nn.Module, loss_fn: str | Callable, x: torch.Tensor, y: torch.Tensor) -> list[dict]:
    """Per layer with weights: the norm of the loss's gradient on the batch (x, y), its parameters together.

    `loss_fn` is a loss name ('cross_entropy', ...) or a callable (outputs, targets) → loss; `y` is in
    that loss's form. The model's mode is left as it is and its `.grad` fields are not touched.
    Entries: layer (0-based, of the top-level layer), name ('layer 1 (Linear)', 'layer 3.1 (Conv2d)'), norm.
    """
    pl = param_layers(model)
    if not pl:
        raise PlaygroundError("the model has no layer with weights, so no gradients to measure")
    device = pl[0][2][0].device
    with torch.enable_grad():
        loss = _loss_fn(loss_fn)(model(x.to(device)), y.to(device))
        params = [p for _, _, ps in pl for p in ps]
        grads = torch.autograd.grad(loss, params, allow_unused=True)
    out, k = [], 0
    for i, m, ps in pl:
        g = [grads[k + j] for j in range(len(ps))]
        k += len(ps)
        sq = sum(float((t.double() ** 2).sum()) for t in g if t is not None)
        out.append({"layer": i[0], "name": layer_name(i, m), "norm": math.sqrt(sq)})
    return out


def _span(names: list[str]) -> str:
    """'layer 2 (Linear)' for one; 'layers 1–5' for several named 'layer N (…)', else a list."""
    if len(names) == 1:
        return names[0]
    nums = [re.match(r"layer (\d+)", n) for n in names]
    if all(nums):
        return f"layers {nums[0].group(1)}–{nums[-1].group(1)}"
    return ", ".join(names)


def _times(r: float) -> str:
    """A ratio as a round figure: 1000×, 30×."""
    p = 10 ** math.floor(math.log10(r))
    return f"{round(r / p) * p:,.0f}×"


def gradient_health(norms: list[float], layer_names: list[str], activations: list[dict] | None = None,
                    threshold: float = 100.0) -> list[str]:
    """Plain-language hints from per-layer gradient norms (first layer first) and `activation_health`.

    Vanishing: the first layers get gradients `threshold`× or more smaller than the last one; exploding:
    larger. Also flags layers without any gradient and non-finite gradients, and dead (≥ 50 %) or
    saturated (≥ 50 %) activations. An empty list means nothing stood out.
    """
    if len(norms) != len(layer_names):
        raise PlaygroundError(f"{len(norms)} gradient norms for {len(layer_names)} layer names")
    hints = []
    bad = [n for n, v in zip(layer_names, norms, strict=True) if not math.isfinite(v)]
    if bad:
        hints.append(f"{_span(bad)} get{'s' if len(bad) == 1 else ''} non-finite gradients (NaN or infinity): "
                     "the loss has diverged; lower the learning rate or add gradient clipping (train.grad_clip)")
        return hints
    zero = [n for n, v in zip(layer_names, norms, strict=True) if v == 0]
    if zero:
        hints.append(f"{_span(zero)} get{'s' if len(zero) == 1 else ''} no gradient at all, so "
                     f"{'it does' if len(zero) == 1 else 'they do'} not learn: look for dead ReLUs below, all-zero "
                     "weights (train.init = zeros) or a layer cut off from the loss")
    if len(norms) >= 2 and norms[-1] > 0:
        last, ref = layer_names[-1], norms[-1]
        # the layers from the first on whose gradients are far from the last layer's (nearest the loss)
        k = next((j for j, v in enumerate(norms[:-1]) if not 0 < v * threshold <= ref), len(norms) - 1)
        if k:
            worst = ref / min(norms[:k])
            hints.append(f"{_span(layer_names[:k])} get{'s' if k == 1 else ''} gradients {_times(worst)} smaller "
                         f"than {last}: vanishing gradients; try ReLU, He init (train.init = kaiming) or BatchNorm")
        k = next((j for j, v in enumerate(norms[:-1]) if not v >= ref * threshold), len(norms) - 1)
        if k:
            worst = max(norms[:k]) / ref
            hints.append(f"{_span(layer_names[:k])} get{'s' if k == 1 else ''} gradients {_times(worst)} larger "
                         f"than {last}: exploding gradients; lower the learning rate, add gradient clipping "
                         "(train.grad_clip) or BatchNorm, or use a smaller init (train.init = xavier)")
    for a in activations or []:
        if a["kind"] == "dead" and a["dead_pct"] >= 50 and a["type"] == "ReLU":
            hints.append(f"{a['name']}: {a['dead_pct']:.0f}% of its units never activate on this data (dead "
                         "ReLUs) and pass no gradient; try LeakyReLU, a lower learning rate or "
                         "He init (train.init = kaiming)")
        elif a["kind"] == "dead" and a["dead_pct"] >= 50:
            hints.append(f"{a['name']}: {a['dead_pct']:.0f}% of its units stay on the negative side for all of "
                         "this data, where their slope is small; try a lower learning rate or He init "
                         "(train.init = kaiming)")
        elif a["kind"] == "saturation" and a["saturated_pct"] >= 50:
            hints.append(f"{a['name']}: {a['saturated_pct']:.0f}% of its outputs are saturated (flat ends of "
                         f"{a['type']}), where almost no gradient passes; standardise the inputs, use Xavier init "
                         "(train.init = xavier), a lower learning rate, or ReLU")
    return hints


def diagnose(model: nn.Module, loss_fn: str | Callable, x: torch.Tensor, y: torch.Tensor) -> dict:
    """`gradient_norms`, `activation_health` and the hints from both, for one batch, in one call."""
    g = gradient_norms(model, loss_fn, x, y)
    acts = activation_health(model, x)
    return {"gradients": g, "activations": acts,
            "hints": gradient_health([r["norm"] for r in g], [r["name"] for r in g], acts)}
