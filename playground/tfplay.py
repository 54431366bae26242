"""TensorFlow Playground's controls as a spec: the 2-D page's settings <-> the one session spec.

Pure functions on plain dicts, so every mapping is unit-tested without a browser. `from_spec` reads a
spec that is a 2-D point dataset with a plain MLP (Linear, activation, optional Dropout, ..., Linear);
`to_spec` writes settings back over a base spec, keeping what the page does not show (epochs, seeds).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field, replace
from typing import Any

from .data import CLASSES_PARAM, DATASETS, FEATURES
from .layers import activations as layer_activations
from .losses import LOSSES as LOSS_TYPES  # not LOSSES: that name is the page's losses (see `__getattr__`)
from .losses import for_problem
from .train import OPTIMIZERS as OPTIMIZER_TYPES
from .train import optimizer_name, optimizer_names, optimizer_options

MAX_CLASSES = int(CLASSES_PARAM.max)
FIRST_ACTIVATIONS = ("Tanh", "ReLU", "Sigmoid", "Identity")  # TensorFlow Playground's four, listed first
ACTIVATION_LABELS = {"Identity": "Linear"}  # TensorFlow Playground's name for no activation
PROBLEMS = ("classification", "regression")
PROBLEM_TASKS = {"classification": ("binary", "multiclass"), "regression": ("regression",)}  # their datasets' tasks
REGULARIZATIONS = ("none", "L1", "L2")
LEARNING_RATES = (0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
REG_RATES = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)  # the spec caps weight decay and L1 at 1
DROPOUTS = (0.0, 0.1, 0.2, 0.3, 0.5)
MAX_LAYERS = 6  # hidden layers
MAX_NEURONS = 16  # per hidden layer (TensorFlow Playground: 8)
MAX_BATCH = 30


# ---- what the page offers, read from the registries (adding a 2-D dataset, an activation or an optimizer
# is one registry entry); the constants CLASSIFICATION, REGRESSION, WITH_CLASSES, ACTIVATIONS, OPTIMIZERS
# and LOSSES are these, read at each access (see `__getattr__`) ----------------------------------------

def datasets(problem: str) -> tuple[str, ...]:
    """The 2-D point datasets of a problem ('classification' or 'regression'), in registry order."""
    return tuple(n for n, d in DATASETS.items() if d.modality == "points" and d.task in PROBLEM_TASKS[problem])


def with_classes() -> tuple[str, ...]:
    """The 2-D point datasets with a number of classes to choose (2 to MAX_CLASSES)."""
    return tuple(n for n, d in DATASETS.items()
                 if d.modality == "points" and any(p.name == "classes" for p in d.params))


def activations() -> tuple[str, ...]:
    """The per-neuron activations, TensorFlow Playground's four first."""
    names = layer_activations()
    return tuple(n for n in FIRST_ACTIVATIONS if n in names) + tuple(n for n in names if n not in FIRST_ACTIVATIONS)


def optimizers() -> tuple[str, ...]:
    """Every optimizer and named variant (`train.optimizer_names`)."""
    return tuple(optimizer_names())


def problem_losses() -> dict[str, tuple[str, ...]]:
    """The losses of each problem, its default first."""
    return {p: tuple(for_problem(p == "classification")) for p in PROBLEMS}


_DERIVED = {"CLASSIFICATION": lambda: datasets("classification"), "REGRESSION": lambda: datasets("regression"),
            "WITH_CLASSES": with_classes, "ACTIVATIONS": activations, "OPTIMIZERS": optimizers,
            "LOSSES": problem_losses}


def __getattr__(name: str):
    """The lists above under their constant names (`tfplay.ACTIVATIONS`), always as the registries are now."""
    if name in _DERIVED:
        return _DERIVED[name]()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _problem(dataset: str) -> str:
    return "regression" if dataset in datasets("regression") else "classification"


def _outputs(loss: str, classes: int) -> int:
    """Neurons of the output layer: one per class for a loss on class labels, else one."""
    entry = LOSS_TYPES.entries.get(loss)
    return classes if entry is not None and entry.kind == "labels" else 1


@dataclass(frozen=True)
class Settings:
    """Everything the 2-D page shows; defaults are TensorFlow Playground's first screen."""

    dataset: str = "circle"
    noise: int = 0  # percent, 0 … 50
    train_ratio: int = 50  # percent of the points used for training
    batch_size: int = 10
    seed: int = 0  # of the data; "regenerate" draws another
    n_samples: int = 500
    classes: int = 2  # gauss and spiral only
    features: tuple[str, ...] = ("x1", "x2")
    hidden: tuple[int, ...] = (4, 2)  # neurons per hidden layer
    activations: tuple[str, ...] = ("Tanh", "Tanh")  # one per hidden layer
    dropout: float = 0.0  # after every hidden layer
    lr: float = 0.03
    optimizer: str = "SGD"
    regularization: str = "none"
    reg_rate: float = 0.0
    loss: str = "cross_entropy"
    extra: dict = field(default_factory=dict, compare=False, hash=False)  # optimizer options kept as they were

    @property
    def problem(self) -> str:
        return _problem(self.dataset)

    @property
    def n_classes(self) -> int:
        """Classes of the dataset (0 for regression)."""
        if self.problem == "regression":
            return 0
        return self.classes if self.dataset in with_classes() else 2

    @property
    def outputs(self) -> int:
        """Neurons of the output layer."""
        return _outputs(self.loss, self.n_classes) if self.problem == "classification" else 1


def label(activation: str) -> str:
    """The name shown for an activation (Identity is 'Linear', as in TensorFlow Playground)."""
    return ACTIVATION_LABELS.get(activation, activation)


def is_2d(spec: dict) -> bool:
    """Whether the page can show this spec: a 2-D point dataset and a plain MLP."""
    return from_spec(spec) is not None


def from_spec(spec: Any) -> Settings | None:
    """The page's settings for `spec`, or None when it is not a 2-D point dataset with a plain MLP."""
    try:
        return _read(spec)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return None


def _read(spec: dict) -> Settings | None:
    d, layers, t = spec["data"], spec["model"]["layers"], spec.get("train", {})
    name = d["name"]
    if name not in datasets("classification") + datasets("regression"):
        return None
    features = tuple(d.get("features", ("x1", "x2")))
    if not features or any(f not in FEATURES for f in features) or len(set(features)) != len(features):
        return None
    hidden, acts, drops = _mlp(layers)
    if hidden is None:
        return None
    out = layers[-1].get("out_features")
    classes = int(d.get("classes", 2)) if name in with_classes() else 2
    problem = _problem(name)
    loss = t.get("loss", "cross_entropy")
    if loss not in problem_losses()[problem]:
        return None
    want = _outputs(loss, classes) if problem == "classification" else 1
    if out != want:
        return None
    o = dict(t.get("optimizer", {}))
    kind = o.pop("type", "Adam")
    lr, wd = float(o.pop("lr", 0.01)), float(o.pop("weight_decay", 0.0))
    if kind not in OPTIMIZER_TYPES:
        return None
    kind = optimizer_name(kind, o)
    l1 = float(t.get("l1", 0.0))
    reg, rate = ("L1", l1) if l1 > 0 else ("L2", wd) if wd > 0 else ("none", 0.0)
    return Settings(
        dataset=name, noise=int(round(100 * float(d.get("noise", 0.0)))),
        train_ratio=int(round(100 * (1 - float(d.get("val_fraction", 0.2))))), batch_size=int(t.get("batch_size", 32)),
        seed=int(d.get("seed", 0)), n_samples=int(d.get("n_samples", 500)), classes=classes, features=features,
        hidden=tuple(hidden), activations=tuple(acts), dropout=max(drops, default=0.0), lr=lr, optimizer=kind,
        regularization=reg, reg_rate=rate, loss=loss, extra=o)


def _mlp(layers: list[dict]) -> tuple[list[int] | None, list[str], list[float]]:
    """Hidden sizes, activations and dropout rates of Linear [act] [Dropout] … Linear, or (None, …)."""
    if not layers or layers[-1].get("type") != "Linear":
        return None, [], []
    hidden, acts, drops = [], [], []
    i = 0
    while i < len(layers) - 1:
        layer = layers[i]
        if layer.get("type") != "Linear" or not _plain_linear(layer):
            return None, [], []
        hidden.append(int(layer["out_features"]))
        i += 1
        act = "Identity"
        if i < len(layers) - 1 and layers[i].get("type") in activations():
            act = layers[i]["type"]
            i += 1
        acts.append(act)
        if i < len(layers) - 1 and layers[i].get("type") == "Dropout":
            drops.append(float(layers[i].get("p", 0.5)))
            i += 1
    if not _plain_linear(layers[-1]) or len(hidden) > MAX_LAYERS or any(not 1 <= n <= MAX_NEURONS for n in hidden):
        return None, [], []
    return hidden, acts, drops


def _plain_linear(layer: dict) -> bool:
    return set(layer) <= {"type", "out_features", "in_features", "bias"} and layer.get("bias", True) is True \
        and isinstance(layer.get("out_features"), int)


def layers(s: Settings) -> list[dict]:
    """The model's layers: Linear, activation (and Dropout) per hidden layer, then the output Linear."""
    out = []
    for n, act in zip(s.hidden, s.activations, strict=True):
        out += [{"type": "Linear", "out_features": n}, {"type": act}]
        if s.dropout > 0:
            out.append({"type": "Dropout", "p": s.dropout})
    return out + [{"type": "Linear", "out_features": s.outputs}]


def to_spec(s: Settings, base: dict | None = None) -> dict:
    """A whole spec for these settings; what `base` has beyond the page's controls is kept."""
    spec = copy.deepcopy(base) if base else {"version": 1, "name": "2-D playground"}
    data = {"name": s.dataset, "n_samples": s.n_samples, "noise": s.noise / 100,
            "val_fraction": round(1 - s.train_ratio / 100, 4), "seed": s.seed, "features": list(s.features)}
    if s.dataset in with_classes():
        data["classes"] = s.classes
    kind, options = optimizer_options(s.optimizer, s.extra)
    opt = {"type": kind, "lr": s.lr, "weight_decay": s.reg_rate if s.regularization == "L2" else 0.0, **options}
    train = dict(spec.get("train", {}))
    train.update(loss=s.loss, optimizer=opt, batch_size=s.batch_size,
                 l1=s.reg_rate if s.regularization == "L1" else 0.0)
    train.setdefault("epochs", 1000)
    head = {k: spec.pop(k) for k in ("version", "name", "description") if k in spec}
    return {**head, "data": data, "model": {"layers": layers(s)}, "train": train,
            **{k: v for k, v in spec.items() if k not in ("data", "model", "train")}}


def default_spec() -> dict:
    """TensorFlow Playground's first screen as a spec."""
    return to_spec(Settings(), {"version": 1, "name": "2-D playground",
                                "description": "TensorFlow Playground's classic: a small tanh network on 2-D points.",
                                "train": {"epochs": 1000, "seed": 0, "device": "cpu"}})


def coerce(spec: Any) -> Settings:
    """The closest settings to any spec: its 2-D data and MLP sizes where it has them, else the defaults."""
    s = from_spec(spec)
    if s is not None:
        return s
    s = Settings()
    try:
        d = spec["data"]
        if d.get("name") in datasets("classification") + datasets("regression"):
            s = replace(s, dataset=d["name"], noise=round(100 * float(d.get("noise", 0))),
                        train_ratio=round(100 * (1 - float(d.get("val_fraction", 0.5)))), seed=int(d.get("seed", 0)),
                        n_samples=int(d.get("n_samples", 500)), classes=int(d.get("classes", 2)),
                        features=tuple(d.get("features", ("x1", "x2"))), loss="")
        stack = spec["model"]["layers"]
        sizes = [x["out_features"] for x in stack[:-1] if x.get("type") == "Linear"
                 and isinstance(x.get("out_features"), int)][:MAX_LAYERS]
        acts = [x["type"] for x in stack if x.get("type") in activations()]
        if sizes:
            s = replace(s, hidden=tuple(sizes), activations=((acts or ["Tanh"])[0],) * len(sizes))
    except (KeyError, TypeError, ValueError, AttributeError):
        pass
    return check(s)


# ---- edits: each returns new settings, always valid -------------------------------------------------

def check(s: Settings) -> Settings:
    """Clamp every field into what the page and the spec allow (so no widget value can break a spec)."""
    dataset = s.dataset if s.dataset in datasets("classification") + datasets("regression") else "circle"
    problem = _problem(dataset)
    hidden = tuple(min(MAX_NEURONS, max(1, int(n))) for n in s.hidden)[:MAX_LAYERS]
    acts = tuple(a if a in activations() else "Tanh" for a in s.activations)[: len(hidden)]
    acts += (acts[-1] if acts else "Tanh",) * (len(hidden) - len(acts))
    feats = tuple(f for f in FEATURES if f in s.features) or ("x1",)
    return replace(
        s, dataset=dataset, noise=_clamp(int(s.noise), 0, 100), n_samples=_clamp(int(s.n_samples), 10, 20000),
        seed=_clamp(int(s.seed), 0, 2**31 - 1), train_ratio=_clamp(int(s.train_ratio), 10, 95),
        batch_size=_clamp(int(s.batch_size), 1, 65536), classes=_clamp(int(s.classes), 2, MAX_CLASSES),
        features=feats, hidden=hidden, activations=acts, dropout=float(min(0.9, max(0.0, s.dropout))),
        lr=float(min(10.0, max(1e-6, s.lr))) if math.isfinite(s.lr) else 0.03,
        optimizer=s.optimizer if s.optimizer in optimizers() else "SGD",
        regularization=s.regularization if s.regularization in REGULARIZATIONS else "none",
        reg_rate=float(min(1.0, max(0.0, s.reg_rate))) if math.isfinite(s.reg_rate) else 0.0,
        loss=s.loss if s.loss in problem_losses()[problem] else problem_losses()[problem][0])


def _clamp(v: int, lo: int, hi: int) -> int:
    return max(lo, min(hi, v))


def with_problem(s: Settings, problem: str) -> Settings:
    """Switch classification <-> regression: the first dataset of that kind, and its loss."""
    if problem == s.problem or problem not in PROBLEMS:
        return s
    return check(replace(s, dataset=datasets(problem)[0], loss=problem_losses()[problem][0]))


def add_layer(s: Settings) -> Settings:
    """One more hidden layer (as wide as the last, with its activation), up to MAX_LAYERS."""
    if len(s.hidden) >= MAX_LAYERS:
        return s
    return replace(s, hidden=s.hidden + ((s.hidden[-1] if s.hidden else 2),),
                   activations=s.activations + ((s.activations[-1] if s.activations else "Tanh"),))


def remove_layer(s: Settings) -> Settings:
    """Drop the last hidden layer (zero hidden layers is a linear model)."""
    return replace(s, hidden=s.hidden[:-1], activations=s.activations[:-1]) if s.hidden else s


def resize(s: Settings, layer: int, delta: int) -> Settings:
    """Add (delta > 0) or remove neurons of hidden layer `layer`, keeping 1 … MAX_NEURONS."""
    if not 0 <= layer < len(s.hidden):
        return s
    hidden = list(s.hidden)
    hidden[layer] = min(MAX_NEURONS, max(1, hidden[layer] + delta))
    return replace(s, hidden=tuple(hidden))


def set_activation(s: Settings, activation: str, layer: int | None = None) -> Settings:
    """One layer's activation, or every layer's when `layer` is None."""
    if activation not in activations():
        return s
    acts = list(s.activations)
    for i in range(len(acts)) if layer is None else [layer] if 0 <= layer < len(acts) else []:
        acts[i] = activation
    return replace(s, activations=tuple(acts))


def toggle_feature(s: Settings, feature: str, on: bool) -> Settings:
    """Use a feature as an input or not; at least one input always stays on."""
    if feature not in FEATURES:
        return s
    feats = [f for f in FEATURES if (f in s.features and f != feature) or (f == feature and on)]
    return replace(s, features=tuple(feats)) if feats else s
