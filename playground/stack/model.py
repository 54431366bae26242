"""Runs of one shape trained as one stacked model: every Linear layer is one batched matrix product over the runs'
weights (`torch.baddbmm` over (runs, out, in)), one loss and one backward pass serve all the runs, and one
optimizer update (stack/optim.py) moves every run's weights with its own learning rate.

Each run keeps its own `Trainer` (its data order, seed, spec, live views, snapshots, report): while it is stacked,
the trainer's parameters are views of its row of the stack, so whatever reads the trainer's model sees the weights
as they train. A run leaves with its weights and optimizer state copied back into its trainer, which then trains
on alone exactly as it would have. Per-run pause and step are masks: a masked row takes part in the pass, but its
weights, optimizer state, data position and counters stay as they were.

Why by hand and not `torch.func` (stack_module_state + functional_call + vmap): on these tiny networks the cost is
the number of operations per step, not arithmetic, and the hand-batched step has fewer: one matrix product per
layer and one update for all the weights of all the runs (benchmarks/stacking.py measures both).
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np
import torch
from torch import nn

from .key import key
from .optim import Hyper, StackedOptimizer

HOST = ("pos", "steps", "opt_steps", "count", "active", "t0")  # the per-run arrays kept on the host
# The stacked weights are views of one (runs, weights) tensor, and so are their gradients: torch warns that such
# a layout is not the one it would choose; it is the one we want (one optimizer update over every weight).
warnings.filterwarnings("ignore", message="grad and param do not obey the gradient layout contract")


class Stack:
    """Runs of one `key` trained together; `step()` trains every active run on one batch of its own data."""

    def __init__(self, members: list[tuple[str, object]]) -> None:
        first = members[0][1]
        self.key = key(first)
        self.device = first.device
        self.layers = list(first.model.children())
        self.loss_type, self.loss_fn, self.classify = first.loss_type, first.loss_fn, first.classify
        self.n, self.batch_size = first.n, first.batch_size
        self.shapes = [tuple(p.shape) for p in first.model.parameters()]
        ends = np.cumsum([0] + [math.prod(s) for s in self.shapes])
        self.spans = list(zip(ends[:-1].tolist(), ends[1:].tolist(), strict=True))
        self.width = int(ends[-1])
        self.weight_slots = [j for j, (name, _) in enumerate(first.model.named_parameters()) if name.endswith("weight")]
        g = first.opt.param_groups[0]
        self.opt = StackedOptimizer(type(first.opt).__name__, g, 0, self.width, self.device)
        self.fused = bool(g.get("fused"))
        self.ids: list[str] = []
        self.trainers: list = []
        self.P = torch.zeros(0, self.width, device=self.device)
        self.G = torch.zeros(0, self.width, device=self.device)  # the last step's gradients (statistics read them)
        # per run, on the host: place in its data, steps, optimizer steps, batches this epoch, mask, epoch start
        self.pos, self.steps, self.count = (np.zeros(0, np.int64) for _ in range(3))
        self.opt_steps, self.t0, self.active = np.zeros(0), np.zeros(0), np.zeros(0, bool)
        self.orders = torch.zeros(0, self.n, dtype=torch.long, device=self.device)
        self.loss_sum = torch.zeros(0, device=self.device)
        self.correct = torch.zeros(0, dtype=torch.long, device=self.device)
        for run_id, tr in members:
            self._append(run_id, tr)
        self._rebuild()

    def __len__(self) -> int:
        return len(self.ids)

    # -- members --
    def add(self, run_id: str, trainer) -> None:
        """Take in a run that is between epochs (a new one, or one at an epoch's end)."""
        self._append(run_id, trainer)
        self._rebuild()

    def _append(self, run_id: str, tr) -> None:
        assert tr._pos >= tr.n, "a run joins a stack between epochs"
        params = list(tr.model.parameters())
        row = torch.cat([p.detach().reshape(-1) for p in params])
        states = [tr.opt.state.get(p, {}) for p in params]
        rows = {}
        for k in self.opt.state:
            parts = [s.get(k) for s in states]
            if all(isinstance(t, torch.Tensor) for t in parts):
                rows[k] = torch.cat([t.detach().reshape(-1) for t in parts]).to(self.device)
        opt_steps = float(states[0]["step"]) if "step" in states[0] else float(tr.step)
        self.opt.append(rows)
        self.P = torch.cat([self.P.detach(), row.unsqueeze(0)])
        self.G = torch.cat([self.G, torch.zeros_like(row).unsqueeze(0)])
        self.ids.append(run_id)
        self.trainers.append(tr)
        for k, v in (("pos", tr.n), ("steps", tr.step), ("opt_steps", opt_steps), ("count", 0), ("active", False),
                     ("t0", time.perf_counter())):
            setattr(self, k, np.append(getattr(self, k), v))
        self.orders = torch.cat([self.orders, torch.zeros(1, self.n, dtype=torch.long, device=self.device)])
        self.loss_sum = torch.cat([self.loss_sum, self.loss_sum.new_zeros(1)])
        self.correct = torch.cat([self.correct, self.correct.new_zeros(1)])

    def remove(self, run_id: str) -> None:
        """Take a run out: its trainer gets its own copy of its weights and optimizer state and its counters, and
        trains on alone as it would have; the other runs go on untouched."""
        k = self.ids.index(run_id)
        self._release(k)
        keep = torch.tensor([i != k for i in range(len(self.ids))], device=self.device)
        self.P, self.G = self.P.detach()[keep], self.G[keep]
        self.opt.take(keep)
        self.orders, self.loss_sum, self.correct = self.orders[keep], self.loss_sum[keep], self.correct[keep]
        for name in HOST:
            setattr(self, name, np.delete(getattr(self, name), k))
        del self.ids[k], self.trainers[k]
        self._rebuild()

    def _release(self, k: int) -> None:
        tr = self.trainers[k]
        self.sync(k)
        fresh = int(self.opt_steps[k]) == 0
        for j, p in enumerate(tr.model.parameters()):
            a, b = self.spans[j]
            p.data = self.P[k, a:b].detach().reshape(self.shapes[j]).clone()
            p.grad = None
            if fresh:
                continue
            st = tr.opt.state[p]
            for name, t in self.opt.state.items():
                if name == "momentum_buffer" and not self.opt.group["momentum"]:
                    continue
                st[name] = t[k, a:b].reshape(self.shapes[j]).clone()
            if self.opt.kind != "SGD":
                old = st.get("step")
                st["step"] = torch.tensor(self.opt_steps[k], dtype=torch.float32,
                                          device=old.device if old is not None else
                                          (p.device if self.fused else torch.device("cpu")))
        if self.pos[k] < self.n:  # mid-epoch (the worker takes a run out mid-epoch only when it ends): its order
            # and the epoch's mean loss so far go with it; its outputs for the epoch's accuracy are not kept
            tr._order = self.orders[k].clone()
            tr._losses = [self.loss_sum[k] / max(1, int(self.count[k]))] * int(self.count[k])
            tr._outs = []

    def _rebuild(self) -> None:
        """Views of the stack's rows as (runs, *shape) weights, their gradients in one tensor, and each trainer's
        parameters as views of its own row."""
        K = len(self.ids)
        self.P, self.G = self.P.detach().contiguous(), self.G.contiguous()
        self.params = []
        for j, (a, b) in enumerate(self.spans):
            # in the form the batched product takes: weights (runs, in, out), biases (runs, 1, out)
            w = self._batched(self.P[:, a:b], j).requires_grad_()
            w.grad = self._batched(self.G[:, a:b], j)
            self.params.append(w)
        for k, tr in enumerate(self.trainers):
            for j, p in enumerate(tr.model.parameters()):
                a, b = self.spans[j]
                p.data = self.P[k, a:b].view(self.shapes[j])
        self.rows = torch.arange(K, device=self.device).unsqueeze(1)
        first = self.trainers[0] if self.trainers else None
        self.shared = first is not None and all(
            t.x_train is first.x_train and t.y_train is first.y_train and t.x_val is first.x_val
            and t.y_val is first.y_val for t in self.trainers)
        if first is not None:
            pick = (lambda name: getattr(first, name)) if self.shared else \
                (lambda name: torch.stack([getattr(t, name) for t in self.trainers]))
            self.data = {name: pick(name) for name in ("x_train", "y_train", "labels_train", "x_val", "y_val",
                                                       "labels_val")}
        self.retune()

    def _batched(self, t: torch.Tensor, j: int) -> torch.Tensor:
        shape = self.shapes[j]
        return t.view(len(t), *shape).mT if len(shape) == 2 else t.view(len(t), 1, *shape)

    # -- per-run settings --
    def retune(self) -> None:
        """Read every run's learning rate, weight decay, L1 rate and gradient clip from its trainer (after a
        `Trainer.tune`), and the masks from `active`."""
        dev = self.device
        groups = [tr.opt.param_groups[0] for tr in self.trainers]
        self.lr_host = np.array([g["lr"] for g in groups], np.float64)
        wd = np.array([g["weight_decay"] for g in groups], np.float32)
        l1 = np.array([tr._l1 for tr in self.trainers], np.float32)
        clip = np.array([tr._clip or 0.0 for tr in self.trainers], np.float32)
        col = lambda a: torch.from_numpy(np.asarray(a, np.float32)).to(dev).unsqueeze(1)  # noqa: E731
        self.all_active = bool(self.active.all())
        self.aligned = len(self.ids) > 0 and bool(self.pos.min() == self.pos.max())
        self.same_steps = len(self.ids) > 0 and bool(self.opt_steps.min() == self.opt_steps.max())
        self.active_col = torch.from_numpy(self.active.copy()).to(dev).unsqueeze(1)
        self.lr_col = col(np.where(self.active, self.lr_host, 0.0))
        self.wd_col = col(wd) if wd.any() else None
        self.l1 = torch.from_numpy(l1).to(dev) if l1.any() else None
        self.clip = col(np.where(clip > 0, clip, np.inf)) if clip.any() else None

    def set_active(self, run_id: str, on: bool) -> None:
        """Train this run with the others (True) or leave it as it is while they train (False)."""
        k = self.ids.index(run_id)
        if bool(self.active[k]) != on:
            self.active[k] = on
            self.retune()

    @property
    def any_active(self) -> bool:
        return bool(self.active.any())

    # -- training --
    def step(self) -> list[str]:
        """One batch for every active run (masked rows stay as they are); the ids of the runs whose epoch this
        step ended (their `end_epoch` is due)."""
        if self.all_active and self.aligned:  # the usual case: every run at the same place in its data
            idx, weights, width = self._batch_aligned()
        else:
            idx, weights, width = self._batch_masked()
        x, y = self._take("x_train", idx), self._take("y_train", idx)
        out = self.forward(x)
        per = self._per_sample(out, y)
        loss = per.mean(1) if weights is None else (per * weights).sum(1)
        total = loss.sum()
        if self.l1 is not None:
            total = total + (self.l1 * sum(self.params[j].abs().sum((1, 2)) for j in self.weight_slots)).sum()
        self.G.zero_()
        total.backward()
        act = self.active
        with torch.no_grad():
            if self.clip is not None:  # clip_grad_norm_ per run: the norm of all of its gradients
                self.G.mul_((self.clip / (self.G.norm(dim=1, keepdim=True) + 1e-6)).clamp_(max=1.0))
            if self.all_active:
                self.opt_steps += 1
            else:
                self.opt_steps[act] += 1
                self.same_steps = bool(self.opt_steps.min() == self.opt_steps.max())
            same = float(self.opt_steps[0]) if self.same_steps else None
            self.opt.step(self.P, self.G, Hyper(self.lr_col, self.wd_col, self.active_col, self.all_active,
                                                self.opt_steps, same))
            done = loss.detach()
            self.loss_sum += done if self.all_active else torch.where(self.active_col[:, 0], done, 0.0)
            if self.classify:
                # class indices: y itself for cross_entropy, else the labels
                labels = y if self.data["labels_train"] is self.data["y_train"] else self._take("labels_train", idx)
                hit = self.loss_type.labels(out.detach().flatten(0, 1)).view(idx.shape) == labels
                if weights is not None:
                    hit &= weights > 0
                self.correct += hit.sum(1)
        if width is None:  # aligned: every run moved alike
            self.steps += 1
            self.count += 1
            return list(self.ids) if self.pos[0] >= self.n else []
        self.steps[act] += 1
        self.count[act] += 1
        self.aligned = bool(self.pos.min() == self.pos.max())
        ended = act & (self.pos >= self.n)
        return [self.ids[k] for k in np.flatnonzero(ended)] if ended.any() else []

    def _width(self, pos):
        """The batch that starts at `pos` ends here (a last batch of one joins the one before, as in the Trainer)."""
        end = np.minimum(pos + self.batch_size, self.n)
        return np.where(self.n - end == 1, self.n, end) if self.batch_size > 1 else end

    def _batch_aligned(self):
        if self.pos[0] >= self.n:
            self._start_epoch(np.arange(len(self.ids)))
        p = int(self.pos[0])
        w = int(self._width(p)) - p
        self.pos += w
        return self.orders[:, p:p + w], None, None

    def _batch_masked(self):
        """Rows at different places in their data, or masked: each takes its own batch, padded to the widest
        (padding and masked rows weigh nothing in the loss)."""
        act, n, pos = self.active, self.n, self.pos
        starting = np.flatnonzero(act & (pos >= n))
        if len(starting):
            self._start_epoch(starting)
        width = np.where(act, self._width(pos) - pos, 0)
        W = int(width.max())
        cols = np.minimum(pos[:, None] + np.arange(W), n - 1)
        idx = self.orders.gather(1, torch.from_numpy(cols).to(self.device))
        valid = np.arange(W) < width[:, None]
        weights = torch.from_numpy((valid / np.maximum(width, 1)[:, None]).astype(np.float32)).to(self.device)
        self.pos += width
        return idx, weights, width

    def _start_epoch(self, ks: np.ndarray) -> None:
        """Runs `ks` start an epoch: each draws its order from its own trainer's generator (as it would alone)."""
        rows = torch.from_numpy(ks).to(self.device)
        self.orders[rows] = torch.stack([torch.randperm(self.n, generator=self.trainers[k].generator)
                                         for k in ks]).to(self.device)
        self.pos[ks] = 0
        self.count[ks] = 0
        self.loss_sum[rows] = 0.0
        self.correct[rows] = 0
        self.t0[ks] = time.perf_counter()

    def _take(self, name: str, idx: torch.Tensor) -> torch.Tensor:
        """Rows `idx` (runs, width) of each run's `name` data."""
        t = self.data[name]
        return t[idx] if self.shared else t[self.rows, idx]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Every run's model on its own inputs: (runs, batch, features) → (runs, batch, outputs)."""
        j = 0
        for m in self.layers:
            if isinstance(m, nn.Linear):
                if m.bias is not None:
                    x = torch.baddbmm(self.params[j + 1], x, self.params[j])
                    j += 2
                else:
                    x = torch.bmm(x, self.params[j])
                    j += 1
            elif isinstance(m, nn.Flatten):  # each sample: (runs, batch, ...) → (runs, batch, features)
                x = x.flatten(2)
            elif isinstance(m, nn.Unflatten):
                x = x.unflatten(2, m.unflattened_size)
            else:
                x = m(x)
        return x

    def _per_sample(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """(runs, batch) loss of each sample (averaged over its outputs, as the mean reduction does)."""
        K, W = out.shape[:2]
        per = self.loss_fn(out.flatten(0, 1), y.flatten(0, 1), reduction="none")
        return per.view(K, W) if per.dim() == 1 else per.view(K, W, -1).mean(2)

    # -- epochs and reports --
    @torch.no_grad()
    def end_epoch(self, ids: list[str]) -> dict[str, dict | Exception]:
        """Close the epoch of runs `ids` (as `Trainer.end_epoch` does): their metrics, or the error that ends one."""
        from ..train import TrainingError
        if not ids:
            return {}
        ks = [self.ids.index(i) for i in ids]
        val = self.evaluate()
        losses = self.loss_sum.tolist()
        correct = self.correct.tolist() if self.classify else None
        out = {}
        for k in ks:
            tr = self.trainers[k]
            tr.epoch += 1
            tr.step = int(self.steps[k])
            tr._pos = int(self.pos[k])
            train_loss = losses[k] / max(1, int(self.count[k]))
            lr = float(self.lr_host[k])
            if not math.isfinite(train_loss):
                out[self.ids[k]] = TrainingError(
                    f"epoch {tr.epoch}: the training loss became {train_loss}; lower the learning rate "
                    f"(now {lr:g}), add gradient clipping (train.grad_clip) or use a smaller init", path="train")
                continue
            m = {"epoch": tr.epoch, "train_loss": train_loss}
            if self.classify:
                m["train_accuracy"] = correct[k] / self.n
            m.update({f"val_{name}": v[k] for name, v in val.items()})
            tr.seconds += time.perf_counter() - self.t0[k]
            m.update(lr=lr, seconds=round(tr.seconds, 4), steps=tr.step)
            out[self.ids[k]] = m
        return out

    @torch.no_grad()
    def evaluate(self) -> dict[str, list[float]]:
        """Every run's mean validation loss (and accuracy), as `Trainer.evaluate` computes it for one."""
        x, y, labels = self.data["x_val"], self.data["y_val"], self.data["labels_val"]
        K, n = len(self.ids), len(x) if self.shared else x.shape[1]
        chunk = max(64, 4096 // max(1, K))
        loss = torch.zeros(K, device=self.device)
        correct = torch.zeros(K, dtype=torch.long, device=self.device)
        part = (lambda t, i: t[i:i + chunk].expand(K, *t[i:i + chunk].shape)) if self.shared else \
            (lambda t, i: t[:, i:i + chunk])
        for i in range(0, n, chunk):
            xs, ys = part(x, i), part(y, i)
            out = self.forward(xs)
            loss += self._per_sample(out, ys).sum(1)
            if self.classify:
                correct += (self.loss_type.labels(out.flatten(0, 1)).view(K, -1) == part(labels, i)).sum(1)
        m = {"loss": (loss / n).tolist()}
        if self.classify:
            m["accuracy"] = [c / n for c in correct.tolist()]
        return m

    def sync(self, k: int) -> None:
        """Bring run k's trainer up to date for whatever reads it (counters; the last step's gradients, as views)."""
        tr = self.trainers[k]
        tr.step = int(self.steps[k])
        tr._pos = int(self.pos[k])
        for j, p in enumerate(tr.model.parameters()):
            a, b = self.spans[j]
            p.grad = self.G[k, a:b].view(self.shapes[j])

    def progress(self, run_id: str) -> dict:
        """Run `run_id`'s epoch, batch, steps, running loss and learning rate now (what the worker reports)."""
        k = self.ids.index(run_id)
        tr, count, mid = self.trainers[k], int(self.count[k]), self.pos[k] < self.n
        return {"epoch": tr.epoch, "batch": count if mid else 0, "steps": int(self.steps[k]),
                "running_loss": self.loss_sum[k].item() / count if count and mid else None,
                "lr": float(self.lr_host[k])}
