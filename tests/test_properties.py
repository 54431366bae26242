"""Random specs either build, run forward and backward, and train a step, or fail with a message naming where."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import playground as pg
from playground.build import BuildError, build, summarize
from playground.data import load_cached
from playground.layers import LAYERS
from playground.registry import Param, PlaygroundError
from playground.spec import DataSpec, SpecError, decode, encode
from playground.train import LOSSES, Trainer

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None, print_blob=False,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

DATA = [
    {"name": "circle", "n_samples": 60},
    {"name": "spiral", "n_samples": 60, "classes": 3, "features": ["x1", "x2", "sin(x1)"]},
    {"name": "plane", "n_samples": 60},
    {"name": "iris", "n_samples": 60},
    {"name": "digits", "n_samples": 60},
    {"name": "digits", "n_samples": 60, "target": "input"},
    {"name": "shapes", "n_samples": 60, "size": 8},
    {"name": "shapes", "n_samples": 60, "size": 8, "target": "mask"},
    {"name": "shapes", "n_samples": 60, "size": 8, "target": "box"},
    {"name": "sine", "n_samples": 60, "seq_len": 8},
    {"name": "sentiment", "n_samples": 60, "seq_len": 10},
]

# Valid values stay small so that any stack of layers stays fast (and in memory).
CAPS = {"scale_factor": 3, "stride": 3, "kernel_size": 5, "padding": 2, "dilation": 2, "output_padding": 2,
        "output_size": 4, "num_layers": 2, "nhead": 4, "num_heads": 4, "dim_feedforward": 16}

NAMES_A_LAYER = re.compile(r"^layer (\d+) \((\w+)\): ")
NAMES_A_FIELD = re.compile(r"^(version|name|description|data|model|train)(\.\w+|\[\d+\])*: ")


def integers(p: Param) -> st.SearchStrategy[int]:
    lo = max(int(p.min), -4) if p.min is not None else -4
    return st.integers(lo, min(int(p.max) if p.max is not None else lo + 12, CAPS.get(p.name, lo + 12)))


def valid(p: Param) -> st.SearchStrategy:
    k = p.kind
    if k == "int":
        s = integers(p)
    elif k == "float":
        s = st.floats(p.min, p.max, allow_nan=False)
    elif k == "bool":
        s = st.booleans()
    elif k == "choice":
        s = st.sampled_from(p.choices)
    elif k == "size":
        s = integers(p) | st.lists(integers(p), min_size=2, max_size=2)
    elif k == "ints":
        s = st.lists(st.integers(1, 8), min_size=1, max_size=3)
    elif k == "str":
        s = st.text(max_size=20)
    else:
        raise AssertionError(f"no strategy for parameter kind {k}")
    return s | st.none() if p.optional else s


def invalid(p: Param) -> st.SearchStrategy:
    bad = ["seven", [], {"a": 1}]
    if p.min is not None:
        bad.append(p.min - 1)
    if p.max is not None:
        bad.append(p.max + 1)
    if p.kind in ("int", "size", "ints"):
        bad += [2.5, True]
    if p.kind == "bool":
        bad += [1, "true"]
    if p.kind == "float":
        bad.append(float("inf"))
    return st.sampled_from(bad)


def family(*categories: str, extra: tuple[str, ...] = ()) -> list[str]:
    return [n for n, k in LAYERS.items() if k.category in categories and n != "Embedding"] + list(extra)


# Layers that suit each kind of input, so that many random stacks build; any layer may still turn up.
FAMILIES = {
    "points": family("dense", "activation", "regularisation", extra=("BatchNorm1d", "LayerNorm")),
    "tabular": family("dense", "activation", "regularisation", extra=("BatchNorm1d", "LayerNorm")),
    "image": family("convolution", "pooling", "activation", extra=("BatchNorm2d", "Upsample", "Dropout")),
    "sequence": family("recurrent", "attention", "activation", extra=("Linear", "LayerNorm", "Conv1d")),
    "text": family("recurrent", "attention", extra=("Linear", "LayerNorm", "Dropout")),
}


@st.composite
def layers(draw, modality: str, allow_invalid: bool) -> dict:
    names = LAYERS.names() + (["Lineer", "conv2d", 3] if allow_invalid else [])
    name = draw(st.sampled_from(FAMILIES[modality]) if draw(st.integers(0, 3)) < 3 else st.sampled_from(names))
    layer = {"type": name}
    kind = LAYERS.entries.get(name)
    if kind is None:
        return layer
    for p in kind.params:
        how = draw(st.sampled_from(["default", "default", "valid"] + (["invalid"] if allow_invalid else [])))
        if how == "valid":
            layer[p.name] = draw(valid(p))
        elif how == "invalid":
            layer[p.name] = draw(invalid(p))
    if kind.inferred and draw(st.integers(0, 5)) == 5:  # a spelt-out inferred size, right or wrong
        layer[draw(st.sampled_from(kind.inferred))] = draw(st.integers(1, 16))
    if allow_invalid and draw(st.integers(0, 9)) == 9:
        layer["colour"] = "red"
    return layer


@st.composite
def spec_dicts(draw) -> dict:
    data = dict(draw(st.sampled_from(DATA)))
    info = load_cached(DataSpec(**data)).info
    allow_invalid = draw(st.integers(0, 3)) == 3  # hypothesis favours 0: keep the simplest case valid
    stack = draw(st.lists(layers(info.modality, allow_invalid), min_size=1, max_size=4))
    if info.tokens and draw(st.integers(0, 3)) < 3:
        stack.insert(0, {"type": "Embedding", "embedding_dim": draw(st.integers(1, 8))})
    fits = "cross_entropy" if info.classification else "mse"
    loss = draw(st.sampled_from([fits, fits, *LOSSES.names()]))
    if draw(st.integers(0, 3)) < 3:  # most random stacks need a head to fit the targets
        try:
            want = LOSSES.get(loss).shapes(info)[0]
        except PlaygroundError:
            want = ()
        if len(want) == 1:
            stack += [{"type": "Flatten"}, {"type": "Linear", "out_features": want[0]}]
    train = {"loss": loss, "batch_size": 16, "device": "cpu", "seed": draw(st.integers(0, 3))}
    if allow_invalid and draw(st.integers(0, 4)) == 4:
        train[draw(st.sampled_from(["batch_size", "epochs", "seed"]))] = draw(st.sampled_from([-1, 0, "x", 1.5]))
    return {"data": data, "model": {"layers": stack}, "train": train}


def check_message(e: PlaygroundError, d: dict) -> None:
    assert isinstance(e, (BuildError, SpecError)), f"{type(e).__name__}: {e.message}"
    m = NAMES_A_LAYER.match(e.message)
    if m:
        i = int(m.group(1)) - 1
        assert e.layer == i and str(d["model"]["layers"][i]["type"]) == m.group(2), (e.message, e.layer)
    else:
        assert NAMES_A_FIELD.match(e.message), e.message
        assert e.path and e.message.startswith(e.path), (e.message, e.path)


@pytest.mark.slow
@SETTINGS
@given(spec_dicts())
def test_random_specs_run_or_fail_clearly(d):
    try:
        spec = pg.from_dict(d)
        ds = load_cached(spec.data)
        summary = summarize(spec, ds.info)
        model = build(spec, ds.info)
    except PlaygroundError as e:
        check_message(e, d)
        event("refused: " + ("layer" if NAMES_A_LAYER.match(e.message) else e.path.split("[")[0]))
        return
    event("built")
    # it built: the declared shapes and sizes are the real ones, and gradients flow
    x = ds.x_train[:4]
    model.train()
    for row, module in zip(summary.rows, model, strict=True):
        x = module(x)
        assert tuple(x.shape[1:]) == row.output_shape, f"layer {row.index} ({row.type})"
        assert row.params == sum(p.numel() for p in module.parameters())
    loss_type = LOSSES.get(spec.train.loss)
    loss = loss_type.fn(x, loss_type.target(ds.y_train[:4], ds.info, tuple(x.shape[1:])))
    assert loss.shape == ()
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())
    # and the trainer takes a step with it
    tr = Trainer(spec, data=ds)
    tr.train_step()
    assert tr.step == 1


@SETTINGS
@given(st.sampled_from(LAYERS.names()), st.data())
def test_valid_layer_options_pass_their_check_unchanged(name, data):
    for p in LAYERS.get(name).params:
        v = data.draw(valid(p))
        assert p.check(v, name) == (list(v) if isinstance(v, tuple) else v)


@SETTINGS
@given(spec_dicts())
def test_url_round_trip_of_any_spec_that_parses(d):
    try:
        spec = pg.from_dict(d)
    except SpecError:
        return
    assert decode(encode(spec)) == spec
    assert pg.from_json(spec.to_json()) == spec


@SETTINGS
@given(st.text(max_size=200))
def test_decode_of_any_text_is_a_spec_or_a_spec_error(text):
    try:
        decode(text)
    except SpecError as e:
        assert e.message
