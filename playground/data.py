"""The dataset registry: every dataset is `(n, noise, rng, **options) -> Samples`; the caller splits.

All data is generated or shipped inside a package (scikit-learn's small sets): nothing is downloaded.
"""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from .appdata.boxes import shape_boxes
from .appdata.fraud import transactions
from .appdata.gridworld import driving_states
from .appdata.language import chat_requests, written_dates
from .appdata.markets import KINDS as MARKET_KINDS
from .appdata.markets import price_windows
from .appdata.ratings import ratings
from .appdata.scans import lesion_scans
from .appdata.speech import vowel_spectrograms
from .appdata.tictactoe import positions_with_values
from .caps import caps as memory_caps
from .caps import fmt as fmt_bytes
from .gan_data import MAX_DRAWN, heart
from .registry import Param, PlaygroundError, Registry, check_options
from .tabular import PARAMS as CSV_PARAMS
from .tabular import parse_csv
from .uploads import Access, user_file
from .uploads import current as current_access

FEATURES = {  # TensorFlow Playground's feature inputs, computed from the raw (x1, x2) point
    "x1": lambda p: p[:, 0],
    "x2": lambda p: p[:, 1],
    "x1^2": lambda p: p[:, 0] ** 2,
    "x2^2": lambda p: p[:, 1] ** 2,
    "x1*x2": lambda p: p[:, 0] * p[:, 1],
    "sin(x1)": lambda p: np.sin(p[:, 0]),
    "sin(x2)": lambda p: np.sin(p[:, 1]),
}
POINT_RANGE = 6.0  # 2-D sets live in [-6, 6]², as in TensorFlow Playground


@dataclass
class Samples:
    """What a generator returns: inputs, targets and per-sample extras (masks, boxes, raw points)."""

    x: np.ndarray
    y: np.ndarray
    extras: dict[str, np.ndarray] = field(default_factory=dict)
    info: dict = field(default_factory=dict)  # class_names, vocab, feature_names, ...


@dataclass
class DataInfo:
    """What the builder, trainer and UI need to know about a dataset."""

    name: str
    task: str  # binary | multiclass | regression | reconstruction | segmentation | generation
    modality: str  # points | tabular | image | sequence | text
    input_shape: tuple[int, ...]
    target_shape: tuple[int, ...]
    tokens: bool = False
    n_classes: int = 0
    class_names: list[str] = field(default_factory=list)
    feature_names: list[str] = field(default_factory=list)
    vocab: list[str] = field(default_factory=list)
    description: str = ""
    modes: list[list[float]] = field(default_factory=list)  # centres of a mixture the data is drawn from (GANs)
    mode_std: float = 0.0  # the spread of each mode
    # Named groups of input columns, for models that read each with its own tower (a recommender's user and
    # item): name -> (start, stop), a slice of the feature axis (the last; an image's channels). A generator
    # declares them as Samples.info["fields"]; the Select layer reads one by name.
    fields: dict[str, tuple[int, int]] = field(default_factory=dict)
    field_ids: dict[str, int] = field(default_factory=dict)  # a field of integer ids -> how many ids (Embedding's size)

    @property
    def classification(self) -> bool:
        return self.task in ("binary", "multiclass")


@dataclass
class Dataset:
    """Train and validation tensors (CPU), with extras split alongside and the info."""

    info: DataInfo
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    extras_train: dict[str, torch.Tensor] = field(default_factory=dict)
    extras_val: dict[str, torch.Tensor] = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetType:
    name: str
    task: str  # as DataInfo.task, or "auto" where the data decides (a CSV)
    modality: str
    description: str
    make: Callable[..., Samples]
    params: tuple[Param, ...]
    targets: tuple[str, ...] = ("label",)
    # Reads a file the user gives (an upload in the app, a path on the command line; see uploads.py):
    # `make(raw, label, **options)` instead of a generator, and nothing to pick without a file.
    user_file: bool = False


DATASETS: Registry[DatasetType] = Registry("dataset")

COMMON = (
    Param("val_fraction", "float", 0.2, 0.05, 0.9, help="Share of samples held out for validation."),
    Param("seed", "int", 0, 0, 2**31 - 1, help="Seed of the generator and of the split."),
)


def register(name: str, task: str, modality: str, description: str, *params: Param,
             n_samples: int = 500, noise: float = 0.0, max_samples: int = 20000,
             targets: tuple[str, ...] = ("label",)):
    """Decorator adding a generator `(n, noise, rng, **options) -> Samples` to DATASETS."""
    base = (Param("n_samples", "int", n_samples, 10, max_samples, help="Number of samples."),
            Param("noise", "float", noise, 0.0, 1.0, help="Amount of noise."))
    extra = (Param("target", "choice", targets[0], choices=targets,
                   help="What the model predicts."),) if len(targets) > 1 else ()

    def wrap(make):
        DATASETS.add(name, DatasetType(name, task, modality, description, make,
                                       base + COMMON + tuple(params) + extra, targets))
        return make
    return wrap


# ---- 2-D point sets (TensorFlow Playground's generators) -------------------------------------

FEATURE_PARAM = Param("features", "strs", ["x1", "x2"], choices=tuple(FEATURES),
                      help="Inputs computed from each point.")
CLASSES_PARAM = Param("classes", "int", 2, 2, 6, help="Number of classes.")


def _circle(n, noise, rng):
    r = np.concatenate([rng.uniform(0, 2.5, n // 2), rng.uniform(3.5, 5, n - n // 2)])
    a = rng.uniform(0, 2 * math.pi, n)
    p = np.stack([r * np.sin(a), r * np.cos(a)], 1) + rng.uniform(-5, 5, (n, 2)) * noise
    y = (np.hypot(p[:, 0], p[:, 1]) > 2.5).astype(np.int64)  # label by where the noisy point landed
    return p, y


def _xor(n, noise, rng):
    p = rng.uniform(-5, 5, (n, 2))
    p += np.where(p > 0, 0.3, -0.3)  # keep points off the axes
    p = p + rng.uniform(-5, 5, (n, 2)) * noise
    return p, (p[:, 0] * p[:, 1] >= 0).astype(np.int64)


def _gauss(n, noise, rng, classes):
    angles = 2 * math.pi * np.arange(classes) / classes + math.pi / 4
    centres = 2.0 * np.sqrt(2) * np.stack([np.cos(angles), np.sin(angles)], 1)
    y = np.arange(n) % classes
    scale = 0.5 + 7 * noise  # variance 0.5 … 4 over noise 0 … 0.5, as in TensorFlow Playground
    return centres[y] + rng.normal(0, math.sqrt(scale), (n, 2)), y.astype(np.int64)


def _spiral(n, noise, rng, classes):
    y = np.arange(n) % classes
    i = np.arange(n) // classes
    t = i / (n / classes)
    r = 5 * t
    a = 1.75 * t * 2 * math.pi + 2 * math.pi * y / classes
    p = np.stack([r * np.sin(a), r * np.cos(a)], 1) + rng.uniform(-1, 1, (n, 2)) * noise
    return p, y.astype(np.int64)


def _moons(n, noise, rng):
    y = np.arange(n) % 2
    a = rng.uniform(0, math.pi, n)
    p = np.where(y[:, None] == 0,
                 np.stack([np.cos(a), np.sin(a)], 1),
                 np.stack([1 - np.cos(a), 0.5 - np.sin(a)], 1))
    p = (p - [0.5, 0.25]) * 2.6 + rng.normal(0, 1, (n, 2)) * noise * 2
    return p, y.astype(np.int64)


def _plane(n, noise, rng):
    p = rng.uniform(-POINT_RANGE, POINT_RANGE, (n, 2))
    return p, (p.sum(1) / (2 * POINT_RANGE) + rng.uniform(-1, 1, n) * noise).astype(np.float32)


def _multigauss(n, noise, rng):
    p = rng.uniform(-POINT_RANGE, POINT_RANGE, (n, 2))
    centres = np.array([[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]])
    d = ((p[:, None, :] - centres[None, :, :2]) ** 2).sum(-1)  # (n, 6)
    y = (centres[:, 2] * np.exp(-d / 2)).sum(1)
    return p, (y + rng.uniform(-1, 1, n) * noise).astype(np.float32)


def _points(generator, classify: bool, with_classes: bool = False):
    def make(n, noise, rng, features, classes=2):
        p, y = generator(n, noise, rng, classes) if with_classes else generator(n, noise, rng)
        x = np.stack([FEATURES[f](p) for f in features], 1).astype(np.float32)
        names = (["blue", "orange"] if classes == 2 else [f"class {k}" for k in range(classes)]) if classify else []
        return Samples(x, y if classify else y.reshape(-1, 1),
                       extras={"points": p.astype(np.float32)},
                       info={"feature_names": list(features), "class_names": names, "n_classes": classes})
    return make


register("circle", "binary", "points", "Blue inside a ring of orange.", FEATURE_PARAM)(_points(_circle, True))
register("xor", "binary", "points", "Opposite quadrants share a class: not linearly separable.",
         FEATURE_PARAM)(_points(_xor, True))
register("gauss", "binary", "points", "Gaussian blobs, one per class.", FEATURE_PARAM,
         CLASSES_PARAM)(_points(_gauss, True, True))
register("spiral", "binary", "points", "Interleaved spirals: hard for a shallow net.", FEATURE_PARAM,
         CLASSES_PARAM)(_points(_spiral, True, True))
register("moons", "binary", "points", "Two interleaving half-moons.", FEATURE_PARAM)(_points(_moons, True))
register("plane", "regression", "points", "A tilted plane: the target is linear in x1 and x2.",
         FEATURE_PARAM)(_points(_plane, False))
register("multigauss", "regression", "points", "A landscape of six Gaussian bumps and dips.",
         FEATURE_PARAM)(_points(_multigauss, False))


# ---- scikit-learn's bundled sets -------------------------------------------------------------

def _sklearn(loader: str):
    def make(n, noise, rng, **_):
        import sklearn.datasets as skd
        d = getattr(skd, loader)()
        x = d.data.astype(np.float32)
        x = x + rng.normal(0, 1, x.shape).astype(np.float32) * noise * x.std(0)
        names = [str(c) for c in d.target_names]
        return Samples(x, d.target.astype(np.int64),
                       info={"class_names": names, "n_classes": len(names),
                             "feature_names": [str(f) for f in d.feature_names], "standardize": True})
    return make


register("iris", "multiclass", "tabular", "150 iris flowers, 4 measurements, 3 species.",
         n_samples=150, max_samples=150)(_sklearn("load_iris"))
register("wine", "multiclass", "tabular", "178 wines, 13 chemical measurements, 3 cultivars.",
         n_samples=178, max_samples=178)(_sklearn("load_wine"))
register("breast_cancer", "binary", "tabular", "569 tumours, 30 measurements, malignant or benign.",
         n_samples=569, max_samples=569)(_sklearn("load_breast_cancer"))


@register("digits", "multiclass", "image", "1,797 hand-written digits as 8×8 grey images.",
          Param("shifted", "bool", False, help="Paste each digit at a random place on a 16×16 canvas."),
          n_samples=1797, max_samples=1797, targets=("label", "input"))
def _digits(n, noise, rng, shifted=False):
    import sklearn.datasets as skd
    d = skd.load_digits()
    x = (d.images / 16.0).astype(np.float32)[:, None]  # (n, 1, 8, 8) in [0, 1]
    if shifted:  # where the digit lies no longer tells anything: what convolution and pooling are for
        canvas = np.zeros((len(x), 1, 16, 16), np.float32)
        for i, (r, c) in enumerate(rng.integers(0, 9, (len(x), 2))):
            canvas[i, 0, r:r + 8, c:c + 8] = x[i, 0]
        x = canvas
    x = np.clip(x + rng.normal(0, 1, x.shape) * noise, 0, 1).astype(np.float32)
    return Samples(x, d.target.astype(np.int64),
                   info={"class_names": [str(k) for k in range(10)], "n_classes": 10})


# ---- synthetic images, sequences, text -------------------------------------------------------

SHAPES = ["circle", "square", "triangle"]


@register("shapes", "multiclass", "image",
          "Small images of a circle, square or triangle, with masks and boxes (classify, segment, detect).",
          Param("size", "int", 16, 8, 64, help="Image side in pixels."),
          n_samples=1200, noise=0.1, max_samples=20000, targets=("label", "mask", "box", "input"))
def _shapes(n, noise, rng, size):
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    x = np.zeros((n, 1, size, size), np.float32)
    masks = np.zeros((n, 1, size, size), np.float32)
    boxes = np.zeros((n, 4), np.float32)
    y = np.arange(n) % len(SHAPES)
    for i in range(n):
        r = rng.uniform(0.18, 0.32) * size
        cx, cy = rng.uniform(r + 0.5, size - r - 0.5, 2)
        if y[i] == 0:
            m = (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
        elif y[i] == 1:
            m = (abs(xx - cx) <= r * 0.85) & (abs(yy - cy) <= r * 0.85)
        else:  # upward triangle inside the circle of radius r
            top, base = cy - r, cy + r * 0.7
            half = (yy - top) / (base - top) * r
            m = (yy >= top) & (yy <= base) & (abs(xx - cx) <= half)
        masks[i, 0] = m
        rows, cols = np.nonzero(m)
        boxes[i] = [cols.min() / size, rows.min() / size, (cols.max() + 1) / size, (rows.max() + 1) / size]
        x[i, 0] = m * rng.uniform(0.6, 1.0)
    x = np.clip(x + rng.normal(0, 1, x.shape) * noise, 0, 1).astype(np.float32)
    return Samples(x, y.astype(np.int64), extras={"mask": masks, "box": boxes},
                   info={"class_names": SHAPES, "n_classes": len(SHAPES)})


@register("sine", "regression", "sequence", "A noisy sum of two sine waves: predict the next value from a window.",
          Param("seq_len", "int", 24, 4, 200, help="Steps the model sees."),
          n_samples=1000, noise=0.05, max_samples=20000)
def _sine(n, noise, rng, seq_len):
    t = np.arange(n + seq_len) * 0.2
    s = np.sin(t) + 0.5 * np.sin(2.7 * t + 1.0) + rng.normal(0, 1, t.shape) * noise
    idx = np.arange(n)[:, None] + np.arange(seq_len)[None, :]  # (n, T)
    x = s[idx][..., None].astype(np.float32)  # (n, T, 1)
    return Samples(x, s[np.arange(n) + seq_len][:, None].astype(np.float32),
                   info={"feature_names": ["value"]})


@register("adding", "regression", "sequence",
          "The adding problem: two of T random values are marked; predict their sum (a test of memory).",
          Param("seq_len", "int", 50, 4, 200, help="Steps T the model reads."),
          n_samples=8000, max_samples=20000)
def _adding(n, noise, rng, seq_len):
    values = rng.uniform(0, 1, (n, seq_len))
    half = seq_len // 2
    first, second = rng.integers(0, half, n), rng.integers(half, seq_len, n)  # one mark in each half
    marks = np.zeros((n, seq_len))
    marks[np.arange(n), first] = marks[np.arange(n), second] = 1
    y = (values * marks).sum(1, keepdims=True) + rng.normal(0, 1, (n, 1)) * noise
    return Samples(np.stack([values, marks], -1).astype(np.float32), y.astype(np.float32),
                   info={"feature_names": ["value", "marker"]})


@register("reverse", "segmentation", "text",
          "Sequences of random tokens; the target at each position is the token at the mirrored position "
          "(one-hot), so the model must learn to read the sequence backwards.",
          Param("seq_len", "int", 8, 2, 64, help="Tokens per sequence."),
          Param("vocab", "int", 10, 2, 100, help="Different tokens."),
          n_samples=16000, max_samples=20000)
def _reverse(n, noise, rng, seq_len, vocab):
    x = rng.integers(0, vocab, (n, seq_len))
    target = np.where(rng.random((n, seq_len)) < noise, rng.integers(0, vocab, (n, seq_len)), x[:, ::-1])
    # per-position labels as 0/1 targets (like a mask): the loss then needs no sequence-aware variant
    y = np.eye(vocab, dtype=np.float32)[target]  # (n, seq_len, vocab); noise: that share of targets random
    return Samples(x.astype(np.int64), y, info={"vocab": [str(t) for t in range(vocab)]})


POSITIVE = ["good", "great", "excellent", "wonderful", "love", "fun", "brilliant", "enjoyable", "superb", "nice"]
NEGATIVE = ["bad", "awful", "terrible", "boring", "hate", "dull", "poor", "worst", "weak", "annoying"]
FILLER = ["the", "movie", "film", "was", "plot", "acting", "and", "story", "really", "it", "a", "very",
          "music", "ending", "cast", "quite", "this", "i", "thought", "scenes"]
NEGATORS = ["not", "never"]


@register("sentiment", "binary", "text",
          "Synthetic movie reviews: positive or negative words, sometimes negated ('not good').",
          Param("seq_len", "int", 16, 10, 64, help="Tokens per review (left-padded)."),
          Param("negation", "float", 0.3, 0.0, 1.0, help="Chance a sentiment word is negated."),
          n_samples=2000, noise=0.0, max_samples=20000)
def _sentiment(n, noise, rng, seq_len, negation):
    vocab = ["<pad>", "<unk>"] + POSITIVE + NEGATIVE + FILLER + NEGATORS
    ids = {w: i for i, w in enumerate(vocab)}
    x = np.zeros((n, seq_len), np.int64)
    y = np.zeros(n, np.int64)
    for i in range(n):
        words = [str(w) for w in rng.choice(FILLER, rng.integers(2, seq_len - 5))]
        polarity = rng.integers(0, 2, 1 if rng.random() < 0.6 else 3) * 2 - 1  # an odd count: no ties
        for p in polarity:
            negated = rng.random() < negation  # "not bad" is positive
            word = str(rng.choice(POSITIVE if (p > 0) != negated else NEGATIVE))
            phrase = f"{rng.choice(NEGATORS)} {word}" if negated else word
            words.insert(int(rng.integers(0, len(words) + 1)), phrase)
        tokens = " ".join(words).split()
        label = int(polarity.sum() > 0)
        y[i] = 1 - label if rng.random() < noise else label
        x[i, seq_len - len(tokens):] = [ids.get(w, 1) for w in tokens]
    return Samples(x, y, info={"class_names": ["negative", "positive"], "n_classes": 2, "vocab": vocab})


# ---- the applications' data (appdata/) -----------------------------------------------------

def _made(make):
    """Wrap an appdata generator's (x, y, extras, info) into Samples."""
    def wrap(n, noise, rng, **opts):
        return Samples(*make(n, noise, rng, **opts))
    return wrap


register("fraud", "binary", "tabular", "Card transactions, about 1 % of them frauds that look partly like the "
         "rest (noise blurs them further).",
         Param("fraud_rate", "float", 0.01, 0.001, 0.5, help="Share of transactions that are frauds."),
         n_samples=10000, noise=0.6, max_samples=50000)(_made(transactions))
register("markets", "regression", "sequence", "Daily prices: a window of the last days, forecast tomorrow's "
         "change (a random walk cannot be forecast; the regimes series has trends).",
         Param("kind", "choice", "regimes", choices=MARKET_KINDS, help="Random walk, or trends that persist."),
         Param("seq_len", "int", 30, 5, 120, help="Days the model sees."),
         n_samples=3000, noise=0.0, max_samples=20000)(_made(price_windows))
register("scans", "binary", "image", "Synthetic scans of textured tissue, half with a faint round lesion "
         "(masks kept).", Param("size", "int", 32, 16, 64, help="Image side in pixels."),
         Param("contrast", "float", 0.4, 0.05, 1.0, help="How much brighter a lesion is."),
         n_samples=1200, noise=0.05, max_samples=10000)(_made(lesion_scans))
register("vowels", "multiclass", "image", "Spoken vowels a, e, i, o, u synthesised over many pitches and "
         "voices, as spectrograms (waveforms kept for playback).",
         Param("pitch_low", "float", 80.0, 60.0, 400.0, help="Lowest voice pitch (Hz)."),
         Param("pitch_high", "float", 300.0, 60.0, 400.0, help="Highest voice pitch (Hz)."),
         n_samples=1000, noise=0.3, max_samples=5000)(_made(vowel_spectrograms))
register("tictactoe", "multiclass", "image", "Every legal tic-tac-toe position (5,478) as the mover's and the "
         "opponent's marks, labelled with its exact minimax value.",
         n_samples=5478, max_samples=5478)(_made(positions_with_values))
register("gridworld", "multiclass", "image", "Grid maps with walls, a car and a goal; the label is the "
         "expert's next move on a shortest path (each sample its own map).",
         Param("size", "int", 8, 5, 16, help="Map side in cells."),
         Param("density", "float", 0.2, 0.0, 0.4, help="Share of cells that are walls."),
         n_samples=4000, max_samples=20000)(_made(driving_states))
register("ratings", "regression", "tabular", "Users rate items (1 to 5) from hidden tastes: each item has a "
         "hidden genre, each user a taste for each genre; the input is a (user id, item id) pair.",
         Param("users", "int", 200, 10, 2000, help="Number of users."),
         Param("items", "int", 300, 10, 2000, help="Number of items."),
         Param("rank", "int", 4, 1, 16, help="Hidden taste dimensions (and item genres)."),
         n_samples=10000, noise=0.3, max_samples=100000)(_made(ratings))
register("shape_boxes", "detection", "image", "Images of 1 to several circles, squares and triangles, each with "
         "its class and box; the target marks each shape in the grid cell its centre falls in (detect).",
         Param("size", "int", 32, 16, 64, help="Image side in pixels."),
         Param("grid", "int", 4, 2, 8, help="Cells per side of the grid the detector answers on."),
         Param("max_shapes", "int", 3, 1, 6, help="Most shapes in one image (each has 1 to this many)."),
         n_samples=2000, noise=0.1, max_samples=10000)(_made(shape_boxes))
register("dates", "segmentation", "text", "Dates written out in words ('the twenty first of march nineteen "
         "ninety nine') and their ISO form, a character per answer slot after the sentence (task translate).",
         n_samples=8000, max_samples=50000)(_made(written_dates))
register("chat", "segmentation", "text", "Requests to a chatbot (book a table, weather, alarm, flight, hello): "
         "the intent under a first <cls> token and a BIO slot tag under each word (task translate).",
         n_samples=3000, max_samples=20000)(_made(chat_requests))


# ---- a GAN's target distributions -------------------------------------------------------------
# 2-D mixtures whose modes are known, so that mode collapse can be counted (gan_data.coverage), and points a
# user draws (carried in the spec, at most MAX_DRAWN). A sample's target is the sample itself. They live here,
# module-level, so that an exported script copies them like every other generator.

MIN_STD = 0.01  # a mixture with no spread still counts samples within 3 × this of a centre


def _mixture(centres: np.ndarray, n: int, std: float, rng) -> Samples:
    """n points, as many from each centre (in turn), with Gaussian spread `std`; extras "mode" says which."""
    mode = np.arange(n) % len(centres)
    x = (centres[mode] + rng.normal(0, 1, (n, 2)) * std).astype(np.float32)
    return Samples(x, x.copy(), {"points": x.copy(), "mode": mode.astype(np.int64)},
                   {"modes": np.round(centres, 6).tolist(), "mode_std": max(std, MIN_STD)})


def _ring(n, noise, rng, modes, radius) -> Samples:
    """`modes` Gaussians on a circle of `radius`, spread `noise`."""
    a = 2 * math.pi * np.arange(modes) / modes
    return _mixture(radius * np.stack([np.cos(a), np.sin(a)], 1), n, noise, rng)


def _grid(n, noise, rng, side) -> Samples:
    """side × side Gaussians 2 apart, centred on 0, spread `noise`."""
    c = (np.arange(side) - (side - 1) / 2) * 2.0
    gx, gy = np.meshgrid(c, c)
    return _mixture(np.stack([gx.ravel(), gy.ravel()], 1), n, noise, rng)


def _drawn(n, noise, rng, points) -> Samples:
    """n samples of the drawing: each one of its points, spread `noise`."""
    p = np.asarray(points, np.float64)
    x = (p[rng.integers(0, len(p), n)] + rng.normal(0, 1, (n, 2)) * noise).astype(np.float32)
    return Samples(x, x.copy(), {"points": x.copy()})


register("ring", "generation", "points", "Gaussians on a circle (noise: each one's spread): the classic test "
         "of mode collapse for a GAN.", Param("modes", "int", 8, 2, 16, help="Gaussians on the circle."),
         Param("radius", "float", 2.0, 0.5, 5.0, help="Radius of the circle."),
         n_samples=5000, noise=0.05)(_ring)
register("grid", "generation", "points", "A square grid of Gaussians, 2 apart (noise: each one's spread): "
         "harder for a GAN to cover than the ring.",
         Param("side", "int", 5, 2, 7, help="Gaussians along each side (5: 25 in all)."),
         n_samples=5000, noise=0.05)(_grid)
register("drawn", "generation", "points", "Points you draw: the data is your drawing, each point spread by the "
         "noise.", Param("points", "points", heart(), POINT_RANGE, MAX_DRAWN,
                         help=f"The drawing: [x, y] points within ±{POINT_RANGE:g}, at most {MAX_DRAWN}."),
         n_samples=2000, noise=0.1)(_drawn)


# ---- the user's own data ---------------------------------------------------------------------

def _csv(raw: bytes, label: str, target: str | None = None, task: str = "auto") -> Samples:
    x, y, info = parse_csv(raw, target, task)
    k = info["n_classes"]
    return Samples(x, y, info={**info, "task": "regression" if not k else ("binary" if k == 2 else "multiclass"),
                               "description": f"Uploaded CSV: {label}"})


DATASETS.add("csv", DatasetType(
    "csv", "auto", "tabular", "Your own CSV file: numeric feature columns and a target column (numbers or "
    "class names).", _csv, CSV_PARAMS, user_file=True))


def builtin() -> list[str]:
    """The datasets one can pick without giving a file (every entry but the CSV), in registry order."""
    return [name for name, d in DATASETS.items() if not d.user_file]


# ---- loading and splitting -------------------------------------------------------------------

def describe(name: str) -> str:
    """One line about a dataset, with its options."""
    d = DATASETS.get(name)
    opts = ", ".join(f"{p.name}={p.default}" for p in d.params)
    return f"{d.description} Options: {opts}."


def options(data_spec) -> dict:
    """The dataset's options with defaults filled in, checked against the registry."""
    kind = DATASETS.get(data_spec.name, "data.name")
    return check_options(kind.params, data_spec.options(), f"data ({data_spec.name})")


@dataclass
class Sketch:
    """What a dataset is without building it: its info, split sizes and the bytes its tensors will take."""

    info: DataInfo
    n_train: int
    n_val: int
    bytes: int  # estimated, of the whole split dataset (inputs, targets, extras)

    @property
    def n(self) -> int:
        return self.n_train + self.n_val


class DataTooLarge(PlaygroundError):
    """A dataset's tensors would take more memory than this host allows a dataset."""


SKETCH_SAMPLES = 16  # samples generated to learn a dataset's shapes and bytes per sample


def _samples(kind: DatasetType, opts: dict, seed: int, access: Access,
             n: int | None = None) -> tuple[Samples, str]:
    """Generate (or read) the samples of a dataset with checked `opts` (less val_fraction and seed), and
    the task; `n` caps the number of generated samples (a sketch builds only a few)."""
    opts = dict(opts)
    if kind.user_file:
        raw, label = user_file(opts, access)
        s = kind.make(raw, label, **{k: v for k, v in opts.items() if k not in ("upload", "file")})
        return s, s.info["task"]
    n_asked, noise, target = opts.pop("n_samples"), opts.pop("noise"), opts.pop("target", "label")
    n = n_asked if n is None else min(n, n_asked)
    rng = np.random.default_rng(seed)
    s = kind.make(n, noise, rng, **opts)
    if len(s.x) > n:  # fixed-size sets: take a seeded subset
        keep = np.sort(rng.permutation(len(s.x))[:n])
        s = Samples(s.x[keep], s.y[keep], {k: v[keep] for k, v in s.extras.items()}, s.info)
    task = kind.task if kind.task not in ("binary", "multiclass") else (
        "binary" if s.info.get("n_classes", 2) == 2 else "multiclass")
    if target == "input":
        s, task = replace(s, y=s.x.copy()), "reconstruction"
    elif target == "mask":
        s, task = replace(s, y=s.extras["mask"]), "segmentation"
    elif target == "box":
        s, task = replace(s, y=s.extras["box"]), "regression"
    return s, task


def _sizes(n: int, val_fraction: float) -> tuple[int, int]:
    n_val = max(1, int(round(n * val_fraction)))
    if n - n_val < 1:
        raise PlaygroundError(f"data.val_fraction leaves no training samples out of {n}", path="data.val_fraction")
    return n - n_val, n_val


def _sample_bytes(s: Samples) -> float:
    return (s.x.nbytes + s.y.nbytes + sum(v.nbytes for v in s.extras.values())) / max(1, len(s.x))


_SKETCHES: OrderedDict[str, Sketch] = OrderedDict()
_LOCK = threading.Lock()


def sketch(data_spec, access: Access | None = None) -> Sketch:
    """The dataset's info, sizes and bytes, from a few generated samples (a CSV is read whole: it is small).

    This is what checking a spec needs; the app's process calls it instead of building large datasets."""
    access = access or current_access()
    kind = DATASETS.get(data_spec.name, "data.name")
    key = _key(data_spec, kind, access)
    with _LOCK:
        if key in _SKETCHES:
            _SKETCHES.move_to_end(key)
            return _SKETCHES[key]
    opts = options(data_spec)
    val, seed = opts.pop("val_fraction"), opts.pop("seed")
    small, task = _samples(kind, opts, seed, access, n=SKETCH_SAMPLES)
    n = len(small.x) if kind.user_file else opts["n_samples"]
    n_train, n_val = _sizes(n, val)
    out = Sketch(_info(small, kind, task, small.x), n_train, n_val, int(_sample_bytes(small) * n))
    with _LOCK:
        _SKETCHES[key] = out
        while len(_SKETCHES) > 256:  # sketches are small; 256 cover a class's datasets
            _SKETCHES.popitem(last=False)
    return out


def info(data_spec, access: Access | None = None) -> DataInfo:
    """What the builder, trainer and pages need to know about the dataset, without building it."""
    return sketch(data_spec, access).info


def check_size(data_spec, access: Access | None = None, max_bytes: int | None | bool = True) -> Sketch:
    """The sketch, or DataTooLarge when the dataset would take more than `max_bytes` (True: the current cap)."""
    sk = sketch(data_spec, access)
    cap = memory_caps().data_bytes if max_bytes is True else max_bytes
    if cap and sk.bytes > cap:
        per = sk.bytes / max(1, sk.n)
        most = int(cap // per)
        kind = DATASETS.get(data_spec.name)
        sizes = [p.name for p in kind.params if p.name in ("size", "seq_len")]
        hint = (f"use at most {most:,} samples" if "n_samples" in {p.name for p in kind.params}
                else "use a smaller file") + (f" or a smaller {sizes[0]}" if sizes else "")
        shape = "×".join(map(str, sk.info.input_shape)) or "1"
        raise DataTooLarge(f"data ({data_spec.name}): {sk.n:,} samples of {shape} take about "
                           f"{fmt_bytes(sk.bytes)} in memory; this server allows {fmt_bytes(cap)} a dataset: "
                           f"{hint}", path="data")
    return sk


def load(data_spec, access: Access | None = None, max_bytes: int | None | bool = True) -> Dataset:
    """Generate (or read) the dataset a spec names, split into train and validation, as CPU tensors.

    `access` says where a user's file may come from (default: `current_access()`, which refuses); a dataset
    over `max_bytes` (True: the current cap, `memory_caps()`; None: no cap) is refused before it is built."""
    access = access or current_access()
    check_size(data_spec, access, max_bytes)
    kind = DATASETS.get(data_spec.name, "data.name")
    opts = options(data_spec)
    val, seed = opts.pop("val_fraction"), opts.pop("seed")
    s, task = _samples(kind, opts, seed, access)
    return split(s, kind, task, val, seed)


PREVIEW_BYTES = 16 * 2**20  # a preview builds the dataset itself up to this size, a smaller one beyond


def preview(data_spec, access: Access | None = None) -> tuple[Dataset, Sketch]:
    """Something to look at: the dataset itself when it is small, else the same generator with fewer samples
    (at most PREVIEW_BYTES); and the sketch of the whole (its sizes). A page never builds a large set to show
    a few samples of it."""
    access = access or current_access()
    sk = check_size(data_spec, access)
    if sk.bytes <= PREVIEW_BYTES or DATASETS.get(data_spec.name).user_file:
        return load_cached(data_spec, access), sk
    n = max(SKETCH_SAMPLES, int(PREVIEW_BYTES / (sk.bytes / sk.n)))
    return load_cached(data_spec.model_copy(update={"n_samples": n}), access), sk


def _key(data_spec, kind: DatasetType, access: Access) -> str:
    # A user's file is cached per access (one browser session's uploads are never another's).
    key = json.dumps(data_spec.model_dump(mode="json"), sort_keys=True)
    return f"{key}|{access.key}" if kind.user_file else key


CACHE_BYTES = 128 * 2**20  # datasets kept per process, in bytes of their tensors
_CACHE: OrderedDict[str, tuple[Dataset, int]] = OrderedDict()  # least recently used first


def nbytes(ds: Dataset) -> int:
    """Bytes held by a dataset's tensors."""
    tensors = [ds.x_train, ds.y_train, ds.x_val, ds.y_val, *ds.extras_train.values(), *ds.extras_val.values()]
    return sum(t.numel() * t.element_size() for t in tensors)


def load_cached(data_spec, access: Access | None = None, max_bytes: int | None | bool = True) -> Dataset:
    """`load`, remembering recent datasets up to CACHE_BYTES in all (read-only: trainers copy what they change)."""
    access = access or current_access()
    kind = DATASETS.get(data_spec.name, "data.name")
    key = _key(data_spec, kind, access)
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key][0]
    ds = load(data_spec, access, max_bytes)
    size = nbytes(ds)
    with _LOCK:
        if size <= CACHE_BYTES and key not in _CACHE:
            _CACHE[key] = (ds, size)
            total = sum(b for _, b in _CACHE.values())
            while total > CACHE_BYTES:
                _, (_, b) = _CACHE.popitem(last=False)
                total -= b
    return ds


def cached_bytes() -> int:
    """Bytes the dataset cache holds now."""
    with _LOCK:
        return sum(b for _, b in _CACHE.values())


def _info(s: Samples, kind: DatasetType, task: str, x: np.ndarray) -> DataInfo:
    classify = task in ("binary", "multiclass")
    return DataInfo(
        name=kind.name, task=task, modality=kind.modality, input_shape=tuple(x.shape[1:]),
        target_shape=tuple(s.y.shape[1:]), tokens=x.dtype == np.int64,
        n_classes=s.info.get("n_classes", 0) if classify else 0,
        class_names=s.info.get("class_names", []) if classify else [],
        feature_names=s.info.get("feature_names", []), vocab=s.info.get("vocab", []),
        description=s.info.get("description", kind.description), modes=s.info.get("modes", []),
        mode_std=s.info.get("mode_std", 0.0),
        fields={k: (int(a), int(b)) for k, (a, b) in s.info.get("fields", {}).items()},
        field_ids={k: int(v) for k, v in s.info.get("field_ids", {}).items()})


def split(s: Samples, kind: DatasetType, task: str, val_fraction: float, seed: int) -> Dataset:
    """Seeded shuffle-split into train and validation (stratified enough for small sets by shuffling)."""
    n = len(s.x)
    order = np.random.default_rng(seed + 1).permutation(n)
    _, n_val = _sizes(n, val_fraction)
    tr, va = order[n_val:], order[:n_val]
    x = s.x
    if s.info.get("standardize"):
        mean, std = x[tr].mean(0), x[tr].std(0) + 1e-8  # training statistics only: no leakage
        x = ((x - mean) / std).astype(np.float32)
    info = _info(s, kind, task, x)
    t = torch.from_numpy
    return Dataset(info, t(x[tr]), t(s.y[tr]), t(x[va]), t(s.y[va]),
                   {k: t(v[tr]) for k, v in s.extras.items()}, {k: t(v[va]) for k, v in s.extras.items()})


def listing() -> list[tuple[str, str, str]]:
    """(name, task, description) of every dataset, for the CLI and the UI."""
    return [(name, f"{d.task}/{d.modality}", d.description) for name, d in DATASETS.items()]

