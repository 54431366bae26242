"""stack/: runs trained as one stacked model give each run what training it alone gives (same seed, CPU: losses
within 1e-5), for every optimizer the stack implements, with runs joining, leaving, pausing and being tuned."""

from __future__ import annotations

import pytest
import torch

from playground.spec import from_dict
from playground.stack import Stack, key
from playground.stack.optim import STATE
from playground.train import OPTIMIZERS, Trainer

LAYERS = [{"type": "Linear", "out_features": 8}, {"type": "Tanh"}, {"type": "Linear", "out_features": 6},
          {"type": "ReLU"}, {"type": "Linear", "out_features": 2}]
TOL = 1e-5


def spec(seed=0, lr=0.01, opt="Adam", wd=0.0, layers=None, data=None, **train):
    options = train.pop("options", {})
    return from_dict({"data": data or {"name": "circle", "n_samples": 80, "seed": 1},
                      "model": {"layers": layers or LAYERS},
                      "train": {"epochs": 4, "batch_size": 10, "device": "cpu", "seed": seed,
                                "optimizer": {"type": opt, "lr": lr, "weight_decay": wd, **options}, **train}})


def alone(s, epochs=4) -> list[dict]:
    """Per-epoch metrics of the run trained alone."""
    return list(Trainer(s).fit(epochs))


def make(trainers, active=True) -> Stack:
    stack = Stack([(str(i), t) for i, t in enumerate(trainers)])
    for i in stack.ids:
        stack.set_active(i, active)
    return stack


def train_on(stack: Stack, got: list[list[dict]], epochs: int) -> list[list[dict]]:
    """Step `stack` until each of its runs has `epochs` epochs in `got` (indexed by run id); returns `got`."""
    for i in stack.ids:
        stack.set_active(i, len(got[int(i)]) < epochs)
    while stack.any_active:
        for run_id, m in stack.end_epoch(stack.step()).items():
            got[int(run_id)].append(m)
            if len(got[int(run_id)]) >= epochs:
                stack.set_active(run_id, False)
    return got


def stacked(specs, epochs=4) -> tuple[list[list[dict]], list[Trainer]]:
    """Per-epoch metrics of each run, all trained in one stack."""
    trainers = [Trainer(s) for s in specs]
    return train_on(make(trainers), [[] for _ in specs], epochs), trainers


def same(a: list[dict], b: list[dict]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x.keys() == y.keys()
        for k in ("train_loss", "val_loss", "train_accuracy", "val_accuracy", "lr", "steps", "epoch"):
            if k in x:
                assert abs(x[k] - y[k]) <= TOL, (k, x, y)


VARIANTS = [("SGD", {}), ("SGD", {"momentum": 0.9}), ("SGD", {"momentum": 0.9, "nesterov": True}), ("Adam", {}),
            ("AdamW", {}), ("RMSprop", {}), ("RMSprop", {"momentum": 0.5}), ("Adagrad", {})]


def test_every_optimizer_of_the_registry_is_stacked():
    assert {kind for kind, _ in VARIANTS} == set(OPTIMIZERS.names()) == set(STATE)


@pytest.mark.parametrize("opt,options", VARIANTS, ids=lambda v: str(v))
def test_each_run_of_a_stack_equals_its_run_alone(opt, options):
    # per-run learning rates, weight decay and seeds; uneven batches (64 samples in batches of 10)
    specs = [spec(seed=i, lr=0.02 * (i + 1), opt=opt, wd=[0.0, 0.01, 0.1][i], options=options) for i in range(3)]
    got, trainers = stacked(specs)
    for s, g in zip(specs, got, strict=True):
        same(g, alone(s))
    # the trainers hold the stacked weights: the final model of each equals the one trained alone
    ref = Trainer(specs[2])
    list(ref.fit(4))
    for p, q in zip(trainers[2].model.parameters(), ref.model.parameters(), strict=True):
        assert torch.allclose(p, q, atol=1e-5)


def test_l1_gradient_clipping_and_a_last_batch_of_one_match_too():
    # 64 training samples in batches of 21: 21, 21 and 22 (a last batch of one joins the one before)
    specs = [spec(seed=i, lr=0.05, opt="SGD", l1=[0.0, 0.001][i], grad_clip=[None, 0.5][i], batch_size=21)
             for i in range(2)]
    got, trainers = stacked(specs, epochs=3)
    assert trainers[0].steps_per_epoch == 3 and got[0][-1]["steps"] == 9
    for s, g in zip(specs, got, strict=True):
        same(g, alone(s, 3))


def test_runs_on_data_of_their_own_and_regression_losses():
    # each run its own noisy copy of the data (not shared tensors), a regression with mse
    specs = [spec(seed=i, data={"name": "plane", "n_samples": 60, "noise": 0.1 * i, "seed": i},
                  layers=[{"type": "Linear", "out_features": 5}, {"type": "Sigmoid"},
                          {"type": "Linear", "out_features": 1}], loss="mse") for i in range(3)]
    got, _ = stacked(specs, epochs=3)
    for s, g in zip(specs, got, strict=True):
        same(g, alone(s, 3))


def test_a_run_that_joins_late_and_one_that_leaves_mid_epoch_disturb_no_other():
    specs = [spec(seed=i, lr=0.01 * (i + 1), opt="Adam", wd=0.01) for i in range(4)]
    trainers = [Trainer(s) for s in specs]
    got: list[list[dict]] = [[], [], [], [trainers[3].run_epoch()]]  # run 3 trains alone for an epoch first
    stack = make(trainers[:3])
    for _ in range(10):  # an epoch (7 batches) and 3 batches of the next
        for run_id, m in stack.end_epoch(stack.step()).items():
            got[int(run_id)].append(m)
    stack.remove("1")  # stopped mid-epoch: it keeps the weights of its run alone after the same 10 steps
    ref = Trainer(specs[1])
    for _ in range(10):
        ref.train_step()
    for p, q in zip(trainers[1].model.parameters(), ref.model.parameters(), strict=True):
        assert torch.allclose(p, q, atol=1e-6)
    stack.add("3", trainers[3])  # with its optimizer state; the others are mid-epoch: rows at different places
    train_on(stack, got, 4)
    for i in (0, 2, 3):
        same(got[i], alone(specs[i], 4))


def test_a_run_that_leaves_between_epochs_trains_on_alone_as_if_never_stacked():
    specs = [spec(seed=i, opt="RMSprop", options={"momentum": 0.5}) for i in range(2)]
    trainers = [Trainer(s) for s in specs]
    stack = make(trainers)
    got = train_on(stack, [[], []], 1)
    row = stack.P[0].clone()
    stack.remove("0")
    flat = torch.cat([p.detach().reshape(-1) for p in trainers[0].model.parameters()])
    assert torch.equal(flat, row) and stack.ids == ["1"] and stack.P.shape[0] == 1
    state = trainers[0].opt.state[next(trainers[0].model.parameters())]
    assert set(state) == {"step", "square_avg", "momentum_buffer"} and float(state["step"]) == 7
    got[0] += list(trainers[0].fit(2))
    same(got[0], alone(specs[0], 3))


def test_a_paused_row_stays_as_it_was_and_then_goes_on_as_if_never_paused():
    specs = [spec(seed=i, lr=0.03, opt="SGD", options={"momentum": 0.9}) for i in range(3)]
    stack = make([Trainer(s) for s in specs])
    got: list[list[dict]] = [[], [], []]
    for _ in range(3):
        stack.step()
    stack.set_active("1", False)
    before = stack.P[1].clone(), stack.opt.state["momentum_buffer"][1].clone(), stack.pos[1], stack.steps[1]
    for _ in range(9):  # the others cross an epoch's end meanwhile
        for run_id, m in stack.end_epoch(stack.step()).items():
            got[int(run_id)].append(m)
    assert torch.equal(stack.P[1], before[0]) and torch.equal(stack.opt.state["momentum_buffer"][1], before[1])
    assert (stack.pos[1], stack.steps[1]) == before[2:] and not torch.equal(stack.P[0], before[0])
    train_on(stack, got, 3)
    for i, s in enumerate(specs):
        same(got[i], alone(s, 3))


def test_tuning_one_run_changes_only_that_run():
    specs = [spec(seed=i, lr=0.02, opt="Adam") for i in range(2)]
    trainers = [Trainer(s) for s in specs]
    stack = make(trainers)
    ref = Trainer(specs[1])
    for _ in range(5):
        stack.step()
        ref.train_step()
    trainers[1].tune(lr=0.1, weight_decay=0.01)
    stack.retune()
    ref.tune(lr=0.1, weight_decay=0.01)
    while not ref.train_step():
        pass
    while not stack.step():
        pass
    assert abs(ref.end_epoch()["train_loss"] - stack.end_epoch(["0", "1"])["1"]["train_loss"]) <= TOL
    assert stack.progress("1")["lr"] == 0.1 and stack.progress("0")["lr"] == 0.02


def test_what_can_be_stacked_and_with_what():
    base = key(Trainer(spec()))
    assert base is not None
    assert key(Trainer(spec(seed=5, lr=0.3, wd=0.1))) == base  # per-run values do not split a stack
    assert key(Trainer(spec(batch_size=12))) != base
    assert key(Trainer(spec(opt="SGD"))) != base
    assert key(Trainer(spec(options={"beta1": 0.8}))) != base
    assert key(Trainer(spec()), group="g") != base
    for between in ("Dropout", "BatchNorm1d", "Softmax"):
        layers = [{"type": "Linear", "out_features": 8}, {"type": between}, {"type": "Linear", "out_features": 2}]
        assert key(Trainer(spec(layers=layers))) is None, between
    assert key(Trainer(spec(scheduler={"type": "StepLR"}))) is None
    digits = from_dict({"data": {"name": "digits"}, "model": {"layers": [
        {"type": "Conv2d", "out_channels": 2, "kernel_size": 3}, {"type": "Flatten"},
        {"type": "Linear", "out_features": 10}]},
        "train": {"device": "cpu"}})
    assert key(Trainer(digits)) is None


def test_images_flattened_first_and_outputs_unflattened_last_are_stacked():
    # digits-mlp's and digits-autoencoder's shapes: Flatten of each image, Linear layers, Unflatten of the output
    data = {"name": "digits", "n_samples": 150}
    mlp = [{"type": "Flatten"}, {"type": "Linear", "out_features": 6}, {"type": "ReLU"},
           {"type": "Linear", "out_features": 10}]
    auto = [{"type": "Flatten"}, {"type": "Linear", "out_features": 5}, {"type": "ReLU"},
            {"type": "Linear", "out_features": 64}, {"type": "Sigmoid"}, {"type": "Unflatten", "dim": 1,
                                                                            "unflattened_size": [1, 8, 8]}]
    for layers, extra in ((mlp, {}), (auto, {"data": {**data, "target": "input"}, "loss": "mse"})):
        specs = [spec(seed=i, lr=0.01, layers=layers, **{"data": data, **extra}) for i in range(2)]
        assert key(Trainer(specs[0])) is not None
        got, _ = stacked(specs, epochs=2)
        for s, g in zip(specs, got, strict=True):
            same(g, alone(s, 2))
