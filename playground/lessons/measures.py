"""What a lesson's experiment measures: numbers read from a run's per-epoch metrics, and probes computed on
the model itself (a gradient ratio, accuracy on fresh data, a kNN score on a code, attention on the
anti-diagonal, ...).

Probes run where the model lives: in a job worker they are the live view `lesson` (registered in
`probe.VIEWS`), computed once before training (`when: start`) and once after the last epoch (`when: end`);
the command line calls the same view on its own Trainer.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
from torch import nn

from ..registry import PlaygroundError, Registry

PROBES: Registry = Registry("probe")


def probe(name: str):
    """Decorator adding `fn(trainer, **options) -> float` to PROBES."""
    def add(fn):
        PROBES.add(name, fn)
        return fn
    return add


def _weighted(model: nn.Module) -> list[nn.Parameter]:
    return [m.weight for m in model.modules()
            if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d)) and m.weight.requires_grad]


@probe("grad_ratio")
def grad_ratio(trainer) -> float:
    """‖∂L/∂W‖ of the first weighted layer over that of the last, on the whole training split."""
    model, weights = trainer.model, _weighted(trainer.model)
    if len(weights) < 2:
        raise PlaygroundError("grad_ratio needs at least two layers with weights")
    was = model.training
    model.eval()  # no dropout noise in the measurement
    for w in weights:
        w.grad = None
    trainer.loss_fn(model(trainer.x_train), trainer.y_train).backward()
    first, last = (w.grad.norm().item() for w in (weights[0], weights[-1]))
    model.zero_grad(set_to_none=True)  # the next training step starts from clean gradients as always
    model.train(was)
    return first / last if last > 0 else math.inf


@probe("eval_accuracy")
def eval_accuracy(trainer, split: str = "train") -> float:
    """Accuracy on the training or validation split with the model in eval mode (dropout off)."""
    if split == "train":
        return trainer.evaluate(trainer.x_train, trainer.y_train, trainer.labels_train)["accuracy"]
    return trainer.evaluate(trainer.x_val, trainer.y_val, trainer.labels_val)["accuracy"]


def _sibling(trainer, **changes):
    """The run's dataset with some options changed (a fresh sample, or the labels of a reconstruction set)."""
    from ..data import load_cached
    return load_cached(trainer.spec.data.model_copy(update=changes))


@probe("fresh_accuracy")
def fresh_accuracy(trainer, n: int = 2000) -> float:
    """Accuracy on `n` fresh samples from the same generator with another seed: what generalisation means."""
    fresh = _sibling(trainer, seed=(trainer.spec.data.seed or 0) + 7919, n_samples=n)
    x = torch.cat([fresh.x_train, fresh.x_val]).to(trainer.device)
    labels = torch.cat([fresh.y_train, fresh.y_val]).to(trainer.device)
    y = trainer.loss_type.target(labels, fresh.info, trainer.out_shape)
    return trainer.evaluate(x, y, labels)["accuracy"]


@probe("step_noise")
def step_noise(trainer) -> float:
    """How much the loss jumps from one batch to the next: std of the differences of the last epoch's batch
    losses (0 with a single batch an epoch)."""
    losses = torch.stack(trainer._losses).cpu().numpy() if trainer._losses else np.zeros(0)
    return float(np.diff(losses).std()) if len(losses) > 2 else 0.0


def _knn(train: np.ndarray, train_y: np.ndarray, test: np.ndarray, test_y: np.ndarray, k: int) -> float:
    d = torch.cdist(torch.from_numpy(test).double(), torch.from_numpy(train).double())
    nearest = train_y[d.topk(k, largest=False).indices.numpy()]  # (n_test, k)
    votes = np.stack([(nearest == c).sum(1) for c in range(int(train_y.max()) + 1)], 1)
    return float((votes.argmax(1) == test_y).mean())


def _labels(trainer) -> tuple[np.ndarray, np.ndarray]:
    info = trainer.data.info
    if info.classification:
        return trainer.data.y_train.numpy(), trainer.data.y_val.numpy()
    from ..data import DATASETS
    if DATASETS.get(info.name).task not in ("binary", "multiclass"):
        raise PlaygroundError(f"knn needs a dataset with class labels; {info.name} has none")
    labelled = _sibling(trainer, target="label")  # same seed, same split: the labels of the same samples
    return labelled.y_train.numpy(), labelled.y_val.numpy()


@probe("knn_code")
@torch.no_grad()
def knn_code(trainer, layer: int = 0, k: int = 5) -> float:
    """kNN accuracy (fitted on training codes, scored on validation codes) of the output of layer `layer`
    (1-based): do samples of one class land near each other though no label was used?"""
    model = trainer.model
    was = model.training
    model.eval()
    head = model[:layer]
    codes = [head(x).flatten(1).cpu().numpy() for x in (trainer.x_train, trainer.x_val)]
    model.train(was)
    y_train, y_val = _labels(trainer)
    return _knn(codes[0], y_train, codes[1], y_val, k)


@probe("knn_pca")
def knn_pca(trainer, k: int = 5, dims: int = 2) -> float:
    """The baseline for knn_code: kNN accuracy on the first `dims` principal components of the raw inputs."""
    xt = trainer.data.x_train.flatten(1).double().numpy()
    xv = trainer.data.x_val.flatten(1).double().numpy()
    mean = xt.mean(0)
    _, _, vt = np.linalg.svd(xt - mean, full_matrices=False)
    y_train, y_val = _labels(trainer)
    return _knn((xt - mean) @ vt[:dims].T, y_train, (xv - mean) @ vt[:dims].T, y_val, k)


@probe("token_accuracy")
@torch.no_grad()
def token_accuracy(trainer) -> float:
    """Share of validation positions whose largest output is the target token (per-position one-hot targets)."""
    out = trainer.predict(trainer.data.x_val)
    return float((out.argmax(-1) == trainer.data.y_val.argmax(-1)).float().mean())


@probe("antidiagonal")
@torch.no_grad()
def antidiagonal(trainer, samples: int = 1000) -> float:
    """Mean attention weight that position i puts on position T−1−i in the first Transformer encoder layer
    (1.0: every position reads its mirror; 1/T: uniform)."""
    from ..probe import _attention
    model = trainer.model
    at = next((i for i, m in enumerate(model) if isinstance(m, nn.TransformerEncoderLayer)), None)
    if at is None:
        raise PlaygroundError("antidiagonal needs a TransformerEncoderLayer")
    was = model.training
    model.eval()
    src = model[:at](trainer.data.x_val[:samples].to(trainer.device))
    weights = _attention(model[at], src).mean((0, 1))  # (T, T), averaged over samples and heads
    model.train(was)
    t = weights.shape[0]
    return float(weights[torch.arange(t), torch.arange(t - 1, -1, -1)].mean())


@probe("backprop_check")
def backprop_check(trainer, samples: int = 16, what: str = "difference", lr: float = 0.1) -> float:
    """One SGD step worked out by hand (playground.backprop) on a batch: `difference` is the largest gap
    between the hand-made gradients and autograd's; `loss_drop` how much that step lowers the batch loss."""
    from .. import backprop
    x, y = trainer.data.x_train[:samples], trainer.y_train[:samples].cpu()
    model = trainer.model.cpu() if trainer.device.type != "cpu" else trainer.model
    step = backprop.backprop_step(model, x, y, loss=trainer.spec.train.loss, lr=lr)
    if what == "difference":
        rows = backprop.autograd_check(model, x, y, step)
        result = max(max(r["weight"], r["bias"] or 0.0) for r in rows)
    else:
        after = copy.deepcopy(model)
        backprop.backprop_step(after, x, y, loss=trainer.spec.train.loss, lr=lr, apply=True)
        result = step["loss"] - backprop.backprop_step(after, x, y, loss=trainer.spec.train.loss)["loss"]
    trainer.model.to(trainer.device)
    return float(result)


# ---- the applications' figures, on the validation split (the functions the Applications page uses) ----------

def _scores(trainer) -> tuple[np.ndarray, np.ndarray]:
    """P(class 1) of every validation sample and its label (a two-class classifier)."""
    from ..applications import positive_probability
    if not trainer.classify or trainer.data.info.n_classes != 2:
        raise PlaygroundError("this measure needs a two-class classifier")
    was = trainer.model.training
    p = positive_probability(trainer.model, trainer.data.x_val)
    trainer.model.train(was)
    return p, trainer.data.y_val.numpy()


@probe("roc_auc")
def roc_auc(trainer) -> float:
    """Area under the ROC curve on the validation split: the chance a random positive outscores a random
    negative, whatever the threshold."""
    from ..applications import roc_auc as auc
    return auc(*_scores(trainer))


@probe("average_precision")
def average_precision(trainer) -> float:
    """Average precision of class 1 on the validation split (a random guess scores the share of positives)."""
    from ..applications import average_precision as ap
    return ap(*_scores(trainer))


@probe("majority_accuracy")
def majority_accuracy(trainer) -> float:
    """Validation accuracy of always answering the commonest training class: the score that needs no model."""
    y_train, y_val = trainer.data.y_train, trainer.data.y_val
    return float((y_val == torch.bincount(y_train.flatten().long()).argmax()).float().mean())


@probe("versus_naive")
def versus_naive(trainer) -> float:
    """Validation MSE over the naive forecast's ("tomorrow = today": a change of 0); below 1 beats it."""
    from ..applications import _versus_naive
    was = trainer.model.training
    out = _versus_naive(trainer.model, trainer.data)["error / naive"]
    trainer.model.train(was)
    return out


def view(trainer, start: dict | None = None, end: dict | None = None, epochs: int = 0) -> dict:
    """The `lesson` live view: probes {id: {"metric", "options"}} before training (`start`, computed on the first
    call, at step 0) and after epoch `epochs` (`end`); kept on the trainer so each is computed once."""
    memo = trainer.__dict__.setdefault("_lesson_probes", {"start": None, "end": None})
    if memo["start"] is None and start is not None:
        memo["start"] = {k: _run(trainer, p) for k, p in start.items()} if trainer.step == 0 else {}
    if memo["end"] is None and end is not None and trainer.epoch >= epochs:
        memo["end"] = {k: _run(trainer, p) for k, p in end.items()}
    return {"start": memo["start"], "end": memo["end"], "epoch": trainer.epoch}


def _run(trainer, p: dict) -> float | dict:
    # A probe that fails gives its message in place of a number (the verdict then does not hold): in a
    # worker this view runs outside the job's own error handling, and must never take the worker down.
    try:
        return PROBES.get(p["metric"])(trainer, **p.get("options", {}))
    except PlaygroundError as e:
        return {"error": e.message}
    except Exception as e:  # noqa: BLE001
        return {"error": f"{p['metric']}: {type(e).__name__}: {e}"}


# ---- numbers from the per-epoch metrics -----------------------------------------------------------

def from_history(metrics: list[dict], metric: str, of: str, below: float | None = None) -> float | None:
    """A number from a run's per-epoch metrics: the last, first, min or max of `of`, the first epoch where it is
    below `below` (epochs_to; one past the last epoch when never), or its noise (std of the epoch-to-epoch
    changes over the second half)."""
    values = [m[of] for m in metrics if of in m]
    if not values:
        return None
    if metric == "last":
        return values[-1]
    if metric == "first":
        return values[0]
    if metric in ("min", "max"):
        return min(values) if metric == "min" else max(values)
    if metric == "epochs_to":
        return next((m["epoch"] for m in metrics if m.get(of, math.inf) < below), len(metrics) + 1)
    if metric == "noise":
        half = values[len(values) // 2:]
        return float(np.diff(half).std()) if len(half) > 2 else 0.0
    raise PlaygroundError(f"unknown metric {metric}")


def compare(left: float, op: str, right: float) -> bool:
    """`left op right`; a missing or non-finite number never satisfies a condition."""
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (left, right)):
        return False
    return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]


from ..probe import VIEWS  # noqa: E402 (probe's registry of live views; probe does not import lessons)

VIEWS.add("lesson", view)
