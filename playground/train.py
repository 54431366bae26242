"""Training: the optimizer, schedule and init registries, and a Trainer that steps one batch at a time.

The hot loop does exactly what a hand-written PyTorch loop does plus one on-device add for the running
loss (and one for the running accuracy): metrics stay on the device and are read once an epoch, so the
GPU never waits for the host in the middle of an epoch.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import nn

from .build import build
from .data import DataInfo, Dataset, load
from .data import info as data_info
from .loop import EpochLoop
from .losses import LOSSES, LossType  # noqa: F401 (re-exported: older callers import them from here)
from .registry import Param, PlaygroundError, Registry, check_options
from .rng import RunRNG, draws_randomly
from .spec import Spec
from .tasks import of as task_of
from .tasks import summarize as task_summary


class TrainingError(PlaygroundError):
    """Training cannot go on (the loss became NaN, the device is missing, ...)."""


# ---- optimizers and schedules ----------------------------------------------------------------

@dataclass(frozen=True)
class Choice:
    """An optimizer, schedule or init: a description, its options, and how to make it.

    An optimizer also has a learning rate that suits it on this playground's small models (`lr`: what the
    optimizer race starts each with) and named `variants`: presets of its options that pages offer as
    optimizers of their own ("SGD+momentum" is SGD with momentum 0.9).
    """

    name: str
    description: str
    params: tuple[Param, ...]
    make: Callable
    lr: float | None = None
    variants: tuple[tuple[str, dict], ...] = ()


OPTIMIZERS: Registry[Choice] = Registry("optimizer")
BETAS = (Param("beta1", "float", 0.9, 0.0, 0.9999, help="Decay of the gradient average."),
         Param("beta2", "float", 0.999, 0.0, 0.99999, help="Decay of the squared-gradient average."))
for _o in [
    Choice("SGD", "Plain gradient descent, optionally with momentum.",
           (Param("momentum", "float", 0.0, 0.0, 0.999, help="Keep this fraction of the last update."),
            Param("nesterov", "bool", False, help="Look ahead along the momentum.")),
           lambda ps, lr, wd, momentum, nesterov: torch.optim.SGD(
               ps, lr, momentum=momentum, nesterov=nesterov and momentum > 0, weight_decay=wd),
           0.05, (("SGD+momentum", {"momentum": 0.9}), ("SGD+nesterov", {"momentum": 0.9, "nesterov": True}))),
    # fused: one kernel for all parameters; on these small models it halves Adam's step time on the CPU
    Choice("Adam", "Momentum plus per-weight step sizes from squared gradients.", BETAS,
           lambda ps, lr, wd, beta1, beta2: torch.optim.Adam(ps, lr, betas=(beta1, beta2), weight_decay=wd,
                                                              fused=True), 0.003),
    Choice("AdamW", "Adam with decoupled weight decay.", BETAS,
           lambda ps, lr, wd, beta1, beta2: torch.optim.AdamW(ps, lr, betas=(beta1, beta2), weight_decay=wd,
                                                               fused=True), 0.003),
    Choice("RMSprop", "Divides each step by a running RMS of recent gradients.",
           (Param("alpha", "float", 0.99, 0.0, 0.9999, help="Decay of the squared-gradient average."),
            Param("momentum", "float", 0.0, 0.0, 0.999, help="Momentum.")),
           lambda ps, lr, wd, alpha, momentum: torch.optim.RMSprop(ps, lr, alpha=alpha, momentum=momentum,
                                                                    weight_decay=wd), 0.003),
    Choice("Adagrad", "Step sizes shrink for weights that have had large gradients.", (),
           lambda ps, lr, wd: torch.optim.Adagrad(ps, lr, weight_decay=wd), 0.03),
]:
    OPTIMIZERS.add(_o.name, _o)


def optimizer_names() -> list[str]:
    """Every optimizer, each followed by its named variants: the one vocabulary pages offer."""
    return [n for name, o in OPTIMIZERS.items() for n in (name, *(v for v, _ in o.variants))]


def optimizer_choice(name: str, where: str = "optimizer") -> tuple[str, dict, float]:
    """(registry type, options, suitable learning rate) of an optimizer or a variant's name."""
    for kind, o in OPTIMIZERS.items():
        if name == kind:
            return kind, {}, o.lr
        for v, options in o.variants:
            if name == v:
                return kind, dict(options), o.lr
    OPTIMIZERS.get(name, where)  # raises, with a suggestion
    raise AssertionError(name)


def _sets(have, want) -> bool:
    """Whether an option's value `have` does what a variant's `want` asks: a flag the same, a number non-zero."""
    return have == want if isinstance(want, bool) else bool(have)


def optimizer_name(kind: str, options: dict) -> str:
    """The name (`optimizer_names`) of optimizer `kind` with these options: the variant whose options it sets
    (see `_sets`), the most specific first; else `kind`."""
    best, score = kind, 0
    for v, opts in OPTIMIZERS.get(kind, "optimizer").variants:
        if len(opts) > score and all(_sets(options.get(k), w) for k, w in opts.items()):
            best, score = v, len(opts)
    return best


def optimizer_options(name: str, given: dict) -> tuple[str, dict]:
    """(type, options) for the optimizer or variant `name`, keeping those of `given` that fit it: options of
    another type are dropped, a variant's options are set unless `given` already does what it asks
    (momentum 0.5 stays momentum 0.5), and a plain type drops what only its variants set."""
    kind, preset, _ = optimizer_choice(name)
    entry = OPTIMIZERS.get(kind)
    variant_keys = {k for _, opts in entry.variants for k in opts}
    options = {p.name: given[p.name] for p in entry.params
               if p.name in given and (p.name not in variant_keys or p.name in preset)}
    for k, want in preset.items():
        if not _sets(options.get(k), want):
            options[k] = want
    return kind, options


SCHEDULERS: Registry[Choice] = Registry("scheduler")
for _s in [
    Choice("StepLR", "Multiply the learning rate by gamma every step_size epochs.",
           (Param("step_size", "int", 10, 1, 10000), Param("gamma", "float", 0.5, 0.0, 1.0)),
           lambda opt, epochs, step_size, gamma: torch.optim.lr_scheduler.StepLR(opt, step_size, gamma)),
    Choice("ExponentialLR", "Multiply the learning rate by gamma every epoch.",
           (Param("gamma", "float", 0.95, 0.0, 1.0),),
           lambda opt, epochs, gamma: torch.optim.lr_scheduler.ExponentialLR(opt, gamma)),
    Choice("CosineAnnealingLR", "Lower the learning rate along a half cosine to eta_min by the last epoch.",
           (Param("eta_min", "float", 0.0, 0.0, 10.0),),
           lambda opt, epochs, eta_min: torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(1, epochs), eta_min)),
    Choice("ReduceLROnPlateau", "Multiply the learning rate by factor when the validation loss stalls.",
           (Param("factor", "float", 0.5, 0.0, 1.0), Param("patience", "int", 5, 0, 1000)),
           lambda opt, epochs, factor, patience: torch.optim.lr_scheduler.ReduceLROnPlateau(
               opt, factor=factor, patience=patience)),
]:
    SCHEDULERS.add(_s.name, _s)


def _init_weights(fn: Callable[[torch.Tensor], None]) -> Callable[[nn.Module], None]:
    def apply(model: nn.Module) -> None:
        for m in model.modules():
            if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d)):
                fn(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
    return apply


INITS: Registry[Choice] = Registry("init")
for _i in [
    Choice("default", "PyTorch's own (Kaiming-uniform with a=√5).", (), lambda model: None),
    Choice("xavier", "Glorot: keeps variance steady for tanh/sigmoid.", (), _init_weights(nn.init.xavier_uniform_)),
    Choice("kaiming", "He: keeps variance steady for ReLU.", (),
           _init_weights(lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"))),
    Choice("zeros", "All weights zero: every neuron in a layer stays identical (symmetry never breaks).", (),
           _init_weights(nn.init.zeros_)),
]:
    INITS.add(_i.name, _i)


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' → cuda, then mps, then cpu; an explicit device that is missing is an error."""
    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "mps" if mps else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise TrainingError("train.device: cuda was asked for but no CUDA GPU is available; use auto or cpu",
                            path="train.device")
    if name == "mps" and not mps:
        raise TrainingError("train.device: mps was asked for but is not available; use auto or cpu",
                            path="train.device")
    return torch.device(name)


def device_name(device: torch.device) -> str:
    """'CPU' or the GPU's marketing name, for display."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return "Apple GPU (MPS)" if device.type == "mps" else "CPU"


def make_optimizer(spec: Spec, params) -> torch.optim.Optimizer:
    """The spec's optimizer over `params`."""
    o = spec.train.optimizer
    kind = OPTIMIZERS.get(o.type, "train.optimizer.type")
    opts = check_options(kind.params, o.options(), f"train.optimizer ({o.type})")
    return kind.make(params, o.lr, o.weight_decay, **opts)


def make_scheduler(spec: Spec, opt: torch.optim.Optimizer):
    """The spec's learning-rate schedule, or None."""
    s = spec.train.scheduler
    if s is None:
        return None
    kind = SCHEDULERS.get(s.type, "train.scheduler.type")
    return kind.make(opt, spec.train.epochs, **check_options(kind.params, s.options(), f"train.scheduler ({s.type})"))


def check_optimizer(o, where: str = "train.optimizer") -> None:
    """Refuse an unknown optimizer or options it does not take."""
    check_options(OPTIMIZERS.get(o.type, f"{where}.type").params, o.options(), f"{where} ({o.type})")


def validate(spec: Spec, info: DataInfo | None = None):
    """Check everything a run needs (data options, task, layers, head, loss, optimizers, schedule); return the
    Summary (with a GAN's discriminator in `others`)."""
    info = info or data_info(spec.data)
    task = task_of(spec, info)
    own_loss = task.loss_option == "train.loss"  # a GAN's loss is train.gan.loss, checked with its networks
    if own_loss:
        LOSSES.get(spec.train.loss, "train.loss")
    check_optimizer(spec.train.optimizer)
    if spec.train.d_optimizer is not None:
        check_optimizer(spec.train.d_optimizer, "train.d_optimizer")
    if spec.train.scheduler is not None:
        s = spec.train.scheduler
        check_options(SCHEDULERS.get(s.type, "train.scheduler.type").params, s.options(),
                      f"train.scheduler ({s.type})")
    summary = task_summary(spec, info)  # the layers first: their errors name a layer and carry its fix
    if own_loss:
        task.check_loss(spec.train.loss)
    return summary


# ---- the trainer -----------------------------------------------------------------------------

class Trainer(EpochLoop):
    """Trains the spec's model one batch at a time; `fit` yields one metrics dict per epoch.

    It asks the run's task (tasks.py) for what differs between kinds of learning: which losses suit it, the
    score it keeps beside the loss (kept per batch without waiting for the device, scored once an epoch) and
    the end-of-run report. A task with a trainer of its own (a GAN) names it; trainers.make_trainer makes it.
    """

    def __init__(self, spec: Spec, data: Dataset | None = None, device: str | torch.device | None = None) -> None:
        self.spec = spec
        t = spec.train
        self.device = resolve_device(device if isinstance(device, str) else t.device) \
            if not isinstance(device, torch.device) else device
        self.data = data if data is not None else load(spec.data)
        info = self.data.info
        self.task = task_of(spec, info)
        self.loss_type = LOSSES.get(t.loss, "train.loss")
        self.task.check_loss(t.loss)
        torch.manual_seed(t.seed)  # same seed, same initial weights, same dropout masks
        self.model = build(spec, info)
        INITS.get(t.init, "train.init").make(self.model)
        self.model.to(self.device)
        self.model.eval()  # a one-sample probe: BatchNorm refuses a batch of one when training
        with torch.no_grad():
            self.out_shape = tuple(self.model(self.data.x_train[:1].to(self.device)).shape[1:])
        self.model.train()
        self.opt = make_optimizer(spec, self.model.parameters())
        self.scheduler = make_scheduler(spec, self.opt)
        self.loss_fn = self.loss_type.fn
        dev = self.device
        self.x_train, self.x_val = self.data.x_train.to(dev), self.data.x_val.to(dev)
        self.y_train = self.loss_type.target(self.data.y_train, info, self.out_shape).to(dev)
        self.y_val = self.loss_type.target(self.data.y_val, info, self.out_shape).to(dev)
        self.labels_train, self.labels_val = self.data.y_train.to(dev), self.data.y_val.to(dev)
        self.metric = self.task.metric  # None: the loss alone
        # a "sum" reduction adds every output element; dividing by this gives the per-sample mean
        self._elements = 1 if self.loss_type.kind == "labels" else math.prod(self.out_shape)
        self._clip = t.grad_clip  # read once: the step loop is hot
        self.tune(l1=t.l1)  # the L1 rate and the weights it applies to
        self.generator = torch.Generator().manual_seed(t.seed)
        self.n = len(self.x_train)
        self.batch_size = min(t.batch_size, self.n)
        # a last batch of one sample joins the one before: BatchNorm cannot normalise a single sample
        self.steps_per_epoch = self.n // self.batch_size if self.n % self.batch_size == 1 \
            else math.ceil(self.n / self.batch_size)
        self.epoch = 0  # completed epochs
        self.step = 0  # completed optimizer steps, all epochs
        self.seconds = 0.0
        self._pos = self.n  # start a fresh epoch on the first step
        self._order = None
        self._losses: list[torch.Tensor] = []  # this epoch's batch losses, still on the device
        self._kept: list[torch.Tensor] = []  # what the task's metric keeps of this epoch's batches
        self._t0 = time.perf_counter()
        # Dropout draws from torch's global generator. Runs that take turns in one process (a worker, a Ray
        # actor) would draw each other's masks; a run with random layers keeps its own generator state and
        # swaps it in for its steps, so its masks are those of the run alone, whatever else trains there.
        self._rng = RunRNG(self.device) if draws_randomly(self.model) else None

    def tune(self, lr: float | None = None, weight_decay: float | None = None, l1: float | None = None) -> None:
        """Change the learning rate, weight decay or L1 rate of this run in place: weights, optimizer state
        and position stay (TensorFlow Playground's knobs turned while it trains)."""
        for g in self.opt.param_groups:
            if lr is not None:
                g["lr"] = g["initial_lr"] = lr  # initial_lr: a schedule scales from the new rate
            if weight_decay is not None:
                g["weight_decay"] = weight_decay
        if lr is not None and self.scheduler is not None and hasattr(self.scheduler, "base_lrs"):
            self.scheduler.base_lrs = [lr] * len(self.opt.param_groups)
        if l1 is not None:
            self._l1 = l1
            self.l1_params = [p for n, p in self.model.named_parameters() if n.endswith("weight")] if l1 else []

    # -- one step at a time (jobs interleave these) --
    def train_step(self) -> bool:
        """One batch: forward, loss, backward, update. True when it finished an epoch."""
        if self._pos >= self.n:
            self._start_epoch()
        end = self._pos + self.batch_size
        end = self.n if self.n - end == 1 and self.batch_size > 1 else end
        idx = self._order[self._pos:end]
        xb, yb = self.x_train[idx], self.y_train[idx]
        if self._rng is None:
            out = self.model(xb)
        else:
            with self._rng:
                out = self.model(xb)
        loss = self.loss_fn(out, yb)
        total = loss + self._l1 * sum(p.abs().sum() for p in self.l1_params) if self.l1_params else loss
        self.opt.zero_grad(set_to_none=True)
        total.backward()
        if self._clip:
            nn.utils.clip_grad_norm_(self.model.parameters(), self._clip)
        self.opt.step()
        # Keep, don't reduce: appending a detached tensor costs no kernel; the epoch end reduces them all at once.
        self._losses.append(loss.detach())
        if self.metric is not None:
            self._kept.append(self.metric.keep(out.detach(), yb, self.loss_type))
        self._pos = end
        self.step += 1
        return self._pos >= self.n

    def running_loss(self) -> float | None:
        """Mean loss of this epoch's batches so far (a host sync: call it at a bounded rate)."""
        return torch.stack(self._losses).mean().item() if self._losses and self._pos < self.n else None

    @property
    def batch(self) -> int:
        """Batches done in the current epoch (0 between epochs)."""
        return len(self._losses) if self._pos < self.n else 0

    def _start_epoch(self) -> None:
        self.model.train()
        self._order = torch.randperm(self.n, generator=self.generator).to(self.device, non_blocking=True)
        self._pos = 0
        self._losses, self._kept = [], []
        self._t0 = time.perf_counter()

    def end_epoch(self) -> dict:
        """Close the epoch: evaluate, step the schedule, check the loss; return this epoch's metrics."""
        self.epoch += 1
        train_loss = torch.stack(self._losses).mean().item()  # the epoch's one host sync
        lr = self.opt.param_groups[0]["lr"]
        if not math.isfinite(train_loss):
            raise TrainingError(
                f"epoch {self.epoch}: the training loss became {train_loss}; lower the learning rate "
                f"(now {lr:g}), add gradient clipping (train.grad_clip) or use a smaller init", path="train")
        m = {"epoch": self.epoch, "train_loss": train_loss}
        if self.metric is not None:  # kept in the epoch's shuffled order
            m[f"train_{self.metric.key}"] = self.metric.score(self._kept, self.labels_train[self._order],
                                                              self.loss_type)
        m.update({f"val_{k}": v for k, v in self.evaluate(self.x_val, self.y_val, self.labels_val).items()})
        if self.scheduler is not None:
            if isinstance(self.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                self.scheduler.step(m["val_loss"])
            else:
                self.scheduler.step()
        self.seconds += time.perf_counter() - self._t0
        m.update(lr=lr, seconds=round(self.seconds, 4), steps=self.step)
        return m

    @property
    def classify(self) -> bool:
        """Whether the task's outputs are class scores."""
        return self.task.classes

    # -- evaluation --
    def predict_labels(self, out: torch.Tensor) -> torch.Tensor:
        """Class indices from model outputs, read as the run's loss trained them (see `LossType.labels`)."""
        return self.loss_type.labels(out)

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor, y: torch.Tensor, labels: torch.Tensor, chunk: int = 4096) -> dict:
        """Mean loss (and the task's metric) over a whole split, in chunks to bound memory."""
        was_training = self.model.training
        self.model.eval()
        loss_sum = torch.zeros((), device=self.device)
        kept = []
        for i in range(0, len(x), chunk):
            out = self.model(x[i:i + chunk])
            loss_sum += self.loss_fn(out, y[i:i + chunk], reduction="sum") / self._elements
            if self.metric is not None:
                kept.append(self.metric.keep(out, y[i:i + chunk], self.loss_type))
        self.model.train(was_training)
        m = {"loss": (loss_sum / len(x)).item()}
        if self.metric is not None:
            m[self.metric.key] = self.metric.score(kept, labels, self.loss_type)
        return m

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Model outputs for `x` (CPU tensor in, CPU tensor out), in eval mode."""
        was_training = self.model.training
        self.model.eval()
        out = self.model(x.to(self.device)).cpu()
        self.model.train(was_training)
        return out


TUNABLE = {"lr": ("optimizer", "lr"), "weight_decay": ("optimizer", "weight_decay"), "l1": ("l1",)}


def tuning(old: dict, new: dict) -> dict | None:
    """What `Trainer.tune` must change to turn a run of spec `old` into one of spec `new` (both as dicts);
    None when they differ in anything else (then only a new run will do), {} when they are the same."""
    def get(d: dict, path: tuple):
        for k in path:
            d = (d or {}).get(k)
        return d

    def without(d: dict) -> dict:  # the spec less every tunable value
        d = copy.deepcopy(d)
        for *head, last in TUNABLE.values():
            get(d["train"], tuple(head)).pop(last, None)
        return d

    if without(old) != without(new):
        return None
    return {name: get(new["train"], path) for name, path in TUNABLE.items()
            if get(old["train"], path) != get(new["train"], path)}


def train(spec: Spec, epochs: int | None = None, device: str | None = None) -> Iterator[dict]:
    """Convenience: build a Trainer and yield its epochs' metrics (any task's: trainers.make_trainer)."""
    yield from Trainer(spec, device=device).fit(epochs)
