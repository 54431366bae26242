"""Attributions in Captum's vocabulary: `attribute(model, inputs, method, target=, baselines=)`.

Every method returns a tensor of the input's shape (per token for text models: (B, T)), plus the
convergence delta where the method has one. Models that read integer tokens are explained through
their Embedding layer (Layer Integrated Gradients and friends), since tokens have no gradient.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from .registry import PlaygroundError, Registry

BASELINES = ("zeros", "blurred", "noise")


@dataclass
class Attribution:
    """Attributions (input-shaped), the method's convergence delta (or None) and what was explained."""

    values: torch.Tensor
    method: str
    target: int | None
    delta: torch.Tensor | None = None
    meta: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """numpy and plain values: values (input's shape, float32), delta (B,) or None, method, target, meta."""
        return {"values": self.values.float().cpu().numpy(), "method": self.method, "target": self.target,
                "delta": None if self.delta is None else self.delta.float().cpu().numpy(), "meta": self.meta}


def _tokens_need_embedding(model: nn.Module, inputs: torch.Tensor) -> str | None:
    if not inputs.is_floating_point() and not any(isinstance(m, nn.Embedding) for m in model.modules()):
        return "this model reads integer tokens but has no Embedding layer to attribute through"
    return None


@dataclass(frozen=True)
class Method:
    name: str
    title: str
    description: str
    run: Callable  # (ctx) -> (values, delta, meta)
    has_baseline: bool = False
    has_steps: bool = False
    needs: Callable[[nn.Module, torch.Tensor], str | None] = _tokens_need_embedding  # why it cannot apply, or None


METHODS: Registry[Method] = Registry("attribution method")


def register(name: str, title: str, description: str, baseline: bool = False, steps: bool = False,
             needs: Callable[[nn.Module, torch.Tensor], str | None] = _tokens_need_embedding):
    """Decorator adding an attribution method to METHODS; `needs(model, inputs)` says why it cannot apply."""
    def wrap(fn):
        METHODS.add(name, Method(name, title, description, fn, baseline, steps, needs))
        return fn
    return wrap


def unavailable(model: nn.Module, inputs: torch.Tensor) -> dict[str, str]:
    """The methods that cannot explain `model` on inputs like `inputs`, each with the reason."""
    return {name: why for name in METHODS.names() if (why := METHODS.get(name).needs(model, inputs))}


def _float_inputs(title: str) -> Callable[[nn.Module, torch.Tensor], str | None]:
    def needs(model: nn.Module, inputs: torch.Tensor) -> str | None:
        return None if inputs.is_floating_point() else f"{title} needs float inputs; for text use Integrated Gradients"
    return needs


FEED_FORWARD_ONLY = (nn.RNNBase, nn.MultiheadAttention, nn.TransformerEncoderLayer)


def _feed_forward(model: nn.Module, inputs: torch.Tensor) -> str | None:
    for m in model.modules():
        if isinstance(m, FEED_FORWARD_ONLY):
            return (f"DeepLIFT cannot explain {type(m).__name__} layers (Captum's rules cover feed-forward layers "
                    "only); use Integrated Gradients")
    return _tokens_need_embedding(model, inputs)


def _image_convolutions(model: nn.Module, inputs: torch.Tensor) -> str | None:
    if not conv_layers(model) or inputs.dim() != 4:
        return "Grad-CAM needs an image model with a Conv2d layer; this model has none"
    return None


@dataclass
class _Ctx:
    model: nn.Module
    inputs: torch.Tensor
    target: int | None
    baselines: torch.Tensor
    options: dict

    @property
    def tokens(self) -> bool:
        return not self.inputs.is_floating_point()

    def embedding(self) -> nn.Module:
        """The Embedding layer that token models are explained through (each method's `needs` checks there is one)."""
        return next(m for m in self.model.modules() if isinstance(m, nn.Embedding))


def conv_layers(model: nn.Module) -> list[int]:
    """Indices (in the model's sequence) of the Conv2d layers, for Grad-CAM."""
    return [i for i, m in enumerate(model) if isinstance(m, nn.Conv2d)]


def make_baseline(inputs: torch.Tensor, kind: str = "zeros", seed: int = 0) -> torch.Tensor:
    """A reference input: zeros, a blurred copy (images), or small noise; token models use padding (id 0)."""
    if kind not in BASELINES:
        raise PlaygroundError(f"unknown baseline '{kind}'; choose one of {', '.join(BASELINES)}")
    if not inputs.is_floating_point():
        return torch.zeros_like(inputs)  # the padding token
    if kind == "zeros":
        return torch.zeros_like(inputs)
    if kind == "noise":
        g = torch.Generator().manual_seed(seed)
        return (torch.randn(inputs.shape, generator=g) * 0.1 * inputs.std().clamp_min(1e-6)).to(inputs)
    if inputs.dim() == 4:  # (B, C, H, W): a 5×5 box blur
        return F.avg_pool2d(inputs, 5, stride=1, padding=2, count_include_pad=False)
    return inputs.mean(dim=tuple(range(1, inputs.dim())), keepdim=True).expand_as(inputs).clone()


def _per_token(values: torch.Tensor) -> torch.Tensor:
    return values.sum(-1)  # (B, T, E) -> (B, T)


@register("saliency", "Saliency", "How much each input moves the output: |gradient|.")
def _saliency(c: _Ctx):
    from captum.attr import LayerGradientXActivation, Saliency
    if c.tokens:
        g = LayerGradientXActivation(c.model, c.embedding(), multiply_by_inputs=False)
        return _per_token(g.attribute(c.inputs, target=c.target).abs()), None, {}
    return Saliency(c.model).attribute(c.inputs, target=c.target, abs=True), None, {}


@register("input_x_gradient", "Input × gradient", "Gradient times the input: signed, local.")
def _ixg(c: _Ctx):
    from captum.attr import InputXGradient, LayerGradientXActivation
    if c.tokens:
        return _per_token(LayerGradientXActivation(c.model, c.embedding()).attribute(c.inputs, target=c.target)), \
            None, {}
    return InputXGradient(c.model).attribute(c.inputs, target=c.target), None, {}


@register("integrated_gradients", "Integrated Gradients",
          "Gradients summed along the straight path from the baseline to the input; they add up to the "
          "output's change (the delta says how closely).", baseline=True, steps=True)
def _ig(c: _Ctx):
    from captum.attr import IntegratedGradients, LayerIntegratedGradients
    steps = int(c.options.get("steps", 50))
    if c.tokens:
        lig = LayerIntegratedGradients(c.model, c.embedding())
        v, d = lig.attribute(c.inputs, baselines=c.baselines, target=c.target, n_steps=steps,
                             return_convergence_delta=True)
        return _per_token(v), d, {"steps": steps, "through": "Embedding"}
    v, d = IntegratedGradients(c.model).attribute(c.inputs, baselines=c.baselines, target=c.target, n_steps=steps,
                                                  return_convergence_delta=True)
    return v, d, {"steps": steps}


@register("deeplift", "DeepLIFT", "Compares each neuron's activation with its activation on the baseline.",
          baseline=True, needs=_feed_forward)
def _deeplift(c: _Ctx):
    from captum.attr import DeepLift, LayerDeepLift
    if c.tokens:
        v, d = LayerDeepLift(c.model, c.embedding()).attribute(c.inputs, baselines=c.baselines, target=c.target,
                                                                 return_convergence_delta=True)
        return _per_token(v), d, {}
    v, d = DeepLift(c.model).attribute(c.inputs, baselines=c.baselines, target=c.target,
                                      return_convergence_delta=True)
    return v, d, {}


@register("gradient_shap", "GradientSHAP", "Expected gradients over noisy copies and random baselines.",
          baseline=True, steps=True, needs=_float_inputs("GradientSHAP"))  # it blends inputs: token ids cannot be
def _gshap(c: _Ctx):
    from captum.attr import GradientShap
    n = int(c.options.get("steps", 20))
    torch.manual_seed(0)  # GradientSHAP samples; fix it so the same click gives the same picture
    base = torch.cat([c.baselines[:1], make_baseline(c.inputs[:1], "noise")])
    v = GradientShap(c.model).attribute(c.inputs, baselines=base, target=c.target, n_samples=n, stdevs=0.09)
    return v, None, {"samples": n}


@register("occlusion", "Occlusion", "Covers patches of the input with the baseline and watches the output drop.",
          baseline=True)
def _occlusion(c: _Ctx):
    from captum.attr import Occlusion
    shape = c.inputs.shape[1:]
    k = int(c.options.get("window", 2 if len(shape) == 3 and shape[-1] <= 16 else 3))
    if len(shape) == 3:  # (C, H, W)
        window, strides = (shape[0], k, k), (shape[0], 1, 1)
    else:
        window, strides = (1,) * len(shape), 1
    v = Occlusion(c.model).attribute(c.inputs, sliding_window_shapes=window, strides=strides,
                                     baselines=c.baselines, target=c.target)
    return v, None, {"window": window}


@register("feature_ablation", "Feature ablation", "Replaces one feature (or token) at a time by the baseline.",
          baseline=True)
def _ablation(c: _Ctx):
    from captum.attr import FeatureAblation
    return FeatureAblation(c.model).attribute(c.inputs, baselines=c.baselines, target=c.target), None, {}


@register("grad_cam", "Grad-CAM", "Where a convolution layer looks: its feature maps weighted by their gradients, "
          "upsampled to the image.", needs=_image_convolutions)
def _gradcam(c: _Ctx):
    from captum.attr import LayerAttribution, LayerGradCam
    convs = conv_layers(c.model)
    index = int(c.options.get("layer", convs[-1]))
    if index not in convs:
        raise PlaygroundError(f"Grad-CAM: layer {index + 1} is not a Conv2d layer; choose one of "
                              f"{[i + 1 for i in convs]}")
    cam = LayerGradCam(c.model, c.model[index]).attribute(c.inputs, target=c.target, relu_attributions=True)
    up = LayerAttribution.interpolate(cam, tuple(c.inputs.shape[-2:]), interpolate_mode="bilinear")  # (B,1,H,W)
    return up.expand_as(c.inputs).contiguous(), None, {"layer": index}


@register("neuron_conductance", "Neuron conductance", "How each input flows through one chosen neuron of a layer.",
          baseline=True, steps=True, needs=_float_inputs("Neuron conductance"))
def _conductance(c: _Ctx):
    from captum.attr import NeuronConductance
    index = int(c.options.get("layer", 0))
    if not 0 <= index < len(c.model):
        raise PlaygroundError(f"neuron conductance: there is no layer {index + 1}")
    layer = c.model[index]
    with torch.no_grad():
        act = c.model[: index + 1](c.inputs).mean(0)  # the layer's output, averaged over the batch
    neuron = c.options.get("neuron")
    neuron = int(act.flatten().argmax()) if neuron is None else int(neuron)  # default: the most active one
    if not 0 <= neuron < act.numel():
        raise PlaygroundError(f"neuron conductance: layer {index + 1} has {act.numel()} neurons, not {neuron + 1}")
    neuron = tuple(int(i) for i in torch.unravel_index(torch.tensor(neuron), act.shape))
    v = NeuronConductance(c.model, layer).attribute(c.inputs, neuron_selector=neuron, baselines=c.baselines,
                                                    target=c.target, n_steps=int(c.options.get("steps", 50)))
    return v, None, {"layer": index, "neuron": list(neuron)}


def attribute(model: nn.Module, inputs: torch.Tensor, method: str, target: int | None = None,
              baselines: torch.Tensor | str | None = None, **options) -> Attribution:
    """Explain `model`'s output `target` for `inputs` (a batch) with `method` (see METHODS)."""
    m = METHODS.get(method, "method")
    param = next(model.parameters(), None)
    if param is not None:
        inputs = inputs.to(param.device)  # a no-op when it is there already
    was_training = model.training
    model.eval()  # explain the model as it predicts: no dropout, BatchNorm's running statistics
    why = m.needs(model, inputs)
    if why:
        raise PlaygroundError(why)
    try:
        out_dim = _out_dim(model, inputs)
        if target is not None and not 0 <= target < out_dim:
            raise PlaygroundError(f"target {target} does not exist: the model has {out_dim} outputs")
        if out_dim == 1:
            target = None  # a single logit or value: explain it directly
        if baselines is None or isinstance(baselines, str):
            baselines = make_baseline(inputs, baselines or "zeros")
        ctx = _Ctx(model, inputs, target, baselines.to(inputs.device), options)
        with torch.enable_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Captum warns that inputs did not require grad; it sets that itself
            try:
                values, delta, meta = m.run(ctx)
            except PlaygroundError:
                raise
            except (RuntimeError, AssertionError, ValueError, TypeError, IndexError) as e:
                raise PlaygroundError(f"{m.title} cannot explain this model: {e}") from None
    finally:
        model.train(was_training)  # a live model goes on training as it was
    return Attribution(values.detach(), method, target, None if delta is None else delta.detach(), meta)


def _out_dim(model: nn.Module, inputs: torch.Tensor) -> int:
    with torch.no_grad():
        out = model(inputs[:1])
    if out.dim() != 2:
        raise PlaygroundError(f"attribution explains one score per output; this model outputs shape "
                              f"{tuple(out.shape)} per batch — it needs a flat output (N, outputs)")
    return out.shape[1]
