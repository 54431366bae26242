"""The Build page under AppTest: every edit goes through the widgets and lands in the session's spec."""

from __future__ import annotations

import json

import pytest
from apptest import shown
from helpers import APP
from streamlit.testing.v1 import AppTest

from playground import presets
from playground.layers import LAYERS
from playground.spec import MAX_DEPTH, encode, from_dict
from ui.views import build_settings
from ui.views.build_settings import accept_csv, import_json
from ui.views.layer_tree import BLOCK_CHIPS


def open_build(spec: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if spec is not None:
        at.query_params["s"] = encode(from_dict(spec))
    at.run()
    at.switch_page("pages/build.py").run()
    assert not at.exception, at.exception
    return at


def spec(at: AppTest) -> dict:
    return at.session_state["pg"].spec


def types(at: AppTest) -> list[str]:
    return [layer["type"] for layer in spec(at)["model"]["layers"]]


def find(at: AppTest, kind: str, label: str):
    found = [w for w in getattr(at, kind) if w.label == label]
    assert found, f"no {kind} labelled {label!r}"
    return found[0]


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def select(at: AppTest, i: int) -> AppTest:
    find(at, "selectbox", "Layer").set_value(i).run()
    assert at.session_state["pg"].selected == i
    return at


TABS = {"Model": ":material/layers: Model", "Data": ":material/dataset: Data", "Training": ":material/tune: Training"}


def tab(at: AppTest, name: str) -> AppTest:
    """Open a tab (the page draws only the open one)."""
    at.session_state["build-tabs"] = TABS[name]
    at.run()
    assert not at.exception, at.exception
    return at


def component_data(at: AppTest, name: str) -> dict:
    """What a components-v2 element was given to draw."""
    found = [c for c in at.get("bidi_component") if c.proto.component_name == name]
    return json.loads(found[0].proto.json)


def rows(at: AppTest) -> list[dict]:
    """What the stack component was given to draw."""
    return component_data(at, "playground.sortable")["items"]


def add(at: AppTest, name: str, n: str = "") -> AppTest:
    """A click on the palette chip `name` (AppTest cannot click a component: it sets the event it sends)."""
    event = {"kind": "add", "type": name, "n": n or f"click-{name}-{len(types(at))}"}
    at.session_state["build-palette"] = {"event": event}
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def at():
    return open_build()


def test_page_loads_and_shows_the_stack(at):
    assert at.title[0].value == "Build"
    assert any("Builds" in m.value for m in at.markdown)
    assert [r["type"] for r in rows(at)] == types(at) == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    assert rows(at)[0]["shape"] == "(N, 16)" and rows(at)[0]["params"] == "48"
    assert not at.error
    chips = {it["name"]: it["help"] for g in component_data(at, "playground.palette")["groups"] for it in g["items"]}
    blocks = {name: text for name, (_, text) in BLOCK_CHIPS.items()}
    assert chips == {**blocks, **{name: kind.description for name, kind in LAYERS.items()}}  # every entry, its text


def test_add_configure_move_and_delete_through_the_widgets(at):
    select(at, 0)
    add(at, "ReLU")  # "after the selected layer" is the default
    assert types(at)[:3] == ["Linear", "ReLU", "Tanh"]
    assert at.session_state["pg"].selected == 1
    find(at, "selectbox", "Insert").set_value("end").run()
    add(at, "Dropout")
    assert types(at)[-1] == "Dropout" and spec(at)["model"]["layers"][-1] == {"type": "Dropout", "p": 0.5}
    click(at, "build-up")
    assert types(at)[-2:] == ["Dropout", "Linear"] and at.session_state["pg"].selected == 5
    find(at, "slider", "p").set_value(0.25).run()
    assert spec(at)["model"]["layers"][5]["p"] == 0.25
    click(at, "build-del")
    assert "Dropout" not in types(at)
    select(at, 0)
    find(at, "number_input", "out_features").set_value(32).run()
    assert spec(at)["model"]["layers"][0]["out_features"] == 32
    assert rows(at)[0]["shape"] == "(N, 32)"
    click(at, "build-down")
    assert types(at)[:2] == ["ReLU", "Linear"]
    click(at, "build-dup")
    assert types(at)[:3] == ["ReLU", "Linear", "Linear"]
    assert not at.exception


def test_the_sortable_component_reorders(at):
    s = at.session_state["pg"]
    at.session_state["build-stack"] = {"event": {"kind": "order", "order": [4, 0, 1, 2, 3], "moved": 4,
                                                 "rev": s.edits, "n": "drag-1"}}
    at.run()
    assert not at.exception
    assert [layer.get("out_features") for layer in spec(at)["model"]["layers"]] == [2, 16, None, 16, None]
    assert at.session_state["pg"].selected == 0
    at.run()  # the same event again is not applied twice
    assert [layer.get("out_features") for layer in spec(at)["model"]["layers"]] == [2, 16, None, 16, None]
    at.session_state["build-stack"] = {"event": {"kind": "select", "index": 3, "rev": s.edits, "n": "click-1"}}
    at.run()
    assert at.session_state["pg"].selected == 3 and rows(at)[3]["selected"]


def test_impossible_stack_shows_the_error_on_its_layer_and_the_fix_repairs_it():
    at = open_build(presets.get("digits-mlp").to_dict())
    select(at, 0)
    click(at, "build-del")  # without Flatten, Linear gets an 8×8 image
    assert types(at) == ["Linear", "ReLU", "Linear"]
    assert "layer 1 (Linear)" in shown(at.error[0].value) and "Flatten" in at.error[0].value
    assert rows(at)[0]["error"] and not any(r["error"] for r in rows(at)[1:])
    fix = at.button(key="build-fix")
    assert fix.label.startswith("Insert Flatten before layer 1")
    click(at, "build-fix")
    assert types(at) == ["Flatten", "Linear", "ReLU", "Linear"]
    assert not at.error and any("Builds" in m.value for m in at.markdown)


def test_undo_and_redo_restore_the_widgets(at):
    select(at, 0)
    find(at, "number_input", "out_features").set_value(24).run()
    click(at, "build-undo")
    assert spec(at)["model"]["layers"][0]["out_features"] == 16
    assert find(at, "number_input", "out_features").value == 16  # the widget follows the restored spec
    click(at, "build-redo")
    assert find(at, "number_input", "out_features").value == 24
    assert at.button(key="build-redo").disabled


def test_data_and_training_settings_edit_the_spec(at):
    tab(at, "Data")
    find(at, "selectbox", "Dataset").set_value("plane").run()
    assert spec(at)["data"]["name"] == "plane"
    assert spec(at)["train"]["loss"] == "mse"  # switched to a loss that fits regression
    tab(at, "Model")
    assert "out_features = 1" in shown(at.button(key="build-fix").label)  # the head is the user's to fix, in one click
    tab(at, "Training")
    find(at, "selectbox", "Optimizer").set_value("SGD").run()
    find(at, "number_input", "momentum").set_value(0.9).run()
    assert spec(at)["train"]["optimizer"] == {"type": "SGD", "lr": 0.03, "weight_decay": 0.0, "momentum": 0.9}
    find(at, "selectbox", "Learning-rate schedule").set_value("StepLR").run()
    assert spec(at)["train"]["scheduler"] == {"type": "StepLR"}
    find(at, "number_input", "Gradient clipping (max norm)").set_value(1.0).run()
    assert spec(at)["train"]["grad_clip"] == 1.0
    assert not at.exception


def test_bad_json_import_and_bad_csv_upload_show_a_message(at):
    before = spec(at)
    bad = ("bad.json", b'{"data": {"name": 3}', "application/json")
    find(at, "file_uploader", "A spec saved as JSON").set_value(bad)
    at.run()
    assert not at.exception
    assert any("bad.json" in shown(e.value) and "not valid JSON" in shown(e.value) for e in at.error)
    assert spec(at) == before
    tab(at, "Data")
    label = "Or upload your own CSV (≤ 5 MB)"
    find(at, "file_uploader", label).set_value(("bad.csv", b"a,b\n1,2\n3", "text/csv"))
    at.run()
    assert any("bad.csv" in shown(e.value) and "row 3" in shown(e.value) for e in at.error)
    assert spec(at) == before
    ok = b"height,weight,kind\n1,2,cat\n2,3,dog\n3,1,cat\n4,4,dog\n"
    find(at, "file_uploader", label).set_value(("ok.csv", ok, "text/csv"))
    at.run()
    data = spec(at)["data"]
    assert data["name"] == "csv" and data["target"] == "kind" and "file" not in data  # an id, never a path
    assert find(at, "selectbox", "Target column").options == ["height", "weight", "kind"]
    find(at, "selectbox", "Target column").set_value("height").run()  # now 'kind' is an input, and not numeric
    assert spec(at)["data"]["target"] == "height" and not at.exception
    assert any("column 'kind' is not numeric" in shown(e.value) for e in at.error)


def test_import_and_csv_helpers():
    with pytest.raises(Exception, match="layers\\[0\\]"):
        import_json(b'{"data": {"name": "xor"}, "model": {"layers": [{"units": 3}]}}', "x.json")
    with pytest.raises(Exception, match="not UTF-8"):
        import_json(b"\xff\xfe", "x.json")
    deep = f"^deep.json: the spec nests arrays or objects more than {MAX_DEPTH} levels deep"
    with pytest.raises(Exception, match=deep):
        import_json(b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "deep.json")  # no RecursionError
    assert import_json(json.dumps(presets.get("xor-mlp").to_dict()).encode())["data"]["name"] == "xor"
    assert "class Model" in build_settings.python_code(presets.get("xor-mlp").to_dict())
    assert accept_csv(b"label,x\ncat,1\ndog,2\n") == "label"  # a text column is taken as the target
    with pytest.raises(Exception, match="5 MB"):
        accept_csv(b"a,b\n" + b"1,2\n" * 1_300_000)


def test_every_dataset_previews_without_an_exception(at):
    from playground.data import builtin
    tab(at, "Data")
    for name in builtin():  # the CSV is offered once one is uploaded
        find(at, "selectbox", "Dataset").set_value(name).run()
        assert not at.exception, (name, at.exception)
        assert spec(at)["data"]["name"] == name


def test_values_the_widgets_cannot_show_get_a_text_field_and_a_message():
    s = presets.get("xor-mlp").to_dict()
    s["model"]["layers"][0].update(out_features=99999, colour="red")
    at = open_build(s)
    select(at, 0)
    assert any("out_features must be ≤ 4096" in shown(e.value) for e in at.error)
    field = find(at, "text_input", "out_features")
    field.set_value("abc").run()
    assert any("'abc' is not a whole number" in shown(e.value) for e in at.error)
    assert spec(at)["model"]["layers"][0]["out_features"] == 99999  # nothing applied, nothing lost
    find(at, "text_input", "out_features").set_value("12").run()
    assert spec(at)["model"]["layers"][0]["out_features"] == 12
    assert any("unknown option 'colour'" in shown(w.value) for w in at.warning)
    click(at, [b.key for b in at.button if shown(b.label) == "Remove colour"][0])
    assert "colour" not in spec(at)["model"]["layers"][0]
    assert not at.exception


def test_conv2d_on_2d_points_offers_linear_or_an_image_dataset():
    s = presets.get("spiral-mlp").to_dict()
    s["model"]["layers"].insert(0, {"type": "Conv2d", "out_channels": 8})
    at = open_build(s)
    select(at, 0)  # the layer in question is selected: "select layer 1" would be no help (the bug)
    assert "choose an image dataset" in shown(at.error[0].value)
    labels = [shown(b.label) for b in at.button if b.key and b.key.startswith("build-fix")]
    assert labels == ["Replace layer 1 (Conv2d) with Linear(out_features=8)", "Use the digits dataset (image)"]
    assert not any("Select layer" in c.value for c in at.caption)
    click(at, "build-fix")
    assert types(at)[0] == "Linear" and any("Builds" in m.value for m in at.markdown)
    click(at, "build-undo")
    click(at, "build-fix-2")
    assert spec(at)["data"]["name"] == "digits" and types(at)[0] == "Conv2d"


def test_an_error_without_a_fix_says_where_to_change_it():
    s = presets.get("spiral-mlp").to_dict()
    s["model"]["layers"].insert(0, {"type": "Unflatten", "dim": 1, "unflattened_size": [3, 3]})
    at = open_build(s)
    assert "set unflattened_size to sizes whose product is 2" in shown(at.error[0].value)
    assert at.session_state["pg"].selected != 0
    click(at, "build-fix-select")  # "Select layer 1 (Unflatten) to change it"
    assert at.session_state["pg"].selected == 0
    assert any("Change layer 1 (Unflatten) under Configure" in shown(c.value) for c in at.caption)
    find(at, "text_input", "unflattened_size").set_value("2").run()
    assert any("Builds" in m.value for m in at.markdown)


def test_a_layer_dropped_from_the_palette_goes_where_it_was_dropped(at):
    s = at.session_state["pg"]
    at.session_state["build-stack"] = {"event": {"kind": "insert", "type": "Dropout", "at": 2, "rev": s.edits,
                                                 "n": "drop-1"}}
    at.run()
    assert types(at) == ["Linear", "Tanh", "Dropout", "Linear", "Tanh", "Linear"]
    assert at.session_state["pg"].selected == 2 and spec(at)["model"]["layers"][2] == {"type": "Dropout", "p": 0.5}
    stale = {"kind": "insert", "type": "ReLU", "at": 0, "rev": s.edits - 1, "n": "drop-2"}  # drawn before the drop
    at.session_state["build-stack"] = {"event": stale}
    at.run()
    assert "ReLU" not in types(at)
    at.session_state["build-stack"] = {"event": {**stale, "type": "NoSuchLayer", "rev": s.edits, "n": "drop-3"}}
    at.run()
    assert "ReLU" not in types(at) and len(types(at)) == 6 and not at.exception
    add(at, "GELU", "c1")
    add(at, "GELU", "c1")  # the same click seen again adds nothing
    assert types(at).count("GELU") == 1
    add(at, "GELU", "c2")
    assert types(at).count("GELU") == 2
