"""train.py: every loss and optimizer learns; the trainer's step is PyTorch's step; seeds reproduce runs."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F

import playground as pg
from playground.train import INITS, LOSSES, OPTIMIZERS, SCHEDULERS, Trainer, TrainingError, resolve_device

EASY = {"name": "gauss", "n_samples": 200, "noise": 0.0}  # two well-separated blobs
PLANE = {"name": "plane", "n_samples": 200, "noise": 0.0}
HIDDEN = [{"type": "Linear", "out_features": 8}, {"type": "Tanh"}]


def val_loss(tr: Trainer) -> float:
    return tr.evaluate(tr.x_val, tr.y_val, tr.labels_val)["loss"]


def drop_seconds(metrics: list[dict]) -> list[dict]:
    return [{k: v for k, v in m.items() if k != "seconds"} for m in metrics]


def test_contract_registries():
    assert {"cross_entropy", "bce_with_logits", "mse", "l1", "huber"} <= set(LOSSES)
    assert {"SGD", "Adam", "AdamW", "RMSprop", "Adagrad"} <= set(OPTIMIZERS)
    assert set(INITS) == {"default", "xavier", "kaiming", "zeros"}
    for registry in (LOSSES, OPTIMIZERS, SCHEDULERS, INITS):
        for _, entry in registry.items():
            assert entry.description
            for p in getattr(entry, "params", ()):
                assert p.check(p.default, entry.name) == p.default


@pytest.mark.parametrize("loss", [n for n in LOSSES.names() if n != "detection"])  # it: tests/test_detection.py
def test_every_loss_lowers_the_loss(make_spec, loss):
    data, out = (EASY, 2) if loss in ("cross_entropy", "bce_with_logits") else (PLANE, 1)
    if loss == "bce_with_logits":
        out = 1
    spec = make_spec(data, [*HIDDEN, {"type": "Linear", "out_features": out}], loss=loss, epochs=8,
                     optimizer={"type": "Adam", "lr": 0.02})
    tr = Trainer(spec)
    before = val_loss(tr)
    metrics = list(tr.fit())
    assert len(metrics) == 8 and metrics[-1]["epoch"] == 8
    assert metrics[-1]["val_loss"] < 0.5 * before, (loss, before, metrics[-1])
    assert metrics[-1]["train_loss"] < metrics[0]["train_loss"]
    if tr.classify:
        assert metrics[-1]["val_accuracy"] >= 0.95


@pytest.mark.parametrize("optimizer", OPTIMIZERS.names())
def test_every_optimizer_lowers_the_loss(make_spec, optimizer):
    lr = {"SGD": 0.1, "Adagrad": 0.1}.get(optimizer, 0.01)
    spec = make_spec(EASY, [*HIDDEN, {"type": "Linear", "out_features": 2}], epochs=6,
                     optimizer={"type": optimizer, "lr": lr})
    tr = Trainer(spec)
    before = val_loss(tr)
    last = list(tr.fit())[-1]
    assert last["val_loss"] < 0.7 * before and last["val_accuracy"] >= 0.9, (optimizer, before, last)


@pytest.mark.parametrize("optimizer, options", [
    ("SGD", {"momentum": 0.9, "nesterov": True}),
    ("Adam", {"beta1": 0.5, "beta2": 0.9}),
    ("RMSprop", {"alpha": 0.9, "momentum": 0.5}),
])
def test_optimizer_options_reach_torch(make_spec, optimizer, options):
    spec = make_spec(EASY, [{"type": "Linear", "out_features": 2}],
                     optimizer={"type": optimizer, "lr": 0.05, "weight_decay": 0.01, **options})
    group = Trainer(spec).opt.param_groups[0]
    assert group["lr"] == 0.05 and group["weight_decay"] == 0.01
    if "beta1" in options:
        assert group["betas"] == (0.5, 0.9)
    for key in ("momentum", "nesterov", "alpha"):
        if key in options:
            assert group[key] == options[key]


@pytest.mark.parametrize("where, train, message", [
    ("train.optimizer", {"optimizer": {"type": "SGD", "momentun": 0.9}}, "did you mean 'momentum'"),
    ("train.optimizer.type", {"optimizer": {"type": "adam"}}, "did you mean 'Adam'"),
    ("train.scheduler.type", {"scheduler": {"type": "StepLr"}}, "did you mean 'StepLR'"),
    ("train.scheduler", {"scheduler": {"type": "StepLR", "gamma": 2}}, "gamma must be ≤ 1"),
    ("train.loss", {"loss": "mae"}, "unknown loss 'mae'"),
])
def test_bad_training_options_name_their_field(make_spec, where, train, message):
    spec = make_spec(EASY, [{"type": "Linear", "out_features": 2}], **train)
    with pytest.raises(pg.PlaygroundError) as e:
        Trainer(spec)
    assert e.value.message.startswith(where) and message in e.value.message


def test_same_seed_same_metrics(make_spec):
    layers = [{"type": "Linear", "out_features": 8}, {"type": "ReLU"}, {"type": "Dropout", "p": 0.3},
              {"type": "Linear", "out_features": 2}]
    spec = make_spec({"name": "spiral", "n_samples": 120}, layers, epochs=3)
    a, b = list(Trainer(spec).fit()), list(Trainer(spec).fit())
    assert drop_seconds(a) == drop_seconds(b)
    other = make_spec({"name": "spiral", "n_samples": 120}, layers, epochs=3, seed=1)
    assert drop_seconds(list(Trainer(other).fit())) != drop_seconds(a)


def test_metrics_fields(spiral_spec):
    tr = Trainer(spiral_spec)
    m = tr.run_epoch()
    assert {"epoch", "train_loss", "val_loss", "seconds", "val_accuracy", "train_accuracy", "lr", "steps"} <= set(m)
    assert m["steps"] == tr.steps_per_epoch == math.ceil(tr.n / 16)
    assert 0 <= m["train_accuracy"] <= 1 and 0 <= m["val_accuracy"] <= 1
    assert m["seconds"] >= 0


def test_regression_metrics_have_no_accuracy(make_spec):
    spec = make_spec(PLANE, [{"type": "Linear", "out_features": 1}], loss="mse", epochs=1)
    m = next(Trainer(spec).fit())
    assert "val_accuracy" not in m and "train_accuracy" not in m


def test_evaluate_matches_a_hand_computed_loss(spiral_spec):
    tr = Trainer(spiral_spec)
    with torch.no_grad():
        tr.model.eval()
        out = tr.model(tr.x_val)
    m = tr.evaluate(tr.x_val, tr.y_val, tr.labels_val, chunk=7)  # chunks must not change the mean
    assert m["loss"] == pytest.approx(F.cross_entropy(out, tr.y_val).item(), rel=1e-5)
    assert m["accuracy"] == pytest.approx((out.argmax(1) == tr.labels_val).float().mean().item())


def test_huge_learning_rate_fails_with_the_epoch_and_a_hint(make_spec):
    spec = make_spec(PLANE, [{"type": "Linear", "out_features": 16}, {"type": "Linear", "out_features": 1}],
                     loss="mse", epochs=50, optimizer={"type": "SGD", "lr": 10})
    with pytest.raises(TrainingError) as e:
        list(Trainer(spec).fit())
    assert e.value.message.startswith("epoch ")
    assert "learning rate" in e.value.message and "(now 10)" in e.value.message


def _lrs(tr: Trainer, epochs: int) -> list[float]:
    return [m["lr"] for m in tr.fit(epochs)]


@pytest.mark.parametrize("scheduler, expected", [
    ({"type": "StepLR", "step_size": 2, "gamma": 0.5}, [0.1, 0.1, 0.05, 0.05, 0.025]),
    ({"type": "ExponentialLR", "gamma": 0.5}, [0.1, 0.05, 0.025, 0.0125, 0.00625]),
    ({"type": "CosineAnnealingLR", "eta_min": 0.02},
     [0.02 + 0.08 * (1 + math.cos(math.pi * e / 5)) / 2 for e in range(5)]),
])
def test_schedulers_change_the_lr(make_spec, scheduler, expected):
    spec = make_spec(EASY, [{"type": "Linear", "out_features": 2}], epochs=5, scheduler=scheduler,
                     optimizer={"type": "SGD", "lr": 0.1})
    assert _lrs(Trainer(spec), 5) == pytest.approx(expected)


def test_reduce_on_plateau_halves_the_lr_when_val_loss_stalls(make_spec):
    spec = make_spec(EASY, [{"type": "Linear", "out_features": 2}], epochs=4,
                     scheduler={"type": "ReduceLROnPlateau", "factor": 0.5, "patience": 0},
                     optimizer={"type": "SGD", "lr": 0.1})
    tr = Trainer(spec)
    tr.evaluate = lambda *a, **k: {"loss": 1.0, "accuracy": 0.5}  # a validation loss that never improves
    assert _lrs(tr, 4) == pytest.approx([0.1, 0.1, 0.05, 0.025])


def test_no_scheduler_keeps_the_lr(make_spec):
    spec = make_spec(EASY, [{"type": "Linear", "out_features": 2}], optimizer={"type": "SGD", "lr": 0.1})
    assert _lrs(Trainer(spec), 3) == [0.1, 0.1, 0.1]


def _hidden_rows(init: str, make_spec) -> torch.Tensor:
    spec = make_spec(EASY, [{"type": "Linear", "out_features": 6}, {"type": "Sigmoid"},
                            {"type": "Linear", "out_features": 2}], epochs=3, init=init)
    tr = Trainer(spec)
    list(tr.fit())
    return tr.model[0].weight.detach(), tr.model[2].weight.detach()


def test_zeros_init_never_breaks_symmetry(make_spec):
    w1, w2 = _hidden_rows("zeros", make_spec)
    assert w1.abs().sum() > 0  # it trained ...
    torch.testing.assert_close(w1, w1[:1].expand_as(w1), rtol=0, atol=1e-6)  # ... but every neuron is the same
    torch.testing.assert_close(w2, w2[:, :1].expand_as(w2), rtol=0, atol=1e-6)


@pytest.mark.parametrize("init", ["kaiming", "xavier", "default"])
def test_random_inits_break_symmetry(make_spec, init):
    w1, _ = _hidden_rows(init, make_spec)
    assert (w1 - w1[:1]).abs().max() > 0.05


def test_init_sets_biases_to_zero_and_scales_weights(make_spec):
    layers = [{"type": "Linear", "out_features": 256}, {"type": "ReLU"}, {"type": "Linear", "out_features": 256},
              {"type": "ReLU"}, {"type": "Linear", "out_features": 2}]
    spec = make_spec(EASY, layers, init="kaiming")
    w = Trainer(spec).model[2]
    assert torch.equal(w.bias, torch.zeros(256))
    assert w.weight.std().item() == pytest.approx(math.sqrt(2 / 256), rel=0.05)  # He: std = √(2 / fan_in)


def test_grad_clip_bounds_each_update(make_spec):
    spec = make_spec(EASY, [*HIDDEN, {"type": "Linear", "out_features": 2}], grad_clip=0.001,
                     optimizer={"type": "SGD", "lr": 1.0})
    tr = Trainer(spec)
    before = torch.cat([p.detach().flatten().clone() for p in tr.model.parameters()])
    tr.train_step()
    after = torch.cat([p.detach().flatten() for p in tr.model.parameters()])
    assert 0 < (after - before).norm() <= 0.001 * 1.0 + 1e-6
    assert next(tr.fit(1))["train_loss"] > 0


def test_l1_shrinks_weights(make_spec):
    def weight_sum(l1: float) -> float:
        spec = make_spec(EASY, [*HIDDEN, {"type": "Linear", "out_features": 2}], l1=l1, epochs=3,
                         optimizer={"type": "SGD", "lr": 0.1})
        tr = Trainer(spec)
        m = list(tr.fit())
        assert all(math.isfinite(x["train_loss"]) for x in m)
        return sum(p.abs().sum().item() for n, p in tr.model.named_parameters() if n.endswith("weight"))
    assert weight_sum(0.05) < 0.8 * weight_sum(0.0)


def test_one_step_equals_a_hand_written_pytorch_step(make_spec):
    spec = make_spec({"name": "spiral", "n_samples": 100},
                     [{"type": "Linear", "out_features": 8}, {"type": "ReLU"}, {"type": "Linear", "out_features": 2}],
                     batch_size=10, seed=5, optimizer={"type": "SGD", "lr": 0.1, "momentum": 0.9})
    tr = Trainer(spec)
    model = copy.deepcopy(tr.model)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    order = torch.randperm(tr.n, generator=torch.Generator().manual_seed(5))  # the trainer's shuffle
    for step in range(3):
        idx = order[step * 10:(step + 1) * 10]
        loss = F.cross_entropy(model(tr.data.x_train[idx]), tr.data.y_train[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        tr.train_step()
    for (k, a), b in zip(tr.model.state_dict().items(), model.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7, msg=k)


def test_adam_step_equals_pytorch_adam(make_spec):
    spec = make_spec(PLANE, [{"type": "Linear", "out_features": 4}, {"type": "Tanh"},
                             {"type": "Linear", "out_features": 1}], loss="mse", batch_size=20,
                     optimizer={"type": "Adam", "lr": 0.05, "weight_decay": 0.01})
    tr = Trainer(spec)
    model = copy.deepcopy(tr.model)
    opt = torch.optim.Adam(model.parameters(), lr=0.05, weight_decay=0.01)  # the unfused reference
    idx = torch.randperm(tr.n, generator=torch.Generator().manual_seed(0))[:20]
    loss = F.mse_loss(model(tr.data.x_train[idx]), tr.data.y_train[idx])
    loss.backward()
    opt.step()
    tr.train_step()
    for a, b in zip(tr.model.parameters(), model.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_sgd_step_equals_the_gradient_by_hand(make_spec):
    # one Linear layer, mean squared error: dL/dw = 2/B · Σ (w·x + b - y) x, computed here without autograd
    spec = make_spec(PLANE, [{"type": "Linear", "out_features": 1}], loss="mse", batch_size=160,
                     optimizer={"type": "SGD", "lr": 0.01})
    tr = Trainer(spec)
    w, b = tr.model[0].weight.detach().clone(), tr.model[0].bias.detach().clone()  # (1, 2), (1,)
    x, y = tr.data.x_train.double(), tr.data.y_train.double()  # the whole set is one batch
    err = x @ w.double().T + b.double() - y  # (B, 1)
    grad_w = 2 * (err * x).mean(0, keepdim=True)  # (1, 2)
    grad_b = 2 * err.mean(0)
    tr.train_step()
    torch.testing.assert_close(tr.model[0].weight.detach().double(), w.double() - 0.01 * grad_w)
    torch.testing.assert_close(tr.model[0].bias.detach().double(), b.double() - 0.01 * grad_b)


def test_binary_heads_get_float_targets(make_spec):
    spec = make_spec(EASY, [{"type": "Linear", "out_features": 1}], loss="bce_with_logits")
    tr = Trainer(spec)
    assert tr.y_train.shape == (tr.n, 1) and tr.y_train.dtype == torch.float32
    out = torch.tensor([[-1.0], [2.0]])
    assert tr.predict_labels(out).tolist() == [0, 1]
    two = Trainer(make_spec(EASY, [{"type": "Linear", "out_features": 2}], loss="mse"))
    assert two.y_train.shape == (two.n, 2) and torch.equal(two.y_train.sum(1), torch.ones(two.n))


def test_batch_norm_model_trains(make_spec):
    layers = [{"type": "Linear", "out_features": 8}, {"type": "BatchNorm1d"}, {"type": "ReLU"},
              {"type": "Linear", "out_features": 2}]
    m = list(Trainer(make_spec(EASY, layers, epochs=2)).fit())
    assert m[-1]["val_accuracy"] > 0.9


def test_step_by_step_matches_fit(spiral_spec):
    a, b = Trainer(spiral_spec), Trainer(spiral_spec)
    ended = [a.train_step() for _ in range(a.steps_per_epoch)]
    assert ended == [False] * (a.steps_per_epoch - 1) + [True] and a.step == a.steps_per_epoch
    ma = a.end_epoch()
    mb = b.run_epoch()
    assert drop_seconds([ma]) == drop_seconds([mb])


def test_predict_returns_cpu_outputs_in_eval_mode(spiral_spec):
    tr = Trainer(spiral_spec)
    out = tr.predict(tr.data.x_val)
    assert out.shape == (len(tr.data.x_val), 2) and out.device.type == "cpu"
    assert tr.model.training


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_missing_cuda_is_a_clear_error(make_spec):
    spec = make_spec(EASY, [{"type": "Linear", "out_features": 2}], device="cuda")
    with pytest.raises(TrainingError, match="^train.device: cuda was asked for but no CUDA GPU is available"):
        Trainer(spec)
    with pytest.raises(TrainingError, match="use auto or cpu"):
        resolve_device("cuda")


@pytest.mark.skipif(torch.cuda.is_available() or torch.backends.mps.is_available(), reason="has an accelerator")
def test_auto_device_is_the_cpu_here():
    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device() == torch.device("cpu")
    assert resolve_device("cpu") == torch.device("cpu")


def test_auto_prefers_cuda_then_mps(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("mps")
    assert resolve_device("mps") == torch.device("mps")


def test_train_convenience_yields_epochs(spiral_spec):
    from playground.train import train
    assert [m["epoch"] for m in train(spiral_spec, epochs=2, device="cpu")] == [1, 2]


@pytest.mark.parametrize("n_train, batch_size, sizes", [
    (49, 16, [16, 16, 17]),  # a last batch of one joins the one before
    (48, 16, [16, 16, 16]),
    (50, 16, [16, 16, 16, 2]),
    (5, 1, [1, 1, 1, 1, 1]),  # unless every batch is one sample
])
def test_batches_never_end_with_a_single_sample(make_spec, n_train, batch_size, sizes):
    data = {"name": "circle", "n_samples": n_train + 10, "val_fraction": 10 / (n_train + 10)}
    tr = Trainer(make_spec(data, [{"type": "Linear", "out_features": 2}], batch_size=batch_size))
    seen = []
    tr.model.register_forward_pre_hook(lambda m, args: seen.append(len(args[0])) if m.training else None)
    m = tr.run_epoch()
    assert tr.n == n_train and seen == sizes and m["steps"] == tr.steps_per_epoch == len(sizes)


def test_batch_norm_trains_when_one_sample_is_left_over(make_spec):
    layers = [{"type": "Linear", "out_features": 4}, {"type": "BatchNorm1d"}, {"type": "Linear", "out_features": 2}]
    tr = Trainer(make_spec({"name": "circle", "n_samples": 59, "val_fraction": 10 / 59}, layers, batch_size=16))
    assert tr.n == 49
    assert math.isfinite(next(tr.fit(1))["train_loss"])


def test_tune_changes_rates_in_place(spiral_spec):
    tr = Trainer(spiral_spec)
    tr.train_step()
    state = copy.deepcopy(tr.opt.state_dict()["state"])
    tr.tune(lr=0.0)  # a zero step: the weights stop moving, the optimizer keeps its moments
    before = [p.detach().clone() for p in tr.model.parameters()]
    tr.train_step()
    assert all(torch.equal(a, b) for a, b in zip(before, tr.model.parameters(), strict=True))
    assert set(tr.opt.state_dict()["state"]) == set(state) and tr.step == 2
    tr.tune(lr=0.01, weight_decay=0.5, l1=0.001)
    g = tr.opt.param_groups[0]
    assert (g["lr"], g["weight_decay"], tr._l1) == (0.01, 0.5, 0.001) and tr.l1_params
    tr.train_step()
    assert not all(torch.equal(a, b) for a, b in zip(before, tr.model.parameters(), strict=True))
    tr.tune(l1=0.0)
    assert tr.l1_params == []


def test_tuning_says_what_a_run_can_change_in_place(spiral_dict):
    from playground.train import tuning
    new = copy.deepcopy(spiral_dict)
    assert tuning(spiral_dict, new) == {}
    new["train"]["optimizer"]["lr"] = 0.5
    new["train"]["l1"] = 0.01
    assert tuning(spiral_dict, new) == {"lr": 0.5, "l1": 0.01}
    new["train"]["batch_size"] = 7  # a new batch size is a new run
    assert tuning(spiral_dict, new) is None
