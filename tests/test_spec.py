"""spec.py: JSON and URL round trips, and errors that start with the JSON field path."""

from __future__ import annotations

import json

import pytest

import playground as pg
from playground.spec import MAX_URL_CHARS, VERSION, SpecError, decode, encode, from_dict, from_json, load


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
