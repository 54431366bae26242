"""Run directories: `spec.json`, `model.safetensors`, `metrics.jsonl`. Loading never unpickles."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import load_file, save_file
from safetensors.numpy import save as to_bytes
from torch import nn

from .build import build
from .data import DataInfo
from .data import info as data_info
from .registry import PlaygroundError
from .spec import Spec, load

SPEC, WEIGHTS, METRICS = "spec.json", "model.safetensors", "metrics.jsonl"


def save(directory: str | Path, spec: Spec, weights: dict | None = None, metrics: list[dict] | None = None) -> Path:
    """Write a run directory; `weights` is a state dict (tensors or numpy arrays)."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    (d / SPEC).write_text(spec.to_json())
    if weights is not None:
        arrays = {k: np.ascontiguousarray(v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else v)
                  for k, v in weights.items()}
        save_file(arrays, str(d / WEIGHTS))
    with open(d / METRICS, "w") as f:
        for m in metrics or []:
            f.write(json.dumps(m) + "\n")
    return d


def weights_bytes(weights: dict) -> bytes:
    """A state dict (tensors or numpy arrays) as safetensors bytes, named as `save` names them in a run."""
    return to_bytes({k: np.ascontiguousarray(v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else np.asarray(v))
                 for k, v in weights.items()})


def load_run(directory: str | Path) -> tuple[Spec, dict[str, torch.Tensor] | None, list[dict]]:
    """Read a run directory: its spec, its weights (None if it has none) and its metrics."""
    d = Path(directory)
    if not (d / SPEC).is_file():
        raise PlaygroundError(f"{d} is not a run directory: it has no {SPEC}")
    spec = load(d / SPEC)
    weights = None
    if (d / WEIGHTS).is_file():
        try:
            weights = {k: torch.from_numpy(v) for k, v in load_file(str(d / WEIGHTS)).items()}
        except Exception as e:  # safetensors raises its own error types for damaged files
            raise PlaygroundError(f"{d / WEIGHTS} cannot be read: {e}") from None
    metrics = []
    if (d / METRICS).is_file():
        metrics = [json.loads(line) for line in (d / METRICS).read_text().splitlines() if line.strip()]
    return spec, weights, metrics


def model_from(spec: Spec, info: DataInfo, weights: dict, where: str = "the weights") -> nn.Module:
    """The spec's model with `weights` ({name: tensor or numpy array}, a whole state dict), on the CPU, in
    eval mode; weights that do not fit the spec (a wrong shape, a missing or unknown name) raise
    PlaygroundError naming `where`."""
    model = build(spec, info)
    state = {k: v if isinstance(v, torch.Tensor) else torch.as_tensor(np.asarray(v)) for k, v in weights.items()}
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as e:  # tensors of the wrong shape (strict=False only forgives missing names)
        raise PlaygroundError(f"{where} do not fit its spec ({str(e).splitlines()[-1].strip()})") from None
    if missing or unexpected:
        raise PlaygroundError(f"{where} do not fit its spec (missing {missing[:3]}, unexpected {unexpected[:3]})")
    return model.eval()


def load_model(directory: str | Path):
    """The run's model with its trained weights (on the CPU), its spec and its dataset info."""
    spec, weights, _ = load_run(directory)
    info = data_info(spec.data)  # shapes only: the dataset itself is not built
    if weights is None:
        return build(spec, info).eval(), spec, info
    return model_from(spec, info, weights, f"the weights in {directory}"), spec, info
