"""The trainer against a plain hand-written PyTorch loop, run alternately in one process.

Both train the same initial weights on the same data with the same batch size and each epoch end with
the same validation pass. `ratio` = the trainer's steps per second ÷ the plain loop's; the plain loop
builds its optimizer the way a user would (`torch.optim.Adam(model.parameters(), lr)`), so a faster
optimizer kernel the engine picks shows up as a ratio above 1; the `-same-optimizer` lines hand the
plain loop the trainer's own optimizer settings and so measure only the engine's overhead.
"""

from __future__ import annotations

import copy
import time

import torch
import torch.nn.functional as F

CASES = ("spiral-mlp", "digits-cnn", "sine-lstm")


def plain_epoch(model, opt, loss_fn, x, y, xv, yv, batch_size: int, generator: torch.Generator, classify: bool):
    """What a user writes: shuffle, loop over batches, step; then one validation pass."""
    model.train()
    order = torch.randperm(len(x), generator=generator).to(x.device)
    for i in range(0, len(x), batch_size):
        idx = order[i:i + batch_size]
        loss = loss_fn(model(x[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        out = model(xv)
        val = loss_fn(out, yv).item()
        acc = (out.argmax(1) == yv).float().mean().item() if classify else None
    return val, acc


def compare(name: str, device: str = "cpu", rounds: int = 5, same_optimizer: bool = False) -> float:
    """Steps/s of the trainer ÷ steps/s of the plain loop for one preset, alternating `rounds` epochs each."""
    from . import presets
    from .train import Trainer
    spec = presets.get(name)
    tr = Trainer(spec, device=device)
    model = copy.deepcopy(tr.model)
    o = spec.train.optimizer
    if same_optimizer:
        from .train import make_optimizer
        opt = make_optimizer(spec, model.parameters())
    else:
        opt = getattr(torch.optim, o.type)(model.parameters(), lr=o.lr, weight_decay=o.weight_decay)
    loss_fn = {"cross_entropy": F.cross_entropy, "mse": F.mse_loss}.get(spec.train.loss, tr.loss_fn)
    g = torch.Generator().manual_seed(0)
    sync = torch.cuda.synchronize if tr.device.type == "cuda" else (lambda: None)
    t_engine = t_plain = 0.0
    tr.run_epoch()  # warm-up both (allocator, kernels)
    plain_epoch(model, opt, loss_fn, tr.x_train, tr.y_train, tr.x_val, tr.y_val, tr.batch_size, g, tr.classify)
    for _ in range(rounds):
        sync()
        t0 = time.perf_counter()
        tr.run_epoch()
        sync()
        t1 = time.perf_counter()
        plain_epoch(model, opt, loss_fn, tr.x_train, tr.y_train, tr.x_val, tr.y_val, tr.batch_size, g, tr.classify)
        sync()
        t2 = time.perf_counter()
        t_engine += t1 - t0
        t_plain += t2 - t1
    return t_plain / t_engine  # same number of steps: the time ratio is the steps/s ratio


def run(device: str = "cpu", rounds: int = 5, cases: tuple[str, ...] | None = None) -> float:
    """Print `NAME ratio=R` for every case and `min_ratio=R` last; return the minimum."""
    torch.set_num_threads(1)
    ratios = []
    for name in cases or CASES:
        for same in (False, True):
            r = compare(name, device, rounds, same)
            ratios.append(r)
            print(f"{name}{'-same-optimizer' if same else ''} ratio={r:.3f}", flush=True)
    print(f"min_ratio={min(ratios):.3f}")
    return min(ratios)
