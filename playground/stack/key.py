"""Which runs may train as one stack: `key(trainer)` is what they must share (None: this run trains alone)."""

from __future__ import annotations

import torch
from torch import nn

from ..train import Trainer
from .optim import signature


def _parameter_free_elementwise(m: nn.Module) -> bool:
    from ..layers import activation
    a = activation(type(m).__name__)
    return a is not None and a.elementwise and next(m.parameters(), None) is None


def _per_sample_reshape(m: nn.Module) -> bool:
    """Flatten or Unflatten of each sample as a whole (batch dimension untouched)."""
    if isinstance(m, nn.Flatten):
        return m.start_dim == 1 and m.end_dim == -1
    return isinstance(m, nn.Unflatten) and m.dim == 1


def _fits(trainer) -> bool:
    """Every Linear layer takes feature vectors (one sample through the model: (1, features) at each)."""
    x = trainer.x_train[:1]
    with torch.no_grad():
        for m in trainer.model.children():
            if isinstance(m, nn.Linear) and x.dim() != 2:
                return False
            x = m(x)
    return True


def key(trainer, group: str | None = None) -> tuple | None:
    """What runs must share to train as one stack (model, data shapes, batch size, loss, optimizer and its fixed
    options, device, lock-step group); None when this run cannot be stacked: a layer other than Linear, activations
    that act on each value alone and Flatten/Unflatten of whole samples, a Linear on anything but feature vectors, a
    learning-rate schedule, an optimizer the stack does not implement, or weights that are not float32."""
    if type(trainer) is not Trainer:  # a task's own trainer (a GAN's two networks) trains alone
        return None
    layers = list(trainer.model.children())
    if not layers or trainer.scheduler is not None:
        return None
    if not all(isinstance(m, nn.Linear) or _parameter_free_elementwise(m) or _per_sample_reshape(m)
               for m in layers):
        return None
    if any(p.dtype != torch.float32 for p in trainer.model.parameters()):
        return None
    x, xv = trainer.x_train, trainer.x_val
    if not x.is_floating_point() or len(xv) == 0 or not _fits(trainer):
        return None
    opt = signature(trainer.opt)
    if opt is None:
        return None
    return (tuple(repr(m) for m in layers), tuple(x.shape), tuple(xv.shape), tuple(trainer.y_train.shape),
            trainer.y_train.dtype, trainer.batch_size, trainer.loss_type.name, trainer.classify, opt,
            str(trainer.device), group)
