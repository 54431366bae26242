"""The applications in miniature: one entry per application, with the figure its preset must reach.

An entry names its field, its preset, what its view shows, and how its figure is measured on the trained
model and the validation data (`measure(model, dataset) -> {figure: value}`); some are measured on more
than one dataset (`variants`: data options that replace the preset's). The Applications page, the
README's table (benchmarks/applications.py) and the tests all read this registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from . import detection, language, recommend, segmentation
from .appdata import gridworld, tictactoe
from .data import Dataset
from .metrics import outputs
from .registry import Registry


@dataclass(frozen=True)
class Application:
    name: str  # the preset's name
    field: str  # "health: diagnosis"
    line: str  # one line for its card
    figure: str  # the headline figure, a key of what `measure` returns
    goal: float  # the figure to reach (at least, or at most where `lower` is set)
    measure: Callable[[nn.Module, Dataset], dict[str, float]]
    lower: bool = False  # smaller is better (an error ratio)
    variants: dict[str, dict] = field(default_factory=lambda: {"": {}})  # label → data options to replace
    at_most: dict[str, float] = field(default_factory=dict)  # other figures with a ceiling ("losses": 0)

    def reached(self, figures: dict[str, float]) -> bool:
        """Whether measured figures meet the goal: the headline figure and every ceiling."""
        value = figures[self.figure]
        head = value <= self.goal if self.lower else value >= self.goal
        return head and all(figures[k] <= v for k, v in self.at_most.items())

    def goal_text(self) -> str:
        """The goal in words: "AUC ≥ 0.97", with any ceilings."""
        parts = [f"{self.figure} {'≤' if self.lower else '≥'} {self.goal:g}"]
        return ", ".join(parts + [f"{k} ≤ {v:g}" for k, v in self.at_most.items()])


APPLICATIONS: Registry[Application] = Registry("application")


# ---- scores on numpy arrays ------------------------------------------------------------------

def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve: the chance a random positive scores above a random negative (ties half)."""
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    first = np.cumsum(counts) - counts  # rank (0-based) of each distinct score's first occurrence
    ranks = (first + (counts + 1) / 2)[inverse]  # tied scores share their average rank
    pos = labels == 1
    n_pos, n_neg = pos.sum(), (~pos).sum()
    if not n_pos or not n_neg:
        return float("nan")
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def average_precision(scores: np.ndarray, labels: np.ndarray) -> float:
    """Average precision: precision summed over the recall each threshold adds (tied scores are one
    threshold), as scikit-learn defines it."""
    order = np.argsort(-scores, kind="stable")
    s, hits = scores[order], labels[order] == 1
    if not hits.any():
        return float("nan")
    last = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]  # the last index of each distinct score
    tp = np.cumsum(hits)[last]
    precision = tp / (last + 1)
    recall_gain = np.diff(np.r_[0, tp]) / hits.sum()
    return float((precision * recall_gain).sum())


# ---- the model's outputs ---------------------------------------------------------------------

def positive_probability(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    """P(class 1) of a two-class model (two logits, or one for BCE)."""
    out = outputs(model, x)
    return (out.softmax(1)[:, 1] if out.shape[1] == 2 else out[:, 0].sigmoid()).numpy()


def _auc(model: nn.Module, ds: Dataset) -> dict[str, float]:
    p = positive_probability(model, ds.x_val)
    y = ds.y_val.numpy()
    return {"AUC": roc_auc(p, y), "accuracy": float(((p >= 0.5) == y).mean())}


def _ap(model: nn.Module, ds: Dataset) -> dict[str, float]:
    p, y = positive_probability(model, ds.x_val), ds.y_val.numpy()
    return {"average precision": average_precision(p, y), "base rate": float(y.mean())}


def _accuracy(model: nn.Module, ds: Dataset) -> dict[str, float]:
    return {"accuracy": float((outputs(model, ds.x_val).argmax(1) == ds.y_val).float().mean())}


def _versus_naive(model: nn.Module, ds: Dataset) -> dict[str, float]:
    """Forecast error over the naive forecast's ("tomorrow = today": a change of 0)."""
    err = float(((outputs(model, ds.x_val) - ds.y_val) ** 2).mean())
    return {"error / naive": err / float((ds.y_val ** 2).mean())}


def value_scorer(model: nn.Module) -> Callable[[np.ndarray], np.ndarray]:
    """Encoded positions → expected value for the player to move (P(win) − P(loss))."""
    def score(enc: np.ndarray) -> np.ndarray:
        p = outputs(model, torch.from_numpy(enc)).softmax(1).numpy()
        return p[:, 2] - p[:, 0]
    return score


def _tictactoe(model: nn.Module, ds: Dataset) -> dict[str, float]:
    boards = tictactoe.positions()
    truth = np.array([tictactoe.value(b) + 1 for b in boards])
    pred = outputs(model, torch.from_numpy(tictactoe.encode(boards))).argmax(1).numpy()
    games = tictactoe.versus_random(value_scorer(model), 1000, seed=0)
    return {"agreement": float((pred == truth).mean()), "losses in 1,000 games": float(games["loss"]),
            "wins in 1,000 games": float(games["win"])}


def policy(model: nn.Module) -> Callable[[np.ndarray], np.ndarray]:
    """Encoded states → move scores."""
    return lambda states: outputs(model, torch.from_numpy(states)).numpy()


def _driving(model: nn.Module, ds: Dataset) -> dict[str, float]:
    states = ds.x_val[:300].numpy()
    rng = np.random.default_rng(0)
    return {"success rate": gridworld.success_rate(policy(model), states),
            "random driver": gridworld.success_rate(lambda s: rng.random((len(s), 4)), states),
            "move accuracy": _accuracy(model, ds)["accuracy"]}


def _add(app: Application) -> None:
    APPLICATIONS.add(app.name, app)


_add(Application("diagnose-tumours", "health: diagnosis", "Malignant or benign, from 30 measurements of a "
                 "tumour; set the threshold between missed cancers and false alarms.", "AUC", 0.97, _auc))
_add(Application("lesions-cnn", "health: imaging", "Find a faint lesion in a scan, and see where the net "
                 "looked.", "AUC", 0.95, _auc))
_add(Application("fraud-mlp", "finance: fraud", "Catch the 1 % of card payments that are frauds, where "
                 "accuracy says nothing.", "average precision", 0.5, _ap))
_add(Application("stocks-lstm", "finance: markets", "Forecast tomorrow's price, honestly compared with "
                 "'tomorrow = today'.", "error / naive", 0.8, _versus_naive, lower=True,
                 variants={"trending series": {"kind": "regimes"}, "random walk": {"kind": "random_walk"}}))
_add(Application("speech-vowels", "speech", "Hear a vowel, see its spectrogram, and let a CNN name it.",
                 "accuracy", 0.9, _accuracy))
_add(Application("tictactoe-value", "games", "A net that knows every tic-tac-toe position's value plays "
                 "you.", "agreement", 0.9, _tictactoe, at_most={"losses in 1,000 games": 0}))
_add(Application("drive-gridworld", "self-driving: decisions", "Steer a car to its goal on maps it has "
                 "never seen.", "success rate", 0.5, _driving))
_add(Application("recommend-mf", "recommendation", "Learn users' hidden tastes from their ratings and recommend "
                 "each the ten items they will like most.", "recall@10", 0.45, recommend.figures,
                 at_most={"RMSE / item-mean": 0.6}))
# measured (benchmarks/applications.py, seeds 0 / 1 / 2): mean IoU 0.792 / 0.812 / 0.819, accuracy 0.929 / 0.941 /
# 0.961, extra boxes per image 0.035 / 0.065 / 0.040; about 24 s of one CPU core each
_add(Application("detect-shapes", "vision: detection", "Find every shape in a picture: a box around each, and what "
                 "it is.", "mean IoU", 0.75, detection.measure, at_most={"extra boxes per image": 0.2}))
_add(Application("translate-transformer", "language: translation", "Type a date in words and get it in ISO form; "
                 "see which words each character of the answer read.", "exact match", 0.85, language.dates_figures))
_add(Application("chat-intents", "language: chatbot", "A chatbot reads a request: what you want, and the time, "
                 "place or party size in it.", "slot F1", 0.9, language.chat_figures))
# measured (python -m playground train, seeds 0 / 1): mean IoU 0.9995 / 0.9986 (the segmentation lesson holds >= 0.99
# on seeds 0-7)
_add(Application("unet-shapes", "vision: segmentation", "Mark every pixel of the shape: a U-Net sees the whole "
                 "picture and still draws sharp edges.", "mean IoU", 0.99, segmentation.figures))
