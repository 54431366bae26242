"""The trainers tasks name (tasks.Task.trainer), and the one call that makes the right one for a spec.

The worker, the command line and the benchmarks make trainers here; every trainer has the same interface
(train_step, end_epoch, run_epoch, fit, tune, model, opt, epoch, step, ...; a GAN's adds its `commands`).
"""

from __future__ import annotations

from .data import Dataset, load
from .gan import GanTrainer
from .registry import Registry
from .tasks import of as task_of
from .train import Trainer

TRAINERS: Registry = Registry("trainer")
TRAINERS.add("supervised", Trainer)
TRAINERS.add("gan", GanTrainer)


def make_trainer(spec, data: Dataset | None = None, device=None):
    """The trainer of the spec's task, on `data` (default: the spec's dataset, built here)."""
    data = data if data is not None else load(spec.data)
    return TRAINERS.get(task_of(spec, data.info).trainer, "task")(spec, data=data, device=device)
