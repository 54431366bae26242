"""A GAN's networks as a spec holds them: the losses they play with, what each reads and makes, their checks.

The spec's model is the generator, `spec.discriminator` the discriminator, each built by the same builder as
any model (build.py), so whatever layers and blocks a model may hold, either may. The generator reads
`train.gan.noise` numbers per sample and must make samples shaped like the data's inputs; the discriminator
reads a sample and scores it with one number. The trainer is gan.py's GanTrainer.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

from .build import BuildError, Summary, shape_str
from .build import summarize as build_summary
from .data import DataInfo
from .registry import PlaygroundError, Registry
from .spec import GanSpec, Spec


@dataclass(frozen=True)
class GanLoss:
    """A GAN's pair of losses, from the discriminator's scores of real and made samples."""

    name: str
    description: str
    d: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (scores of real, scores of made) -> D's loss
    g: Callable[[torch.Tensor], torch.Tensor]  # scores of made -> G's loss
    per_sample: Callable[[torch.Tensor], torch.Tensor]  # G's loss of each made sample (its gradient: the arrows)
    penalty: bool = False  # adds the gradient penalty to D's loss (train.gan.gp_weight)
    probability: bool = True  # sigmoid(score) is the discriminator's p(real)


GAN_LOSSES: Registry[GanLoss] = Registry("GAN loss")
for _g in [
    # binary cross-entropy on logits; the generator's "non-saturating" form maximises log D(G(z)), whose
    # gradient stays large while the discriminator still wins (Goodfellow et al. 2014, section 3)
    GanLoss("bce", "Binary cross-entropy; the generator maximises log D(G(z)) (non-saturating).",
            lambda r, f: F.softplus(-r).mean() + F.softplus(f).mean(), lambda f: F.softplus(-f).mean(),
            lambda f: F.softplus(-f)),
    GanLoss("wgan-gp", "Wasserstein: the critic's score gap, with a gradient penalty keeping it 1-Lipschitz.",
            lambda r, f: f.mean() - r.mean(), lambda f: -f.mean(), lambda f: -f, penalty=True, probability=False),
]:
    GAN_LOSSES.add(_g.name, _g)


def settings(spec: Spec) -> GanSpec:
    """The spec's `train.gan`, defaults filled in."""
    return spec.train.gan or GanSpec()


def generator_info(spec: Spec, info: DataInfo) -> DataInfo:
    """What the generator reads: noise vectors; and what it must make: samples shaped like the data's inputs."""
    return replace(info, input_shape=(settings(spec).noise,), tokens=False, target_shape=tuple(info.input_shape))


def discriminator_spec(spec: Spec) -> Spec:
    """The spec with the discriminator as its model and optimizer (for building, summaries and memory)."""
    if spec.discriminator is None:
        raise PlaygroundError('discriminator: a GAN needs a discriminator; add "discriminator": {"layers": '
                              '[…]} ending in one output (a Linear with out_features 1)', path="discriminator")
    train = spec.train.model_copy(update={"optimizer": spec.train.d_optimizer or spec.train.optimizer})
    return spec.model_copy(update={"model": spec.discriminator, "train": train})


def parts(spec: Spec, info: DataInfo) -> list[tuple[str, Spec, DataInfo]]:
    """(name, spec, what it reads) of the generator and the discriminator."""
    return [("generator", spec, generator_info(spec, info)), ("discriminator", discriminator_spec(spec), info)]


def _discriminator_error(e: BuildError) -> BuildError:
    """A build error of the discriminator, named as such (the Build page's fixes apply to `model`: none here)."""
    path = e.path.replace("model.layers", "discriminator.layers", 1) if e.path else "discriminator.layers"
    return BuildError(f"discriminator {e.message}".replace("discriminator model.layers", "discriminator.layers"),
                      path=path)


def summarize(spec: Spec, info: DataInfo, check_output: bool = True) -> Summary:
    """The generator's summary with the discriminator's in `others`; checks the loss, that there is no schedule,
    and that the generator makes samples shaped like the data and the discriminator scores each with one
    number (the optimizers are checked by train.validate and the trainer)."""
    GAN_LOSSES.get(settings(spec).loss, "train.gan.loss")
    if spec.train.scheduler is not None:
        raise PlaygroundError("train.scheduler: a GAN's learning rates stay as set here; remove train.scheduler",
                              path="train.scheduler")
    d_spec = discriminator_spec(spec)
    g_info = generator_info(spec, info)
    g = build_summary(spec, g_info, check_output=False)
    try:
        d = build_summary(d_spec, info, check_output=False)
    except BuildError as e:
        raise _discriminator_error(e) from None
    if check_output:
        _check_output(spec, "", g, tuple(info.input_shape), f"samples of {info.name}")
        _check_output(d_spec, "discriminator ", d, (1,), "one score per sample")
    return Summary(g.input_shape, g.rows, others=[("discriminator", d)])


def _check_output(spec: Spec, network: str, s: Summary, want: tuple, what: str) -> None:
    rows, layers = s.rows, spec.model.layers
    where = "discriminator.layers" if network else "model.layers"
    if tuple(s.output_shape) != want:
        last = len(rows)
        hint = (f"; end with a Linear of out_features={want[0]}" if len(want) == 1 else
                f"; end with Unflatten to {list(want)} after a Linear of {math.prod(want)} outputs")
        raise BuildError(f"{network}layer {last} ({layers[-1].type}): the {network.strip() or 'generator'} outputs "
                         f"{shape_str(s.output_shape)} but needs {shape_str(want)} ({what}){hint}",
                         path=f"{where}[{last - 1}]", layer=None if network else last - 1)
    if not s.total_params:
        raise BuildError(f"{where}: no layer of the {network.strip() or 'generator'} has parameters, so there is "
                         "nothing to train; add a Linear layer", path=where)
