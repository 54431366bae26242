"""The exported Python script as a template: export.py fills in the model, the data code and the training."""

from string import Template

DROP = "#DROP#"  # an optional template line whose feature the spec does not use; removed from the script

SCRIPT = Template('''\
"""A playground model as a standalone PyTorch script: it needs $needs.

`python model.py` trains it on `load_data()` ($data_note) with the spec's settings;
`--weights RUN_DIR` starts from a playground run's trained weights (needs the safetensors package).
"""

from __future__ import annotations

import argparse
import math
import os
$data_imports

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# Exported from the playground spec $name:
$spec
SEED = $seed
EPOCHS = $epochs
BATCH_SIZE = $batch_size
DATA_SEED = $data_seed
N_SAMPLES = $n_samples
NOISE = $noise
VAL_FRACTION = $val_fraction
DATA_OPTIONS = $data_options
$vocab
$helpers

class Model(nn.Module):
    """The spec's layers in order, as plain PyTorch with every size written out."""

    def __init__(self) -> None:
        super().__init__()
$layers

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: $input
$steps
        return x


def load_playground_weights(model: nn.Module, path: str) -> None:
    """Load a playground run's weights (its directory or its model.safetensors) into `model`."""
    if os.path.isdir(path):
        path = os.path.join(path, "model.safetensors")
    try:
        from safetensors.torch import load_file
    except ImportError:
        raise SystemExit("reading model.safetensors needs safetensors: pip install safetensors") from None
    state = {}
    for key, value in load_file(path).items():
        i, rest = key.split(".", 1)  # playground's model is an nn.Sequential: its "0.weight" is layer1.weight here
        state[f"layer{int(i) + 1}.{rest}"] = value
    model.load_state_dict(state)


$data_helpers
def load_data() -> tuple[np.ndarray, np.ndarray, bool]:
    """All samples as playground makes them: (inputs, targets, whether to standardise the inputs).

    $shapes
    """
$load_data


def split(x: np.ndarray, y: np.ndarray, standardize: bool = False) -> tuple[torch.Tensor, ...]:
    """playground's train/validation split: the same seeded shuffle, the same fraction held out, and inputs
    standardised with the training samples' statistics where playground does."""
    order = np.random.default_rng(DATA_SEED + 1).permutation(len(x))
    n_val = max(1, int(round(len(x) * VAL_FRACTION)))
    train, val = order[n_val:], order[:n_val]
    if standardize:
        mean, std = x[train].mean(0), x[train].std(0) + 1e-8
        x = ((x - mean) / std).astype(np.float32)
    t = torch.from_numpy
    return t(x[train]), t(y[train]), t(x[val]), t(y[val])


def as_targets(y: torch.Tensor) -> torch.Tensor:
    """Targets in the form the loss compares with the model's outputs."""
    return $target


def train(model: nn.Module, x_train, y_train, x_val, y_val, epochs: int = EPOCHS) -> nn.Module:
    """Minibatch training with the spec's loss and optimizer; prints the losses once an epoch."""
    loss_fn = $loss
    opt = $optimizer
    $scheduler
    g = torch.Generator().manual_seed(SEED)  # the batch order playground uses
    batch_size = min(BATCH_SIZE, len(x_train))
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(len(x_train), generator=g)
        total, steps, i = 0.0, 0, 0
        while i < len(x_train):
            end = i + batch_size
            if len(x_train) - end == 1 and batch_size > 1:  # a last batch of one joins this one, as in
                end = len(x_train)  # playground (BatchNorm cannot normalise a single sample)
            idx, i = order[i:end], end
            loss = loss_fn(model(x_train[idx]), y_train[idx])
            total, steps = total + loss.item(), steps + 1
            $l1
            opt.zero_grad()
            loss.backward()
            $clip
            opt.step()
        model.eval()
        with torch.no_grad():
            out = model(x_val)
            val_loss = loss_fn(out, y_val).item()
        $step
        line = f"epoch {epoch}: train_loss {total / steps:.6f}  val_loss {val_loss:.6f}"
        $acc
        print(line)
    return model


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Train the exported playground model.")
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="epochs to train (default: the spec's)")
    parser.add_argument("--weights", help="a playground run directory (or its model.safetensors) to start from")
    args = parser.parse_args()
    torch.manual_seed(SEED)  # the same seed gives the same initial weights as in playground
    model = Model()
    $init
    if args.weights:
        load_playground_weights(model, args.weights)
    x_train, y_train, x_val, y_val = split(*load_data())
    train(model, x_train, as_targets(y_train), x_val, as_targets(y_val), epochs=args.epochs)
''')
