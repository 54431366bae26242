"""Optimizers over stacked weights: each run is one row of a (runs, weights) tensor with its own learning rate,
weight decay and step count. A row's update is torch.optim's update of that run alone (the same formulas in the
same order, non-amsgrad, not maximising); a row whose mask is off (a paused run) is left exactly as it was.

Every update is a handful of whole-tensor operations however many layers and runs there are: the per-run values
are (runs, 1) columns that broadcast along the row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

# What each optimizer keeps per weight (the names torch.optim uses in `optimizer.state[param]`), and the options
# (param_groups keys) that must be the same for runs to share a stack, with the values this code implements.
STATE = {"SGD": ("momentum_buffer",), "Adam": ("exp_avg", "exp_avg_sq"), "AdamW": ("exp_avg", "exp_avg_sq"),
         "RMSprop": ("square_avg", "momentum_buffer"), "Adagrad": ("sum",)}
SHARED = {"SGD": ("momentum", "nesterov", "dampening"), "Adam": ("betas", "eps"), "AdamW": ("betas", "eps"),
          "RMSprop": ("alpha", "eps", "momentum"), "Adagrad": ("eps", "lr_decay", "initial_accumulator_value")}
REQUIRED = {"maximize": False, "amsgrad": False, "centered": False, "dampening": 0, "lr_decay": 0,
            "initial_accumulator_value": 0, "differentiable": False}


def signature(opt: torch.optim.Optimizer) -> tuple | None:
    """What runs must share to be stacked with this optimizer (its type and fixed options); None when this module
    cannot update it (another type, several parameter groups, an option it does not implement)."""
    kind = type(opt).__name__
    if kind not in STATE or len(opt.param_groups) != 1:
        return None
    g = opt.param_groups[0]
    if any(g.get(k, v) != v for k, v in REQUIRED.items()):
        return None
    return (kind, *((k, g[k]) for k in SHARED[kind]))


@dataclass
class Hyper:
    """The per-run values of one step: (runs, 1) columns on the stack's device, and the host's step counts."""

    lr: torch.Tensor  # learning rate, 0 where masked
    wd: torch.Tensor | None  # weight decay (None when every run has none)
    active: torch.Tensor  # bool: rows that step
    all_active: bool
    steps: np.ndarray  # float64 (runs,): optimizer steps taken, this one included for active rows
    same: float | None = None  # the step count when every row has the same one (then the corrections are numbers)


class StackedOptimizer:
    """One optimizer's state for a stack: a (runs, weights) tensor per state entry of STATE."""

    def __init__(self, kind: str, group: dict, rows: int, width: int, device: torch.device) -> None:
        self.kind, self.group = kind, dict(group)
        self.state = {k: torch.zeros(rows, width, device=device) for k in STATE[kind]}

    # -- one update --
    def step(self, p: torch.Tensor, g: torch.Tensor, h: Hyper) -> None:
        """Update the weights `p` in place from the gradients `g` (both (runs, weights))."""
        if self.kind == "AdamW":
            if h.wd is not None:  # decoupled: param.mul_(1 - lr * weight_decay) first (lr is 0 where masked)
                p.mul_(1 - h.lr * h.wd)
        elif h.wd is not None:  # L2: grad + weight_decay * param
            g = g.addcmul(p, h.wd)
        if not h.all_active:  # a paused row's gradient counts for nothing (even a non-finite one)
            g = torch.where(h.active, g, 0.0)
        getattr(self, f"_{self.kind.lower()}")(p, g, h)

    def _keep(self, factor: float, h: Hyper):
        """`factor`, or a column that is `factor` on active rows and 1 on masked ones (state stays as it was)."""
        return factor if h.all_active else torch.where(h.active, factor, 1.0)

    def _sgd(self, p, g, h: Hyper) -> None:
        mom = self.group["momentum"]
        if mom:
            buf = self.state["momentum_buffer"]
            buf.mul_(self._keep(mom, h)).add_(g)  # torch's first step sets buf = grad: 0 * mom + grad is grad
            g = g.add(buf, alpha=mom) if self.group["nesterov"] else buf
        p.addcmul_(g, -h.lr)

    def _adam(self, p, g, h: Hyper) -> None:
        b1, b2 = self.group["betas"]
        m, v = self.state["exp_avg"], self.state["exp_avg_sq"]
        m.lerp_(g, (1 - b1) if h.all_active else torch.where(h.active, 1 - b1, 0.0))
        v.mul_(self._keep(b2, h)).addcmul_(g, g, value=1 - b2)
        if h.same is not None:  # bias corrections as torch.optim computes them, in double precision
            bc1, bc2_sqrt = 1 - b1 ** h.same, math.sqrt(1 - b2 ** h.same)
            p.addcdiv_(m * -h.lr, v.sqrt().div_(bc2_sqrt).add_(self.group["eps"]), value=1 / bc1)
            return
        steps = np.maximum(h.steps, 1.0)  # a row that never stepped has lr 0 here: any correction will do
        bc1 = 1 - b1 ** steps
        bc2_sqrt = np.sqrt(1 - b2 ** steps)
        denom = v.sqrt().div_(_column(bc2_sqrt, p)).add_(self.group["eps"])
        p.addcdiv_(m * (-h.lr / _column(bc1, p)), denom)

    _adamw = _adam

    def _rmsprop(self, p, g, h: Hyper) -> None:
        alpha = self.group["alpha"]
        sq = self.state["square_avg"]
        sq.mul_(self._keep(alpha, h)).addcmul_(g, g, value=1 - alpha)
        avg = sq.sqrt().add_(self.group["eps"])
        mom = self.group["momentum"]
        if mom:
            buf = self.state["momentum_buffer"]
            buf.mul_(self._keep(mom, h)).addcdiv_(g, avg)
            p.addcmul_(buf, -h.lr)
        else:
            p.addcdiv_(g * -h.lr, avg)

    def _adagrad(self, p, g, h: Hyper) -> None:
        s = self.state["sum"]
        s.addcmul_(g, g, value=1)
        p.addcdiv_(g * -h.lr, s.sqrt().add_(self.group["eps"]))

    # -- rows in and out --
    def take(self, keep: torch.Tensor) -> None:
        """Keep only the rows `keep` (a removed run's state goes)."""
        self.state = {k: v[keep] for k, v in self.state.items()}

    def append(self, rows: dict[str, torch.Tensor]) -> None:
        """Add one row per entry of `rows` ({state name: (weights,)}); a missing entry starts at zero."""
        for k, v in self.state.items():
            row = rows.get(k)
            self.state[k] = torch.cat([v, (row if row is not None else v.new_zeros(v.shape[1])).unsqueeze(0)])


def _column(values: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    """(runs,) float64 → a float32 (runs, 1) column on `like`'s device."""
    return torch.from_numpy(values.astype(np.float32)).to(like.device).unsqueeze(1)
