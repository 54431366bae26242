"""The task registry: what kind of learning a run does, and everything that follows from it.

A task says which losses suit it (the first is its default), the score it keeps beside the loss each epoch,
what a batch holds, its end-of-run report, its default live views, which Inspect and Explain views apply
(and why the others do not), and which trainer runs it. The trainer, the worker, the command line and the
pages ask the run's task; none of them names a task. A spec's task comes from its dataset (`DataInfo.task`,
as before there were tasks), or from `train.task` where the spec names one (a GAN on the moons names
`generate`). trainers.py makes the trainer a task names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from .build import summarize as build_summary
from .data import DataInfo
from .detection import counts as box_counts
from .detection import mean_box_iou
from .detection import report as detection_report
from .gan_build import GAN_LOSSES
from .gan_build import parts as gan_parts
from .gan_build import summarize as gan_summary
from .language import exact_counts, exact_match
from .language import report as translation_report
from .losses import LossType
from .metrics import accuracy, iou_counts, mean_iou
from .recommend import report as recommend_report
from .registry import PlaygroundError, Registry
from .reports import confusion, forecast, gan, masks, reconstruction, regression

# The views of Inspect (its tabs) and of Explain, by the names tasks use to say which apply.
VIEWS = {"layers": "Layers", "weights": "Weights & gradients", "backprop": "Backprop by hand", "mistakes": "Mistakes",
         "over_time": "Over time", "explain": "Explain"}


@dataclass(frozen=True)
class Metric:
    """A score kept beside the loss every epoch, on the training batches and the validation split.

    `keep(out, target, loss)` runs on every batch and must not wait for the device (it returns a tensor:
    the outputs themselves, or a few counts); `score(kept, labels, loss)` turns an epoch's kept tensors
    and the class ids of those samples, in the same order, into one number (a host sync, once an epoch).
    """

    key: str  # train_<key> and val_<key> in the metrics
    title: str
    short: str  # in a status line: "val acc 97.5%"
    keep: Callable[[torch.Tensor, torch.Tensor, LossType], torch.Tensor]
    score: Callable[[list[torch.Tensor], torch.Tensor, LossType], float]
    keeps_outputs: bool = False  # `keep` returns the outputs: memory.py counts an epoch of them


@dataclass(frozen=True)
class Task:
    """One kind of learning (see the module's docstring)."""

    name: str
    description: str
    batch: str  # what one batch holds, in words
    losses: tuple[str, ...]  # the losses that suit it, its default first (a GAN's: train.gan.loss)
    report: Callable  # (trainer) -> dict with a `kind` (reports.py)
    default_for: tuple[str, ...] = ()  # dataset tasks (DataInfo.task) that this task reads unless told otherwise
    modalities: tuple[str, ...] = ()  # with default_for: only for these modalities (empty: any)
    reads: tuple[str, ...] = ()  # further dataset tasks it reads when a spec names it in train.task
    classes: bool = False  # its outputs are class scores (labels, probabilities, a confusion matrix)
    metric: Metric | None = None
    live: tuple[str, ...] = ("curves",)  # default live views: "curves" (loss and metric), "gan" (the GAN lab)
    not_applicable: dict[str, str] = field(default_factory=dict)  # view (VIEWS) -> why it does not apply
    trainer: str = "supervised"  # the trainer that runs it (trainers.TRAINERS)
    parts: Callable | None = None  # (spec, info) -> the networks it trains [(name, spec, info)]; None: the model
    summarize: Callable = build_summary  # (spec, info, check_output) -> build.Summary of every network
    loss_option: str = "train.loss"  # where a spec picks among `losses`
    continuous: bool = False  # needs numbers to work on (a GAN imitates them): a dataset of tokens will not do
    blank: dict = field(default_factory=dict)  # what a setup with no layers yet holds beyond the usual (a GAN's D)

    def why_not(self, view: str) -> str | None:
        """Why `view` (a key of VIEWS, or "inspect" / "explain" for a whole page) does not apply; None if it does."""
        if view == "inspect":
            why = [self.not_applicable.get(v) for v in VIEWS if v != "explain"]
            return why[0] if all(why) else None
        return self.not_applicable.get(view)

    def check_loss(self, name: str) -> None:
        """Refuse a loss that does not suit this task, naming the ones that do (the fix: its default)."""
        if name not in self.losses:
            raise PlaygroundError(f"{self.loss_option}: {name} does not suit the task '{self.name}' "
                                  f"({self.description.lower().rstrip('.')}); use {', '.join(self.losses)}",
                                  path=self.loss_option, fix={"action": "set_path", "path": self.loss_option.split("."),
                                                              "value": self.losses[0]})


# ---- the scores ------------------------------------------------------------------------------------

# the outputs themselves are kept (no kernel a step), read as classes once an epoch
ACCURACY = Metric("accuracy", "accuracy", "acc", lambda out, target, loss: out,
                  lambda kept, labels, loss: accuracy(torch.cat(kept), labels, loss), keeps_outputs=True)
MEAN_IOU = Metric("mean_iou", "mean IoU", "mean IoU", iou_counts,
                  lambda kept, labels, loss: mean_iou(torch.stack(kept).sum(0)))


# ---- the tasks ---------------------------------------------------------------------------------------

TASKS: Registry[Task] = Registry("task")

_PER_SAMPLE = "Attribution explains one output score of one sample"
_GENERATOR = ("a generator turns random noise into samples: it has no input to pick and no answer to check; "
              "watch it on the GAN lab page")


for _t in [
    Task("classify", "Predict a class for each sample.", "inputs (B, *input) and class ids (B,)",
         ("cross_entropy", "bce_with_logits", "mse", "l1", "huber"), confusion,
         default_for=("binary", "multiclass"), classes=True, metric=ACCURACY),
    Task("forecast", "Predict the next value of a sequence from a window of it.",
         "windows (B, T, features) and the value that follows each (B, 1)", ("mse", "l1", "huber"),
         forecast, default_for=("regression",), modalities=("sequence",)),
    Task("regress", "Predict numbers for each sample.", "inputs (B, *input) and target values (B, *target)",
         ("mse", "l1", "huber"), regression, default_for=("regression",)),
    Task("reconstruct", "Rebuild each input from itself (an autoencoder).", "inputs (B, *input), the targets "
         "being the inputs", ("mse", "bce_with_logits", "l1", "huber"), reconstruction,
         default_for=("reconstruction",)),
    Task("segment", "Predict a mask: for every pixel, whether it belongs to the object.",
         "images (B, C, H, W) and 0/1 masks (B, 1, H, W)", ("bce_with_logits", "mse", "l1", "huber"),
         masks, default_for=("segmentation",), metric=MEAN_IOU,
         not_applicable={"mistakes": "Mistakes lists wrong classes or the largest errors of single values; a "
                                     "segmenter's answer is a mask (its report on Train shows them over images)",
                         "explain": f"{_PER_SAMPLE}; a mask has one per pixel"}),
    Task("generate", "Learn to make new samples like the data: a generator against a discriminator (a GAN).",
         "real samples (B, *input) from the data and noise (B, noise) for the generator", tuple(GAN_LOSSES.names()),
         gan, default_for=("generation",),
         reads=("binary", "multiclass", "regression", "reconstruction", "segmentation"), live=("curves", "gan"),
         not_applicable={v: _GENERATOR for v in VIEWS}, trainer="gan", parts=gan_parts, summarize=gan_summary,
         loss_option="train.gan.loss", continuous=True,
         blank={"discriminator": {"layers": []}, "train": {"gan": {"loss": "bce"}}}),
    Task("recommend", "Predict how a user rates an item from their ids (a recommender).", "(user id, item id) "
         "pairs (B, 2) and ratings (B, 1)", ("mse", "l1", "huber"), recommend_report, reads=("regression",),
         not_applicable={"explain": f"{_PER_SAMPLE} among its input features; a rating here comes from two ids, "
                                    "each looked up whole (the item map on the Applications page shows what "
                                    "the net learnt of each item)"}),
    Task("detect", "Find each shape: for every cell of a grid over the image, whether a shape's centre lies in "
         "it, its box and its class.", "images (B, C, H, W) and grid targets (B, 5 + classes, G, G)",
         ("detection",), detection_report, default_for=("detection",),
         metric=Metric("box_iou", "mean box IoU", "box IoU", box_counts,
                       lambda kept, labels, loss: mean_box_iou(torch.stack(kept).sum(0))),
         not_applicable={"mistakes": "Mistakes lists wrong classes or the largest errors of single values; a "
                                     "detector's answer is boxes (its report on Train draws them over images)",
                         "explain": f"{_PER_SAMPLE}; a detector has several for every cell of its grid"}),
    Task("translate", "Turn a sequence of tokens into another, one output token per input position (sequence to "
         "sequence with an encoder: a translation's answer slots, a tag per word).",
         "token ids (B, T) and the target token at each position, one-hot (B, T, tokens)",
         ("bce_with_logits", "mse"), translation_report, reads=("segmentation",),
         metric=Metric("exact_match", "exact match", "exact", exact_counts, exact_match),
         not_applicable={"mistakes": "Mistakes lists wrong classes or the largest errors of single values; a "
                                     "translation is a sequence (its report on Train lists sentences)",
                         "explain": f"{_PER_SAMPLE}; a translation has one per position (the chat application "
                                    "shows each word's share in the intent)"}),
]:
    TASKS.add(_t.name, _t)


def for_kind(data_task: str, modality: str, name: str = "this dataset") -> Task:
    """The task that learns from a dataset of this task and modality (DataInfo.task, .modality) by default."""
    for task in TASKS.entries.values():
        if data_task in task.default_for and (not task.modalities or modality in task.modalities):
            return task
    raise PlaygroundError(f"data: no task learns from {name} ({data_task})", path="data.name")


def for_data(info: DataInfo) -> Task:
    """The task a dataset is learnt with unless a spec says otherwise."""
    return for_kind(info.task, info.modality, info.name)


def of(spec, info: DataInfo) -> Task:
    """The run's task: `train.task` when the spec names one (it must be able to read the dataset), else the
    dataset's (`for_data`)."""
    name = spec.train.task
    if name is None:
        return for_data(info)
    task = TASKS.get(name, "train.task")
    if info.task not in task.default_for + task.reads:
        raise PlaygroundError(f"train.task: {name} cannot learn from {info.name}, whose samples are "
                              f"{info.task}; {for_data(info).name} can (or remove train.task)", path="train.task")
    if task.continuous and info.tokens:
        raise PlaygroundError(f"train.task: {name} needs numbers to imitate, but {info.name} holds tokens",
                              path="train.task")
    return task


def parts(spec, info: DataInfo) -> list[tuple[str, object, DataInfo]]:
    """The networks a run of `spec` trains, each as (name, a spec whose model is that network, the data it
    reads): the model alone, or a GAN's generator (reading noise) and discriminator (reading the data)."""
    task = of(spec, info)
    return task.parts(spec, info) if task.parts is not None else [("model", spec, info)]


def summarize(spec, info: DataInfo, check_output: bool = True):
    """The model's summary (build.Summary) with every other network the run trains in `others`: what a run
    builds, its shapes and its parameters, without building it."""
    return of(spec, info).summarize(spec, info, check_output)


def chart_metric(task: Task) -> dict | None:
    """What a live chart draws beside the loss for this task: {"key", "title", "short"}, or None."""
    m = task.metric
    return {"key": m.key, "title": m.title, "short": m.short} if m is not None else None


def metric_keys() -> tuple[str, ...]:
    """Every per-epoch metric key the tasks report beside the losses (train_… and val_…), for live views."""
    keys = [m for t in TASKS.entries.values() if t.metric for m in (f"train_{t.metric.key}", f"val_{t.metric.key}")]
    return tuple(dict.fromkeys(keys))
