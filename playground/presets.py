"""Presets: ready-made specs shipped as JSON files in `playground/presets/`."""

from __future__ import annotations

import functools
import json
from importlib import resources

from .data import DATASETS
from .registry import PlaygroundError, suggest
from .spec import Spec, from_dict


@functools.cache  # shipped files do not change while the process runs; every page run lists them
def _files() -> dict[str, str]:
    root = resources.files("playground") / "presets"
    return {p.name[:-5]: p.read_text() for p in sorted(root.iterdir(), key=lambda p: p.name)
            if p.name.endswith(".json")}


def names() -> list[str]:
    """Every preset's name, sorted."""
    return list(_files())


def get(name: str) -> Spec:
    """The preset's spec; an unknown name raises PlaygroundError with a suggestion."""
    files = _files()
    if name not in files:
        raise PlaygroundError(f"unknown preset '{name}'{suggest(name, list(files))}")
    return from_dict(json.loads(files[name]))


def listing() -> list[tuple[str, str]]:
    """(name, title) of every preset."""
    return [(n, json.loads(t).get("name", n)) for n, t in _files().items()]


def blank(dataset: str) -> dict:
    """A setup with no layers yet on `dataset`: the loss its task starts with, Adam, and the usual sizes (and
    what else its task trains: a GAN's discriminator, with no layers yet either)."""
    from . import tasks
    d = DATASETS.get(dataset, "data.name")
    task = tasks.for_kind(d.task, d.modality, dataset)
    spec = {"version": 1, "name": f"My {dataset} network", "data": {"name": dataset}, "model": {"layers": []},
            "train": {"optimizer": {"type": "Adam", "lr": 0.01}, "batch_size": 32, "epochs": 30}}
    if task.loss_option == "train.loss":
        spec["train"]["loss"] = task.losses[0]
    for key, extra in task.blank.items():
        spec[key] = {**spec.get(key, {}), **extra}
    return spec
