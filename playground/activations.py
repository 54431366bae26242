"""What the engine knows of each activation beyond building it: whether it acts on each value alone, its
family for the health checks, and its value and slope in numpy for the step-by-step backprop view.

`layers.py` registers each of these as a layer (category "activation"); everything that lists activations
(the 2-D page, A/B variants, the neuron maps, the health checks, backprop by hand) reads them from the
layer registry through `layers.activations()`, so adding one is one entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from .registry import Param


def sigmoid(z: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-z), without overflow for large |z|."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _erf(z: np.ndarray) -> np.ndarray:
    return torch.erf(torch.from_numpy(z)).numpy()  # numpy has no erf; the value, not a gradient


@dataclass(frozen=True)
class Activation:
    """An activation layer: its name in torch.nn, a tooltip, options, and what the views need to know."""

    name: str
    description: str
    params: tuple[Param, ...] = ()
    elementwise: bool = True  # acts on each value alone (Softmax does not): a per-neuron nonlinearity
    family: str = ""  # "relu": dead units when the input stays ≤ 0; "saturating": flat tails near `bounds`
    bounds: tuple[float, float] | None = None  # the output's range, for a saturating activation
    f: Callable[[np.ndarray, object], np.ndarray] | None = None  # numpy f(z, module)
    df: Callable[[np.ndarray, object], np.ndarray] | None = None  # numpy f'(z, module): the chain rule's factor
    build: Callable | None = None  # the torch module class; default torch.nn.<name>


BUILTIN = (
    Activation("ReLU", "max(0, x): cheap, and gradients do not vanish for positive inputs.", family="relu",
               f=lambda z, m: np.maximum(z, 0.0), df=lambda z, m: (z > 0).astype(z.dtype)),
    Activation("LeakyReLU", "Like ReLU but lets a small slope through for negative inputs (no dead neurons).",
               (Param("negative_slope", "float", 0.01, 0.0, 1.0, help="Slope for negative inputs."),),
               family="relu", f=lambda z, m: np.where(z > 0, z, m.negative_slope * z),
               df=lambda z, m: np.where(z > 0, 1.0, m.negative_slope)),
    Activation("ELU", "Smooth ReLU that goes to -alpha for negative inputs.",
               (Param("alpha", "float", 1.0, 0.0, 10.0, help="Value approached for very negative inputs."),),
               family="relu", f=lambda z, m: np.where(z > 0, z, m.alpha * np.expm1(np.minimum(z, 0.0))),
               df=lambda z, m: np.where(z > 0, 1.0, m.alpha * np.exp(np.minimum(z, 0.0)))),
    Activation("GELU", "Gaussian-weighted ReLU used in Transformers.", family="relu",
               f=lambda z, m: 0.5 * z * (1.0 + _erf(z / np.sqrt(2.0))),
               df=lambda z, m: 0.5 * (1.0 + _erf(z / np.sqrt(2.0))) + z * np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)),
    Activation("SiLU", "x · sigmoid(x) (Swish): smooth and non-monotonic.", family="relu",
               f=lambda z, m: z * sigmoid(z), df=lambda z, m: sigmoid(z) * (1.0 + z * (1.0 - sigmoid(z)))),
    Activation("Sigmoid", "Squashes to (0, 1); saturates, so deep stacks of it make gradients vanish.",
               family="saturating", bounds=(0.0, 1.0),
               f=lambda z, m: sigmoid(z), df=lambda z, m: sigmoid(z) * (1.0 - sigmoid(z))),
    Activation("Tanh", "Squashes to (-1, 1); zero-centred sigmoid.", family="saturating", bounds=(-1.0, 1.0),
               f=lambda z, m: np.tanh(z), df=lambda z, m: 1.0 - np.tanh(z) ** 2),
    Activation("Softplus", "log(1 + eˣ): a smooth ReLU.",
               f=lambda z, m: np.logaddexp(0.0, z), df=lambda z, m: sigmoid(z)),
    Activation("Softmax", "Turns a vector into probabilities that sum to 1 (losses here already include it).",
               (Param("dim", "int", -1, -8, 8, help="Dimension that sums to 1."),), elementwise=False),
    Activation("Identity", "Passes its input through unchanged (a 'linear' activation).",
               f=lambda z, m: z, df=lambda z, m: np.ones_like(z)),
)
