"""The shape of a lesson file (`playground/lessons/course/NAME.json`), checked when the course loads."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PAGES = ("home", "build", "train", "inspect", "explain", "playground", "lessons", "gan")  # url paths of ui.main.PAGES
OPS = ("<", "<=", ">", ">=")
HISTORY = ("last", "first", "min", "max", "epochs_to", "noise")  # read from the per-epoch metrics
PROBES = ("grad_ratio", "eval_accuracy", "fresh_accuracy", "step_noise", "knn_code", "knn_pca",
          "token_accuracy", "antidiagonal", "backprop_check", "roc_auc", "average_precision",
          "majority_accuracy", "versus_naive")  # computed on the model (measures.py)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Measure(_Strict):
    """One number the claim compares: a metric of one variant's run, or the difference of two measures."""

    label: str = Field(max_length=120)
    variant: str | None = None
    metric: Literal[HISTORY + PROBES] | None = None  # type: ignore[valid-type]
    of: str = "train_loss"  # the per-epoch metric a history measure reads
    below: float | None = None  # epochs_to: the first epoch whose `of` is below this
    when: Literal["start", "end"] = "end"  # probes: before training or after it
    options: dict[str, Any] = Field(default_factory=dict)  # a probe's options (split, n, layer, k)
    difference: tuple[str, str] | None = None  # this measure = first − second

    @model_validator(mode="after")
    def _one_kind(self):
        if (self.difference is None) == (self.metric is None):
            raise ValueError("a measure has either a metric (with its variant) or a difference of two measures")
        if self.metric is not None and self.variant is None:
            raise ValueError("a measure with a metric names its variant")
        if self.metric == "epochs_to" and self.below is None:
            raise ValueError("epochs_to needs `below`")
        return self


class Variant(_Strict):
    """A run of the experiment: the base spec with these values set (dotted paths, e.g. `train.optimizer.lr`)."""

    label: str = Field(max_length=80)
    set: dict[str, Any] = Field(default_factory=dict)


class Experiment(_Strict):
    """Specs to train (variants of a base), what to measure, and the conditions that make the claim hold."""

    base: str | dict  # a preset's name or a whole spec
    variants: dict[str, Variant] = Field(min_length=1, max_length=6)
    measures: dict[str, Measure] = Field(min_length=1)
    holds: list[tuple[str, Literal[OPS], str | float]] = Field(min_length=1)  # type: ignore[valid-type]
    seeds: list[int] = Field(default=[0, 1, 2, 3, 4], min_length=1)  # the seeds the claim was measured on

    @model_validator(mode="after")
    def _names(self):
        for name, m in self.measures.items():
            if m.variant is not None and m.variant not in self.variants:
                raise ValueError(f"measure {name}: no variant named {m.variant}")
            for d in m.difference or ():
                if d not in self.measures or self.measures[d].difference is not None:
                    raise ValueError(f"measure {name}: {d} is not a measure of a variant")
        for left, _, right in self.holds:
            for side in (left, right):
                if isinstance(side, str) and side not in self.measures:
                    raise ValueError(f"condition on unknown measure {side}")
        return self


class Lesson(_Strict):
    """A lesson: what to read, where it opens, what to try and notice, and the claim with its experiment."""

    name: str = ""  # the file's name, filled in when the course loads
    order: int
    title: str = Field(max_length=80)
    text: str = Field(max_length=1200)
    page: Literal[PAGES]  # type: ignore[valid-type]
    preset: str | None = None  # what the lesson opens: a preset, else the experiment's `opens` variant
    opens: str | None = None
    try_this: str = Field(alias="try", max_length=600)
    notice: str = Field(max_length=600)
    claim: str = Field(max_length=400)
    experiment: Experiment

    @model_validator(mode="after")
    def _opens(self):
        if self.opens is not None and self.opens not in self.experiment.variants:
            raise ValueError(f"opens: no variant named {self.opens}")
        return self
