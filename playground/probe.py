"""Looking inside a model while and after it trains: end-of-run reports, live views, every layer's output.

Views are a registry `name -> fn(trainer, **options) -> dict of numpy arrays / plain values`; a job
asks its worker for the views it wants and gets them at a bounded rate (see `jobs.py`).
`capture` records what each layer outputs for a chosen input, `embedding` the penultimate layer's
view of a whole split. Health checks live in `health.py`, the loss landscape in `landscape.py`.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, fields

import numpy as np
import torch
from torch import nn

from .data import FEATURES, POINT_RANGE
from .layers import activations
from .modules import BLOCK_MODULES, Recurrent, Residual, SelfAttention, label, layers_in
from .registry import PlaygroundError, Registry


def report(trainer) -> dict:
    """The end-of-run report of the run's task (tasks.py, reports.py): a confusion matrix, reconstructions,
    masks, predicted vs. true values, or a GAN's samples."""
    return trainer.task.report(trainer)


def neuron_layers(model: nn.Module) -> list[int]:
    """Indices of the module outputs that show each dense layer's neurons (after its activation)."""
    mods = list(model)
    after = set(activations(elementwise=False)) | {"Dropout"}  # what a dense layer's neurons pass through
    shown = []
    for i, m in enumerate(mods[:-1]):
        if isinstance(m, nn.Linear):
            j = i
            while j + 1 < len(mods) and type(mods[j + 1]).__name__ in after:
                j += 1
            shown.append(j)
    return shown


def features_of(points: np.ndarray, names: list[str]) -> np.ndarray:
    """The feature columns a 2-D dataset feeds the network, for raw points (n, 2)."""
    return np.stack([FEATURES[f](points) for f in names], 1).astype(np.float32)


def grid_points(res: int) -> np.ndarray:
    """(res*res, 2) points of a res×res grid over the plot, row 0 at the top (y = +6)."""
    lin = np.linspace(-POINT_RANGE, POINT_RANGE, res, dtype=np.float32)
    gx, gy = np.meshgrid(lin, lin[::-1])
    return np.stack([gx.ravel(), gy.ravel()], 1)


def surface_of(out: torch.Tensor, info, loss) -> torch.Tensor:
    """What a 2-D model's outputs over the grid show: (n, classes) probabilities for a classifier (read
    as its loss trained them), else the first output (n, 1)."""
    return loss.probabilities(out) if info.classification else out[:, :1]


@torch.no_grad()
def decision_surface(model: nn.Module, info, loss, res: int = 100) -> np.ndarray:
    """(res, res, C) decision surface of a 2-D point model over the plot, row 0 at the top (see `surface_of`)."""
    if info.modality != "points":
        raise PlaygroundError(f"a decision surface needs a 2-D point dataset; {info.name} is {info.modality}")
    x = torch.from_numpy(features_of(grid_points(res), info.feature_names))
    out = outputs(model, x)
    return surface_of(out, info, loss).reshape(res, res, -1).numpy()


@torch.no_grad()
def outputs(model: nn.Module, x: torch.Tensor, chunk: int = 1024) -> torch.Tensor:
    """The model's outputs for `x` in chunks (bounded memory), in eval mode, on the CPU; the mode is restored."""
    was_training = model.training
    model.eval()
    try:
        device = next((p.device for p in model.parameters()), x.device)
        return torch.cat([model(x[i:i + chunk].to(device)).cpu() for i in range(0, len(x), chunk)])
    finally:
        model.train(was_training)


@torch.no_grad()
def grid2d(trainer, res: int = 40, points: int = 300, neuron_res: int | None = None, pack: bool = False) -> dict:
    """Decision surface, every neuron's map over the plane, the weights and the last hidden layer's view.

    `neuron_res` draws the per-neuron maps on a coarser grid (thumbnails need less than the surface);
    `pack` returns them as bytes, ready for a browser (see `pack2d`), so the app process only forwards them.
    """
    info = trainer.data.info
    if info.modality != "points":
        raise PlaygroundError(f"the 2-D views need a 2-D point dataset; {info.name} is {info.modality}")
    model = trainer.model
    mods = list(model)
    shown = neuron_layers(model)
    nres = neuron_res or res
    was_training = model.training
    model.eval()
    x = torch.from_numpy(features_of(grid_points(res), info.feature_names)).to(trainer.device)
    outs = []
    for m in mods:
        x = m(x)
        outs.append(x)
    if nres != res:  # a second, small pass for the thumbnails
        x = torch.from_numpy(features_of(grid_points(nres), info.feature_names)).to(trainer.device)
        small = []
        for m in mods[: (shown[-1] + 1 if shown else 0)]:
            x = m(x)
            small.append(x)
    else:
        small = outs
    surface = surface_of(outs[-1], info, trainer.loss_type)
    # The last hidden layer's view of the training points (first two PCA axes if it is wider than 2).
    hidden = trainer.x_train[:points]
    for m in mods[: (shown[-1] + 1 if shown else 0)]:
        hidden = m(hidden)
    model.train(was_training)
    linear = [m for m in mods if isinstance(m, nn.Linear)]
    view = {
        "res": res,
        "neuron_res": nres,
        "surface": surface.reshape(res, res, -1).cpu().numpy().astype(np.float16),  # (res, res, C or 1)
        "neurons": [small[i].T.reshape(-1, nres, nres).cpu().numpy().astype(np.float16) for i in shown],
        "weights": [m.weight.detach().cpu().numpy() for m in linear],  # (out, in) each
        "biases": [m.bias.detach().cpu().numpy() if m.bias is not None else np.zeros(m.out_features, np.float32)
                   for m in linear],
        "hidden": _pca2(hidden.cpu().numpy()),
        "hidden_labels": trainer.data.y_train[:points].numpy(),
        "epoch": trainer.epoch,
    }
    return pack2d(view) if pack else view


def _u8(v) -> np.ndarray:
    """-1 … 1 (clamped; NaN and inf to the middle) as 0 … 255."""
    v = np.nan_to_num(np.asarray(v, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    return np.rint((np.clip(v, -1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)


def pack2d(view: dict) -> dict:
    """A `grid2d` view as bytes for drawing: every map 0 … 255 for -1 … 1, in one flat uint8 array each.

    surface: mode 'diverging' (p(class 0) - p(class 1), or the regression output; one byte a pixel) or
    'classes' (the likeliest class and its probability; two bytes a pixel). neurons: every map of every
    hidden layer in order (`layers` gives their counts). hidden: the projected points scaled to -1 … 1.
    Weights and biases stay float32.
    """
    if view.get("packed"):
        return view
    with np.errstate(invalid="ignore", over="ignore"):  # a diverged model: NaN and inf become the middle
        s = np.asarray(view["surface"], dtype=np.float32)  # (res, res, C)
        if s.shape[-1] == 1:
            mode, surface = "diverging", _u8(s[..., 0])
        elif s.shape[-1] == 2:
            mode, surface = "diverging", _u8(s[..., 0] - s[..., 1])
        else:
            conf = np.nan_to_num(s.max(-1), nan=0.0).clip(0, 1)
            mode, surface = "classes", np.stack([np.nan_to_num(s, nan=0.0).argmax(-1), np.rint(conf * 255)], -1)
        h = np.nan_to_num(np.asarray(view["hidden"], dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
        scale = float(np.abs(h).max()) if h.size else 0.0
        neurons = [np.asarray(n) for n in view["neurons"]]
        return {**view, "packed": True, "mode": mode, "surface": surface.astype(np.uint8).ravel(),
                "layers": [int(n.shape[0]) for n in neurons],
                "neurons": np.concatenate([_u8(n).ravel() for n in neurons]) if neurons else np.zeros(0, np.uint8),
                "hidden": _u8(h / scale if scale > 0 else h).ravel(), "hidden_scale": scale}


def _pca2(h: np.ndarray) -> np.ndarray:
    if h.shape[1] <= 2:
        return h if h.shape[1] == 2 else np.concatenate([h, np.zeros_like(h)], 1)
    c = h - h.mean(0)
    _, _, vt = np.linalg.svd(c, full_matrices=False)
    vt = vt[:2] * np.sign(vt[:2].sum(1, keepdims=True) + 1e-12)  # a fixed sign: no flip between frames
    return c @ vt.T


# ---- every layer's output ---------------------------------------------------------------------

def type_name(m: nn.Module) -> str:
    """The spec's name for a layer module (Recurrent → its cell, SelfAttention → MultiheadAttention)."""
    if isinstance(m, Recurrent):
        return type(m.rnn).__name__
    if isinstance(m, SelfAttention):
        return "MultiheadAttention"
    return type(m).__name__


def layer_name(index: int | tuple[int, ...], m: nn.Module) -> str:
    """'layer 3 (Conv2d)', 'layer 3.2.1 (Conv2d)' inside blocks: how messages name a layer (1-based, as users
    count); `index` is the 0-based index of a top-level layer or the layer's path."""
    return f"layer {label(index if isinstance(index, tuple) else (index,))} ({type_name(m)})"


def layers_of(model: nn.Module) -> list[nn.Module]:
    """The model's layers in order: the items of a Sequential, else its direct children."""
    return list(model) if isinstance(model, nn.Sequential) else list(model.children())


def param_layers(model: nn.Module) -> list[tuple[tuple[int, ...], nn.Module, list[nn.Parameter]]]:
    """(path, layer, its parameters) for every layer that has parameters, in the order they run; the layers
    inside blocks by their paths (a Residual's projection on the skip counts as the block's own, after its
    layers). A path is (i,) for the top-level layer i."""
    out = []
    for path, m in layers_in(model):
        if isinstance(m, BLOCK_MODULES):
            continue
        ps = [p for p in m.parameters() if p.requires_grad]
        if ps:
            out.append((path, m, ps))
    for path, m in layers_in(model):  # a projection runs after the block's layers: put it there
        if isinstance(m, Residual) and m.skip is not None:
            ps = [p for p in m.skip.parameters() if p.requires_grad]
            after = [j for j, (q, *_) in enumerate(out) if q[:len(path)] == path]
            out.insert(after[-1] + 1 if after else _position(out, path), (path, m, ps))
    return out


def _position(rows: list, path: tuple[int, ...]) -> int:
    """Where a row for `path` goes among rows in running order (before the first one that runs later)."""
    return next((j for j, (q, *_) in enumerate(rows) if q > path), len(rows))


@dataclass(slots=True)
class LayerOutput:
    """One layer's output for a captured batch, plus what the layer adds for seeing inside it.

    `values` is (B, *shape) float32 unless `truncated` says what was left out to bound memory; then
    `stats` holds min/max/mean/std of the full output. Extras (None when the layer has none):
    `attention` (B, heads, T, T) per-head attention weights; `sequence` (B, T, H·directions) the hidden
    state at every step of a recurrent layer (even when it returns only the last); `kernels`
    (out_channels, in_channels, kh, kw) a Conv2d's learned filters.
    """

    index: int  # 0-based position in the model
    type: str  # layer type as the spec names it
    shape: tuple[int, ...]  # the full per-sample output shape (no batch dimension)
    values: np.ndarray
    truncated: str = ""  # '' or, in words, what `values` leaves out
    stats: dict | None = None
    attention: np.ndarray | None = None
    sequence: np.ndarray | None = None
    kernels: np.ndarray | None = None

    @property
    def name(self) -> str:
        """'layer 3 (Conv2d)'."""
        return f"layer {self.index + 1} ({self.type})"

    def to_dict(self) -> dict:
        """A plain dict (numpy arrays stay arrays, not copied; shape becomes a list)."""
        return {**{f.name: getattr(self, f.name) for f in fields(self)}, "shape": list(self.shape), "name": self.name}


def _bounded(t: torch.Tensor, max_elements: int) -> tuple[np.ndarray, str]:
    """(B, *s) tensor → float32 numpy of at most `max_elements`, and what was dropped ('' if nothing).

    Drops, in order and only as far as needed: later samples, later channels (or rows), every other
    pixel (images), then the tail of the flattened sample: the first sample's first maps stay whole.
    """
    if t.numel() <= max_elements:
        # the common case, kept cheap: a CPU float32 output is shared with numpy, not copied
        return (t if t.dtype == torch.float32 and t.device.type == "cpu" else t.float().cpu()).numpy(), ""
    notes = []
    b, s = t.shape[0], tuple(t.shape[1:])
    per = max(1, math.prod(s))
    if per <= max_elements:
        k = max_elements // per
        t, notes = t[:k], [f"kept the first {k} of {b} samples"]
    else:
        t, notes = t[:1], [f"kept the first of {b} samples"] if b > 1 else []
        if len(s) >= 2:
            c = max(1, max_elements // math.prod(s[1:]))
            if c < s[0]:
                t = t[:, :c]
                notes.append(f"kept the first {c} of {s[0]} {'channels' if len(s) == 3 else 'rows'}")
        if len(s) == 3 and t.numel() > max_elements:
            f = math.ceil(math.sqrt(t.numel() / max_elements))
            t = t[..., ::f, ::f]
            notes.append(f"kept one pixel in {f} along each side")
        if t.numel() > max_elements:
            t = t.reshape(len(t), -1)[:, :max_elements]
            notes.append(f"kept the first {max_elements} values, flattened")
    # clone: a slice is a view that would keep the whole output alive
    return t.float().cpu().clone().numpy(), "; ".join(notes)


def _stats(t: torch.Tensor) -> dict:
    t = t.float()
    v = torch.stack([t.min(), t.max(), t.mean(), t.std() if t.numel() > 1 else t.new_zeros(())]).cpu().tolist()
    return dict(zip(("min", "max", "mean", "std"), v, strict=True))


def _attention(m: nn.TransformerEncoderLayer, src: torch.Tensor) -> torch.Tensor:
    """(B, heads, T, T) attention weights of an encoder layer for its input `src` (a second attention pass)."""
    src = m.norm1(src) if m.norm_first else src  # what its self_attn sees
    return m.self_attn(src, src, src, need_weights=True, average_attn_weights=False)[1]


_INSIDE = (nn.TransformerEncoderLayer, SelfAttention, Recurrent)  # layers with more to show
_NAMES = {c: c.__name__ for c in (nn.Linear, nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.Flatten, nn.Tanh, nn.Sigmoid)}


def capture(model: nn.Module, x: torch.Tensor, max_elements: int = 65536, kernels: bool = True) -> list[LayerOutput]:
    """Every layer's output for the batch `x` (usually one sample), in eval mode, without an autograd graph.

    Each output keeps at most `max_elements` values (see `LayerOutput.truncated`); attention weights,
    recurrent hidden states over time and (unless `kernels` is False: they do not change from one input
    to the next) convolution kernels come with their layers. `x` goes to the model's device. The cost over
    a forward pass is a few microseconds a layer (see benchmarks/inspection.py).
    """
    if not isinstance(model, nn.Sequential):
        raise PlaygroundError("capture reads a sequential model (what a spec builds); this one is "
                              f"{type(model).__name__}")
    plan = _plan(model)
    seqs: dict[int, torch.Tensor] = {}
    hooks, kept = [], {}
    for i, m, *_ in plan.layers if plan.inside else ():
        if isinstance(m, Recurrent):  # the whole sequence, before the layer keeps only the last step
            hooks.append(m.rnn.register_forward_hook(lambda _m, _x, out, i=i: seqs.__setitem__(i, out[0])))
        elif isinstance(m, SelfAttention):
            kept[m] = m.keep_weights  # restored afterwards
            m.keep_weights = True
    was_training = model.training
    if was_training:  # switching modes walks every module: skip it when there is nothing to switch
        model.eval()
    h = x if plan.weight is None else x.to(plan.weight.device)  # a no-op when it is there already
    f32, cpu = torch.float32, h.device.type == "cpu"
    records, pending = [], []
    try:
        # no_grad, not inference_mode: measured here, inference tensors are slower to hand to NumPy
        with torch.no_grad():
            # the layers one by one, as Sequential.forward runs them: no per-layer hook to pay for
            for i, m, name, inside, conv, rnn in plan.layers:
                src, h = h, m(h)
                if rnn:  # a bare nn.RNN returns (output, state)
                    h = h[0]
                if h.numel() <= max_elements:
                    if cpu and h.dtype is f32:  # the common case, kept cheap
                        values = h.numpy()  # shared with the tensor, not copied
                        rec = LayerOutput(i, name, values.shape[1:], values)
                    else:  # on a GPU: converted below, all layers in one transfer
                        rec = LayerOutput(i, name, tuple(h.shape[1:]), None)
                        pending.append((rec, h))
                else:
                    values, note = _bounded(h, max_elements)
                    rec = LayerOutput(i, name, tuple(h.shape[1:]), values, note, _stats(h) if note else None)
                if inside:
                    _extras(rec, m, src, seqs.get(i), kept, max_elements)
                elif kernels and conv:
                    rec.kernels = _kernels(m.weight, max_elements)
                records.append(rec)
    finally:
        if was_training:
            model.train()
        for hook in hooks:
            hook.remove()
        for m, keep in kept.items():
            m.keep_weights = keep
    if pending:  # one device-to-host copy for every layer, not one sync each
        flat = torch.cat([t.reshape(-1).float() for _, t in pending]).cpu().numpy()
        pos = 0
        for rec, t in pending:
            rec.values = flat[pos:pos + t.numel()].reshape(t.shape)
            pos += t.numel()
    for rec, (*_, rnn) in zip(records, plan.layers, strict=True) if plan.rnn else ():
        if rnn:  # a bare RNN's output is its sequence already
            rec.sequence = rec.values
    return records


def _kernels(w: torch.Tensor, max_elements: int) -> np.ndarray:
    """A copy of a convolution's kernels (out, in, kh, kw): the live weights go on changing as it trains
    (a version counter cannot tell: fused optimizers update in place without bumping it)."""
    w = w.detach()
    if w.device.type == "cpu" and w.dtype is torch.float32 and w.numel() <= max_elements:
        return w.numpy().copy()
    return _bounded(w[None].clone(), max_elements)[0][0]


@dataclass
class _Plan:
    """What capture needs to know of each layer, worked out once per model (while its layers stay the same)."""

    modules: tuple  # the layers it was made for
    layers: tuple  # (index, module, name, has more to show, is Conv2d, is a bare RNN) per layer
    weight: torch.Tensor | None  # the first layer's own first parameter: it tells the device (`.to` keeps it)
    inside: bool  # some layer has more to show (attention, a sequence over time)
    rnn: bool  # some layer is a bare RNN


_PLANS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _plan(model: nn.Sequential) -> _Plan:
    modules = tuple(model._modules.values())
    plan = _PLANS.get(model)
    if plan is None or plan.modules != modules:  # identity per layer: a swapped layer makes a new plan
        layers = tuple((i, m, _NAMES.get(type(m)) or type_name(m), isinstance(m, _INSIDE),
                        isinstance(m, nn.Conv2d), isinstance(m, nn.RNNBase)) for i, m in enumerate(modules))
        first = next((p for m in modules for p in m._parameters.values() if p is not None), None)
        plan = _PLANS[model] = _Plan(modules, layers, first, any(r[3] for r in layers), any(r[5] for r in layers))
    return plan


def _extras(rec: LayerOutput, m: nn.Module, src: torch.Tensor, seq: torch.Tensor | None,
            kept: dict, max_elements: int) -> None:
    """Fill in what a layer adds to its output: attention weights or the sequence over time."""
    if isinstance(m, nn.TransformerEncoderLayer):
        rec.attention = _bounded(_attention(m, src), max_elements)[0]  # (B, heads, T, T)
    elif isinstance(m, SelfAttention):
        rec.attention = _bounded(m.last_weights, max_elements)[0]  # (B, heads, T, T)
        if not kept[m]:
            m.last_weights = None  # it was not asked to keep them: do not hold the memory
    elif isinstance(m, Recurrent):
        rec.sequence = _bounded(seq, max_elements)[0]  # (B, T, H · directions)


# ---- the penultimate layer's view of the data ----------------------------------------------------

def _pca(h: np.ndarray, k: int = 2) -> tuple[np.ndarray, list[float]]:
    """(n, D) → (n, k) projection on the top principal axes (sign fixed) and their variance fractions."""
    c = (h - h.mean(0)).astype(np.float64)
    if c.shape[1] < k:
        c = np.concatenate([c, np.zeros((len(c), k - c.shape[1]))], 1)
    _, sv, vt = np.linalg.svd(c, full_matrices=False)
    vt = vt[:k]
    # a fixed sign (the largest-magnitude loading positive): the picture does not flip between calls
    vt = vt * np.sign(vt[np.arange(k), np.abs(vt).argmax(1)])[:, None]
    total = float((sv ** 2).sum())
    ratio = [float(v) / total if total > 0 else 0.0 for v in (sv[:k] ** 2)]
    return (c @ vt.T).astype(np.float32), ratio


@torch.no_grad()
def embedding(model: nn.Module, x: torch.Tensor, labels: torch.Tensor | np.ndarray | None = None,
              max_samples: int = 2000, chunk: int = 1024) -> dict:
    """The penultimate layer's output (the input of the last layer with weights) for `x`, PCA'd to 2-D.

    Returns points (n, 2) float32, labels (n,) or None, layer (0-based index of the layer whose output
    it is; -1 for the raw input), name, dim (its width before PCA) and explained (variance fractions).
    """
    layers = layers_of(model)
    pl = param_layers(model)
    if not pl:
        raise PlaygroundError("the model has no layer with weights, so it has no penultimate layer")
    head = pl[-1][0][0]  # the top-level layer holding the last weights (a block whole)
    x = x[:max_samples]
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        feats = []
        for i in range(0, len(x), chunk):
            h = x[i:i + chunk].to(device)
            for m in layers[:head]:
                h = m(h)
            feats.append(h.reshape(len(h), -1).float().cpu())
    finally:
        model.train(was_training)
    h = torch.cat(feats).numpy()
    points, explained = _pca(h)
    lab = None if labels is None else np.asarray(labels[:max_samples])
    return {"points": points, "labels": lab, "layer": head - 1,
            "name": layer_name(head - 1, layers[head - 1]) if head else "the input", "dim": int(h.shape[1]),
            "explained": explained}


VIEWS: Registry = Registry("view")
VIEWS.add("grid2d", grid2d)
