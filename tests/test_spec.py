"""spec.py: JSON and URL round trips, and errors that start with the JSON field path."""

from __future__ import annotations

import json

import pytest

import playground as pg
from playground.spec import MAX_DEPTH, MAX_URL_CHARS, VERSION, SpecError, decode, encode, from_dict, from_json, load


def test_contract_example_parses(contract_example):
    spec = from_dict(contract_example)
    assert spec.data.name == "spiral"
    assert spec.data.options() == {"n_samples": 600, "noise": 0.1, "val_fraction": 0.2, "seed": 0}
    assert [layer.type for layer in spec.model.layers] == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    assert spec.model.layers[4].options() == {"out_features": 2}
    assert spec.train.optimizer.type == "Adam" and spec.train.optimizer.lr == 0.01
    assert spec.train.epochs == 50 and spec.train.device == "auto"


def test_dict_round_trip_keeps_options_inline(contract_example):
    spec = from_dict(contract_example)
    d = spec.to_dict()
    assert d["data"] == contract_example["data"]
    assert d["model"] == contract_example["model"]
    for key, value in contract_example["train"].items():
        if key != "optimizer":
            assert d["train"][key] == value
    assert from_dict(d) == spec


def test_json_round_trip(spiral_spec):
    text = spiral_spec.to_json()
    assert json.loads(text) == spiral_spec.to_dict()
    assert from_json(text) == spiral_spec
    assert from_json(spiral_spec.to_json(indent=None)) == spiral_spec


def test_defaults_fill_in():
    spec = from_dict({"data": {"name": "circle"}})
    assert spec.version == VERSION
    assert spec.model.layers == []
    assert spec.train.loss == "cross_entropy" and spec.train.optimizer.type == "Adam"
    assert spec.train.scheduler is None and "scheduler" not in spec.to_dict()["train"]


def test_file_load(tmp_path, spiral_spec):
    p = tmp_path / "spec.json"
    p.write_text(spiral_spec.to_json())
    assert load(p) == spiral_spec
    with pytest.raises(SpecError, match="cannot read"):
        load(tmp_path / "missing.json")


def test_url_round_trip(spiral_spec):
    text = encode(spiral_spec)
    assert text and all(c.isalnum() or c in "-_" for c in text)  # URL-safe, no padding
    assert decode(text) == spiral_spec


def test_url_round_trip_with_every_section(spiral_dict):
    spiral_dict["train"].update(scheduler={"type": "StepLR", "step_size": 3}, init="kaiming", grad_clip=1.0,
                                l1=0.001)
    spiral_dict["description"] = "ünïcode — and \"quotes\""
    spec = from_dict(spiral_dict)
    assert decode(encode(spec)) == spec


@pytest.mark.parametrize("text", ["", None, 42])
def test_decode_empty(text):
    with pytest.raises(SpecError, match="carries no spec"):
        decode(text)


@pytest.mark.parametrize("damage", [
    lambda t: t[: len(t) // 2],  # cut off when copied
    lambda t: t[:-12],
    lambda t: "A" + t,
    lambda t: "not base64 at all!!",
    lambda t: "é" + t,
    lambda t: t[::-1],
])
def test_decode_damaged(spiral_spec, damage):
    with pytest.raises(SpecError, match="damaged") as e:
        decode(damage(encode(spiral_spec)))
    assert "cut off" in e.value.message


def test_decode_over_long():
    with pytest.raises(SpecError, match=f"limit is {MAX_URL_CHARS}"):
        decode("A" * (MAX_URL_CHARS + 1))
    with pytest.raises(SpecError, match="10 characters long; the limit is 5"):
        decode("A" * 10, max_chars=5)


def test_decode_valid_text_but_not_a_spec():
    import base64
    import zlib
    raw = base64.urlsafe_b64encode(zlib.compress(b"[1, 2]")).decode().rstrip("=")
    with pytest.raises(SpecError, match="JSON object"):
        decode(raw)


@pytest.mark.parametrize("change, path", [
    (lambda d: d["train"]["optimizer"].update(lr=-1), "train.optimizer.lr"),
    (lambda d: d["train"]["optimizer"].update(lr=0), "train.optimizer.lr"),
    (lambda d: d["train"].update(device="tpu"), "train.device"),
    (lambda d: d["train"].update(epochs="many"), "train.epochs"),
    (lambda d: d["train"].update(batch_size=0), "train.batch_size"),
    (lambda d: d["train"].update(init="ones"), "train.init"),
    (lambda d: d["train"].update(grad_clip=-1.0), "train.grad_clip"),
    (lambda d: d["train"].update(momentum=0.9), "train.momentum"),
    (lambda d: d["data"].pop("name"), "data.name"),
    (lambda d: d["data"].update(name=3), "data.name"),
    (lambda d: d.update(extra=1), "extra"),
    (lambda d: d.update(name=["a"]), "name"),
    (lambda d: d["model"].update(layer=[]), "model.layer"),
    (lambda d: d["model"].update(layers={"type": "Linear"}), "model.layers"),
    (lambda d: d["model"]["layers"][2].pop("type"), "model.layers[2].type"),
    (lambda d: d["model"]["layers"].__setitem__(1, "Tanh"), "model.layers[1]"),
    (lambda d: d.update(model=[]), "model"),
])
def test_bad_spec_message_starts_with_field_path(spiral_dict, change, path):
    change(spiral_dict)
    with pytest.raises(SpecError) as e:
        from_dict(spiral_dict)
    assert e.value.message.startswith(path + ": "), e.value.message
    assert e.value.path == path


def test_wrong_type_message_shows_the_value(spiral_dict):
    spiral_dict["train"]["batch_size"] = "big"
    with pytest.raises(SpecError, match="'big'"):
        from_dict(spiral_dict)


def test_layer_errors_carry_the_layer_index(spiral_dict):
    spiral_dict["model"]["layers"][3] = {"out_features": 2}
    with pytest.raises(SpecError) as e:
        from_dict(spiral_dict)
    assert e.value.layer == 3


def test_missing_and_unknown_fields_say_so(spiral_dict):
    spiral_dict["data"].pop("name")
    with pytest.raises(SpecError, match=r"^data\.name: is required$"):
        from_dict(spiral_dict)
    with pytest.raises(SpecError, match=r"^colour: unknown field$"):
        from_dict({"data": {"name": "circle"}, "colour": "red"})


@pytest.mark.parametrize("version", [VERSION + 1, 99])
def test_newer_version_refused(spiral_dict, version):
    spiral_dict["version"] = version
    with pytest.raises(SpecError, match="newer than this playground") as e:
        from_dict(spiral_dict)
    assert e.value.message.startswith("version: ")


@pytest.mark.parametrize("version", [0, -1, "1", 1.5, None])
def test_bad_version_refused(spiral_dict, version):
    spiral_dict["version"] = version
    with pytest.raises(SpecError, match="^version: must be a positive integer"):
        from_dict(spiral_dict)


@pytest.mark.parametrize("value", [[], "spec", 3, None])
def test_not_an_object(value):
    with pytest.raises(SpecError, match="must be a JSON object"):
        from_dict(value)


def test_json_syntax_error_names_the_line():
    with pytest.raises(SpecError, match="line 3"):
        from_json('{\n  "data": {"name": "circle"},\n  "model": oops\n}')


def test_spec_error_is_a_playground_error():
    assert issubclass(SpecError, pg.PlaygroundError) and issubclass(SpecError, ValueError)


# ---- a stranger's spec: bounded before anything parses it (issue 8, item 4) -----------------------

def link_of(text: str) -> str:
    """A share link's ?s= value for raw JSON text (which `encode` would never write)."""
    import base64
    import zlib
    return base64.urlsafe_b64encode(zlib.compress(text.encode("utf-8", "surrogatepass"), 9)).decode().rstrip("=")


def deep(depth: int) -> str:
    return '{"data": {"name": "xor"}, "name": ' + "[" * depth + "]" * depth + "}"


def test_a_short_link_nested_100000_deep_is_refused_without_recursion():
    text = deep(100_000)
    link = link_of(text)
    assert len(link) < 400  # the attack: a 311-character link
    for parse in (lambda: decode(link), lambda: from_json(text)):
        with pytest.raises(SpecError, match=f"more than {MAX_DEPTH} levels deep"):
            parse()
    nested: list = []
    for _ in range(100_000):  # the same as Python values (an import that bypasses JSON)
        nested = [nested]
    with pytest.raises(SpecError, match=f"name: nested more than {MAX_DEPTH} levels deep"):
        from_dict({"data": {"name": "xor"}, "name": nested})


def test_nesting_counts_brackets_outside_strings_only():
    from playground.spec import nesting
    assert nesting('{"a": "[[[[[[[[[[[[[[[[[[[[", "b": [[1]]}') == 3
    assert nesting(r'{"a": "\"[[[[[[[[[[[[[[[[[[[\\", "b": [1]}') == 2
    assert nesting("[" * 50, limit=12) == 13  # stops counting past the limit


@pytest.mark.parametrize("where", ["name", "layer", "key", "option"])
def test_a_lone_surrogate_is_refused_by_name(spiral_dict, where):
    bad = "x\ud800y"
    if where == "name":
        spiral_dict["name"] = bad
    elif where == "layer":
        spiral_dict["model"]["layers"][1]["type"] = bad
    elif where == "key":
        spiral_dict["data"][bad] = 1
    else:
        spiral_dict["train"]["optimizer"]["type"] = bad
    with pytest.raises(SpecError, match=r"holds invalid Unicode \(\\ud800 at character 2"):
        from_dict(spiral_dict)
    text = json.dumps(spiral_dict)  # "\ud800" escaped, as a link or an import carries it
    for parse in (lambda: from_json(text), lambda: decode(link_of(text))):
        with pytest.raises(SpecError, match="invalid Unicode"):
            parse()


def test_a_999000_character_name_in_a_short_link_is_refused(spiral_dict):
    spiral_dict["name"] = "A" * 999_000
    link = link_of(json.dumps(spiral_dict))
    assert len(link) < 2000
    with pytest.raises(SpecError, match="^name: 999,000 characters long; the limit is 200$") as e:
        decode(link)
    assert e.value.path == "name"


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(description="d" * 5001), "description: 5,001 characters long; the limit is 5,000"),
    (lambda d: d["model"]["layers"][0].update(out_features="8" * 501), r"model.layers\[0\].out_features: 501"),
    (lambda d: d["model"].update(layers=[{"type": "Tanh"}] * 257), "model.layers: has 257 entries; the limit is 256"),
    (lambda d: d["train"].update(epochs=10**30), "train.epochs: the number 1000.* is too large"),
    (lambda d: d["train"]["optimizer"].update(lr=float("nan")), "train.optimizer.lr: must be a finite number"),
    (lambda d: d["data"].update(noise=float("inf")), "data.noise: must be a finite number"),
])
def test_every_string_and_structure_is_bounded(spiral_dict, change, message):
    change(spiral_dict)
    with pytest.raises(SpecError, match=f"^{message}"):
        from_dict(spiral_dict)


def test_numbers_json_cannot_hold_are_a_spec_error():
    with pytest.raises(SpecError, match="not usable JSON"):
        from_json('{"data": {"name": "xor"}, "version": ' + "9" * 5000 + "}")
    with pytest.raises(SpecError, match="not usable JSON"):
        decode(link_of('{"data": {"name": "xor"}, "version": ' + "9" * 5000 + "}"))


def test_long_values_are_cut_short_in_messages(spiral_dict):
    spiral_dict["train"]["batch_size"] = "x" * 400
    with pytest.raises(SpecError) as e:
        from_dict(spiral_dict)
    assert len(e.value.message) < 200 and e.value.message.endswith("…")


# ---- property: whatever a link carries, the only error is ours ----------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(alphabet=st.characters(), max_size=30),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=40)
KEYS = ["version", "name", "description", "data", "model", "train", "layers", "type", "name", "loss",
        "optimizer", "lr", "batch_size", "epochs", "scheduler", "upload", "file", "n_samples", "seed"]
# specs that look like specs: known keys at the top levels, random values below them
SPECLIKE = st.recursive(
    JSON, lambda inner: st.dictionaries(st.sampled_from(KEYS), inner, max_size=6) | st.lists(inner, max_size=4),
    max_leaves=30)
HUGE = st.builds(lambda c, n: c * n, st.characters(), st.integers(0, 1_200_000))
DEEP = st.builds(lambda d, o, c: o * d + c * d, st.integers(1, 120_000), st.sampled_from(["[", "{\"a\":", "[{\"b\":"]),
                 st.sampled_from(["]", "}", "}]"]))


def only_our_error(fn, *args) -> None:
    """Call fn(*args): it may return or raise a PlaygroundError subclass, nothing else."""
    try:
        fn(*args)
    except pg.PlaygroundError:
        pass


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(st.binary(max_size=3000))
def test_random_bytes_as_a_link(raw):
    import base64
    only_our_error(decode, base64.urlsafe_b64encode(raw).decode().rstrip("="))
    only_our_error(decode, raw.decode("latin-1"))


@PROPERTY
@given(st.one_of(JSON, SPECLIKE))
def test_random_json_as_a_link_an_import_or_a_dict(value):
    only_our_error(from_dict, value)
    text = json.dumps(value)
    only_our_error(from_json, text)
    only_our_error(decode, link_of(text))


@PROPERTY
@given(st.one_of(DEEP, HUGE, st.text(alphabet=st.characters(), max_size=200)))
def test_deep_huge_and_invalid_text_as_a_link_or_an_import(text):
    only_our_error(from_json, text)
    only_our_error(decode, link_of(text))
    only_our_error(from_dict, {"data": {"name": "xor"}, "name": text})
    only_our_error(from_json, '{"data": {"name": "xor"}, "name": ' + json.dumps(text) + "}")


@PROPERTY
@given(st.sampled_from(["name", "description", "data", "model", "train", "version"]), st.one_of(JSON, HUGE))
def test_a_real_spec_with_one_field_replaced(spiral_dict_field, value):
    from tests.conftest import SPIRAL
    d = json.loads(json.dumps(SPIRAL))
    d[spiral_dict_field] = value
    only_our_error(from_dict, d)
    only_our_error(decode, link_of(json.dumps(d)))
