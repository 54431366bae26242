"""How much memory a run will take, estimated before it starts, and the caps a host puts on it.

A parameter count alone does not bound memory: an 8-parameter model of two Upsample ×16 layers on 64×64
images asks for 34 GB in one batch. So before a job starts, its model runs once on PyTorch's `meta` device
(shapes only, no memory, no arithmetic) while a dispatch mode adds up the bytes of every tensor each layer
makes. From that, per sample, follow:
- training: what the forward pass keeps for backward, about as much again for its gradients (×2),
  for one batch;
- evaluation: the validation split in one pass without gradients (the end-of-run report does that): at
  most one layer's input and its tensors at a time;
- the parameters, their gradients and the optimizer's state, the dataset's tensors, the targets as the
  loss wants them, and the epoch's outputs kept for the accuracy;
- and before all that, building the dataset, which peaks at about BUILD times its final size.
The estimate errs high (every op's output counts, including ones PyTorch frees early); it is meant to
refuse a run that cannot fit, with a message naming the layer that makes it large.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .build import build_layers
from .caps import BUILD, MB, NO_CAPS, Caps, MemoryLimit, caps, fmt, using  # noqa: F401 (the caps, re-exported)
from .losses import LOSSES

BACKWARD = 2  # activations kept for backward, plus their gradients while backward runs
OPTIMIZER_SLOTS = {"SGD": 0, "Adam": 2, "AdamW": 2, "RMSprop": 1, "Adagrad": 1}  # per-parameter tensors


@dataclass
class LayerCost:
    """One layer's (or block's) share, per sample: its output shape, the bytes it makes itself (a block: its
    merge; its layers have their own), and its peak without grads."""

    index: str  # its number as users read it: '3', or '3.2.1' inside blocks
    type: str
    output_shape: tuple[int, ...]
    forward_bytes: float  # every tensor the layer makes for one sample in training mode
    eval_bytes: float  # its input plus what it makes (a block: with its layers), for one sample, without gradients
    block: bool = False  # a Residual or Parallel block (its layers have rows of their own)
    network: str = ""  # '' for the model; else the other network it belongs to ("discriminator")

    @property
    def name(self) -> str:
        return f"{self.network + ' ' if self.network else ''}layer {self.index} ({self.type})"


@dataclass
class Estimate:
    """A run's memory, estimated; `total` is what is compared with the cap."""

    layers: list[LayerCost]
    batch: int
    n_train: int
    n_val: int
    data_bytes: int
    params: int
    param_bytes: int  # parameters, gradients and optimizer state
    train_bytes: float  # one training batch's activations, with backward
    eval_bytes: float  # the validation split in one pass without gradients
    extra_bytes: float  # targets as the loss wants them, and an epoch's outputs for the accuracy

    @property
    def training(self) -> float:
        """While it trains: data, model and optimizer state, targets, and the larger of a batch or the
        validation pass."""
        return self.data_bytes + self.param_bytes + self.extra_bytes + max(self.train_bytes, self.eval_bytes)

    @property
    def total(self) -> float:
        """The peak: building the dataset, or training, whichever is larger."""
        return max(BUILD * self.data_bytes, self.training)

    def explain(self, cap: int) -> str:
        """Why the run is over `cap`, starting with what makes it large: a layer, the data or the model."""
        over = f"this run needs about {fmt(self.total)}, over this server's {fmt(cap)} a run"
        largest = max(self.param_bytes, self.extra_bytes, self.train_bytes, self.eval_bytes)
        if BUILD * self.data_bytes >= self.training:
            return (f"data: building the dataset takes about {fmt(BUILD * self.data_bytes)} (it holds "
                    f"{fmt(self.data_bytes)}); {over}: use fewer samples")
        if self.layers and largest in (self.train_bytes, self.eval_bytes):
            training = self.train_bytes >= self.eval_bytes
            layers = [c for c in self.layers if not c.block] or self.layers  # name a layer, not a block
            layer = max(layers, key=lambda c: c.forward_bytes if training else c.eval_bytes)
            shape = "×".join(map(str, layer.output_shape)) or "1"
            if training:
                made = layer.forward_bytes * self.batch * BACKWARD
                return (f"{layer.name}: output {shape} per sample, × {self.batch} batch = {fmt(made)} with what "
                        f"backward keeps; {over}: lower the batch size or make this layer's output smaller")
            made = layer.eval_bytes * self.n_val
            return (f"{layer.name}: output {shape} per sample, × {self.n_val:,} validation samples evaluated "
                    f"at once = {fmt(made)}; {over}: use fewer samples or make this layer's output smaller")
        if largest == self.param_bytes:
            return (f"model.layers: {self.params:,} parameters with their gradients and optimizer state take "
                    f"{fmt(self.param_bytes)}; {over}: use fewer or smaller layers")
        return (f"data: the dataset and its targets take {fmt(self.data_bytes + self.extra_bytes)}; {over}: "
                "use fewer samples")


def estimate(spec, sketch) -> Estimate:
    """The memory a run of `spec` on the dataset `sketch` (data.Sketch) will take, by a dry run on `meta`: of
    every network the run trains (tasks.parts: a GAN's generator and discriminator step one after the other,
    and their batches' tensors are counted together)."""
    from dataclasses import replace

    from .tasks import of, parts
    task = of(spec, sketch.info)
    nets = parts(spec, sketch.info)
    if len(nets) == 1:
        return _estimate(spec, sketch, task)
    ests = [_estimate(s, replace(sketch, info=info), task, "" if i == 0 else name)
            for i, (name, s, info) in enumerate(nets)]
    first = ests[0]
    return Estimate(layers=[c for e in ests for c in e.layers], batch=first.batch, n_train=first.n_train,
                    n_val=first.n_val, data_bytes=first.data_bytes, params=sum(e.params for e in ests),
                    param_bytes=sum(e.param_bytes for e in ests), train_bytes=sum(e.train_bytes for e in ests),
                    eval_bytes=max(e.eval_bytes for e in ests), extra_bytes=sum(e.extra_bytes for e in ests))


def _estimate(spec, sketch, task, network: str = "") -> Estimate:
    info = sketch.info
    layers, params = _dry_run(spec, info, build_layers, network)
    slots = OPTIMIZER_SLOTS.get(spec.train.optimizer.type, 2)
    if spec.train.optimizer.type in ("SGD", "RMSprop") and spec.train.optimizer.options().get("momentum"):
        slots += 1
    batch = max(1, min(spec.train.batch_size, sketch.n_train))
    top = [c for c in layers if "." not in c.index]  # the model's own layers (blocks as one)
    out = math.prod(top[-1].output_shape) if top else 1
    loss = LOSSES.get(spec.train.loss, "train.loss") if spec.train.loss in LOSSES else None
    # targets as the loss wants them: none for class ids (kept as they are) or a GAN (it compares with no target)
    stored = task.loss_option == "train.loss" and not (loss is not None and loss.kind == "labels")
    targets = sketch.n * out * 4 if stored else 0
    outputs = sketch.n_train * out * 4 if task.metric is not None and task.metric.keeps_outputs else 0
    return Estimate(
        layers=layers, batch=batch, n_train=sketch.n_train, n_val=sketch.n_val, data_bytes=sketch.bytes,
        params=params, param_bytes=params * 4 * (2 + slots),
        train_bytes=sum(c.forward_bytes for c in layers) * batch * BACKWARD,
        eval_bytes=max((c.eval_bytes for c in layers), default=0) * sketch.n_val,
        extra_bytes=targets + outputs)


def check(spec, sketch, cap: int | None | bool = True) -> Estimate:
    """The estimate, or MemoryLimit naming what makes the run large when it is over `cap` (True: `caps()`)."""
    est = estimate(spec, sketch)
    cap = caps().job_bytes if cap is True else cap
    if cap and est.total > cap:
        raise MemoryLimit(est.explain(cap), path="model.layers")
    return est


def _dry_run(spec, info, build_layers, network: str = "") -> tuple[list[LayerCost], int]:
    """Per-layer bytes for one sample, and the parameter count: the model runs on `meta` (a batch of 2, so
    BatchNorm can train). Inside a block, hooks tell which layer is running: each tensor counts for the
    innermost one (a block's own tensors are its merge), and towards the peak of every block around it."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    from .modules import BLOCK_MODULES, label, layers_in, module_at

    class Count(TorchDispatchMode):
        def __init__(self) -> None:
            super().__init__()
            self.running: list[tuple] = []  # paths of the layers running now, innermost last
            self.own: dict[tuple, float] = {}
            self.within: dict[tuple, float] = {}

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            results = out if isinstance(out, (tuple, list)) else (out,)
            for ret, t in zip(func._schema.returns, results, strict=False):
                if isinstance(t, torch.Tensor) and ret.alias_info is None:  # views and in-place ops: no new memory
                    made = t.numel() * t.element_size()
                    if self.running:
                        self.own[self.running[-1]] = self.own.get(self.running[-1], 0) + made
                    for path in self.running:
                        self.within[path] = self.within.get(path, 0) + made
            return out

    with torch.device("meta"):
        modules, summary = build_layers(spec, info, check_output=False)
        x = torch.empty((2, *info.input_shape), dtype=torch.long if info.tokens else torch.float32)
    rows = {r.path: r for r in summary.rows}
    count, inputs = Count(), {}

    def enter(path: tuple, args: tuple) -> None:
        count.running.append(path)
        inputs[path] = args[0].numel() * args[0].element_size()

    hooks = []
    for path, m in layers_in(torch.nn.Sequential(*modules)):
        if len(path) > 1:  # top-level layers run one by one below; hooks see the ones inside blocks
            hooks.append(m.register_forward_pre_hook(lambda _m, args, p=path: enter(p, args)))
            hooks.append(m.register_forward_hook(lambda *_: count.running.pop() and None))
    costs = []
    try:
        for i, module in enumerate(modules):
            module.train()
            in_bytes = x.numel() * x.element_size() / 2
            count.running[:] = [(i,)]
            try:
                with count:
                    y = module(x)
                y = y[0] if isinstance(y, tuple) else y
            except Exception:  # a layer without meta kernels: count each output alone
                y = torch.empty((2, *rows[(i,)].output_shape), device="meta")
                for p in [p for p in rows if p[0] == i]:
                    count.own[p] = count.within[p] = math.prod(rows[p].output_shape) * 4 * 2
            for p in [p for p in rows if p[0] == i]:
                r, block = rows[p], isinstance(module_at(modules, p), BLOCK_MODULES)
                mine = (in_bytes if p == (i,) else inputs.get(p, 0) / 2) + \
                    (count.within if block else count.own).get(p, 0) / 2
                costs.append(LayerCost(label(p), r.type, tuple(r.output_shape), count.own.get(p, 0) / 2, mine, block,
                                      network))
            x = y
    finally:
        for h in hooks:
            h.remove()
    return costs, summary.total_params

