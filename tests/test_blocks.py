"""Blocks (Residual, Parallel) and Select: random nested blocks build and train or name the layer by its path;
version-1 specs and old links load unchanged; limits bound what a stranger's spec may nest."""

from __future__ import annotations

import re

import pytest
import torch
from hypothesis import event, given
from hypothesis import strategies as st
from test_properties import DATA, SETTINGS, layers

import playground as pg
from playground import blocks, edit, health
from playground.build import BuildError, build, build_layers, summarize
from playground.data import load_cached, sketch
from playground.memory import estimate
from playground.modules import layers_in, module_at
from playground.registry import PlaygroundError
from playground.spec import MAX_BLOCK_DEPTH, MAX_LAYERS, VERSION, DataSpec, SpecError, decode, encode, from_dict
from playground.train import LOSSES, Trainer

NAMES_A_PATH = re.compile(r"^layer (\d+(?:\.\d+)*) \((\w+)\): ")
NAMES_A_FIELD = re.compile(r"^(version|name|description|data|model|train)(\.\w+|\[\d+\])*: ")


@st.composite
def node(draw, modality: str, depth: int, allow_invalid: bool) -> dict:
    """A layer, or (more rarely deeper down) a block."""
    if depth >= 3 or draw(st.integers(0, 2)) > 0:
        return draw(layers(modality, allow_invalid))
    return draw(block(modality, depth, allow_invalid))


@st.composite
def block(draw, modality: str, depth: int, allow_invalid: bool) -> dict:
    """A Residual or a Parallel of random nodes; sometimes with a wrong field."""
    inner = node(modality, depth + 1, allow_invalid)
    empty = draw(st.integers(0, 4)) == 4  # an empty body or branch (the input as it is) now and then
    if draw(st.booleans()):
        out = {"type": "Residual", "layers": draw(st.lists(inner, min_size=0 if empty else 1, max_size=3))}
        if draw(st.booleans()):
            out["projection"] = draw(st.booleans())
    else:
        branches = draw(st.lists(st.lists(inner, min_size=1, max_size=2), min_size=1, max_size=3))
        out = {"type": "Parallel", "branches": [[], *branches] if empty else branches,
               "merge": draw(st.sampled_from(["concat", "add", "multiply"]))}
    if allow_invalid and draw(st.integers(0, 5)) == 5:
        key, value = draw(st.sampled_from([("merge", "sum"), ("branches", []), ("layers", 3), ("colour", "red"),
                                           ("projection", "yes"), ("branches", [3])]))
        out[key] = value
    return out


@st.composite
def block_specs(draw) -> dict:
    data = dict(draw(st.sampled_from(DATA)))
    info = load_cached(DataSpec(**data)).info
    allow_invalid = draw(st.integers(0, 3)) == 3
    stack = draw(st.lists(node(info.modality, 0, allow_invalid), min_size=1, max_size=4))
    if not any(n.get("type") in ("Residual", "Parallel") for n in stack if isinstance(n, dict)):
        stack.insert(draw(st.integers(0, len(stack))), draw(block(info.modality, 0, allow_invalid)))
    if info.tokens and draw(st.integers(0, 3)) < 3:
        stack.insert(0, {"type": "Embedding", "embedding_dim": draw(st.integers(1, 8))})
    loss = "cross_entropy" if info.classification else "mse"
    want = LOSSES.get(loss).shapes(info)[0]
    if len(want) == 1 and draw(st.integers(0, 3)) < 3:
        stack += [{"type": "Flatten"}, {"type": "Linear", "out_features": want[0]}]
    return {"data": data, "model": {"layers": stack},
            "train": {"loss": loss, "batch_size": 16, "device": "cpu", "seed": draw(st.integers(0, 3))}}


def check_message(e: PlaygroundError, d: dict) -> None:
    """The message names a layer that is there, by its path and type, or the JSON field."""
    assert isinstance(e, (BuildError, SpecError)), f"{type(e).__name__}: {e.message}"
    m = NAMES_A_PATH.match(e.message)
    if m:
        path = tuple(int(k) - 1 for k in m.group(1).split("."))
        assert e.at == path and e.layer == path[0], (e.message, e.at)
        assert str(blocks.node_at(d, path)["type"]) == m.group(2), e.message
    else:
        assert NAMES_A_FIELD.match(e.message), e.message
        assert e.path and e.message.startswith(e.path), (e.message, e.path)


@pytest.mark.slow
@SETTINGS
@given(block_specs())
def test_random_nested_blocks_run_or_name_the_layer(d):
    try:
        spec = pg.from_dict(d)
        ds = load_cached(spec.data)
        summary = summarize(spec, ds.info)
        model = build(spec, ds.info)
    except PlaygroundError as e:
        check_message(e, d)
        event("refused: " + ("layer at depth " + str(len(e.at or ())) if NAMES_A_PATH.match(e.message) else "field"))
        return
    event(f"built, {len(summary.rows) - len(summary.top)} layers inside blocks")
    outputs = {}
    hooks = [module_at(model, p).register_forward_hook(lambda _m, _a, y, p=p: outputs.__setitem__(p, y))
             for p, _ in layers_in(model)]
    model.train()
    x = model(ds.x_train[:4])
    for h in hooks:
        h.remove()
    for row in summary.rows:  # every layer's and block's declared shape and size are the real ones
        m = module_at(model, row.path)
        assert tuple(outputs[row.path].shape[1:]) == row.output_shape, f"layer {row.label} ({row.type})"
        assert row.params == sum(p.numel() for p in m.parameters()), f"layer {row.label} ({row.type})"
    assert summary.total_params == sum(p.numel() for p in model.parameters())
    loss_type = LOSSES.get(spec.train.loss)
    loss_type.fn(x, loss_type.target(ds.y_train[:4], ds.info, tuple(x.shape[1:]))).backward()
    assert all(p.grad is not None for p in model.parameters())
    tr = Trainer(spec, data=ds)
    tr.train_step()
    assert tr.step == 1


RESNET = {"data": {"name": "shapes", "n_samples": 60, "size": 8},
          "model": {"layers": [{"type": "Conv2d", "out_channels": 4, "padding": 1},
                               {"type": "Residual", "layers": [{"type": "Conv2d", "out_channels": 8, "stride": 2,
                                                                "padding": 1}, {"type": "ReLU"}]},
                               {"type": "Flatten"}, {"type": "Linear", "out_features": 3}]}}


def test_a_body_that_changes_the_shape_names_the_block_and_the_projection_fixes_it():
    info = load_cached(from_dict(RESNET).data).info
    with pytest.raises(BuildError, match=r"^layer 2 \(Residual\): its layers change the shape \(N, 4, 8, 8\) → "
                                         r"\(N, 8, 4, 4\).*turn on projection \(a 1×1 Conv2d\(4 → 8, stride 2\)") as e:
        build(from_dict(RESNET), info)
    assert e.value.fix == {"action": "set", "at": 1, "key": "projection", "value": True}
    assert edit.describe_fix(RESNET, e.value.fix) == "Set projection = True on layer 2 (Residual)"
    fixed = edit.apply_fix(RESNET, e.value.fix)
    model = build(from_dict(fixed), info)
    assert model[1].skip.weight.shape == (8, 4, 1, 1) and model(torch.zeros(2, 1, 8, 8)).shape == (2, 3)


def test_an_error_deep_inside_names_the_path_and_its_fix_lands_there():
    d = {"data": {"name": "xor"},
         "model": {"layers": [{"type": "Linear", "out_features": 4},
                              {"type": "Parallel", "merge": "add", "branches": [
                                  [], [{"type": "Residual", "layers": [{"type": "Conv2d"}]}]]},
                              {"type": "Linear", "out_features": 2}]}}
    with pytest.raises(BuildError, match=r"^layer 2\.2\.1\.1 \(Conv2d\): ") as e:
        build(from_dict(d), load_cached(from_dict(d).data).info)
    assert e.value.at == (1, 1, 0, 0) and e.value.path == "model.layers[1].branches[1][0].layers[0]"
    fixed = edit.apply_fix(d, e.value.fix)
    assert e.value.fix["at"] == [1, 1, 0, 0]  # inside the block, not at the top level
    assert fixed["model"]["layers"][0] == d["model"]["layers"][0] and len(fixed["model"]["layers"]) == 3
    assert blocks.node_at(fixed, (1, 1, 0))["layers"] != d["model"]["layers"][1]["branches"][1][0]["layers"]


def test_parallel_merges_and_their_errors():
    d = {"data": {"name": "shapes", "n_samples": 60, "size": 8},
         "model": {"layers": [{"type": "Parallel", "merge": "add", "branches": [
             [], [{"type": "Conv2d", "out_channels": 3, "padding": 1}]]},
             {"type": "Flatten"}, {"type": "Linear", "out_features": 3}]}}
    info = load_cached(from_dict(d).data).info
    with pytest.raises(BuildError, match=r"^layer 1 \(Parallel\): branch 1 gives \(N, 1, 8, 8\) but branch 2 gives "
                                         r"\(N, 3, 8, 8\); add needs equal shapes; merge by concat") as e:
        build(from_dict(d), info)
    s = summarize(from_dict(edit.apply_fix(d, e.value.fix)), info)
    assert [(r.label, r.output_shape) for r in s.rows[:2]] == [("1", (4, 8, 8)), ("1.2.1", (3, 8, 8))]
    # a branch that halves the image: the fix ends it with an Upsample
    d["model"]["layers"][0] = {"type": "Parallel", "branches": [[], [{"type": "MaxPool2d", "kernel_size": 2}]]}
    with pytest.raises(BuildError, match=r"end branch 2 with Upsample\(scale_factor=2\)") as e:
        build(from_dict(d), info)
    assert edit.describe_fix(d, e.value.fix) == "Add Upsample(scale_factor=2) at the end of branch 2 of layer 1 " \
                                                "(Parallel)"
    assert summarize(from_dict(edit.apply_fix(d, e.value.fix)), info).rows[0].output_shape == (2, 8, 8)


def test_every_merge_computes_what_it_says():
    x = torch.randn(3, 4)
    for merge, want in (("concat", torch.cat([x, torch.tanh(x)], 1)), ("add", x + torch.tanh(x)),
                        ("multiply", x * torch.tanh(x))):
        d = {"data": {"name": "plane"}, "model": {"layers": [
            {"type": "Linear", "out_features": 4},
            {"type": "Parallel", "merge": merge, "branches": [[], [{"type": "Tanh"}]]}]}}
        spec = from_dict(d)
        modules, _ = build_layers(spec, load_cached(spec.data).info, check_output=False)
        torch.testing.assert_close(modules[1](x), want)


def test_a_version_1_spec_and_an_old_link_load_unchanged():
    # a link made by the version-1 code (main before blocks): the same spec, the same model, and it still builds
    old_link = ("eNpVUMFqwzAM_ZWhsxlpCmPkNgY7dTAGO40RNFttTB3b2Eq3LOTfJ6ftyE6Wn957kt4EJ0rZBg_NRoHHnqCB4MyNs_4ICgxlnWzk"
                "hQEFQEZopis1dxgpC-7bjH10Ujd1VSnI9kf6m7tZQR8MuaJxOMowaN4n4DEW-WPwp9qIPAzc6g69JyeEewVHSlK3Z5utgojGWH8Q"
                "y1n9yV9p9war_zN-v4TgFsd_BvWK9OSQmfxat7OeMF3W2BPykMoh2_lD1ueE1i_rhywg6CRvS55TiGPRSDq9TEmFczF8MNhLywlW"
                "3VaS7BfZQ8etIY3jgonxJ7LurhfWCigG3ZX8JD0iI7SS_8nq4ogDB3G03rL8DO1xcFxGbM528y-mtJUW")
    spec = decode(old_link)
    assert spec.name == "old link" and spec.version == VERSION == 2
    assert [layer.type for layer in spec.model.layers] == ["Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear"]
    assert spec.model.layers[0].options() == {"out_channels": 8, "kernel_size": 3, "padding": 1}
    assert summarize(spec, load_cached(spec.data).info).total_params == 80 + 8 * 8 * 8 * 3 + 3
    v1 = {"version": 1, "data": {"name": "xor"}, "model": {"layers": [{"type": "Linear", "out_features": 2}]}}
    assert from_dict(v1).to_dict() == from_dict({**v1, "version": 2}).to_dict()
    assert from_dict(v1).model.layers[0].options() == {"out_features": 2}
    assert decode(encode(from_dict(v1))) == from_dict(v1)


def nested(depth: int) -> dict:
    out: dict = {"type": "Linear", "out_features": 2}
    for k in range(depth):
        out = {"type": "Residual", "layers": [out]} if k % 2 else {"type": "Parallel", "branches": [[out]]}
    return out


def test_blocks_nest_to_the_limit_and_no_deeper():
    ok = {"data": {"name": "xor"}, "model": {"layers": [nested(MAX_BLOCK_DEPTH)]}}
    spec = from_dict(ok)
    assert summarize(spec, load_cached(spec.data).info).output_shape == (2,)
    with pytest.raises(SpecError, match=rf"^model\.layers\[0\]\.branches\[0\]\[0\]\.layers\[0\].*\]: blocks nest "
                                        rf"more than {MAX_BLOCK_DEPTH} deep here"):
        from_dict({"data": {"name": "xor"}, "model": {"layers": [nested(MAX_BLOCK_DEPTH + 1)]}})
    many = [{"type": "Residual", "layers": [{"type": "ReLU"}] * 200}] * 3  # 3 + 600 layers, each list under 256
    with pytest.raises(SpecError, match=f"more than {MAX_LAYERS} layers in all"):
        from_dict({"data": {"name": "xor"}, "model": {"layers": many}})


def test_the_memory_estimate_counts_the_layers_inside_blocks():
    flat = {"data": {"name": "shapes", "n_samples": 60, "size": 16},
            "model": {"layers": [{"type": "Conv2d", "out_channels": 8, "padding": 1},
                                 {"type": "Flatten"}, {"type": "Linear", "out_features": 3}]}}
    inner = [{"type": "Conv2d", "out_channels": 8, "padding": 1}, {"type": "ReLU"}] * 4
    deep = edit.insert_layer(flat, 1, {"type": "Residual", "layers": inner})
    a, b = (estimate(from_dict(d), sketch(from_dict(d).data)) for d in (flat, deep))
    assert [c.index for c in b.layers][:4] == ["1", "2", "2.1", "2.2"]
    assert b.params > a.params and b.train_bytes > a.train_bytes
    conv = next(c for c in b.layers if c.index == "2.1")
    assert conv.forward_bytes >= 8 * 16 * 16 * 4  # its output, per sample, at least


def test_select_columns_and_fields():
    d = {"data": {"name": "iris"}, "model": {"layers": [
        {"type": "Parallel", "merge": "add", "branches": [
            [{"type": "Select", "columns": [0, 1]}, {"type": "Linear", "out_features": 3}],
            [{"type": "Select", "columns": [2, 3]}, {"type": "Linear", "out_features": 3}]]}]}}
    spec = from_dict(d)
    model = build(spec, load_cached(spec.data).info)
    x = torch.randn(5, 4)
    b = model[0].branches
    torch.testing.assert_close(model(x), b[0][1](x[:, :2]) + b[1][1](x[:, 2:]))
    d["model"]["layers"][0]["branches"][1][0] = {"type": "Select", "columns": [2, 9]}
    with pytest.raises(BuildError, match=r"^layer 1\.2\.1 \(Select\): column 9 does not exist"):
        build(from_dict(d), load_cached(spec.data).info)
    d["model"]["layers"][0]["branches"][1][0] = {"type": "Select", "field": "item"}
    with pytest.raises(BuildError, match=r"^layer 1\.2\.1 \(Select\): the data has no field 'item'; this dataset "
                                         r"names no fields"):
        build(from_dict(d), load_cached(spec.data).info)


def test_dead_units_inside_a_block_are_found_and_named_by_path():
    d = edit.set_param(RESNET, [1], "projection", True)
    spec = from_dict(d)
    ds = load_cached(spec.data)
    model = build(spec, ds.info)
    with torch.no_grad():
        model[1].body[0].bias.fill_(-100.0)  # every unit of the ReLU inside the block is off for every input
    rows = health.activation_health(model, ds.x_val[:20])
    inside = next(r for r in rows if r["name"] == "layer 2.2 (ReLU)")
    assert inside["layer"] == 1 and inside["dead"] == inside["units"] == 8
