"""GAN Lab's controls as a spec: the GAN page's settings <-> the one session spec.

Pure functions on plain dicts (tested without a browser), as tfplay.py does for the 2-D page. `from_spec`
reads a GAN spec (task generate) on one of the page's datasets whose generator and discriminator are plain
MLPs with Adam; `to_spec` writes settings back over a base spec, keeping what the page does not show.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, replace
from typing import Any

from .data import DATASETS
from .gan_data import MAX_DRAWN

DATA = {  # the data each choice starts from (its other options: the registry's defaults)
    "ring": {"name": "ring", "n_samples": 5000, "noise": 0.05, "modes": 8, "radius": 2.0},
    "grid": {"name": "grid", "n_samples": 5000, "noise": 0.05, "side": 5},
    "moons": {"name": "moons", "n_samples": 2000, "noise": 0.05},
    "drawn": {"name": "drawn", "n_samples": 2000, "noise": 0.1},
    "digits": {"name": "digits", "n_samples": 1797, "noise": 0.0, "val_fraction": 0.1},
}
LABELS = {"ring": "Ring of 8", "grid": "Grid of 25", "moons": "Two moons", "drawn": "Your drawing",
          "digits": "Digits (8×8)"}
NOISES = (2, 4, 8, 16, 32, 64)
WIDTHS = (8, 16, 32, 64, 128, 256)
MAX_LAYERS = 4
ACTIVATIONS = ("ReLU", "LeakyReLU", "Tanh", "ELU")
LOSSES = ("bce", "wgan-gp")
LEARNING_RATES = (0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01)
BETA1S = (0.0, 0.5, 0.9)
BATCHES = (32, 64, 128, 256, 512)
D_STEPS = (1, 2, 3, 5)


@dataclass(frozen=True)
class Settings:
    """Everything the GAN page shows; the defaults are the gan-ring preset (LESSON-CLAIMS claim 12)."""

    dataset: str = "ring"
    points: tuple[tuple[float, float], ...] = ()  # the drawing (dataset "drawn"); () is the registry's default
    noise: int = 16  # numbers of noise per sample
    g_hidden: tuple[int, ...] = (128, 128)
    d_hidden: tuple[int, ...] = (128, 128)
    g_activation: str = "ReLU"  # every hidden layer of the generator
    d_activation: str = "ReLU"  # every hidden layer of the discriminator
    loss: str = "bce"
    d_steps: int = 1
    g_lr: float = 0.001
    d_lr: float = 0.001
    beta1: float = 0.9  # both Adams
    batch_size: int = 256
    seed: int = 0

    @property
    def images(self) -> bool:
        """Whether the data are images (a grid of samples is shown instead of points)."""
        return DATASETS.get(self.dataset).modality == "image"


def from_spec(spec: Any) -> Settings | None:
    """The page's settings for `spec`, or None when the page cannot show it."""
    try:
        return _read(spec)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return None


def _read(spec: dict) -> Settings | None:
    d, t = spec["data"], spec.get("train", {})
    if d["name"] not in DATA or "discriminator" not in spec:
        return None
    images = DATASETS.get(d["name"]).modality == "image"
    task = t.get("task") or ("generate" if DATASETS.get(d["name"]).task == "generation" else None)
    if task != "generate":
        return None
    g = _hidden(spec["model"]["layers"], head=_g_head(images), lead=())
    dd = _hidden(spec["discriminator"]["layers"], head=({"type": "Linear", "out_features": 1},),
                 lead=({"type": "Flatten"},) if images else ())
    if g is None or dd is None:
        return None
    gan, opt = t.get("gan", {}), t.get("optimizer", {})
    d_opt = t.get("d_optimizer") or opt
    if opt.get("type", "Adam") != "Adam" or d_opt.get("type", "Adam") != "Adam":
        return None
    if float(opt.get("beta1", 0.9)) != float(d_opt.get("beta1", 0.9)):
        return None
    points = tuple(tuple(float(v) for v in p) for p in d.get("points", ())) if d["name"] == "drawn" else ()
    return Settings(dataset=d["name"], points=points, noise=int(gan.get("noise", 16)), g_hidden=g[0],
                    d_hidden=dd[0], g_activation=g[1] or "ReLU", d_activation=dd[1] or "ReLU",
                    loss=gan.get("loss", "bce"),
                    d_steps=int(gan.get("d_steps", 1)), g_lr=float(opt.get("lr", 0.01)),
                    d_lr=float(d_opt.get("lr", 0.01)), beta1=float(opt.get("beta1", 0.9)),
                    batch_size=int(t.get("batch_size", 32)), seed=int(t.get("seed", 0)))


def _g_head(images: bool) -> tuple[dict, ...]:
    if images:
        return ({"type": "Linear", "out_features": 64}, {"type": "Sigmoid"},
                {"type": "Unflatten", "dim": 1, "unflattened_size": [1, 8, 8]})
    return ({"type": "Linear", "out_features": 2},)


def _act(name: str) -> dict:
    return {"type": name, "negative_slope": 0.2} if name == "LeakyReLU" else {"type": name}


def _hidden(layers: list[dict], head: tuple, lead: tuple) -> tuple[tuple[int, ...], str | None] | None:
    """(widths, activation) of lead + (Linear, activation)* + head, or None."""
    n_lead, n_head = len(lead), len(head)
    if len(layers) < n_lead + n_head or list(layers[:n_lead]) != list(lead) or list(layers[-n_head:]) != list(head):
        return None
    body = layers[n_lead: len(layers) - n_head]
    if len(body) % 2 or len(body) // 2 > MAX_LAYERS:
        return None
    widths, acts = [], set()
    for lin, act in zip(body[::2], body[1::2], strict=True):
        if set(lin) != {"type", "out_features"} or lin["type"] != "Linear" or act.get("type") not in ACTIVATIONS \
                or act != _act(act["type"]):
            return None
        widths.append(int(lin["out_features"]))
        acts.add(act["type"])
    if len(acts) > 1:
        return None
    return tuple(widths), (acts.pop() if acts else None)


def layers(widths: tuple[int, ...], activation: str, head: tuple, lead: tuple = ()) -> list[dict]:
    """lead, then a Linear and the activation per hidden layer, then head."""
    out = [copy.deepcopy(x) for x in lead]
    for w in widths:
        out += [{"type": "Linear", "out_features": w}, _act(activation)]
    return out + [copy.deepcopy(x) for x in head]


def to_spec(s: Settings, base: dict | None = None) -> dict:
    """A whole spec for these settings; what `base` has beyond the page's controls (epochs, device, and its
    name, description and data options while the dataset stays) is kept."""
    spec = copy.deepcopy(base) if base else {"version": 1}
    old = from_spec(spec)
    same = old is not None and old.dataset == s.dataset
    data = dict(spec["data"]) if same else dict(DATA[s.dataset], seed=0)
    if s.dataset == "drawn":
        data.pop("points", None)
        if s.points:
            data["points"] = [list(p) for p in s.points]
    train = {k: v for k, v in spec.get("train", {}).items() if k not in ("loss", "scheduler")}  # a GAN uses neither
    gan = dict(train.get("gan") or {}) if same else {}
    gan.update(noise=s.noise, d_steps=s.d_steps, loss=s.loss)
    gan.setdefault("steps_per_epoch", 100)

    def adam(old: dict | None, lr: float) -> dict:  # Adam's other options (weight decay, beta2) stay
        kept = {k: v for k, v in (old or {}).items() if k in ("weight_decay", "beta2")} if same else {}
        return {"type": "Adam", "lr": lr, **kept, "beta1": s.beta1}
    train.update(task="generate", gan=gan, optimizer=adam(train.get("optimizer"), s.g_lr),
                 d_optimizer=adam(train.get("d_optimizer") or train.get("optimizer"), s.d_lr),
                 batch_size=s.batch_size, seed=s.seed)
    train.setdefault("epochs", 30)
    train.setdefault("device", "auto")
    lead = ({"type": "Flatten"},) if s.images else ()
    named = {"name": spec.get("name", ""), "description": spec.get("description", "")} if same else \
        {"name": f"GAN lab: {LABELS[s.dataset].lower()}", "description": ""}
    return {"version": spec.get("version", 1), **named, "data": data,
            "model": {"layers": layers(s.g_hidden, s.g_activation, _g_head(s.images))},
            "discriminator": {"layers": layers(s.d_hidden, s.d_activation, ({"type": "Linear", "out_features": 1},),
                                               lead)},
            "train": train}


def check(s: Settings) -> Settings:
    """Clamp every field into what the page and the spec allow."""
    def pick(v, options, default):
        return v if v in options else default

    def finite(v: float, lo: float, hi: float, default: float) -> float:
        return float(min(hi, max(lo, v))) if isinstance(v, (int, float)) and math.isfinite(v) else default

    widths = lambda ws: tuple(max(1, min(512, int(w))) for w in ws)[:MAX_LAYERS]  # noqa: E731
    pts = tuple((max(-6.0, min(6.0, float(x))), max(-6.0, min(6.0, float(y)))) for x, y in s.points)[:MAX_DRAWN]
    return replace(s, dataset=pick(s.dataset, DATA, "ring"), points=pts, noise=max(1, min(256, int(s.noise))),
                   g_hidden=widths(s.g_hidden), d_hidden=widths(s.d_hidden),
                   g_activation=pick(s.g_activation, ACTIVATIONS, "ReLU"),
                   d_activation=pick(s.d_activation, ACTIVATIONS, "ReLU"), loss=pick(s.loss, LOSSES, "bce"),
                   d_steps=max(1, min(10, int(s.d_steps))), g_lr=finite(s.g_lr, 1e-6, 10, 1e-3),
                   d_lr=finite(s.d_lr, 1e-6, 10, 1e-3), beta1=finite(s.beta1, 0.0, 0.9999, 0.9),
                   batch_size=max(1, min(65536, int(s.batch_size))), seed=max(0, min(2**31 - 1, int(s.seed))))


def default_spec() -> dict:
    """The page's first screen: the gan-ring preset."""
    from .presets import get
    return get("gan-ring").to_dict()


def coerce(spec: Any) -> Settings:
    """The closest settings to any spec (its own if the page can show it, else the defaults)."""
    return from_spec(spec) or Settings()


def with_dataset(s: Settings, name: str) -> Settings:
    """Another dataset; images and points need the other generator head and discriminator lead (to_spec)."""
    return check(replace(s, dataset=name))


def set_widths(s: Settings, network: str, widths: tuple[int, ...]) -> Settings:
    """The hidden layers of "g" or "d" (0 … MAX_LAYERS of them)."""
    return check(replace(s, **{f"{network}_hidden": tuple(widths)}))
