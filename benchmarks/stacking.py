"""Two ways to train a class's runs as one batched model, against one run alone, side by side in one process:

- hand-batched (the engine's, playground/stack/): Linear layers as `torch.baddbmm` over (runs, in, out) weights,
  every weight of every run in one (runs, weights) tensor, one optimizer update over it;
- torch.func: `stack_module_state` + `functional_call` + `vmap` over the runs, then Adam with `torch._foreach_*`
  over the stacked parameters (each (runs, ...)) with per-run learning rates.

    python benchmarks/stacking.py [--preset spiral-mlp] [--runs 10 30] [--rounds 4] [--seconds 1]

Each round times one run alone (Trainer.train_step), then each way for `--seconds`; the figure is job-steps per
second ÷ the run alone's steps per second. Both ways train the same runs (per-run learning rates and seeds, each
its own data order) with Adam; only the engine's way is checked for exactness (tests/test_stack.py).
"""

from __future__ import annotations

import argparse
import copy
import time

import torch  # noqa: E402
from common import ROOT, load  # noqa: F401  (puts the repository on sys.path)


def specs(preset: str, n: int) -> list:
    from playground import presets
    from playground.spec import from_dict
    out = []
    for i in range(n):
        d = presets.get(preset).to_dict()
        d["train"].update(seed=i, device="cpu")
        d["train"]["optimizer"]["lr"] *= 2 ** (4 * i / max(1, n - 1) - 3)
        out.append(from_dict(d))
    return out


class Alone:
    def __init__(self, spec) -> None:
        from playground.train import Trainer
        self.tr = Trainer(spec)

    def step(self) -> None:
        if self.tr.train_step():
            self.tr.end_epoch()


class Hand:
    """The engine's stack (with its epoch ends: evaluation and metrics)."""

    def __init__(self, trainers) -> None:
        from playground.stack import Stack
        self.stack = Stack([(str(i), t) for i, t in enumerate(trainers)])
        for i in self.stack.ids:
            self.stack.set_active(i, True)

    def step(self) -> None:
        self.stack.end_epoch(self.stack.step())


class Func:
    """vmap over functional_call of one module with the runs' stacked parameters; foreach Adam."""

    def __init__(self, trainers) -> None:
        from torch.func import functional_call, stack_module_state, vmap
        self.trainers = trainers
        self.params, _ = stack_module_state([t.model for t in trainers])
        base = copy.deepcopy(trainers[0].model).to("meta")
        loss_fn = trainers[0].loss_fn

        def loss(p, x, y):
            return loss_fn(functional_call(base, p, (x,)), y)
        self.loss = vmap(loss)
        self.names = list(self.params)
        self.ps = [self.params[k] for k in self.names]
        self.ms = [torch.zeros_like(p) for p in self.ps]
        self.vs = [torch.zeros_like(p) for p in self.ps]
        lr = torch.tensor([t.opt.param_groups[0]["lr"] for t in trainers])
        self.lrs = [lr.view(-1, *[1] * (p.dim() - 1)) for p in self.ps]
        g = trainers[0].opt.param_groups[0]
        self.b1, self.b2 = g["betas"]
        self.eps, self.t = g["eps"], 0
        self.x, self.y = trainers[0].x_train, trainers[0].y_train
        self.n, self.batch = trainers[0].n, trainers[0].batch_size
        self.pos = self.n

    def step(self) -> None:
        if self.pos >= self.n:
            self.orders = torch.stack([torch.randperm(self.n, generator=t.generator) for t in self.trainers])
            self.pos = 0
        idx = self.orders[:, self.pos:self.pos + self.batch]
        self.pos += self.batch
        losses = self.loss(self.params, self.x[idx], self.y[idx])
        for p in self.ps:
            p.grad = None
        losses.sum().backward()
        gs = [p.grad for p in self.ps]
        self.t += 1
        bc1, bc2 = 1 - self.b1 ** self.t, (1 - self.b2 ** self.t) ** 0.5
        with torch.no_grad():
            torch._foreach_lerp_(self.ms, gs, 1 - self.b1)
            torch._foreach_mul_(self.vs, self.b2)
            torch._foreach_addcmul_(self.vs, gs, gs, 1 - self.b2)
            denom = torch._foreach_sqrt(self.vs)
            torch._foreach_div_(denom, bc2)
            torch._foreach_add_(denom, self.eps)
            update = torch._foreach_div(self.ms, denom)
            torch._foreach_mul_(update, self.lrs)
            torch._foreach_mul_(update, -1 / bc1)
            torch._foreach_add_(self.ps, update)


def rate(trainer, seconds: float) -> float:
    t0, n = time.perf_counter(), 0
    while time.perf_counter() - t0 < seconds:
        trainer.step()
        n += 1
    return n / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="spiral-mlp")
    ap.add_argument("--runs", type=int, nargs="+", default=[10, 30])
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=1.0)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    from playground.train import Trainer
    for n in args.runs:
        ss = specs(args.preset, n)
        ways = {"alone": Alone(ss[0]), "hand": Hand([Trainer(s) for s in ss]), "func": Func([Trainer(s) for s in ss])}
        sums = dict.fromkeys(ways, 0.0)
        for r in range(args.rounds + 1):  # round 0 warms up
            for name, way in ways.items():
                v = rate(way, args.seconds)
                if r:
                    sums[name] += v / args.rounds
        alone = sums["alone"]
        print(f"{n} runs of {args.preset} ({load()}): one alone {alone:.0f} steps/s; "
              f"hand-batched {sums['hand'] * n / alone:.1f}x, torch.func {sums['func'] * n / alone:.1f}x "
              f"(job-steps/s ÷ one alone)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
