"""The 2-D Playground page under AppTest: widgets write the session's spec; Play trains in the worker pool.

AppTest runs no JavaScript and serves no routes, so the page falls back to a polled status line and
image; the tests poll the run's metrics and rerun, as a browser's stream would update the canvas.
"""

from __future__ import annotations

import pytest
from helpers import APP, wait_until
from streamlit.testing.v1 import AppTest

from playground import presets, tfplay
from playground.spec import encode, from_dict
from ui import server


@pytest.fixture(scope="module", autouse=True)
def pool(app_pool):
    return app_pool


@pytest.fixture(autouse=True)
def stop_runs(pool):
    """AppTest sessions never end, so their runs would pile up against the per-session limit: stop them."""
    yield
    for j in pool.jobs():
        if not j.finished:
            j.stop()
            j.wait(5)


def open_page(spec: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if spec is not None:
        at.query_params["s"] = encode(from_dict(spec))
    at.run()
    at.switch_page("pages/playground2d.py").run()
    assert not at.exception, at.exception
    return at


def spec(at: AppTest) -> dict:
    return at.session_state["pg"].spec


def job(at: AppTest):
    return server.pool().get(at.session_state["pg"].pg2d.job_id)


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def widget(at: AppTest, kind: str, label: str):
    found = [w for w in getattr(at, kind) if w.label == label]
    assert found, f"no {kind} labelled {label!r}: {[w.label for w in getattr(at, kind)]}"
    return found[0]


def hidden(at: AppTest) -> list[int]:
    layers = spec(at)["model"]["layers"]
    return [x["out_features"] for x in layers[:-1] if x["type"] == "Linear"]


def test_page_loads_with_the_default_setup():
    at = open_page()
    assert tfplay.from_spec(spec(at)) is not None
    assert widget(at, "selectbox", "Learning rate").value == 0.03
    assert any("hidden layers" in c.value for c in at.caption)
    j = job(at)
    assert j is not None and j.wanted_views == {"grid2d": {"res": 64, "neuron_res": 16, "pack": True}}
    assert j.spec["train"]["device"] == "cpu"
    wait_until(lambda: j.state == "paused" and "grid2d" in j.views)  # a run is always there, paused at epoch 0
    assert j.metrics == [] and j.views["grid2d"]["epoch"] == 0  # (as TensorFlow Playground's reset)


def test_plus_and_minus_change_the_layers():
    at = open_page(tfplay.default_spec())
    assert hidden(at) == [4, 2]
    click(at, "pg2d-plus-0")
    assert hidden(at) == [5, 2]
    click(at, "pg2d-minus-1")
    assert hidden(at) == [5, 1]
    assert at.button(key="pg2d-minus-1").disabled  # one neuron is the least
    click(at, "pg2d-layer-plus")
    assert hidden(at) == [5, 1, 1]
    click(at, "pg2d-layer-minus")
    click(at, "pg2d-layer-minus")
    assert hidden(at) == [5]
    types = [x["type"] for x in spec(at)["model"]["layers"]]
    assert types == ["Linear", "Tanh", "Linear"]
    assert at.session_state["pg"].history  # every click is one undoable edit


def test_feature_toggles_change_the_inputs():
    at = open_page(tfplay.default_spec())
    widget(at, "checkbox", "x₁²").check().run()
    assert spec(at)["data"]["features"] == ["x1", "x2", "x1^2"]
    widget(at, "checkbox", "x₁").uncheck().run()
    widget(at, "checkbox", "sin x₂").check().run()
    assert spec(at)["data"]["features"] == ["x2", "x1^2", "sin(x2)"]
    assert not at.exception


def test_settings_write_the_spec():
    at = open_page(tfplay.default_spec())
    widget(at, "selectbox", "Learning rate").set_value(0.3).run()
    widget(at, "selectbox", "Optimizer").set_value("SGD+momentum").run()
    widget(at, "selectbox", "Regularisation").set_value("L2").run()
    widget(at, "selectbox", "Dropout").set_value(0.2).run()
    widget(at, "selectbox", "Activation of layer 2").set_value("ReLU").run()
    t = spec(at)["train"]
    assert t["optimizer"]["lr"] == 0.3 and t["optimizer"]["type"] == "SGD" and t["optimizer"]["momentum"] == 0.9
    assert t["optimizer"]["weight_decay"] == 0.003  # L2 with TensorFlow Playground's first rate
    assert [x["type"] for x in spec(at)["model"]["layers"]] == \
        ["Linear", "Tanh", "Dropout", "Linear", "ReLU", "Dropout", "Linear"]
    widget(at, "selectbox", "Regularisation").set_value("L1").run()
    assert (spec(at)["train"]["l1"], spec(at)["train"]["optimizer"]["weight_decay"]) == (0.003, 0.0)
    widget(at, "radio", "Dataset").set_value("spiral").run()
    widget(at, "select_slider", "Classes").set_value(4).run()
    assert spec(at)["data"]["classes"] == 4 and spec(at)["model"]["layers"][-1]["out_features"] == 4
    widget(at, "slider", "Training data").set_value(80).run()
    widget(at, "slider", "Noise").set_value(25).run()
    widget(at, "slider", "Batch size").set_value(30).run()
    d = spec(at)["data"]
    assert (d["val_fraction"], d["noise"], spec(at)["train"]["batch_size"]) == (0.2, 0.25, 30)
    seed = d["seed"]
    click(at, "pg2d-regen")
    assert spec(at)["data"]["seed"] == seed + 1
    widget(at, "selectbox", "Problem type").set_value("regression").run()
    s = spec(at)
    assert (s["data"]["name"], s["train"]["loss"], s["model"]["layers"][-1]["out_features"]) == ("plane", "mse", 1)
    assert widget(at, "radio", "Dataset").options == list(tfplay.REGRESSION)
    from_dict(s)


def test_play_trains_and_the_page_shows_metrics():
    at = open_page(tfplay.default_spec())
    first = job(at)
    click(at, "pg2d-play")
    j = job(at)
    assert j is first  # Play resumes the paused run
    wait_until(lambda: len(j.metrics) >= 3)
    at.run()
    status = [c.value for c in at.caption if c.value.startswith("Epoch")]
    assert status and "training loss" in status[0] and "test loss" in status[0]
    assert at.button(key="pg2d-play").label == "Pause"
    assert at.button(key="pg2d-step").disabled
    assert len(at.get("image")) == 1  # the polled decision surface
    click(at, "pg2d-play")  # pause
    wait_until(lambda: j.state == "paused")
    n = len(j.metrics)
    click(at, "pg2d-step")
    assert len(j.metrics) == n + 1 and j.state == "paused"


def test_learning_rate_and_regularisation_go_on_other_changes_reset_the_run():
    at = open_page(tfplay.default_spec())
    first = job(at)
    click(at, "pg2d-play")
    wait_until(lambda: len(first.metrics) >= 1)
    # as in TensorFlow Playground: the learning rate and the regularisation change while it trains
    widget(at, "selectbox", "Learning rate").set_value(0.1).run()
    widget(at, "selectbox", "Regularisation").set_value("L2").run()
    assert job(at) is first and first.state == "running"
    assert first.spec["train"]["optimizer"]["lr"] == 0.1 and first.spec["train"]["optimizer"]["weight_decay"] == 0.003
    n = len(first.metrics)
    wait_until(lambda: len(first.metrics) > n + 1)
    assert first.metrics[-1]["lr"] == 0.1
    # anything else (here the activation) is a new network: a fresh run from epoch 0, playing on
    widget(at, "selectbox", "Activation").set_value("ReLU").run()
    second = job(at)
    assert second is not first and first.state == "stopped"
    wait_until(lambda: len(second.metrics) >= 1)
    assert second.metrics[0]["epoch"] == 1 and second.spec["train"]["optimizer"]["lr"] == 0.1
    click(at, "pg2d-reset")
    assert job(at) is not second and second.finished


def test_another_kind_of_setup_is_offered_a_2d_one():
    cnn = presets.get("digits-cnn").to_dict()
    at = open_page(cnn)
    assert at.info and "is not one of those" in at.info[0].value
    assert spec(at) == from_dict(cnn).to_dict()  # left alone until the user asks
    assert at.session_state["pg"].pg2d.job_id is None  # and nothing trains
    click(at, "pg2d-convert")
    assert tfplay.from_spec(spec(at)) is not None
    click(at, "pg2d-undo")
    assert spec(at)["data"]["name"] == "digits"


@pytest.mark.parametrize("edit", [
    lambda s: s["train"]["optimizer"].update(lr=0.05, weight_decay=0.2),
    lambda s: s["train"].update(batch_size=500, l1=0.5),
    lambda s: s["data"].update(noise=0.93, val_fraction=0.07, n_samples=40),
    lambda s: s["model"]["layers"].insert(2, {"type": "Dropout", "p": 0.33}),
    lambda s: s["train"]["optimizer"].update(type="Adagrad"),
    lambda s: s["train"].update(loss="bce_with_logits") or s["model"]["layers"][-1].update(out_features=1),
])
def test_unusual_values_never_raise(edit):
    s = presets.get("xor-mlp").to_dict()
    edit(s)
    at = open_page(s)
    assert tfplay.from_spec(spec(at)) is not None
    for label in ("Batch size", "Training data", "Noise"):  # the sliders' extremes
        sl = widget(at, "slider", label)
        sl.set_value(sl.min).run()
        sl = widget(at, "slider", label)
        sl.set_value(sl.max).run()
    assert not at.exception
    from_dict(spec(at))


def test_widgets_keep_their_keys_and_follow_a_spec_changed_elsewhere():
    at = open_page(tfplay.default_spec())
    key = widget(at, "slider", "Noise").key
    widget(at, "slider", "Noise").set_value(20).run()
    assert spec(at)["data"]["noise"] == 0.2
    assert widget(at, "slider", "Noise").key == key  # the same widget: it keeps keyboard focus in the browser
    s = at.session_state["pg"]  # an undo (from another page): the spec goes back, the widgets follow it
    s.spec, s.edits = s.history.pop(), s.edits + 1
    at.run()
    assert widget(at, "slider", "Noise").value == 0 and spec(at)["data"]["noise"] == 0


def test_the_view_options_are_in_the_link():
    at = open_page(tfplay.default_spec())
    assert "view" not in at.query_params
    widget(at, "toggle", "Show test data").set_value(True).run()
    assert at.query_params["view"] == "test"  # Copy link copies the address: it now carries the option
    widget(at, "toggle", "Discretise output").set_value(True).run()
    assert at.query_params["view"] == "test,discrete"
    link = dict(at.query_params)
    other = AppTest.from_file(APP, default_timeout=60)  # someone else opens that link
    for k, v in link.items():
        other.query_params[k] = v
    other.run()
    other.switch_page("pages/playground2d.py").run()
    assert widget(other, "toggle", "Show test data").value and widget(other, "toggle", "Discretise output").value
    widget(other, "toggle", "Show test data").set_value(False).run()
    assert other.query_params["view"] == "discrete"


def test_a_link_without_view_options_or_with_strange_ones_opens():
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["s"] = encode(from_dict(tfplay.default_spec()))
    at.query_params["view"] = "nonsense,<b>," + "x" * 5000
    at.run()
    at.switch_page("pages/playground2d.py").run()
    assert not at.exception
    assert not widget(at, "toggle", "Show test data").value and not widget(at, "toggle", "Discretise output").value


def test_a_new_network_while_playing_goes_on_playing_and_says_so():
    at = open_page(tfplay.default_spec())
    first = job(at)
    click(at, "pg2d-play")
    wait_until(lambda: len(first.metrics) >= 1)
    widget(at, "slider", "Noise").set_value(10).run()  # new data: a new run from epoch 0 …
    second = job(at)
    assert second is not first and first.finished
    wait_until(lambda: len(second.metrics) >= 1)  # … that trains on without another Play
    assert at.button(key="pg2d-play").label == "Pause"
    assert any("epoch 0, still playing" in t.value for t in at.toast)
    click(at, "pg2d-play")  # paused, a change says that the new run waits for Play
    wait_until(lambda: second.state == "paused")
    widget(at, "slider", "Noise").set_value(20).run()
    third = job(at)
    assert third is not second and third.start_paused and any("Press Play" in t.value for t in at.toast)
    wait_until(lambda: third.state == "paused")  # it waits at epoch 0 for Play
