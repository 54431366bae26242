"""GANs (task `generate`): a generator (the spec's model) against a discriminator (`spec.discriminator`).

The generator turns noise (`train.gan.noise` numbers per sample, from N(0, 1)) into samples shaped like the
data; the discriminator scores a sample, real or made, with one number (gan_build.py). Each has its own
optimizer (`train.optimizer` for the generator, `train.d_optimizer` for the discriminator, the same by
default). One step trains the discriminator `train.gan.d_steps` times, then the generator once; a run's
`phase` can also train one of them alone (`set_phase`, sent as a job command), which GAN Lab's buttons do.

An epoch is `train.gan.steps_per_epoch` steps (a GAN has no pass over the data to count). Its metrics:
`d_loss` and `g_loss` (means over the epoch's steps), `train_loss` (= d_loss) and `val_loss` (the
discriminator's loss on the validation samples against as many made ones: a discriminator that memorises the
training samples shows it), and where the data is a mixture of known modes (gan_data.py) `modes_covered` and
`high_quality` (see `gan_data.coverage`).
"""

from __future__ import annotations

import math
import time

import torch
from torch import nn

from .build import build_layers
from .data import Dataset, load
from .gan_build import GAN_LOSSES, discriminator_spec, generator_info, settings, summarize
from .gan_data import coverage
from .loop import EpochLoop
from .modules import Network
from .registry import PlaygroundError
from .spec import Spec
from .tasks import of as task_of
from .train import INITS, TrainingError, check_optimizer, make_optimizer, resolve_device

EVAL_SAMPLES = 2500  # made samples the coverage is counted on (LESSON-CLAIMS claim 12)
PHASES = ("both", "d", "g")  # what a step trains: both in turn, the discriminator alone, the generator alone


def gradient_penalty(d: nn.Module, real: torch.Tensor, fake: torch.Tensor, generator: torch.Generator):
    """WGAN-GP's penalty: (‖∇ₓ D(x̂)‖ − 1)² averaged over points x̂ between real and made samples."""
    eps = torch.rand((len(real),) + (1,) * (real.dim() - 1), generator=generator).to(real.device)
    mid = (eps * real + (1 - eps) * fake).requires_grad_(True)
    grad, = torch.autograd.grad(d(mid).sum(), mid, create_graph=True)
    return ((grad.reshape(len(grad), -1).norm(dim=1) - 1) ** 2).mean()


def view_range(x: torch.Tensor) -> float:
    """A round half-width of a square that holds 2-D data with a margin (what the GAN lab plots)."""
    top = float(x.reshape(len(x), -1)[:, :2].abs().max()) * 1.2 if len(x) else 1.0
    return float(next(r for r in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10, 15, 20, 1e9) if r >= top))


class GanTrainer(EpochLoop):
    """Trains a GAN one step at a time, with the Trainer's interface (train_step, end_epoch, fit, tune, ...)."""

    def __init__(self, spec: Spec, data: Dataset | None = None, device: str | torch.device | None = None) -> None:
        self.spec = spec
        t = spec.train
        self.device = device if isinstance(device, torch.device) else resolve_device(device or t.device)
        self.data = data if data is not None else load(spec.data)
        info = self.data.info
        self.task = task_of(spec, info)
        summarize(spec, info)  # every check, with messages naming the layer (and which network)
        self.gan = settings(spec)
        self.loss = GAN_LOSSES.get(self.gan.loss, "train.gan.loss")
        if t.d_optimizer is not None:
            check_optimizer(t.d_optimizer, "train.d_optimizer")
        torch.manual_seed(t.seed)  # same seed, same initial weights
        d_spec = discriminator_spec(spec)
        self.model = Network(*build_layers(spec, generator_info(spec, info), check_output=False)[0])
        self.discriminator = Network(*build_layers(d_spec, info, check_output=False)[0])
        for net in (self.model, self.discriminator):
            INITS.get(t.init, "train.init").make(net)
            net.to(self.device).train()
        self.opt = make_optimizer(spec, self.model.parameters())
        self.d_opt = make_optimizer(d_spec, self.discriminator.parameters())
        self.g_params = list(self.model.parameters())
        dev = self.device
        self.x_train, self.x_val = self.data.x_train.float().to(dev), self.data.x_val.float().to(dev)
        self.n = len(self.x_train)
        self.batch_size = min(t.batch_size, self.n)
        self.steps_per_epoch = self.gan.steps_per_epoch
        self.noise = self.gan.noise
        self._clip = t.grad_clip
        self.tune(l1=t.l1)
        self.generator = torch.Generator().manual_seed(t.seed)  # batches and noise, in order
        self.eval_noise = torch.randn(EVAL_SAMPLES, self.noise, generator=torch.Generator().manual_seed(t.seed + 1))
        self.range = view_range(self.data.x_train)
        self.phase = "both"
        self.commands = {"phase": self.set_phase}  # what a job may ask of a running GAN (Job.command)
        self.epoch = self.step = 0  # completed epochs; steps of train_step
        self.g_steps = self.d_steps = 0  # optimizer steps of each network
        self.seconds = 0.0
        self._pos = self.steps_per_epoch  # start an epoch on the first step
        self._d_losses: list[torch.Tensor] = []
        self._g_losses: list[torch.Tensor] = []
        self.last: dict[str, torch.Tensor] = {}  # the latest step's losses (live views read them)
        self.view_cache: dict = {}  # what the live views keep between frames (gan_views.py)
        self._t0 = time.perf_counter()

    @property
    def classify(self) -> bool:
        return False

    def set_phase(self, phase: str) -> None:
        """Train both networks in turn ("both"), or only the discriminator ("d") or the generator ("g")."""
        if phase not in PHASES:
            raise PlaygroundError(f"phase: must be one of {', '.join(PHASES)}, got {str(phase)[:20]!r}")
        self.phase = phase

    def tune(self, lr: float | None = None, weight_decay: float | None = None, l1: float | None = None) -> None:
        """Change the generator's learning rate or weight decay (train.optimizer), or the L1 rate, in place."""
        for g in self.opt.param_groups:
            if lr is not None:
                g["lr"] = g["initial_lr"] = lr
            if weight_decay is not None:
                g["weight_decay"] = weight_decay
        if l1 is not None:
            self._l1 = l1

    # -- one step at a time --
    def _noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.noise, generator=self.generator).to(self.device, non_blocking=True)

    def _real(self) -> torch.Tensor:
        idx = torch.randint(self.n, (self.batch_size,), generator=self.generator)
        return self.x_train[idx.to(self.device, non_blocking=True)]

    def _penalty(self, net: nn.Module) -> torch.Tensor | float:
        if not self._l1:
            return 0.0
        return self._l1 * sum(p.abs().sum() for n, p in net.named_parameters() if n.endswith("weight"))

    def _update(self, loss: torch.Tensor, opt, params) -> None:
        opt.zero_grad(set_to_none=True)
        loss.backward(inputs=params)  # only this network's weights: the other one's gradients are not needed
        if self._clip:
            nn.utils.clip_grad_norm_(params, self._clip)
        opt.step()

    def d_step(self) -> torch.Tensor:
        """One discriminator step on a batch of real and a batch of made samples; its loss (on the device)."""
        real = self._real()
        with torch.no_grad():
            fake = self.model(self._noise(self.batch_size))
        d = self.discriminator
        loss = self.loss.d(d(real), d(fake))
        total = loss + self._penalty(d)
        if self.loss.penalty:
            total = total + self.gan.gp_weight * gradient_penalty(d, real, fake, self.generator)
        self._update(total, self.d_opt, list(d.parameters()))
        self.d_steps += 1
        return loss.detach()

    def g_step(self) -> torch.Tensor:
        """One generator step: made samples scored by the discriminator; its loss (on the device)."""
        loss = self.loss.g(self.discriminator(self.model(self._noise(self.batch_size))))
        self._update(loss + self._penalty(self.model), self.opt, self.g_params)
        self.g_steps += 1
        return loss.detach()

    def train_step(self) -> bool:
        """One step of the current phase (both: d_steps discriminator steps, then one generator step). True
        when it finished an epoch."""
        if self._pos >= self.steps_per_epoch:
            self._start_epoch()
        if self.phase != "g":
            for _ in range(self.gan.d_steps if self.phase == "both" else 1):
                self.last["d_loss"] = self.d_step()
                self._d_losses.append(self.last["d_loss"])
        if self.phase != "d":
            self.last["g_loss"] = self.g_step()
            self._g_losses.append(self.last["g_loss"])
        self._pos += 1
        self.step += 1
        return self._pos >= self.steps_per_epoch

    def _start_epoch(self) -> None:
        self._pos = 0
        self._d_losses, self._g_losses = [], []
        self._t0 = time.perf_counter()

    @property
    def batch(self) -> int:
        """Steps done in the current epoch (0 between epochs)."""
        return self._pos if self._pos < self.steps_per_epoch else 0

    def running_loss(self) -> float | None:
        """Mean discriminator loss of this epoch's steps so far (the generator's if it trained alone)."""
        losses = self._d_losses or self._g_losses
        return torch.stack(losses).mean().item() if losses and self._pos < self.steps_per_epoch else None

    # -- evaluation --
    @torch.no_grad()
    def samples(self, noise: torch.Tensor | None = None) -> torch.Tensor:
        """Made samples (CPU) for `noise` (default: the run's fixed evaluation noise), in eval mode."""
        z = self.eval_noise if noise is None else noise
        was = self.model.training
        self.model.eval()
        try:
            return torch.cat([self.model(z[i:i + 1024].to(self.device)).cpu() for i in range(0, len(z), 1024)])
        finally:
            self.model.train(was)

    @torch.no_grad()
    def losses_on(self, real: torch.Tensor, noise: torch.Tensor) -> tuple[float, float]:
        """(discriminator loss, generator loss) on these real samples and the samples made from `noise`."""
        fake = self.model(noise.to(self.device))
        d_fake = self.discriminator(fake)
        return self.loss.d(self.discriminator(real), d_fake).item(), self.loss.g(d_fake).item()

    def end_epoch(self) -> dict:
        """Close the epoch: both losses, the discriminator's on validation samples, the coverage of the modes."""
        self.epoch += 1
        m = {"epoch": self.epoch}
        batch = self.eval_noise[: self.batch_size]
        d_now, g_now = self.losses_on(self._real(), batch) if not (self._d_losses and self._g_losses) else (0, 0)
        m["d_loss"] = torch.stack(self._d_losses).mean().item() if self._d_losses else d_now
        m["g_loss"] = torch.stack(self._g_losses).mean().item() if self._g_losses else g_now
        for k in ("d_loss", "g_loss"):
            if not math.isfinite(m[k]):
                who = "discriminator" if k == "d_loss" else "generator"
                rates = f"{self.opt.param_groups[0]['lr']:g} and {self.d_opt.param_groups[0]['lr']:g}"
                raise TrainingError(f"epoch {self.epoch}: the {who}'s loss became {m[k]}; lower the learning rates "
                                    f"(now {rates}) or add gradient clipping (train.grad_clip)", path="train")
        m["train_loss"] = m["d_loss"]
        m["val_loss"] = self.losses_on(self.x_val[:EVAL_SAMPLES], self.eval_noise[: len(self.x_val)])[0]
        info = self.data.info
        if info.modes:
            c = coverage(self.samples(), info.modes, info.mode_std)
            m.update(modes_covered=c["modes_covered"], high_quality=round(c["high_quality"], 4))
        self.seconds += time.perf_counter() - self._t0
        self._t0 = time.perf_counter()
        m.update(lr=self.opt.param_groups[0]["lr"], d_lr=self.d_opt.param_groups[0]["lr"],
                 seconds=round(self.seconds, 4), steps=self.step, g_steps=self.g_steps, d_steps=self.d_steps)
        return m


from .gan_views import gan2d  # noqa: E402,F401  (importing the views registers them in probe.VIEWS)
