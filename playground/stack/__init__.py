"""A class's runs of one shape trained as one batched (stacked) model: `model.Stack`, `model.key` decides which
runs may share one, `optim` updates their weights, and `policy.Stacking` is how a worker forms and dissolves them."""

from .model import Stack, key

__all__ = ["Stack", "key"]
