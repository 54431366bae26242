"""How a board orders its submissions: by one metric of their last epoch, in that metric's direction."""

from __future__ import annotations

from typing import Protocol, TypeVar

from ..spec import Spec


class Scored(Protocol):
    """What ranking needs of a submission (board.Submission): its final numbers and when it came."""

    metrics: dict[str, float]
    created: float


S = TypeVar("S", bound=Scored)

LOWER_IS_BETTER = ("loss", "error", "mse", "mae", "perplexity")  # metric names ranked smallest first


def higher_is_better(metric: str) -> bool:
    """Whether a larger value of `metric` ranks first (accuracy) or a smaller one (loss, error)."""
    return not any(word in metric.lower() for word in LOWER_IS_BETTER)


def metric_names(subs: list[S]) -> list[str]:
    """Every metric the submissions report, validation ones first."""
    names = {k for s in subs for k in s.metrics}
    return sorted(names, key=lambda k: (not k.startswith("val_"), "loss" in k, k))


def main_metric(subs: list[S], chosen: str | None = None) -> str:
    """The metric to rank by: `chosen` (the teacher's or the lesson's), else validation accuracy where the
    submissions report it, else validation loss."""
    if chosen:
        return chosen
    names = metric_names(subs)
    for preferred in ("val_accuracy", "val_loss"):
        if preferred in names:
            return preferred
    return names[0] if names else "val_loss"


def setup_metric(spec: object) -> str:
    """The metric a setup's runs are compared by: the validation score its task keeps beside the loss
    (accuracy for a classifier, mean IoU for a segmenter), else the validation loss."""
    from .. import tasks
    from ..data import info
    from ..spec import from_dict
    s = spec if isinstance(spec, Spec) else from_dict(spec)
    metric = tasks.of(s, info(s.data)).metric
    return f"val_{metric.key}" if metric else "val_loss"


def ranked(subs: list[S], metric: str) -> list[tuple[int | None, S]]:
    """(rank, submission), best first by `metric`; equal values share a rank; those without it come last,
    unranked (None)."""
    sign = -1.0 if higher_is_better(metric) else 1.0
    have = sorted((s for s in subs if metric in s.metrics), key=lambda s: (sign * s.metrics[metric], s.created))
    out: list[tuple[int | None, S]] = []
    for i, s in enumerate(have):
        same = out and out[-1][1].metrics[metric] == s.metrics[metric]
        out.append((out[-1][0] if same else i + 1, s))
    return out + [(None, s) for s in subs if metric not in s.metrics]
