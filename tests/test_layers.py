"""layers.py: every registry entry builds, declares the shape it really outputs, and checks its options."""

from __future__ import annotations

import pytest
import torch

from playground.layers import CATEGORIES, LAYERS, ShapeError, Signal, conv_out, layer_type
from playground.registry import Param, PlaygroundError, check_options

VOCAB = 30

# A suitable input for each layer (per-sample shape; tokens for Embedding).
INPUTS = {
    "Embedding": Signal((12,), tokens=True),
    "Conv1d": Signal((4, 20)),
    "Unflatten": Signal((64,)),  # the default unflattened_size is [1, 8, 8]
    "Flatten": Signal((3, 12, 12)),
    "Select": Signal((3, 12, 12)),  # columns of an image: its channels
}
BY_CATEGORY = {
    "dense": Signal((16,)),
    "convolution": Signal((3, 12, 12)),
    "pooling": Signal((3, 12, 12)),
    "recurrent": Signal((10, 8)),
    "attention": Signal((10, 8)),
    "activation": Signal((16,)),
    "regularisation": Signal((16,)),
}
BY_NAME = {"BatchNorm1d": Signal((16,)), "BatchNorm2d": Signal((3, 12, 12)), "LayerNorm": Signal((10, 8)),
           "Upsample": Signal((3, 12, 12))}


def signal_for(name: str) -> Signal:
    kind = LAYERS.get(name)
    return INPUTS.get(name) or BY_NAME.get(name) or BY_CATEGORY[kind.category]


def batch(x: Signal, n: int = 2) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    if x.tokens:
        return torch.randint(0, VOCAB, (n, *x.shape), generator=g)
    return torch.randn(n, *x.shape, generator=g)


OPTIONS = {"Select": {"columns": [0, 2]}}  # a layer whose defaults need a choice (which columns) before it builds


def defaults(name: str) -> dict:
    return {**{p.name: p.default for p in LAYERS.get(name).params}, **OPTIONS.get(name, {})}


def build(name: str, x: Signal, **opts):
    kind = LAYERS.get(name)
    return kind.make(x, {"vocab_size": VOCAB}, **{**defaults(name), **opts})


def forward(module, x: Signal, n: int = 2) -> torch.Tensor:
    module.train()
    return module(batch(x, n))


ALL = LAYERS.names()


def test_registry_covers_the_contract():
    contract = ["Linear", "Conv1d", "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
                "Flatten", "Unflatten", "Upsample", "Dropout", "BatchNorm1d", "BatchNorm2d", "LayerNorm", "Embedding",
                "RNN", "LSTM", "GRU", "MultiheadAttention", "TransformerEncoderLayer", "Identity", "ReLU",
                "LeakyReLU", "ELU", "GELU", "SiLU", "Sigmoid", "Tanh", "Softmax"]
    assert set(contract) <= set(ALL)


@pytest.mark.parametrize("name", ALL)
def test_declared_shape_is_the_real_shape(name):
    x = signal_for(name)
    module, y = build(name, x)
    out = forward(module, x)
    assert tuple(out.shape) == (2, *y.shape), f"{name}: declared {y}, got {tuple(out.shape)}"
    assert not y.tokens or name in ("Flatten", "Unflatten")
    assert out.dtype == torch.float32


@pytest.mark.parametrize("name", ALL)
def test_entry_is_documented(name):
    kind = LAYERS.get(name)
    assert kind.name == name
    assert kind.category in CATEGORIES
    assert kind.description.strip()
    names = [p.name for p in kind.params]
    assert len(names) == len(set(names))
    assert not set(names) & set(kind.inferred)


@pytest.mark.parametrize("name", ALL)
def test_defaults_pass_their_own_check(name):
    for p in LAYERS.get(name).params:
        assert p.check(p.default, f"layer 1 ({name})") == p.default
        assert p.describe()["name"] == p.name


def _bad_values(p: Param) -> list:
    """Values `p` must refuse: out of range and of the wrong kind."""
    bad = []
    if p.kind in ("int", "float", "size", "ints"):
        low = p.min - 1 if p.min is not None else None
        high = p.max + 1 if p.max is not None else None
        for v in (low, high):
            if v is not None:
                bad.append([int(v)] if p.kind == "ints" else (int(v) if p.kind != "float" else v))
        bad += ["three", True]
        if p.kind in ("int", "size"):
            bad.append(1.5)
        if p.kind == "size":
            bad.append([1, 2, 3])
        if p.kind == "float":
            bad.append(float("nan"))
        if p.kind == "ints":
            bad.append([])
    elif p.kind == "bool":
        bad += ["yes", 1, None] if not p.optional else ["yes", 1]
    elif p.kind == "choice":
        bad += ["no such choice", 3]
    elif p.kind == "str":
        bad += [3, ["user"], "x" * 501]
    return bad


CASES = [(name, p, v) for name in ALL for p in LAYERS.get(name).params for v in _bad_values(p)]


@pytest.mark.parametrize("name, param, value", CASES,
                         ids=[f"{n}-{p.name}-{v!r}" for n, p, v in CASES])
def test_invalid_option_names_the_parameter(name, param, value):
    where = f"layer 4 ({name})"
    with pytest.raises(PlaygroundError) as e:
        check_options(LAYERS.get(name).params, {param.name: value}, where)
    assert e.value.message.startswith(f"{where}: {param.name} "), e.value.message


def test_every_parameter_kind_has_a_bad_value():
    # the table above must exercise every parameter of every layer
    covered = {(n, p.name) for n, p, _ in CASES}
    assert covered == {(n, p.name) for n in ALL for p in LAYERS.get(n).params}


def test_unknown_option_suggests_the_close_name():
    with pytest.raises(PlaygroundError, match="unknown option 'out_feature'; did you mean 'out_features'"):
        check_options(LAYERS.get("Linear").params, {"out_feature": 3}, "layer 1 (Linear)")


def test_unknown_layer_type_suggests_the_close_name():
    with pytest.raises(PlaygroundError, match="did you mean 'Conv2d'"):
        layer_type("Conv2D")
    with pytest.raises(PlaygroundError, match="known: Linear"):
        layer_type("Zzzzzz")


@pytest.mark.parametrize("name, x, opts", [
    ("Conv2d", Signal((3, 12, 12)), {"kernel_size": [3, 5], "stride": 2, "padding": [1, 0], "dilation": 2}),
    ("ConvTranspose2d", Signal((3, 5, 7)), {"kernel_size": 4, "stride": 2, "padding": 1, "output_padding": 1}),
    ("MaxPool2d", Signal((2, 9, 9)), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ("AvgPool2d", Signal((2, 9, 8)), {"kernel_size": [3, 2]}),
    ("AdaptiveAvgPool2d", Signal((2, 9, 8)), {"output_size": [3, 2]}),
    ("Conv1d", Signal((2, 30)), {"kernel_size": 5, "stride": 3, "padding": 2}),
    ("LSTM", Signal((7, 3)), {"hidden_size": 5, "num_layers": 2, "bidirectional": True, "return_sequences": True}),
    ("GRU", Signal((7, 3)), {"hidden_size": 5, "bidirectional": True}),
    ("RNN", Signal((7, 3)), {"hidden_size": 4, "num_layers": 3, "dropout": 0.2, "return_sequences": True}),
    ("Linear", Signal((5, 7)), {"out_features": 3}),
    ("Flatten", Signal((3, 4, 5)), {"start_dim": 2}),
    ("Flatten", Signal((3, 4, 5)), {"start_dim": 1, "end_dim": 2}),
    ("Unflatten", Signal((3, 12)), {"dim": 2, "unflattened_size": [2, 6]}),
    ("Upsample", Signal((1, 3, 4)), {"scale_factor": 3, "mode": "bilinear"}),
    ("MultiheadAttention", Signal((5, 12)), {"num_heads": 4}),
    ("TransformerEncoderLayer", Signal((5, 12)), {"nhead": 3, "norm_first": True, "activation": "gelu"}),
    ("PositionalEncoding", Signal((6, 7)), {}),  # an odd embedding size
    ("Embedding", Signal((3, 4), tokens=True), {"embedding_dim": 5}),
    ("Softmax", Signal((3, 4)), {"dim": 1}),
    ("BatchNorm1d", Signal((4, 6)), {}),
    ("LayerNorm", Signal((16,)), {"elementwise_affine": False}),
])
def test_declared_shape_with_options(name, x, opts):
    module, y = build(name, x, **opts)
    assert tuple(forward(module, x, 3).shape) == (3, *y.shape)


def test_softmax_sums_to_one_along_its_dim():
    x = Signal((3, 4))
    module, _ = build("Softmax", x, dim=1)
    out = forward(module, x)
    torch.testing.assert_close(out.sum(1), torch.ones(2, 4))


def test_positional_encoding_adds_a_fixed_code():
    x = Signal((6, 4))
    module, _ = build("PositionalEncoding", x)
    zeros = torch.zeros(2, 6, 4)
    code = module(zeros)
    assert torch.equal(code[0], code[1])  # the same for every sample
    torch.testing.assert_close(code[:, 0], torch.tensor([[0.0, 1.0, 0.0, 1.0]] * 2))  # position 0: sin 0, cos 0
    assert not list(module.parameters())


@pytest.mark.parametrize("name, x, opts, message", [
    ("Linear", Signal((3, 4, 4)), {}, "add Flatten before it"),
    ("Linear", Signal((8,), tokens=True), {}, "add Embedding before it"),
    ("Embedding", Signal((8,)), {}, "needs integer token ids"),
    ("Conv2d", Signal((16,)), {}, r"add Unflatten\(1, \[1, 4, 4\]\) before it"),
    ("Conv2d", Signal((5, 6)), {}, r"add Unflatten\(1, \[1, 5, 6\]\) before it"),
    ("Conv2d", Signal((1, 2, 2)), {"kernel_size": 3}, "leaves no output"),
    ("Conv1d", Signal((3, 2)), {"kernel_size": 3}, "leaves no output"),
    ("MaxPool2d", Signal((1, 4, 4)), {"kernel_size": 2, "padding": 2}, "at most half"),
    ("ConvTranspose2d", Signal((1, 4, 4)), {"stride": 2, "output_padding": 2}, "smaller than stride"),
    ("LSTM", Signal((10,)), {}, r"add Unflatten\(1, \[10, 1\]\)"),
    ("GRU", Signal((1, 4, 4)), {}, r"Flatten\(start_dim=2\)"),
    ("MultiheadAttention", Signal((5, 6)), {"num_heads": 4},
     r"not divisible by 4 heads; set num_heads to one of \[1, 2, 3, 6\]"),
    ("TransformerEncoderLayer", Signal((5, 7)), {"nhead": 2}, "not divisible"),
    ("BatchNorm1d", Signal((1, 4, 4)), {}, "replace it with BatchNorm2d"),
    ("Flatten", Signal((4,)), {"start_dim": 3}, "do not fit"),
    ("Unflatten", Signal((10,)), {"unflattened_size": [3, 3]}, "cannot reshape size 10"),
    ("Unflatten", Signal((10,)), {"dim": 2, "unflattened_size": [10]}, "does not exist"),
    ("ReLU", Signal((8,), tokens=True), {}, "add Embedding"),
    ("Softmax", Signal((8,)), {"dim": 2}, "dim 2 does not exist"),
    ("Softmax", Signal((8,)), {"dim": -3}, "dim -3 does not exist"),
])
def test_bad_inputs_raise_shape_errors(name, x, opts, message):
    with pytest.raises(ShapeError, match=message):
        build(name, x, **opts)


def test_shape_error_fix_inserts_the_missing_layer():
    with pytest.raises(ShapeError) as e:
        build("Conv2d", Signal((64,)))
    assert e.value.fix == {"action": "insert", "layer": {"type": "Unflatten", "dim": 1,
                                                         "unflattened_size": [1, 8, 8]}}
    fixed, y = build("Unflatten", Signal((64,)), **{k: v for k, v in e.value.fix["layer"].items() if k != "type"})
    module, z = build("Conv2d", y)
    assert tuple(module(fixed(batch(Signal((64,))))).shape) == (2, *z.shape)


@pytest.mark.parametrize("size, k, s, p, d", [(12, 3, 1, 0, 1), (12, 3, 2, 1, 1), (7, 2, 2, 0, 1), (20, 5, 3, 2, 2)])
def test_conv_out_matches_pytorch(size, k, s, p, d):
    conv = torch.nn.Conv1d(1, 1, k, s, p, d)
    assert conv(torch.zeros(1, 1, size)).shape[-1] == conv_out(size, k, s, p, d)


def test_signal_prints_with_the_batch_dimension():
    assert str(Signal((3, 4))) == "(N, 3, 4)"
