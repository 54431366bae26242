"""One SGD step of a small MLP worked out by hand: every forward value, the loss, every gradient by the
chain rule (numpy, no autograd) and the update W − lr·dW, for a page that shows the numbers.

The model is read layer by layer (Linear and activations only); each step of the forward pass keeps its
input and output, and the backward pass walks the same list in reverse, multiplying by each layer's
local derivative: that is all backpropagation is.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
from torch import nn

from .activations import sigmoid
from .layers import activation
from .layers import activations as layer_activations
from .losses import LOSSES
from .probe import layers_of
from .registry import PlaygroundError


def activations() -> list[str]:
    """The activations this view works out by hand: those of the layer registry with a numpy value and slope."""
    return [n for n in layer_activations() if activation(n).f is not None and activation(n).df is not None]


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def _loss(name: str, out: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, dict]:
    """(loss, dL/d output, extras) for the mean-reduced losses PyTorch uses by default."""
    n = out.shape[0]
    if name == "cross_entropy":
        p = _softmax(out)  # (B, K)
        idx = y.astype(np.int64)
        loss = float(-np.log(p[np.arange(n), idx]).mean())
        onehot = np.eye(out.shape[1])[idx]
        return loss, (p - onehot) / n, {"probabilities": p}  # softmax and log-loss together: p − y
    if name == "bce_with_logits":
        loss = float((np.logaddexp(0.0, out) - y * out).mean())
        return loss, (sigmoid(out) - y) / out.size, {"probabilities": sigmoid(out)}
    if name == "mse":
        return float(((out - y) ** 2).mean()), 2.0 * (out - y) / out.size, {}
    if name == "l1":
        return float(np.abs(out - y).mean()), np.sign(out - y) / out.size, {}
    if name == "huber":  # delta = 1: squared inside, absolute outside
        d = out - y
        small = np.abs(d) <= 1.0
        loss = float(np.where(small, 0.5 * d * d, np.abs(d) - 0.5).mean())
        return loss, np.where(small, d, np.sign(d)) / out.size, {}
    raise PlaygroundError(f"the step-by-step view knows the losses cross_entropy, bce_with_logits, mse, l1 "
                          f"and huber, not '{name}'")


def backprop_step(model: nn.Module, x: torch.Tensor | np.ndarray, y: torch.Tensor | np.ndarray,
                  loss: str = "cross_entropy", lr: float = 0.1, apply: bool = False) -> dict:
    """One SGD step of an MLP (Linear and activation layers) with every number, gradients by hand.

    `x` is (B, features); `y` is in the loss's form (class indices for cross_entropy, values of the
    output's shape otherwise). Returns {loss, loss_name, lr, x, y, output, steps, extras}: `steps` has one
    entry per layer in order with index, name, type, input, output (a Linear's output is the
    pre-activation z, an activation's the activation a), grad_output (dL/d its output), grad_input
    (dL/d its input); a Linear also has weight (out, in), bias (out,), grad_weight, grad_bias and
    new_weight / new_bias (= W − lr·dW); an activation its local_grad f'(z). All arrays are float64
    numpy. The model is left unchanged unless `apply` is True.
    """
    layers = layers_of(model)
    known = activations()
    for i, m in enumerate(layers):
        kind = type(m).__name__
        if not isinstance(m, nn.Linear) and kind not in known:
            raise PlaygroundError(f"the step-by-step view works out MLPs by hand: Linear layers and the activations "
                                  f"{', '.join(known)}; layer {i + 1} is {kind}", layer=i)
    if not any(isinstance(m, nn.Linear) for m in layers):
        raise PlaygroundError("the step-by-step view needs at least one Linear layer")
    a = np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x, dtype=np.float64)
    yv = np.asarray(y.detach().cpu() if isinstance(y, torch.Tensor) else y)
    yv = yv if loss == "cross_entropy" else yv.astype(np.float64)
    if a.ndim != 2:
        raise PlaygroundError(f"the step-by-step view takes a batch of feature vectors (B, features), "
                              f"got shape {tuple(a.shape)}")
    # forward: keep every layer's input and output, the chain rule needs them on the way back
    steps = []
    for i, m in enumerate(layers):
        kind = type(m).__name__
        s = {"index": i, "name": f"layer {i + 1} ({kind})", "type": kind, "input": a}
        if isinstance(m, nn.Linear):
            w = m.weight.detach().cpu().double().numpy()  # (out, in)
            b = m.bias.detach().cpu().double().numpy() if m.bias is not None else np.zeros(w.shape[0])
            a = a @ w.T + b  # (B, out): z = x Wᵀ + b
            s.update(weight=w, bias=b)
        else:
            act = activation(kind)
            s["local_grad"] = act.df(a, m)  # f'(z), (B, out)
            a = act.f(a, m)
        s["output"] = a
        steps.append(s)
    value, grad, extras = _loss(loss, a, yv)
    # backward: dL/d input = dL/d output · d output/d input, layer by layer from the loss down
    for s in reversed(steps):
        s["grad_output"] = grad
        if "weight" in s:
            s["grad_weight"] = grad.T @ s["input"]  # (out, in): each weight's input times its output's gradient
            s["grad_bias"] = grad.sum(0)  # (out,)
            s["new_weight"] = s["weight"] - lr * s["grad_weight"]
            s["new_bias"] = s["bias"] - lr * s["grad_bias"]
            grad = grad @ s["weight"]  # (B, in)
        else:
            grad = grad * s["local_grad"]  # element-wise: an activation acts on each value alone
        s["grad_input"] = grad
    if apply:
        with torch.no_grad():
            for s, m in zip(steps, layers, strict=True):
                if isinstance(m, nn.Linear):
                    m.weight.copy_(torch.from_numpy(s["new_weight"]))
                    if m.bias is not None:
                        m.bias.copy_(torch.from_numpy(s["new_bias"]))
    return {"loss": value, "loss_name": loss, "lr": lr, "x": steps[0]["input"] if steps else a, "y": yv,
            "output": a, "steps": steps, "extras": extras}


TOLERANCE = 1e-6  # hand and autograd both work in float64: they agree to ~1e-15 when the hand-made step is right


def autograd_check(model: nn.Module, x: torch.Tensor, y: torch.Tensor, step: dict) -> list[dict]:
    """Compare every weight and bias gradient of a `backprop_step` result with PyTorch's autograd (float64).

    One row per Linear layer: {"layer", "weight", "bias" (None without a bias), "ok"}; "weight" and "bias" are
    the largest absolute difference, and "ok" says whether both are within TOLERANCE relative to the size of
    the gradient (at least 1). The model is left unchanged.
    """
    ref = copy.deepcopy(model).double()
    ref.zero_grad()
    y = y.double() if y.is_floating_point() else y
    LOSSES.get(step["loss_name"]).fn(ref(x.double()), y).backward()
    rows = []
    for s, layer in zip(step["steps"], layers_of(ref), strict=True):
        if not isinstance(layer, nn.Linear):
            continue
        row = {"layer": s["name"], "weight": _largest(s["grad_weight"], layer.weight.grad), "bias": None}
        scale = max(1.0, float(np.abs(layer.weight.grad.numpy()).max()))
        ok = row["weight"] <= TOLERANCE * scale
        if layer.bias is not None:
            row["bias"] = _largest(s["grad_bias"], layer.bias.grad)
            ok = ok and row["bias"] <= TOLERANCE * max(1.0, float(np.abs(layer.bias.grad.numpy()).max()))
        rows.append({**row, "ok": bool(ok)})
    return rows


def _largest(hand: np.ndarray, auto: torch.Tensor) -> float:
    """The largest absolute difference (inf when the shapes differ or a value is not finite)."""
    hand, auto = np.asarray(hand, dtype=np.float64), auto.detach().cpu().numpy()
    if hand.shape != auto.shape:
        return math.inf
    d = np.abs(hand - auto)
    return float(d.max()) if d.size and np.isfinite(d).all() else (0.0 if not d.size else math.inf)
