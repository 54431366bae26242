"""Spec + dataset shape → torch model, inferring every input size by propagating shapes (into blocks too)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from .data import DATASETS, DataInfo
from .layers import LAYERS, ShapeError, Signal, feature_axis
from .losses import LOSSES
from .losses import default as default_loss
from .modules import Network, Parallel, Residual, label
from .registry import PlaygroundError, check_options
from .spec import BLOCKS, LayerSpec, ParallelSpec, ResidualSpec, Spec


class BuildError(PlaygroundError):
    """A layer cannot be built; the message starts with `layer N (Type):` (`layer 3.2.1 (Type):` inside blocks)."""


@dataclass
class Row:
    """One line of the summary table: a layer, or a block (whose parameters include its layers')."""

    path: tuple[int, ...]  # 0-based, block by block, a Parallel's branch one step (see modules.layers_in)
    type: str
    output_shape: tuple[int, ...]
    params: int

    @property
    def label(self) -> str:
        """'3.2.1', as users count."""
        return label(self.path)

    @property
    def index(self) -> int:
        """The 1-based number of the top-level layer this row is, or is inside."""
        return self.path[0] + 1


@dataclass
class Summary:
    input_shape: tuple[int, ...]
    rows: list[Row]  # every layer and block, a block before the layers inside it
    others: list[tuple[str, Summary]] = field(default_factory=list)  # other networks the run trains (a GAN's D)

    @property
    def top(self) -> list[Row]:
        """The rows of the top-level layers (blocks as one row each)."""
        return [r for r in self.rows if len(r.path) == 1]

    @property
    def total_params(self) -> int:
        """Parameters of every network the run trains."""
        return sum(r.params for r in self.top) + sum(s.total_params for _, s in self.others)

    @property
    def output_shape(self) -> tuple[int, ...]:
        top = self.top
        return top[-1].output_shape if top else self.input_shape

    def table(self) -> str:
        """A plain-text table: layer number, type, output shape, parameters; then the total. The layers inside a
        block follow it, numbered by their path (3.2.1) and indented."""
        width = max([3, *(len(r.label) for r in self.rows)])
        lines = [f"{'#':>{width}}  {'layer':<24} {'output shape':<20} {'params':>10}",
                 f"{'':>{width}}  {'input':<24} {shape_str(self.input_shape):<20} {'':>10}"]
        lines += [f"{r.label:>{width}}  {'  ' * r.label.count('.') + r.type:<24} {shape_str(r.output_shape):<20} "
                  f"{r.params:>10,}" for r in self.rows]
        for name, other in self.others:
            lines += ["", f"{name}:", other.table().rsplit("\n", 1)[0]]
        lines.append(f"total parameters: {self.total_params:,}")
        return "\n".join(lines)


def shape_str(shape: tuple[int, ...]) -> str:
    """(N, …) text for a per-sample shape."""
    return "(N" + "".join(f", {s}" for s in shape) + ")"


@dataclass(frozen=True)
class Where:
    """Where a layer is: its path, its JSON field path, and how messages name it."""

    path: tuple[int, ...]
    field: str  # model.layers[2].branches[0][1]
    type: str

    @property
    def name(self) -> str:
        return f"layer {label(self.path)} ({self.type})"

    @property
    def at(self) -> int | list[int]:
        """A fix's `at`: the index of a top-level layer (as before blocks), else the path as a list."""
        return self.path[0] if len(self.path) == 1 else list(self.path)

    def error(self, message: str, key: str | None = None, fix: dict | None = None, **kw) -> BuildError:
        """A BuildError about this layer (its message starts with the name unless it already does)."""
        text = message if message.startswith(self.name) else f"{self.name}: {message}"
        return BuildError(text, path=self.field + (f".{key}" if key else ""), at=self.path,
                          fix={"at": self.at, **fix} if fix else None, **kw)  # a fix may name another place


def layer_options(layer: LayerSpec, where: Where | int) -> dict:
    """A layer's options checked against the registry; inferred arguments are allowed but not passed on.
    Errors carry the repair: the closest known type, or the option removed, clamped or back to its default."""
    if isinstance(where, int):
        where = Where((where,), f"model.layers[{where}]", layer.type)
    try:
        kind = LAYERS.get(layer.type, where.name)
    except PlaygroundError as e:
        close = [n for n in LAYERS.names() + list(BLOCKS) if f"'{n}'" in e.message]
        fix = {"action": "replace", "layer": {"type": close[0]}} if close else {"action": "delete"}
        raise BuildError(e.message + ("" if close else "; delete it and add a layer from the palette"),
                         path=f"{where.field}.type", at=where.path, fix=dict(fix, at=where.at)) from None
    try:
        return check_options(kind.params, layer.options(), where.name, reserved=kind.inferred)
    except PlaygroundError as e:
        key = next((k for k in layer.options() if f" {k} " in e.message or f"'{k}'" in e.message), None)
        raise BuildError(e.message, path=where.field + (f".{key}" if key else ""), at=where.path,
                         fix=_option_fix(kind.params, layer.options(), key, where.at)) from None


def _option_fix(params, given: dict, key: str | None, at) -> dict | None:
    """The repair of a refused option: remove an unknown one, clamp a number into range, else its default."""
    p = next((p for p in params if p.name == key), None)
    if key is None:
        return None
    if p is None:
        return {"action": "unset", "at": at, "key": key}
    value = given[key]
    if p.kind in ("int", "float") and isinstance(value, (int, float)) and not isinstance(value, bool) \
            and value == value and p.min is not None and p.max is not None:
        clamped = min(max(value, p.min), p.max)
        return {"action": "set", "at": at, "key": key, "value": int(clamped) if p.kind == "int" else float(clamped)}
    return {"action": "unset", "at": at, "key": key}  # back to the registry's default


class _Builder:
    """Builds a layer list and the blocks inside it, keeping a summary row for every layer and block."""

    def __init__(self, info: DataInfo) -> None:
        self.info = info
        self.ctx = {"vocab_size": len(info.vocab), "fields": dict(info.fields), "field_ids": dict(info.field_ids)}
        self.rows: list[Row] = []

    def sequence(self, nodes: list, x: Signal, prefix: tuple[int, ...], field: str) -> tuple[list[nn.Module], Signal]:
        modules = []
        for k, node in enumerate(nodes):
            where = Where((*prefix, k), f"{field}[{k}]", node.type)
            if isinstance(node, ResidualSpec):
                module, x = self.residual(node, x, where)
            elif isinstance(node, ParallelSpec):
                module, x = self.parallel(node, x, where)
            else:
                module, x = self.layer(node, x, where)
            modules.append(module)
        return modules, x

    def layer(self, layer: LayerSpec, x: Signal, where: Where) -> tuple[nn.Module, Signal]:
        opts = layer_options(layer, where)
        try:
            module, y = LAYERS.get(layer.type).make(x, self.ctx, **opts)
        except ShapeError as e:
            data = suitable_data(e.want, self.info.task) if e.want and e.want != self.info.modality else None
            raise where.error(e.message, fix=e.fix, alternatives=[{"action": "data", "name": data}] if data else []) \
                from None
        _check_inferred(layer, where, module)
        self.rows.append(Row(where.path, layer.type, y.shape, _count(module)))
        return module, y

    def _open(self, where: Where) -> int:
        """A block's row goes before its layers' rows; it is filled in once the block is built."""
        self.rows.append(Row(where.path, where.type, (), 0))
        return len(self.rows) - 1

    def residual(self, node: ResidualSpec, x: Signal, where: Where) -> tuple[nn.Module, Signal]:
        if x.tokens:
            raise where.error(f"got integer token ids of shape {x}, which cannot be added to; add Embedding "
                              "before it", fix={"action": "insert", "layer": {"type": "Embedding"}})
        row = self._open(where)
        body, y = self.sequence(node.layers, x, where.path, f"{where.field}.layers")
        skip = None
        if y.shape != x.shape or y.tokens or node.projection:
            skip = self.projection(node, x, y, where)
        module = Residual(nn.Sequential(*body), skip)
        self.rows[row] = Row(where.path, where.type, y.shape, _count(module))
        return module, Signal(y.shape)

    def projection(self, node: ResidualSpec, x: Signal, y: Signal, where: Where) -> nn.Module:
        """The skip's learned projection of the input into the body's output shape, or an error saying why the
        shapes cannot be added (with the projection as the fix where one fits)."""
        changed = f"its layers change the shape {x} → {y}, so the input cannot be added to their output"
        if y.tokens:
            raise where.error(f"its layers output integer token ids {y}, which cannot be added to; add Embedding "
                              "inside it")
        proj, how = None, ""
        if len(x.shape) == 3 and len(y.shape) == 3:
            (c, h, w), (c2, h2, w2) = x.shape, y.shape
            stride = next((s for s in range(1, max(h, w) + 1)
                           if (h - 1) // s + 1 == h2 and (w - 1) // s + 1 == w2), None)
            if stride is not None:
                proj = nn.Conv2d(c, c2, 1, stride=stride, bias=False)
                how = f"a 1×1 Conv2d({c} → {c2}{f', stride {stride}' if stride > 1 else ''}) on the skip"
            else:
                why = ("they make the image larger" if h2 > h or w2 > w
                       else f"no 1×1 convolution takes {h}×{w} to {h2}×{w2}")
                raise where.error(f"{changed}, and {why}; make the layers keep the height and width (padding = "
                                  "kernel_size // 2), or shrink them by a whole stride")
        elif len(x.shape) >= 1 and len(y.shape) == len(x.shape) and x.shape[:-1] == y.shape[:-1] \
                and len(x.shape) < 3:
            proj = nn.Linear(x.shape[-1], y.shape[-1], bias=False)
            how = f"a Linear({x.shape[-1]} → {y.shape[-1]}) on the skip"
        else:
            raise where.error(f"{changed}; make the last layers give {x} again")
        if not node.projection:
            raise where.error(f"{changed}; turn on projection ({how})", key="projection",
                              fix={"action": "set", "key": "projection", "value": True})
        return proj

    def parallel(self, node: ParallelSpec, x: Signal, where: Where) -> tuple[nn.Module, Signal]:
        if not node.branches:
            raise where.error("has no branches; add one (an empty branch passes the input on)", key="branches",
                              fix={"action": "set", "key": "branches", "value": [[], []]})
        row = self._open(where)
        branches, outs = [], []
        for b, nodes in enumerate(node.branches):
            mods, y = self.sequence(nodes, x, (*where.path, b), f"{where.field}.branches[{b}]")
            branches.append(nn.Sequential(*mods))
            outs.append(y)
        y, dim = self.merge(node, outs, where)
        module = Parallel(branches, node.merge, dim)
        self.rows[row] = Row(where.path, where.type, y.shape, _count(module))
        return module, y

    def merge(self, node: ParallelSpec, outs: list[Signal], where: Where) -> tuple[Signal, int]:
        """The merged output and the dimension a concat joins; errors name both shapes and offer a fix."""
        for b, y in enumerate(outs):
            if y.tokens:
                raise where.error(f"branch {b + 1} gives integer token ids {y}, which cannot be merged; add Embedding "
                                  "before the block")
        first = outs[0]
        axis = feature_axis(first.shape) if first.shape else 0
        for b, y in enumerate(outs[1:], start=2):
            if node.merge in ("add", "multiply"):
                if y.shape == first.shape:
                    continue
                concat = _joins(first.shape, y.shape, axis)
                raise where.error(
                    f"branch 1 gives {first} but branch {b} gives {y}; {node.merge} needs equal shapes"
                    + ("; merge by concat instead (it joins " + ("channels" if len(first.shape) == 3 else "features")
                       + ")" if concat else _resize_hint(first, y, b)),
                    key="merge", fix={"action": "set", "key": "merge", "value": "concat"} if concat
                    else _resize_fix(first, y, b, where))
            elif not first.shape or not _joins(first.shape, y.shape, axis):
                what = "channels, so heights and widths" if len(first.shape) == 3 else "features, so the other sizes"
                raise where.error(f"branch 1 gives {first} but branch {b} gives {y}; concat joins {what} must "
                                  f"match{_resize_hint(first, y, b)}", fix=_resize_fix(first, y, b, where))
        if node.merge != "concat":
            return first, 1
        size = sum(y.shape[axis] for y in outs)
        return Signal((*first.shape[:axis], size, *first.shape[axis + 1:])), axis + 1


def _joins(a: tuple[int, ...], b: tuple[int, ...], axis: int) -> bool:
    """Can outputs of shapes a and b be concatenated along `axis` (every other size equal)?"""
    return len(a) == len(b) and all(x == y for k, (x, y) in enumerate(zip(a, b, strict=True)) if k != axis)


def _scale(first: Signal, y: Signal) -> int | None:
    """k when image y is k times smaller (k > 0) or larger (k < 0) than `first` along both sides, else None."""
    if len(first.shape) != 3 or len(y.shape) != 3:
        return None
    (_, h, w), (_, h2, w2) = first.shape, y.shape
    if h2 and w2 and h % h2 == 0 and w % w2 == 0 and h // h2 == w // w2 > 1 and h2 * (h // h2) == h:
        return h // h2
    if h and w and h2 % h == 0 and w2 % w == 0 and h2 // h == w2 // w > 1:
        return -(h2 // h)
    return None


def _resize_hint(first: Signal, y: Signal, b: int) -> str:
    k = _scale(first, y)
    if k is None:
        return ""
    return (f"; end branch {b} with Upsample(scale_factor={k})" if k > 0
            else f"; end branch {b} with MaxPool2d(kernel_size={-k})")


def _resize_fix(first: Signal, y: Signal, b: int, where: Where) -> dict | None:
    """Insert an Upsample (or a MaxPool2d) at the end of branch b so its image matches branch 1's size."""
    k = _scale(first, y)
    if k is None:
        return None
    layer = {"type": "Upsample", "scale_factor": k} if k > 0 else {"type": "MaxPool2d", "kernel_size": -k}
    return {"action": "insert", "at": [*where.path, b - 1, 10_000], "layer": layer}  # clamped to its end


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def build_layers(spec: Spec, info: DataInfo, check_output: bool = True) -> tuple[list[nn.Module], Summary]:
    """Build every layer in order (blocks and the layers inside them); errors name the layer by its path and
    type (`layer 3.2.1 (Conv2d)`), with the shapes and a fix. Returns the top-level modules and the summary."""
    if not spec.model.layers:
        raise BuildError("model.layers: the model has no layers; add one (Linear is a good start)", path="model.layers",
                         fix={"action": "insert", "at": 0, "layer": {"type": "Linear"}})
    b = _Builder(info)
    modules, _ = b.sequence(spec.model.layers, Signal(tuple(info.input_shape), info.tokens), (), "model.layers")
    summary = Summary(tuple(info.input_shape), b.rows)
    if check_output:
        check_head(spec, info, summary)
        if not summary.total_params:  # optimizers refuse an empty parameter list
            raise BuildError("model.layers: no layer has parameters, so there is nothing to train; "
                             "add a Linear layer", path="model.layers",
                             fix={"action": "insert", "at": len(spec.model.layers), "layer": {"type": "Linear"}})
    return modules, summary


def partial_rows(spec: Spec, info: DataInfo) -> list[Row]:
    """The rows of every layer that builds before the first error (all of them when the layers build): what the
    builder can still show of a model that does not build. Unfinished blocks are left out."""
    b = _Builder(info)
    try:
        with torch.device("meta"):
            b.sequence(spec.model.layers, Signal(tuple(info.input_shape), info.tokens), (), "model.layers")
    except PlaygroundError:
        pass
    return [r for r in b.rows if r.output_shape or r.type not in BLOCKS]


def _inferred_value(module: nn.Module, key: str):
    for m in (module, getattr(module, "rnn", None), getattr(module, "attn", None)):
        v = getattr(m, key, None) if m is not None else None
        if v is not None:
            return v[0] if isinstance(v, tuple) and len(v) == 1 else v
    return None


def _check_inferred(layer: LayerSpec, where: Where, module: nn.Module) -> None:
    # A spec may spell out an inferred size (in_features=2); it must agree with the shape we computed.
    inferred = LAYERS.get(layer.type).inferred
    for key, given in layer.options().items():
        actual = _inferred_value(module, key) if key in inferred else None
        if isinstance(given, list) and len(given) == 1:
            given = given[0]
        if actual is not None and given != actual:
            raise where.error(f"{key}={given} but its input gives {actual}; remove {key} (it is inferred)", key=key,
                              fix={"action": "unset", "key": key})


def check_head(spec: Spec, info: DataInfo, summary: Summary) -> None:
    """The last layer must produce what the loss compares with the dataset's targets."""
    loss = LOSSES.get(spec.train.loss, "train.loss")
    out = summary.output_shape
    n = len(summary.top)
    last = spec.model.layers[-1].type
    where = f"layer {n} ({last})"
    try:
        wants = loss.shapes(info)
    except PlaygroundError as e:
        raise BuildError(e.message, path="train.loss",
                         fix={"action": "set_path", "path": ["train", "loss"], "value": default_loss(info.task)}) \
            from None
    want = wants[0]
    if tuple(out) not in wants:
        fix, hint = None, ""
        lin = _last_linear(spec)
        if len(want) == 1 and len(out) == 1 and lin is not None:
            fix = {"action": "set", "at": lin, "key": "out_features", "value": want[0]}
            hint = f"; set out_features={want[0]} on layer {lin + 1}"
        elif len(want) == 1 and len(out) == 1:
            fix = {"action": "insert", "at": n, "layer": {"type": "Linear", "out_features": want[0]}}
            hint = f"; end with Linear(out_features={want[0]})"
        elif len(want) == 1 and len(out) > 1:
            fix = {"action": "insert", "at": n, "layer": {"type": "Flatten"}}
            hint = "; end with Flatten and Linear"
        elif math.prod(out) == math.prod(want):
            fix = {"action": "insert", "at": n, "layer": {"type": "Unflatten", "dim": 1,
                                                          "unflattened_size": list(want)}}
            hint = f"; end with Unflatten(1, {list(want)})"
        else:
            hint = f"; change the last layers so that they output {shape_str(want)}"
        what = f"{info.n_classes} classes" if info.classification else f"targets of shape {shape_str(want)}"
        raise BuildError(f"{where}: the model outputs {shape_str(out)} but {spec.train.loss} on "
                         f"{info.name} needs {shape_str(want)} ({what}){hint}",
                         path=f"model.layers[{n - 1}]", layer=n - 1, fix=fix)


def suitable_data(modality: str, task: str | None = None) -> str | None:
    """A registered dataset of a modality (image, sequence, text) for "or choose such a dataset": the first
    one of the same kind of task as the data chosen now (a classifier is offered text to classify, not text
    to translate), else the first of that modality."""
    classes = {"binary", "multiclass"}

    def near(name: str) -> bool:  # both classify, or both ask the same other task
        other = DATASETS.get(name).task
        return other == task or {other, task} <= classes
    fits = [name for name, d in DATASETS.items() if d.modality == modality]
    return max(fits, key=near, default=None)


def _last_linear(spec: Spec) -> int | None:
    for i in range(len(spec.model.layers) - 1, -1, -1):
        if spec.model.layers[i].type == "Linear":
            return i
    return None


def build(spec: Spec, info: DataInfo) -> Network:
    """The model the spec describes, on the CPU, with PyTorch's default initialisation."""
    modules, _ = build_layers(spec, info)
    return Network(*modules)


def summarize(spec: Spec, info: DataInfo, check_output: bool = True) -> Summary:
    """Output shape and parameter count of every layer, without keeping the model."""
    with torch.device("meta"):  # shapes and counts only: no memory, no initialisation cost
        _, summary = build_layers(spec, info, check_output)
    return summary
