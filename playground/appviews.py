"""What the applications' views draw, computed here so that the UI does no tensor math: ROC and
precision–recall points, the counts at a threshold, forecasts beside the naive one, a tic-tac-toe net's value
of each move, a driving net's move probabilities along its drive.
"""

from __future__ import annotations

import io
import wave as wavefile
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from .appdata import gridworld, markets, speech, tictactoe
from .applications import outputs, positive_probability, value_scorer
from .attribution import attribute
from .data import Dataset, options

# ---- scores and thresholds (diagnosis, fraud) ---------------------------------------------------

def _by_threshold(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct scores from high to low (each a threshold: score ≥ it is called positive), and the true and
    false positives called at each."""
    order = np.argsort(-scores, kind="stable")
    s, hits = scores[order], labels[order] == 1
    last = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]  # the last index of each distinct score
    tp = np.cumsum(hits)[last]
    return s[last], tp, (last + 1) - tp


def roc_points(scores: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """The ROC curve from (0, 0): false- and true-positive rates at each distinct threshold, high to low."""
    thresholds, tp, fp = _by_threshold(np.asarray(scores, float), np.asarray(labels))
    n_pos, n_neg = max(1, int((labels == 1).sum())), max(1, int((labels != 1).sum()))
    return {"fpr": np.r_[0.0, fp / n_neg], "tpr": np.r_[0.0, tp / n_pos], "threshold": np.r_[np.inf, thresholds]}


def pr_points(scores: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """The precision–recall curve: recall and precision at each distinct threshold, high to low."""
    thresholds, tp, fp = _by_threshold(np.asarray(scores, float), np.asarray(labels))
    n_pos = max(1, int((labels == 1).sum()))
    return {"recall": tp / n_pos, "precision": tp / (tp + fp), "threshold": thresholds}


def at_threshold(scores: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, float]:
    """Counts and rates when every score ≥ `threshold` is called positive."""
    called, pos = np.asarray(scores) >= threshold, np.asarray(labels) == 1
    tp, fp = int((called & pos).sum()), int((called & ~pos).sum())
    fn, tn = int((~called & pos).sum()), int((~called & ~pos).sum())
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn,
            "sensitivity": tp / (tp + fn) if tp + fn else float("nan"),  # = recall
            "specificity": tn / (tn + fp) if tn + fp else float("nan"),
            "precision": tp / (tp + fp) if tp + fp else float("nan")}


def histograms(scores: np.ndarray, labels: np.ndarray, bins: int = 20) -> dict[str, np.ndarray]:
    """Counts of scores in `bins` equal bins over [0, 1], for each class."""
    edges = np.linspace(0, 1, bins + 1)
    pos = np.asarray(labels) == 1
    return {"edges": edges, "negative": np.histogram(scores[~pos], edges)[0],
            "positive": np.histogram(scores[pos], edges)[0]}


def looked_for(ds: Dataset) -> int:
    """The class a two-class detector looks for: a clear minority of the training data (malignant tumours,
    frauds: under 45 %), else class 1 (a lesion in scans that are half healthy, half not)."""
    share = float((ds.y_train == 1).float().mean())
    return 0 if share > 1 - MINORITY else 1


MINORITY = 0.45


def validation_scores(model: nn.Module, ds: Dataset) -> tuple[np.ndarray, np.ndarray, int]:
    """The model's probability of the class looked for on the validation data, the labels as 1 (that class)
    or 0, and that class's index."""
    k = looked_for(ds)
    p = positive_probability(model, ds.x_val)
    return (p if k == 1 else 1 - p), (ds.y_val.numpy() == k).astype(np.int64), k


class LogOdds(nn.Module):
    """A two-class model's log-odds of class `k` (its logit over the other's; for one logit, ± that logit): one
    number to explain, positive toward `k`."""

    def __init__(self, model: nn.Module, k: int):
        super().__init__()
        self.model, self.k = model, k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model(x)
        if out.shape[1] == 2:
            return out[:, self.k:self.k + 1] - out[:, 1 - self.k:2 - self.k]
        return out[:, :1] if self.k == 1 else -out[:, :1]


def feature_attributions(model: nn.Module, ds: Dataset, i: int, steps: int = 64) -> dict:
    """Integrated Gradients for validation case `i` against an average case (the training data's feature means):
    how much each feature moves the net's log-odds of the class looked for, from the average case's to this
    case's (they add up to that change, within `delta`). Also the case's features and both probabilities."""
    k = looked_for(ds)
    head = LogOdds(model, k)
    x, base = ds.x_val[i:i + 1], ds.x_train.mean(0, keepdim=True)
    a = attribute(head, x, "integrated_gradients", baselines=base, steps=steps)
    fx, fb = (float(outputs(head, t)[0, 0]) for t in (x, base))
    names = ds.info.feature_names or [f"feature {j + 1}" for j in range(x.shape[1])]
    return {"names": list(names), "values": a.values[0].cpu().numpy().astype(float), "x": x[0].numpy().astype(float),
            "baseline": base[0].numpy().astype(float), "class": k, "label": int(ds.y_val[i] == k),
            "log_odds": fx, "baseline_log_odds": fb, "probability": 1 / (1 + np.exp(-fx)),
            "baseline_probability": 1 / (1 + np.exp(-fb)), "delta": float(a.delta.abs().max())}


# ---- markets -----------------------------------------------------------------------------------

def forecast(model: nn.Module, kind: str, seq_len: int, days: int = 120, seed: int = 0,
             noise: float = 0.0) -> dict:
    """The model's forecast of each next day's price on a fresh stretch of `kind` series (days it never saw),
    beside the truth and the naive forecast (tomorrow = today); the error of each and their ratio."""
    x, y, extras, _ = markets.price_windows(days, noise, np.random.default_rng(10_000 + seed), kind, seq_len)
    pred = outputs(model, torch.from_numpy(x)).numpy()[:, 0]
    change = y[:, 0]
    today = extras["price"].astype(float)
    net_err, naive_err = float(((pred - change) ** 2).mean()), float((change ** 2).mean())
    return {"kind": kind, "day": np.arange(1, days + 1), "truth": today * np.exp(change / 100),
            "net": today * np.exp(pred / 100), "naive": today, "net_error": net_err, "naive_error": naive_err,
            "ratio": net_err / naive_err if naive_err else float("nan")}


def market_forecast(model: nn.Module, data_spec, days: int = 120) -> dict:
    """`forecast` on the series kind and window length a run's data spec names."""
    o, given = options(data_spec), data_spec.options()
    return forecast(model, o["kind"], o["seq_len"], days, seed=int(given.get("seed", 0)),
                    noise=float(given.get("noise", 0.0)))


# ---- tic-tac-toe -------------------------------------------------------------------------------

def move_values(score: Callable[[np.ndarray], np.ndarray], board: tuple) -> dict[int, float]:
    """For each empty cell: the value the net sees for the player to move if they take it (−1 … 1), i.e.
    minus the value of the position that follows for the opponent."""
    if tictactoe.over(board):
        return {}
    cells = [c for c in range(9) if board[c] == 0]
    after = score(tictactoe.encode([tictactoe.play(board, c) for c in cells]))
    return {c: float(-v) for c, v in zip(cells, after, strict=True)}


def net_move(model: nn.Module, board: tuple) -> int:
    """The cell the value net takes on `board` (the move it values highest)."""
    return tictactoe.best_move(board, value_scorer(model))


def net_move_values(model: nn.Module, board: tuple) -> dict[int, float]:
    """`move_values` with the model's own scorer."""
    return move_values(value_scorer(model), board)


# ---- driving -----------------------------------------------------------------------------------

MOVES = gridworld.MOVES


def move_probabilities(model: nn.Module, walls: np.ndarray, car: tuple[int, int], goal: tuple[int, int]) -> np.ndarray:
    """The net's probability of each move (MOVES order) from `car`."""
    logits = outputs(model, torch.from_numpy(gridworld.encode(walls, car, goal)[None]))
    return logits.softmax(1).numpy()[0]


def drive(model: nn.Module, walls: np.ndarray, car: tuple[int, int], goal: tuple[int, int],
          slack: float = 2.0) -> dict:
    """The car driven by the net's likeliest move, each step with the probabilities it chose from; it stops at
    the goal, or after `slack` × the shortest path (or the map's area when the goal cannot be reached)."""
    walls = np.asarray(walls, bool)
    shortest = int(gridworld.distances(walls, goal)[car])
    budget = int(np.ceil(shortest * slack)) if shortest >= 0 else walls.size
    path, probs = [car], []
    while len(probs) < budget and car != goal:
        p = move_probabilities(model, walls, car, goal)
        car = gridworld.step(walls, car, int(np.argmax(p)))
        path.append(car)
        probs.append(p)
    return {"path": path, "probs": probs, "shortest": shortest, "arrived": car == goal}


# ---- pictures and sounds (speech, scans) -------------------------------------------------------

def class_probabilities(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    """Each class's probability for one input (softmax over the logits)."""
    return outputs(model, x[None]).softmax(1).numpy()[0]


def where_it_looked(model: nn.Module, x: torch.Tensor, target: int) -> np.ndarray:
    """Grad-CAM of the last convolution for class `target` on one input, as an (H, W) map (the engine's
    attribution code, as Explain draws it)."""
    return attribute(model, x[None], "grad_cam", target=target).values[0, 0].numpy()


def wav_bytes(samples: np.ndarray, rate: int = speech.RATE) -> bytes:
    """A waveform in [-1, 1] as a 16-bit mono WAV file, for the browser to play."""
    buf = io.BytesIO()
    with wavefile.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).round().astype("<i2").tobytes())
    return buf.getvalue()


def vowel_sample(ds: Dataset, i: int) -> dict:
    """Validation vowel `i`: its waveform (and its times in ms), its spectrogram, its true class."""
    w = ds.extras_val["wave"][i].numpy()
    return {"wave": w, "ms": np.arange(len(w)) * 1000 / speech.RATE, "rate": speech.RATE,
            "spectrogram": ds.x_val[i, 0].numpy(), "label": int(ds.y_val[i]),
            "top_hz": speech.RATE / 2}
