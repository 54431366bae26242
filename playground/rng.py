"""A run's own random stream for the layers that draw from torch's global generator while training (Dropout).

Runs that take turns in one process (a worker's runs, a Ray actor's) share that generator: each would draw
masks that depend on what else trains there, so a run would not repeat itself. A run with such layers keeps
the generator's state between its steps and swaps it in for them (`with rng: ...`): a few microseconds a
step, and its masks are those of the run trained alone.
"""

from __future__ import annotations

import torch
from torch import nn

RANDOM_LAYERS = (nn.modules.dropout._DropoutNd, nn.RReLU)  # what draws from the global generator in training


def draws_randomly(model: nn.Module) -> bool:
    """Whether `model` has a layer that draws from torch's global generator while training."""
    return any(isinstance(m, RANDOM_LAYERS) for m in model.modules())


class RunRNG:
    """The global generator's state of one run (the CPU's, and its CUDA device's when it trains on one), taken
    now: `with rng:` runs the block on the run's state and keeps where it got to; the state around it is
    restored, so other code in the process is not disturbed either."""

    def __init__(self, device: torch.device) -> None:
        self.cuda = device if device.type == "cuda" else None
        self.cpu = torch.get_rng_state()
        self.gpu = torch.cuda.get_rng_state(self.cuda) if self.cuda is not None else None
        self._outside: tuple | None = None

    def __enter__(self) -> RunRNG:
        self._outside = (torch.get_rng_state(),
                         torch.cuda.get_rng_state(self.cuda) if self.cuda is not None else None)
        torch.set_rng_state(self.cpu)
        if self.cuda is not None:
            torch.cuda.set_rng_state(self.gpu, self.cuda)
        return self

    def __exit__(self, *exc) -> None:
        self.cpu = torch.get_rng_state()
        cpu, gpu = self._outside
        torch.set_rng_state(cpu)
        if self.cuda is not None:
            self.gpu = torch.cuda.get_rng_state(self.cuda)
            torch.cuda.set_rng_state(gpu, self.cuda)
