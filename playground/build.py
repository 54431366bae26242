"""Spec + dataset shape → torch model, inferring every input size by propagating shapes."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from .data import DATASETS, DataInfo
from .layers import LAYERS, ShapeError, Signal
from .losses import LOSSES
from .losses import default as default_loss
from .modules import Network
from .registry import PlaygroundError, check_options
from .spec import LayerSpec, Spec


class BuildError(PlaygroundError):
    """A layer cannot be built; the message starts with `layer N (Type):`."""


@dataclass
class Row:
    """One line of the summary table."""

    index: int  # 1-based, as users count
    type: str
    output_shape: tuple[int, ...]
    params: int


@dataclass
class Summary:
    input_shape: tuple[int, ...]
    rows: list[Row]

    @property
    def total_params(self) -> int:
        return sum(r.params for r in self.rows)

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.rows[-1].output_shape if self.rows else self.input_shape

    def table(self) -> str:
        """A plain-text table: layer number, type, output shape, parameters; then the total."""
        lines = [f"{'#':>3}  {'layer':<24} {'output shape':<20} {'params':>10}",
                 f"{'':>3}  {'input':<24} {shape_str(self.input_shape):<20} {'':>10}"]
        lines += [f"{r.index:>3}  {r.type:<24} {shape_str(r.output_shape):<20} {r.params:>10,}" for r in self.rows]
        lines.append(f"total parameters: {self.total_params:,}")
        return "\n".join(lines)


def shape_str(shape: tuple[int, ...]) -> str:
    """(N, …) text for a per-sample shape."""
    return "(N" + "".join(f", {s}" for s in shape) + ")"


def layer_options(layer: LayerSpec, i: int) -> dict:
    """A layer's options checked against the registry; inferred arguments are allowed but not passed on.
    Errors carry the repair: the closest known type, or the option removed, clamped or back to its default."""
    try:
        kind = LAYERS.get(layer.type, f"layer {i + 1} ({layer.type})")
    except PlaygroundError as e:
        close = [n for n in LAYERS.names() if f"'{n}'" in e.message]
        fix = {"action": "replace", "at": i, "layer": {"type": close[0]}} if close else {"action": "delete", "at": i}
        raise BuildError(e.message + ("" if close else "; delete it and add a layer from the palette"),
                         path=f"model.layers[{i}].type", layer=i, fix=fix) from None
    try:
        return check_options(kind.params, layer.options(), f"layer {i + 1} ({layer.type})", reserved=kind.inferred)
    except PlaygroundError as e:
        key = next((k for k in layer.options() if f" {k} " in e.message or f"'{k}'" in e.message), None)
        raise BuildError(e.message, path=f"model.layers[{i}]" + (f".{key}" if key else ""), layer=i,
                         fix=_option_fix(kind.params, layer.options(), key, i)) from None


def _option_fix(params, given: dict, key: str | None, i: int) -> dict | None:
    """The repair of a refused option: remove an unknown one, clamp a number into range, else its default."""
    p = next((p for p in params if p.name == key), None)
    if key is None:
        return None
    if p is None:
        return {"action": "unset", "at": i, "key": key}
    value = given[key]
    if p.kind in ("int", "float") and isinstance(value, (int, float)) and not isinstance(value, bool) \
            and value == value and p.min is not None and p.max is not None:
        clamped = min(max(value, p.min), p.max)
        return {"action": "set", "at": i, "key": key, "value": int(clamped) if p.kind == "int" else float(clamped)}
    return {"action": "unset", "at": i, "key": key}  # back to the registry's default


def build_layers(spec: Spec, info: DataInfo, check_output: bool = True) -> tuple[list[nn.Module], Summary]:
    """Build every layer in order; errors name the layer by number and type, with the shapes and a fix."""
    x = Signal(tuple(info.input_shape), info.tokens)
    ctx = {"vocab_size": len(info.vocab)}
    modules, rows = [], []
    if not spec.model.layers:
        raise BuildError("model.layers: the model has no layers; add one (Linear is a good start)", path="model.layers",
                         fix={"action": "insert", "at": 0, "layer": {"type": "Linear"}})
    n = len(spec.model.layers)
    for i, layer in enumerate(spec.model.layers):
        opts = layer_options(layer, i)
        try:
            module, y = LAYERS.get(layer.type).make(x, ctx, **opts)
        except ShapeError as e:
            fix = dict(e.fix, at=i) if e.fix else None
            data = suitable_data(e.want) if e.want and e.want != info.modality else None
            raise BuildError(f"layer {i + 1} ({layer.type}): {e.message}", path=f"model.layers[{i}]",
                             layer=i, fix=fix, alternatives=[{"action": "data", "name": data}] if data else []) \
                from None
        _check_inferred(layer, i, module)
        modules.append(module)
        rows.append(Row(i + 1, layer.type, y.shape, sum(p.numel() for p in module.parameters())))
        x = y
    summary = Summary(tuple(info.input_shape), rows)
    if check_output:
        check_head(spec, info, summary)
        if not summary.total_params:  # optimizers refuse an empty parameter list
            raise BuildError("model.layers: no layer has parameters, so there is nothing to train; "
                             "add a Linear layer", path="model.layers",
                             fix={"action": "insert", "at": n, "layer": {"type": "Linear"}})
    return modules, summary


def _inferred_value(module: nn.Module, key: str):
    for m in (module, getattr(module, "rnn", None), getattr(module, "attn", None)):
        v = getattr(m, key, None) if m is not None else None
        if v is not None:
            return v[0] if isinstance(v, tuple) and len(v) == 1 else v
    return None


def _check_inferred(layer: LayerSpec, i: int, module: nn.Module) -> None:
    # A spec may spell out an inferred size (in_features=2); it must agree with the shape we computed.
    inferred = LAYERS.get(layer.type).inferred
    for key, given in layer.options().items():
        actual = _inferred_value(module, key) if key in inferred else None
        if isinstance(given, list) and len(given) == 1:
            given = given[0]
        if actual is not None and given != actual:
            raise BuildError(f"layer {i + 1} ({layer.type}): {key}={given} but its input gives {actual}; "
                             f"remove {key} (it is inferred)", path=f"model.layers[{i}].{key}", layer=i,
                             fix={"action": "unset", "at": i, "key": key})


def check_head(spec: Spec, info: DataInfo, summary: Summary) -> None:
    """The last layer must produce what the loss compares with the dataset's targets."""
    loss = LOSSES.get(spec.train.loss, "train.loss")
    out = summary.output_shape
    n = len(summary.rows)
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


def suitable_data(modality: str) -> str | None:
    """The first registered dataset of a modality (image, sequence, text), for "or choose such a dataset"."""
    return next((name for name, d in DATASETS.items() if d.modality == modality), None)


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
