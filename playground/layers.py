"""The layer registry: every layer a spec may name, its options, and its output shape.

Each entry is one function `(x: Signal, ctx: dict, **options) -> (module, Signal)` that checks the
input, infers the input sizes torch needs, and declares the output shape (tests compare it with the
real one for every entry). Shapes never include the batch dimension.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from .activations import BUILTIN, Activation
from .modules import PositionalEncoding, Recurrent, Select, SelfAttention
from .registry import Param, PlaygroundError, Registry

CATEGORIES = ["dense", "convolution", "pooling", "normalisation", "regularisation", "recurrent",
              "attention", "activation", "shape"]


@dataclass(frozen=True)
class Signal:
    """What flows between layers: a per-sample shape, whether it holds integer token ids, and how many ids
    they are drawn from when that is narrower than the dataset's vocabulary (one field's ids: a user's)."""

    shape: tuple[int, ...]
    tokens: bool = False
    ids: int = 0  # 0: the dataset's vocabulary

    def __str__(self) -> str:
        return "(N, " + ", ".join(str(s) for s in self.shape) + ")"


class ShapeError(PlaygroundError):
    """A layer cannot take the input it gets; the builder adds the layer's number and type.

    `fix` repairs the layer (the builder adds its index); `want` names the kind of data (a dataset modality:
    image, sequence, text) that would suit the layer as it is, so the builder can offer such a dataset too.
    """

    def __init__(self, message: str, fix: dict | None = None, want: str | None = None) -> None:
        super().__init__(message, fix=fix)
        self.want = want


@dataclass(frozen=True)
class LayerType:
    """A registry entry: the torch class name, a palette category, a tooltip and the options."""

    name: str
    category: str
    description: str
    params: tuple[Param, ...]
    make: Callable[..., tuple[nn.Module, Signal]]
    inferred: tuple[str, ...] = ()  # torch arguments we compute from the input shape
    activation: Activation | None = None  # an activation's extras (see activations.py)


LAYERS: Registry[LayerType] = Registry("layer type")


def register(name: str, category: str, description: str, *params: Param, inferred: tuple[str, ...] = ()):
    """Decorator adding a layer builder to LAYERS."""
    assert category in CATEGORIES, category

    def wrap(make):
        LAYERS.add(name, LayerType(name, category, description, params, make, inferred))
        return make
    return wrap


# ---- shape helpers -------------------------------------------------------------------------

def pair(v) -> tuple[int, int]:
    """An int or [h, w] as a tuple."""
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def conv_out(size: int, k: int, s: int, p: int, d: int = 1) -> int:
    """Output length of a convolution or pooling window along one axis (PyTorch's formula)."""
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def need_floats(x: Signal) -> None:
    if x.tokens:
        raise ShapeError(f"got integer token ids of shape {x}; add Embedding before it",
                         fix={"action": "insert", "layer": {"type": "Embedding"}})


def need_image(x: Signal, what: str = "an image (N, C, H, W)", instead: dict | None = None) -> tuple[int, int, int]:
    """(C, H, W) of an image input; else an error whose fix reshapes the input into one, or (when it cannot)
    replaces the layer with `instead`, its counterpart for feature vectors ({"type": "Linear", …}, or None to
    delete it)."""
    need_floats(x)
    if len(x.shape) == 3:
        return x.shape
    fix = None
    if len(x.shape) == 1 and math.isqrt(x.shape[0]) ** 2 == x.shape[0] and x.shape[0] > 1:
        side = math.isqrt(x.shape[0])
        fix = {"action": "insert", "layer": {"type": "Unflatten", "dim": 1, "unflattened_size": [1, side, side]}}
        hint = f"; add Unflatten(1, [1, {side}, {side}]) before it"
    elif len(x.shape) == 2:
        fix = {"action": "insert", "layer": {"type": "Unflatten", "dim": 1,
                                             "unflattened_size": [1, *x.shape]}}
        hint = f"; add Unflatten(1, [1, {x.shape[0]}, {x.shape[1]}]) before it"
    elif instead is not None:
        fix = {"action": "replace", "layer": instead} if instead else {"action": "delete"}
        hint = (f"; replace it with {_call(instead)}" if instead else "; delete it") + ", or choose an image dataset"
    else:
        hint = "; choose an image dataset"
    raise ShapeError(f"expected {what}, got {len(x.shape) + 1}-D input of shape {x}{hint}", fix=fix, want="image")


def _call(layer: dict) -> str:
    """A layer dict as it reads in torch: Linear(out_features=8)."""
    return f"{layer['type']}(" + ", ".join(f"{k}={v}" for k, v in layer.items() if k != "type") + ")"


def need_sequence(x: Signal, what: str = "a sequence (N, T, features)") -> tuple[int, int]:
    need_floats(x)
    if len(x.shape) == 2:
        return x.shape
    fix, hint = None, ""
    if len(x.shape) == 1:
        fix = {"action": "insert", "layer": {"type": "Unflatten", "dim": 1, "unflattened_size": [x.shape[0], 1]}}
        hint = f"; add Unflatten(1, [{x.shape[0]}, 1]) before it to read the features as {x.shape[0]} steps"
    elif len(x.shape) == 3:
        fix = {"action": "insert", "layer": {"type": "Flatten", "start_dim": 2}}
        hint = "; add Flatten(start_dim=2) before it to read rows as steps"
    else:
        fix = {"action": "insert", "layer": {"type": "Flatten", "start_dim": 2, "end_dim": -1}}
        hint = "; add Flatten(start_dim=2) before it, or choose a sequence dataset"
    raise ShapeError(f"expected {what}, got {len(x.shape) + 1}-D input of shape {x}{hint}", fix=fix,
                     want="sequence")


def fit_window(name: str, size: tuple[int, ...], out: tuple[int, ...], fix: dict | None = None) -> None:
    """Refuse a window that leaves no output; `fix` sets the option that makes it fit."""
    if any(o < 1 for o in out):
        hint = f"set {fix['key']} = {fix['value']}" if fix else "use a smaller kernel_size or stride, or more padding"
        raise ShapeError(f"{name} leaves no output for an input of {'×'.join(map(str, size))}; {hint}", fix=fix)


def largest_kernel(size: tuple[int, ...], padding: tuple[int, ...], dilation: tuple[int, ...]) -> dict:
    """The fix that sets kernel_size to the largest window that still fits every axis (stride never matters:
    a window that fits gives at least one output)."""
    k = [(n + 2 * p - 1) // d + 1 for n, p, d in zip(size, padding, dilation, strict=True)]
    return {"action": "set", "key": "kernel_size", "value": k[0] if len(set(k)) == 1 else k}


# ---- common parameters ---------------------------------------------------------------------

def kernel(default=3):
    return Param("kernel_size", "size", default, 1, 64, help="Window size (an integer or [h, w]).")


STRIDE = Param("stride", "size", 1, 1, 64, help="Step between windows.")
PADDING = Param("padding", "size", 0, 0, 64, help="Zeros added on each side.")
BIAS = Param("bias", "bool", True, help="Learn an additive bias.")
DIL = Param("dilation", "size", 1, 1, 16, help="Spacing between kernel elements.")


# ---- dense -----------------------------------------------------------------------------------

@register("Linear", "dense", "Fully connected: each output is a weighted sum of all inputs plus a bias.",
          Param("out_features", "int", 8, 1, 4096, help="Number of neurons."), BIAS, inferred=("in_features",))
def _linear(x, ctx, out_features, bias):
    need_floats(x)
    if len(x.shape) > 2:
        raise ShapeError(f"got input of shape {x}; add Flatten before it",
                         fix={"action": "insert", "layer": {"type": "Flatten"}})
    return nn.Linear(x.shape[-1], out_features, bias=bias), Signal((*x.shape[:-1], out_features))


@register("Embedding", "dense", "Looks up a learned vector for each integer token id.",
          Param("embedding_dim", "int", 16, 1, 1024, help="Length of each token's vector."),
          inferred=("num_embeddings",))
def _embedding(x, ctx, embedding_dim):
    if not x.tokens:
        raise ShapeError(f"needs integer token ids, but its input is float features of shape {x}; Embedding "
                         "belongs first, on a text dataset: delete it, or choose a text dataset",
                         fix={"action": "delete"}, want="text")
    ids = x.ids or ctx.get("vocab_size", 1)
    counts = ctx.get("field_ids") or {}
    if not x.ids and counts and not ctx.get("vocab_size"):
        # fields of ids (users, items) are counted apart: a table needs to know which one it looks up
        first = next(iter(counts))
        raise ShapeError(f"its input {x} holds ids of several fields ({', '.join(counts)}), each counted apart; "
                         f"add Select(field={first!r}) before it, so it looks up one field's ids",
                         fix={"action": "insert", "layer": {"type": "Select", "field": first}})
    return nn.Embedding(ids, embedding_dim), Signal((*x.shape, embedding_dim))


# ---- convolution -----------------------------------------------------------------------------

@register("Conv2d", "convolution", "Slides learned filters over an image; each filter makes one feature map.",
          Param("out_channels", "int", 8, 1, 512, help="Number of filters (feature maps)."),
          kernel(), STRIDE, PADDING, DIL, BIAS, inferred=("in_channels",))
def _conv2d(x, ctx, out_channels, kernel_size, stride, padding, dilation, bias):
    c, h, w = need_image(x, instead={"type": "Linear", "out_features": out_channels})
    k, s, p, d = pair(kernel_size), pair(stride), pair(padding), pair(dilation)
    out = (conv_out(h, k[0], s[0], p[0], d[0]), conv_out(w, k[1], s[1], p[1], d[1]))
    fit_window(f"kernel_size {kernel_size}", (h, w), out, largest_kernel((h, w), p, d))
    return (nn.Conv2d(c, out_channels, k, stride=s, padding=p, dilation=d, bias=bias),
            Signal((out_channels, *out)))


@register("Conv1d", "convolution", "Slides learned filters along a 1-D signal of shape (channels, length).",
          Param("out_channels", "int", 8, 1, 512, help="Number of filters."),
          Param("kernel_size", "int", 3, 1, 64, help="Window length."),
          Param("stride", "int", 1, 1, 64, help="Step between windows."),
          Param("padding", "int", 0, 0, 64, help="Zeros added on each side."), BIAS, inferred=("in_channels",))
def _conv1d(x, ctx, out_channels, kernel_size, stride, padding, bias):
    c, length = need_sequence(x, "a signal (N, channels, length)")
    out = conv_out(length, kernel_size, stride, padding)
    fit_window(f"kernel_size {kernel_size}", (length,), (out,), largest_kernel((length,), (padding,), (1,)))
    return nn.Conv1d(c, out_channels, kernel_size, stride, padding, bias=bias), Signal((out_channels, out))


@register("ConvTranspose2d", "convolution", "Learned up-sampling: the transpose of a convolution (decoders, GANs).",
          Param("out_channels", "int", 8, 1, 512, help="Number of output feature maps."),
          kernel(), STRIDE, PADDING,
          Param("output_padding", "size", 0, 0, 16, help="Extra size added to one side of the output."),
          BIAS, inferred=("in_channels",))
def _convT(x, ctx, out_channels, kernel_size, stride, padding, output_padding, bias):
    c, h, w = need_image(x, instead={"type": "Linear", "out_features": out_channels})
    k, s, p, op = pair(kernel_size), pair(stride), pair(padding), pair(output_padding)
    if op[0] >= s[0] or op[1] >= s[1]:
        raise ShapeError(f"output_padding {output_padding} must be smaller than stride {stride}; set output_padding "
                         "= 0", fix={"action": "set", "key": "output_padding", "value": 0})
    out = tuple((n - 1) * s[i] - 2 * p[i] + (k[i] - 1) + op[i] + 1 for i, n in enumerate((h, w)))
    fits = min(((n - 1) * s[i] + k[i] - 1 + op[i]) // 2 for i, n in enumerate((h, w)))  # the most padding that fits
    fit_window(f"padding {padding}", (h, w), out, {"action": "set", "key": "padding", "value": fits})
    return (nn.ConvTranspose2d(c, out_channels, k, stride=s, padding=p, output_padding=op, bias=bias),
            Signal((out_channels, *out)))


# ---- pooling ---------------------------------------------------------------------------------

def _pool(cls):
    def make(x, ctx, kernel_size, stride, padding):
        c, h, w = need_image(x, instead={})  # on feature vectors there is nothing to pool: delete it
        k, p = pair(kernel_size), pair(padding)
        s = pair(stride) if stride is not None else k
        if p[0] * 2 > k[0] or p[1] * 2 > k[1]:
            half = min(k) // 2
            raise ShapeError(f"padding {padding} must be at most half of kernel_size {kernel_size}; set padding = "
                             f"{half}", fix={"action": "set", "key": "padding", "value": half})
        out = (conv_out(h, k[0], s[0], p[0]), conv_out(w, k[1], s[1], p[1]))
        fit_window(f"kernel_size {kernel_size}", (h, w), out, largest_kernel((h, w), p, (1, 1)))
        return cls(k, stride=s, padding=p), Signal((c, *out))
    return make


POOL_PARAMS = (kernel(2), Param("stride", "size", None, 1, 64, help="Step between windows (default: kernel_size).",
                                optional=True), PADDING)
register("MaxPool2d", "pooling", "Keeps the largest value in each window: smaller maps, some shift tolerance.",
         *POOL_PARAMS)(_pool(nn.MaxPool2d))
register("AvgPool2d", "pooling", "Averages each window: smaller, smoother feature maps.",
         *POOL_PARAMS)(_pool(nn.AvgPool2d))


@register("AdaptiveAvgPool2d", "pooling", "Averages each feature map down to a fixed size (1 = global average).",
          Param("output_size", "size", 1, 1, 64, help="Output height and width."))
def _adaptive(x, ctx, output_size):
    c, h, w = need_image(x, instead={})
    return nn.AdaptiveAvgPool2d(output_size), Signal((c, *pair(output_size)))


@register("AdaptiveMaxPool2d", "pooling", "Keeps each feature map's largest values at a fixed size (1 = global "
          "max: 'is the pattern anywhere?').", Param("output_size", "size", 1, 1, 64, help="Output height and width."))
def _adaptive_max(x, ctx, output_size):
    c, h, w = need_image(x, instead={})
    return nn.AdaptiveMaxPool2d(output_size), Signal((c, *pair(output_size)))


# ---- normalisation / regularisation --------------------------------------------------------

@register("BatchNorm1d", "normalisation", "Normalises each feature over the batch, then rescales: steadier training.",
          Param("momentum", "float", 0.1, 0.0, 1.0, help="Weight of the newest batch in the running statistics."),
          inferred=("num_features",))
def _bn1d(x, ctx, momentum):
    need_floats(x)
    if len(x.shape) not in (1, 2):
        image = len(x.shape) == 3
        raise ShapeError(f"expected (N, features) or (N, channels, length), got shape {x}; "
                         + ("replace it with BatchNorm2d, made for images" if image else "add Flatten before it"),
                         fix={"action": "replace", "layer": {"type": "BatchNorm2d", "momentum": momentum}} if image
                         else {"action": "insert", "layer": {"type": "Flatten"}})
    return nn.BatchNorm1d(x.shape[0], momentum=momentum), x


@register("BatchNorm2d", "normalisation", "Normalises each channel of an image over the batch, then rescales.",
          Param("momentum", "float", 0.1, 0.0, 1.0, help="Weight of the newest batch in the running statistics."),
          inferred=("num_features",))
def _bn2d(x, ctx, momentum):
    c, h, w = need_image(x, instead={"type": "BatchNorm1d", "momentum": momentum})
    return nn.BatchNorm2d(c, momentum=momentum), x


@register("LayerNorm", "normalisation", "Normalises each sample over its last dimension (used in Transformers).",
          Param("elementwise_affine", "bool", True, help="Learn a scale and shift."),
          inferred=("normalized_shape",))
def _ln(x, ctx, elementwise_affine):
    need_floats(x)
    return nn.LayerNorm(x.shape[-1], elementwise_affine=elementwise_affine), x


@register("Dropout", "regularisation", "While training, zeroes a random fraction p of its inputs (then rescales).",
          Param("p", "float", 0.5, 0.0, 0.95, help="Fraction of inputs dropped while training."))
def _dropout(x, ctx, p):
    need_floats(x)
    return nn.Dropout(p), x


# ---- recurrent -------------------------------------------------------------------------------

def _recurrent(cell: str):
    def make(x, ctx, hidden_size, num_layers, bidirectional, dropout, return_sequences):
        t, f = need_sequence(x)
        mod = Recurrent(cell, f, hidden_size, num_layers, bidirectional, dropout, return_sequences)
        h = hidden_size * (2 if bidirectional else 1)
        return mod, Signal((t, h) if return_sequences else (h,))
    return make


RNN_PARAMS = (
    Param("hidden_size", "int", 32, 1, 1024, help="Size of the hidden state."),
    Param("num_layers", "int", 1, 1, 8, help="Stacked recurrent layers."),
    Param("bidirectional", "bool", False, help="Also read the sequence backwards."),
    Param("dropout", "float", 0.0, 0.0, 0.9, help="Dropout between stacked layers."),
    Param("return_sequences", "bool", False, help="Output every step (true) or only the last (false)."),
)
register("RNN", "recurrent", "A plain recurrent layer: a tanh hidden state updated at every step.",
         *RNN_PARAMS, inferred=("input_size",))(_recurrent("RNN"))
register("LSTM", "recurrent", "Long short-term memory: gates decide what to keep, forget and output.",
         *RNN_PARAMS, inferred=("input_size",))(_recurrent("LSTM"))
register("GRU", "recurrent", "Gated recurrent unit: a lighter LSTM with two gates.",
         *RNN_PARAMS, inferred=("input_size",))(_recurrent("GRU"))


# ---- attention -------------------------------------------------------------------------------

def _heads(e: int, n: int, name: str) -> None:
    if e % n:
        ok = [h for h in range(1, min(e, 16) + 1) if e % h == 0]
        best = max(h for h in ok if h <= n)
        raise ShapeError(f"embedding size {e} is not divisible by {n} heads; set {name} to one of {ok}",
                         fix={"action": "set", "key": name, "value": best})


@register("MultiheadAttention", "attention", "Self-attention: every step looks at every other step and mixes them.",
          Param("num_heads", "int", 2, 1, 16, help="Parallel attention heads (must divide the embedding size)."),
          Param("dropout", "float", 0.0, 0.0, 0.9, help="Dropout on attention weights."), BIAS,
          inferred=("embed_dim",))
def _mha(x, ctx, num_heads, dropout, bias):
    t, e = need_sequence(x, "a sequence (N, T, embedding)")
    _heads(e, num_heads, "num_heads")
    return SelfAttention(e, num_heads, dropout, bias), x


@register("TransformerEncoderLayer", "attention",
          "Self-attention plus a feed-forward block, each with a residual connection and LayerNorm.",
          Param("nhead", "int", 2, 1, 16, help="Attention heads (must divide the embedding size)."),
          Param("dim_feedforward", "int", 64, 1, 4096, help="Width of the feed-forward block."),
          Param("dropout", "float", 0.1, 0.0, 0.9, help="Dropout inside the block."),
          Param("activation", "choice", "relu", choices=("relu", "gelu")),
          Param("norm_first", "bool", False, help="LayerNorm before (true) or after (false) each block."),
          inferred=("d_model",))
def _encoder(x, ctx, nhead, dim_feedforward, dropout, activation, norm_first):
    t, e = need_sequence(x, "a sequence (N, T, embedding)")
    _heads(e, nhead, "nhead")
    mod = nn.TransformerEncoderLayer(e, nhead, dim_feedforward, dropout, activation, batch_first=True,
                                     norm_first=norm_first)
    return mod, x


@register("PositionalEncoding", "attention",
          "Adds a fixed sine/cosine code of each position, so attention can tell word order (not in torch.nn).",
          inferred=("seq_len", "embed_dim"))
def _posenc(x, ctx):
    t, e = need_sequence(x, "a sequence (N, T, embedding)")
    return PositionalEncoding(t, e), x


# ---- activations -----------------------------------------------------------------------------

def add_activation(a: Activation) -> None:
    """Register an activation as a layer (category "activation"); it then shows wherever activations are listed."""
    def make(x, ctx, **kw):
        need_floats(x)
        if "dim" in kw and not -len(x.shape) - 1 <= kw["dim"] <= len(x.shape):  # else torch fails in forward
            raise ShapeError(f"dim {kw['dim']} does not exist in input of shape {x}; set dim = -1 (the last)",
                             fix={"action": "set", "key": "dim", "value": -1})
        return (a.build or getattr(nn, a.name))(**kw), x
    LAYERS.add(a.name, LayerType(a.name, "activation", a.description, a.params, make, activation=a))


for _a in BUILTIN:
    add_activation(_a)


def activations(elementwise: bool = True) -> list[str]:
    """The registered activations in registration order; only those acting on each value alone unless
    `elementwise` is False."""
    return [n for n, t in LAYERS.items() if t.activation is not None and (t.activation.elementwise or not elementwise)]


def activation(name: str) -> Activation | None:
    """What is known of the activation layer called `name` (a spec's or a module's type name); None for others."""
    entry = LAYERS.entries.get(name)
    return entry.activation if entry is not None else None


# ---- shape -----------------------------------------------------------------------------------

@register("Flatten", "shape", "Flattens each sample into one long vector (e.g. feature maps → Linear).",
          Param("start_dim", "int", 1, 1, 8, help="First dimension to flatten (1 = everything but the batch)."),
          Param("end_dim", "int", -1, -8, 8, help="Last dimension to flatten."))
def _flatten(x, ctx, start_dim, end_dim):
    n = len(x.shape) + 1
    end = end_dim if end_dim >= 0 else n + end_dim
    if not 1 <= start_dim <= end < n:
        raise ShapeError(f"start_dim {start_dim} and end_dim {end_dim} do not fit input of shape {x}; replace it "
                         "with a plain Flatten()", fix={"action": "replace", "layer": {"type": "Flatten"}})
    dims = (1, *x.shape)
    flat = math.prod(dims[start_dim:end + 1])
    return nn.Flatten(start_dim, end_dim), Signal((*dims[1:start_dim], flat, *dims[end + 1:]), x.tokens, x.ids)


@register("Unflatten", "shape", "Reshapes one dimension into several (e.g. 64 features → 1×8×8 image).",
          Param("dim", "int", 1, 1, 8, help="Dimension to split."),
          Param("unflattened_size", "ints", [1, 8, 8], 1, 100000, help="The sizes it becomes."))
def _unflatten(x, ctx, dim, unflattened_size):
    dims = (1, *x.shape)
    if dim >= len(dims):
        raise ShapeError(f"dim {dim} does not exist in input of shape {x}; set dim = 1",
                         fix={"action": "set", "key": "dim", "value": 1})
    if math.prod(unflattened_size) != dims[dim]:
        n, side = dims[dim], math.isqrt(dims[dim])
        square = side * side == n and n > 1
        raise ShapeError(f"cannot reshape size {n} into {list(unflattened_size)} (product "
                         f"{math.prod(unflattened_size)}); set unflattened_size to sizes whose product is {n}"
                         + (f", such as [1, {side}, {side}] (a {side}×{side} image)" if square else ""),
                         fix={"action": "set", "key": "unflattened_size", "value": [1, side, side]} if square
                         else None)
    shape = (*dims[1:dim], *unflattened_size, *dims[dim + 1:])
    return nn.Unflatten(dim, tuple(unflattened_size)), Signal(shape, x.tokens, x.ids)


@register("Upsample", "shape", "Enlarges feature maps by repeating (nearest) or interpolating (bilinear) pixels.",
          Param("scale_factor", "int", 2, 1, 16, help="How many times larger."),
          Param("mode", "choice", "nearest", choices=("nearest", "bilinear")))
def _upsample(x, ctx, scale_factor, mode):
    c, h, w = need_image(x, instead={})
    return nn.Upsample(scale_factor=scale_factor, mode=mode), Signal((c, h * scale_factor, w * scale_factor))


def feature_axis(shape: tuple[int, ...]) -> int:
    """The axis of a per-sample shape that holds features: an image's channels, else the last."""
    return 0 if len(shape) == 3 else len(shape) - 1


@register("Select", "shape", "Keeps some input columns (features, or an image's channels): how one tower of a "
          "two-tower model reads its own field (a user's columns, an item's).",
          Param("columns", "ints", None, 0, 65535, optional=True, help="Column numbers to keep, from 0."),
          Param("field", "str", None, optional=True, help="A field the dataset names (its columns)."))
def _select(x, ctx, columns, field):
    fields = ctx.get("fields") or {}
    if not x.shape:
        raise ShapeError(f"got input of shape {x}, which has no columns to select; delete it",
                         fix={"action": "delete"})
    axis = feature_axis(x.shape)
    n = x.shape[axis]
    if (columns is None) == (field is None):
        first = next(iter(fields), None)
        fix = ({"action": "set", "key": "field", "value": first} if first and columns is None
               else {"action": "unset", "key": "field"} if columns is not None
               else {"action": "set", "key": "columns", "value": [0]})
        both = "columns and field are both set" if columns is not None else "neither columns nor field is set"
        hint = f"; its fields: {', '.join(fields)}" if fields else ""
        raise ShapeError(f"{both}; set one of them (columns: numbers from 0 to {n - 1}{hint})", fix=fix)
    if field is not None:
        if field not in fields:
            names = ", ".join(repr(f) for f in fields)
            raise ShapeError(f"the data has no field {field!r}; " + (f"its fields are {names}" if fields else
                             "this dataset names no fields: select columns by number instead"),
                             fix={"action": "set", "key": "field", "value": next(iter(fields))} if fields
                             else {"action": "replace", "layer": {"type": "Select", "columns": [0]}})
        start, stop = fields[field]
        columns = list(range(start, stop))
    bad = [c for c in columns if c >= n]
    if bad:
        keep = [c for c in columns if c < n]
        raise ShapeError(f"column {bad[0]} does not exist: its input {x} has {n} columns (0 to {n - 1})"
                         + ("; keep the others" if keep else "; select columns from 0 to " + str(n - 1)),
                         fix={"action": "set", "key": "columns", "value": keep or [0]})
    dim = axis + 1  # the batch comes first
    shape = (*x.shape[:axis], len(columns), *x.shape[axis + 1:])
    if field is None:  # columns that are exactly one field's read that field
        field = next((f for f, (a, b) in fields.items() if list(range(a, b)) == list(columns)), None)
    ids = (ctx.get("field_ids") or {}).get(field, x.ids) if x.tokens else 0  # one field's ids: its own count
    return Select(columns, dim), Signal(shape, x.tokens, ids)


def layer_type(name: str, where: str = "") -> LayerType:
    """The registry entry for `name`, or an error suggesting the closest name."""
    return LAYERS.get(name, where)
