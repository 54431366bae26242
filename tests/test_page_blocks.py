"""Building blocks on the Build page under AppTest: the palette's blocks, moves into and out of them, their
settings, the projection fix, undo and the link."""

from __future__ import annotations

from apptest import shown
from test_page_build import add, click, find, open_build, rows, spec, types

from playground import blocks
from playground.spec import decode

CNN = {"data": {"name": "shapes", "n_samples": 120, "size": 8},
       "model": {"layers": [{"type": "Conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1}, {"type": "ReLU"},
                            {"type": "Flatten"}, {"type": "Linear", "out_features": 3}]}}


def event(at, ev: dict, n: str):
    at.session_state["build-stack"] = {"event": {**ev, "rev": at.session_state["pg"].edits, "n": n}}
    at.run()
    assert not at.exception, at.exception
    return at


def link_spec(at) -> dict:
    q = at.query_params["s"]
    return decode(q[0] if isinstance(q, list) else q).to_dict()


def row(at, label: str) -> dict:
    found = [r for r in rows(at) if r.get("label") == label and r["kind"] == "row"]
    assert found, f"no row {label}: {[r.get('label') for r in rows(at)]}"
    return found[0]


def test_a_residual_block_from_the_palette_builds_where_it_lands_and_takes_layers_in():
    at = open_build(CNN)
    event(at, {"kind": "select", "path": [1]}, "s1")
    add(at, "Residual")  # after the selected ReLU: Conv2d-ReLU-Conv2d keeping 4 channels of 8×8
    assert types(at) == ["Conv2d", "ReLU", "Residual", "Flatten", "Linear"]
    assert at.session_state["pg"].selected == 2
    assert [(r["label"], r["type"], r["shape"]) for r in rows(at)[2:6]] == [
        ("3", "Residual", "(N, 4, 8, 8)"), ("3.1", "Conv2d", "(N, 4, 8, 8)"), ("3.2", "ReLU", "(N, 4, 8, 8)"),
        ("3.3", "Conv2d", "(N, 4, 8, 8)")]
    assert row(at, "3")["params"] == f"{2 * (4 * 4 * 9 + 4)}" and row(at, "3")["block"] == "Residual"
    assert any("Builds" in m.value and "inside blocks" in m.value for m in at.markdown)
    assert link_spec(at)["model"]["layers"][2]["type"] == "Residual"  # the link carries the block
    # the ReLU before it is dragged into the block's end, then back out before it
    event(at, {"kind": "move", "src": [1], "dst": [2, 3]}, "m1")
    assert types(at) == ["Conv2d", "Residual", "Flatten", "Linear"]
    assert [n["type"] for n in spec(at)["model"]["layers"][1]["layers"]] == ["Conv2d", "ReLU", "Conv2d", "ReLU"]
    assert at.session_state["pg"].selected == (1, 3)
    click(at, "build-up")  # along the block's list
    assert at.session_state["pg"].selected == (1, 2)
    event(at, {"kind": "move", "src": [1, 2], "dst": [1]}, "m2")  # out, before the block
    assert types(at) == ["Conv2d", "ReLU", "Residual", "Flatten", "Linear"]
    click(at, "build-undo")
    assert types(at) == ["Conv2d", "Residual", "Flatten", "Linear"]
    event(at, {"kind": "move", "src": [1], "dst": [1, 1]}, "m3")  # a block cannot go inside itself: nothing moves
    assert types(at) == ["Conv2d", "Residual", "Flatten", "Linear"] and not at.exception


def test_a_body_that_changes_the_shape_gets_the_projection_fix():
    at = open_build(CNN)
    event(at, {"kind": "insert", "type": "Residual", "at": [2]}, "i1")
    assert at.session_state["pg"].selected == 2
    event(at, {"kind": "select", "path": [2, 2]}, "s1")
    find(at, "number_input", "out_channels").set_value(6).run()
    assert blocks.node_at(spec(at), (2, 2))["out_channels"] == 6
    assert "layer 3 (Residual): its layers change the shape" in shown(at.error[0].value)
    assert row(at, "3")["error"].startswith("its layers change the shape")
    fix = at.button(key="build-fix")
    assert shown(fix.label) == "Set projection = True on layer 3 (Residual)"
    click(at, "build-fix")
    assert spec(at)["model"]["layers"][2]["projection"] is True
    assert not at.error and row(at, "3")["shape"] == "(N, 6, 8, 8)"
    assert find(at, "checkbox", "projection").value  # the block's settings show it


def test_parallel_branches_merge_and_grow():
    at = open_build(CNN)
    event(at, {"kind": "insert", "type": "Parallel", "at": [2]}, "i1")
    layer = spec(at)["model"]["layers"][2]
    assert layer["type"] == "Parallel" and layer["branches"][0] == [] and layer["merge"] == "concat"
    assert row(at, "3")["shape"] == "(N, 12, 8, 8)"  # the input's 4 channels beside a branch's 8
    assert [r["text"] for r in rows(at) if r["kind"] == "branch"][0].startswith("branch 1 · the input as it is")
    find(at, "selectbox", "merge").set_value("add").run()
    assert "add needs equal shapes" in at.error[0].value
    click(at, "build-undo")
    click(at, "build-branch-add")
    assert len(spec(at)["model"]["layers"][2]["branches"]) == 3 and row(at, "3")["shape"] == "(N, 16, 8, 8)"
    click(at, "build-branch-remove")
    assert len(spec(at)["model"]["layers"][2]["branches"]) == 2
    # a layer dropped from the palette into the empty branch
    event(at, {"kind": "insert", "type": "ReLU", "at": [2, 0, 0]}, "i2")
    assert spec(at)["model"]["layers"][2]["branches"][0] == [{"type": "ReLU"}]
    assert at.session_state["pg"].selected == (2, 0, 0)
    click(at, "build-del")
    assert spec(at)["model"]["layers"][2]["branches"][0] == []
    assert at.session_state["pg"].selected == 2  # the block that held it
