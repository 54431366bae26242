"""playground: a visual neural-network playground on PyTorch. This package is the engine (no UI).

Submodules keep their own names (`playground.build`, `playground.train`, ...); nothing here shadows them.
"""

from .build import BuildError, Summary, summarize
from .data import DATASETS, DataInfo, Dataset, load
from .layers import LAYERS
from .losses import LOSSES
from .registry import PlaygroundError
from .spec import Spec, SpecError, decode, encode, from_dict, from_json
from .train import OPTIMIZERS, SCHEDULERS, Trainer, TrainingError, resolve_device

__all__ = [
    "BuildError", "DATASETS", "DataInfo", "Dataset", "LAYERS", "LOSSES", "OPTIMIZERS", "PlaygroundError",
    "SCHEDULERS", "Spec", "SpecError", "Summary", "Trainer", "TrainingError", "decode", "encode",
    "from_dict", "from_json", "load", "resolve_device", "summarize",
]
