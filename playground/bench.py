"""The trainer against a plain hand-written PyTorch loop, run alternately in one process.

Both train the same initial weights on the same data with the same batch size and each epoch end with
the same validation pass. `ratio` = the trainer's steps per second ÷ the plain loop's; the plain loop
builds its optimizer the way a user would (`torch.optim.Adam(model.parameters(), lr)`), so a faster
optimizer kernel the engine picks shows up as a ratio above 1; the `-same-optimizer` lines hand the
plain loop the trainer's own optimizer settings and so measure only the engine's overhead.
"""

from __future__ import annotations

import copy
import json
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


# ---- a class of runs: stacked in one worker, against one run alone -----------------------------------------------

class _Count:
    """A worker's event sink that keeps nothing (the benchmark reads the runs themselves)."""

    def send(self, event: dict) -> None:
        if event.get("type") == "state" and event.get("state") == "failed":
            raise RuntimeError(f"job {event['job']} failed: {event.get('message')}")


def _worker(specs: list[dict], stack: bool):
    """An in-process worker (worker.Worker, the loop worker processes run) holding `specs` as running jobs."""
    import queue

    from .jobs import Limits
    from .worker import Worker
    commands: queue.Queue = queue.Queue()
    cfg = {"nice": 0, "slice": 0.01, "stack": stack, **vars(Limits(max_seconds=float("inf")))}
    w = Worker(commands, _Count(), cfg)
    for i, s in enumerate(specs):
        w.handle(("start", f"job{i}", s, 10**9, False, None, None, None, None, False))
    return w


def _steps(w) -> int:
    return sum(w.progress_of(r)["steps"] for r in w.runs.values())


def class_ratio(n: int = 30, preset: str = "spiral-mlp", device: str = "cpu", rounds: int = 4,
                seconds: float = 1.0) -> dict:
    """Job-steps per second of `n` jobs of `preset` (learning rates spread over 16×, seeds 0…n-1) in one worker,
    stacked and (for comparison) multiplexed one by one as without stacking, each ÷ one job alone; measured in
    alternating rounds of `seconds`, so that a load that comes and goes affects all alike."""
    from . import presets
    base = presets.get(preset).to_dict()
    base["train"]["device"] = device
    lr = base["train"]["optimizer"]["lr"]

    def spec(i: int) -> dict:
        d = json.loads(json.dumps(base))
        d["train"]["seed"] = i
        d["train"]["optimizer"]["lr"] = lr * 2 ** (4 * i / max(1, n - 1) - 3)  # lr/8 … lr×2
        return d

    workers = {"alone": _worker([spec(0)], True), "stacked": _worker([spec(i) for i in range(n)], True),
               "unstacked": _worker([spec(i) for i in range(n)], False)}
    rate = dict.fromkeys(workers, 0.0)
    for r in range(rounds + 1):  # the first round warms up (stacks form at the first epoch's end)
        for name, w in workers.items():
            s0, t0 = _steps(w), time.perf_counter()
            w.run(until=t0 + seconds)
            if r:
                rate[name] += (_steps(w) - s0) / (time.perf_counter() - t0) / rounds
    stacked = max((len(r.stack) for r in workers["stacked"].runs.values() if r.stack is not None), default=0)
    return {"preset": preset, "jobs": n, "device": device, "stack_size": stacked, "alone_steps_per_s": rate["alone"],
            "stacked_steps_per_s": rate["stacked"], "unstacked_steps_per_s": rate["unstacked"],
            "stacked_ratio": rate["stacked"] / rate["alone"], "unstacked_ratio": rate["unstacked"] / rate["alone"]}


def run_class(n: int, preset: str = "spiral-mlp", device: str = "cpu", rounds: int = 4) -> float:
    """Print the class benchmark's figures and `class_ratio=R` last; return R."""
    torch.set_num_threads(1)
    m = class_ratio(n, preset, device, rounds)
    print(f"{n} jobs of {preset} on {device} (learning rates over 16x, seeds 0-{n - 1}), one worker, one thread:")
    rows = [("one job alone", m["alone_steps_per_s"], None),
            (f"{n} jobs stacked (stacks of {m['stack_size']})", m["stacked_steps_per_s"], m["stacked_ratio"]),
            (f"{n} jobs one by one, unstacked", m["unstacked_steps_per_s"], m["unstacked_ratio"])]
    for label, rate, ratio in rows:
        print(f"  {label:34s} {rate:9.0f} job-steps/s" + (f"   ratio {ratio:.2f}" if ratio is not None else ""))
    print(f"class_ratio={m['stacked_ratio']:.2f}", flush=True)
    return m["stacked_ratio"]
