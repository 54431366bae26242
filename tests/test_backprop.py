"""backprop.py: the hand-worked SGD step agrees with autograd and with torch.optim.SGD."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from playground.backprop import activations, autograd_check, backprop_step
from playground.registry import PlaygroundError
from playground.train import LOSSES

pytestmark = pytest.mark.usefixtures("one_torch_thread")



def mlp(act: str, outputs: int = 3) -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 5), getattr(nn, act)(), nn.Linear(5, 6), getattr(nn, act)(),
                         nn.Linear(6, outputs))


def batch(loss: str, outputs: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(7, 4, generator=g)
    if loss == "cross_entropy":
        return x, torch.randint(0, outputs, (7,), generator=g)
    if loss == "bce_with_logits":
        return x, torch.randint(0, 2, (7, outputs), generator=g).float()
    return x, torch.randn(7, outputs, generator=g)


def autograd(model: nn.Module, loss: str, x: torch.Tensor, y: torch.Tensor) -> tuple[float, list[torch.Tensor]]:
    model.zero_grad()
    value = LOSSES.get(loss).fn(model(x), y)
    value.backward()
    return value.item(), [p.grad.clone() for p in model.parameters()]


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
@pytest.mark.parametrize("act", ["Tanh", "Sigmoid", "ReLU"])
def test_hand_gradients_match_autograd(act, loss):
    model = mlp(act)
    x, y = batch(loss)
    r = backprop_step(model, x, y, loss, lr=0.1)
    value, grads = autograd(model, loss, x, y)
    assert r["loss"] == pytest.approx(value, abs=1e-5)
    hand = [g for s in r["steps"] if s["type"] == "Linear" for g in (s["grad_weight"], s["grad_bias"])]
    assert len(hand) == len(grads) == 6
    for h, g in zip(hand, grads, strict=True):
        np.testing.assert_allclose(h, g.double().numpy(), atol=1e-5)


@pytest.mark.parametrize("act", sorted(activations()))
@pytest.mark.parametrize("loss", ["bce_with_logits", "l1", "huber"])
def test_every_activation_and_loss(act, loss):
    model = mlp(act, outputs=2)
    x, y = batch(loss, outputs=2)
    r = backprop_step(model, x, y, loss)
    value, grads = autograd(model, loss, x, y)
    assert r["loss"] == pytest.approx(value, abs=1e-5)
    hand = [g for s in r["steps"] if s["type"] == "Linear" for g in (s["grad_weight"], s["grad_bias"])]
    for h, g in zip(hand, grads, strict=True):
        np.testing.assert_allclose(h, g.double().numpy(), atol=1e-5)


def test_forward_values_and_the_update():
    model = mlp("Tanh")
    x, y = batch("cross_entropy")
    r = backprop_step(model, x, y, "cross_entropy", lr=0.5)
    steps = r["steps"]
    assert [s["name"] for s in steps] == ["layer 1 (Linear)", "layer 2 (Tanh)", "layer 3 (Linear)", "layer 4 (Tanh)",
                                          "layer 5 (Linear)"]
    with torch.no_grad():
        z1 = model[0](x)
        np.testing.assert_allclose(steps[0]["output"], z1.numpy(), atol=1e-6)  # pre-activation
        np.testing.assert_allclose(steps[1]["output"], torch.tanh(z1).numpy(), atol=1e-6)  # activation
        np.testing.assert_allclose(r["output"], model(x).numpy(), atol=1e-5)
        np.testing.assert_allclose(r["extras"]["probabilities"], torch.softmax(model(x), 1).numpy(), atol=1e-6)
    np.testing.assert_allclose(steps[1]["local_grad"], 1 - np.tanh(steps[0]["output"]) ** 2)
    for s in steps[::2]:
        np.testing.assert_allclose(s["new_weight"], s["weight"] - 0.5 * s["grad_weight"])
        np.testing.assert_allclose(s["new_bias"], s["bias"] - 0.5 * s["grad_bias"])
    # the chain rule, one layer: dL/dz = dL/da · f'(z)
    np.testing.assert_allclose(steps[1]["grad_input"], steps[1]["grad_output"] * steps[1]["local_grad"])
    assert steps[0]["grad_output"] is steps[1]["grad_input"]


def test_apply_matches_one_sgd_step():
    model = mlp("ReLU")
    ref = copy.deepcopy(model)
    x, y = batch("mse")
    before = [p.detach().clone() for p in model.parameters()]
    backprop_step(model, x, y, "mse", lr=0.2)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))  # untouched
    backprop_step(model, x, y, "mse", lr=0.2, apply=True)
    opt = torch.optim.SGD(ref.parameters(), lr=0.2)
    LOSSES.get("mse").fn(ref(x), y).backward()
    opt.step()
    for a, b in zip(model.parameters(), ref.parameters(), strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


def test_refuses_what_is_not_an_mlp():
    conv = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2, 2))
    with pytest.raises(PlaygroundError, match="Linear layers and the activations .*; layer 1 is Conv2d") as e:
        backprop_step(conv, torch.zeros(1, 1, 3, 3), torch.zeros(1, dtype=torch.long))
    assert e.value.layer == 0
    with pytest.raises(PlaygroundError, match="layer 2 is Dropout"):
        backprop_step(nn.Sequential(nn.Linear(2, 2), nn.Dropout()), torch.zeros(1, 2), torch.zeros(1).long())
    with pytest.raises(PlaygroundError, match="at least one Linear"):
        backprop_step(nn.Sequential(nn.ReLU()), torch.zeros(1, 2), torch.zeros(1).long())
    with pytest.raises(PlaygroundError, match="not 'kl_div'"):
        backprop_step(mlp("Tanh"), *batch("cross_entropy"), loss="kl_div")
    with pytest.raises(PlaygroundError, match=r"\(B, features\)"):
        backprop_step(mlp("Tanh"), torch.zeros(4), torch.zeros(1).long())


@pytest.mark.parametrize("loss", ["cross_entropy", "bce_with_logits", "mse"])
def test_autograd_check_passes_a_right_step_and_names_a_wrong_one(loss):
    model = mlp("Tanh")
    model[2].bias = None  # a layer without a bias is compared on its weights
    x, y = batch(loss)
    r = backprop_step(model, x, y, loss)
    rows = autograd_check(model, x, y, r)
    assert [row["layer"] for row in rows] == ["layer 1 (Linear)", "layer 3 (Linear)", "layer 5 (Linear)"]
    assert all(row["ok"] for row in rows) and rows[1]["bias"] is None
    assert max(max(row["weight"], row["bias"] or 0) for row in rows) < 1e-12
    for part, at in (("grad_bias", 4), ("grad_weight", 0)):  # a wrong bias gradient, then a wrong weight one
        wrong = copy.deepcopy(r)
        wrong["steps"][at][part][0] += 0.01
        rows = autograd_check(model, x, y, wrong)
        assert [row["ok"] for row in rows] == [at != 0, True, at != 4]
        assert rows[at // 2]["bias" if part == "grad_bias" else "weight"] == pytest.approx(0.01)
    wrong = copy.deepcopy(r)
    wrong["steps"][2]["grad_weight"] = wrong["steps"][2]["grad_weight"][:, :1]  # a wrong shape is a mismatch
    assert not autograd_check(model, x, y, wrong)[1]["ok"]
