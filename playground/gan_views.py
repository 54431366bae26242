"""The GAN lab's live views, computed in the worker at a bounded rate (probe.VIEWS: "gan2d", "gan_images").

gan2d (2-D data): the made samples of a fixed batch of noise, the discriminator's decision surface over the
plot, for each of some made samples the gradient of the generator's loss (the way the next generator step
pushes it, as GAN Lab's arrows), and the generator's manifold (a grid over the first two noise numbers, the
others 0, carried into data space). gan_images (images): samples of a fixed batch of noise, and a walk between
two noise vectors. Both carry the phase, the step counts, the latest losses and (where the data has modes)
the coverage, so a paused run's view changes on a single step.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from .gan_data import coverage
from .probe import VIEWS

COVERAGE_EVERY = 0.3  # seconds between coverage counts in the live view (2,500 samples each)


def _fixed_noise(trainer, name: str, n: int, seed: int) -> torch.Tensor:
    """A batch of noise kept on the trainer (the same every frame, so the points move only as G learns)."""
    cache = trainer.view_cache
    key = f"noise:{name}"
    if cache.get(key) is None or len(cache[key]) != n:
        g = torch.Generator().manual_seed(seed)
        cache[key] = torch.randn(n, trainer.noise, generator=g).to(trainer.device)
    return cache[key]


def _common(trainer) -> dict:
    last = {k: float(v) for k, v in trainer.last.items()}  # a host sync: at the view's rate only
    out = {"epoch": trainer.epoch, "steps": trainer.step, "g_steps": trainer.g_steps, "d_steps": trainer.d_steps,
           "phase": trainer.phase, **last}
    info = trainer.data.info
    if info.modes:  # counted on the run's 2,500 evaluation samples, as the epoch metric is
        now = time.perf_counter()
        cached = trainer.view_cache.get("coverage")
        # while it trains, at most every COVERAGE_EVERY seconds; a step or two (a stepped run) at once
        moved = trainer.g_steps - cached[0] if cached is not None else None
        if moved is None or (moved and (now - cached[1] >= COVERAGE_EVERY or moved <= 2)):
            cached = (trainer.g_steps, now, coverage(trainer.samples(), info.modes, info.mode_std))
            trainer.view_cache["coverage"] = cached
        c = cached[2]
        out.update(modes_covered=c["modes_covered"], modes=c["modes"], high_quality=c["high_quality"],
                   covered=c["covered"])
    return out


@torch.no_grad()
def _eval(net, x: torch.Tensor) -> torch.Tensor:
    was = net.training
    net.eval()
    try:
        return net(x)
    finally:
        net.train(was)


def gan2d(trainer, res: int = 48, points: int = 400, arrows: int = 200, grid: int = 15) -> dict:
    """The 2-D GAN view (see the module's docstring). Coordinates are float32 pairs; the surface is res×res
    bytes, row 0 at the top (y = +range): the discriminator's p(real) 0 … 1 as 0 … 255 (a Wasserstein
    critic's score, scaled between its lowest and highest on the plot, with `relative` set)."""
    if trainer.data.info.input_shape != (2,):
        raise ValueError(f"the 2-D GAN view needs 2-D points; {trainer.data.info.name} is "
                         f"{trainer.data.info.input_shape}")
    g, d, r = trainer.model, trainer.discriminator, trainer.range
    z = _fixed_noise(trainer, "points", points, 7)
    fake = _eval(g, z)
    # arrows: minus the gradient of each made sample's generator loss, at that sample
    x = fake[:arrows].clone().requires_grad_(True)
    was = d.training
    d.eval()
    with torch.enable_grad():
        grad, = torch.autograd.grad(trainer.loss.per_sample(d(x)).sum(), x)
    d.train(was)
    lin = torch.linspace(-r, r, res, device=trainer.device)
    gx, gy = torch.meshgrid(lin, lin.flip(0), indexing="xy")
    score = _eval(d, torch.stack([gx.reshape(-1), gy.reshape(-1)], 1))[:, 0]
    if trainer.loss.probability:
        surface, relative = torch.sigmoid(score), False
    else:
        lo, hi = score.min(), score.max()
        surface, relative = (score - lo) / (hi - lo).clamp_min(1e-12), True
    u = torch.linspace(-2, 2, grid)
    zz = torch.zeros(grid * grid, trainer.noise)
    zz[:, 0] = u.repeat(grid)
    if trainer.noise > 1:
        zz[:, 1] = u.repeat_interleave(grid)
    manifold = _eval(g, zz.to(trainer.device))
    f32 = lambda t: np.ascontiguousarray(t.detach().float().cpu().numpy(), dtype=np.float32)  # noqa: E731
    return {**_common(trainer), "kind": "points", "range": r, "res": res, "grid": grid,
            "fake": f32(fake), "arrows": f32(-grad), "manifold": f32(manifold), "relative": relative,
            "surface": np.rint(np.nan_to_num(surface.cpu().numpy(), nan=0.5) * 255).clip(0, 255).astype(np.uint8)}


def gan_images(trainer, samples: int = 36, walk: int = 10) -> dict:
    """Images made from a fixed batch of noise (channels averaged, 0 … 1 as 0 … 255) and a walk of `walk`
    images along the straight line between two fixed noise vectors; the discriminator's p(real) of each
    sample (None for a Wasserstein critic)."""
    g, d = trainer.model, trainer.discriminator
    z = _fixed_noise(trainer, "images", samples, 7)
    ends = _fixed_noise(trainer, "walk", 2, 11)
    t = torch.linspace(0, 1, walk, device=trainer.device)[:, None]
    path = ends[:1] * (1 - t) + ends[1:] * t
    imgs = _eval(g, torch.cat([z, path]))
    scores = _eval(d, imgs[:samples])[:, 0]
    pix = imgs.float().mean(1) if imgs.dim() == 4 else imgs.float().reshape(len(imgs), 1, -1)
    u8 = np.rint(np.nan_to_num(pix.clamp(0, 1).cpu().numpy(), nan=0.0) * 255).astype(np.uint8)
    return {**_common(trainer), "kind": "images", "h": int(u8.shape[1]), "w": int(u8.shape[2]),
            "samples": u8[:samples], "walk": u8[samples:],
            "scores": torch.sigmoid(scores).cpu().numpy().round(3).tolist() if trainer.loss.probability else None}


VIEWS.add("gan2d", gan2d)
VIEWS.add("gan_images", gan_images)
