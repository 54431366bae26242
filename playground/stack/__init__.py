"""A class's runs of one shape trained as one batched (stacked) model: `model.Stack`, `key.key` decides which
runs may share one, `optim` updates their weights, and `policy.Stacking` is how a worker forms and dissolves them."""

from .key import key
from .model import Stack

__all__ = ["Stack", "key"]
