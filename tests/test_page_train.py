"""AppTest of the Train page: start, step, stop, end-of-run report, comparison and A/B."""

import copy
import json
import re

import pytest
from apptest import shown
from helpers import APP, wait_until
from streamlit.testing.v1 import AppTest

from playground import presets
from playground.spec import from_dict
from ui.components.live_chart import PALETTE
from ui.text import JOINER

pytestmark = pytest.mark.slow  # worker processes start


def open_train(spec_name: str = "gauss-mlp", epochs: int | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90).run()
    spec = presets.get(spec_name).to_dict()
    if epochs:
        spec["train"]["epochs"] = epochs
    at.session_state["pg"].spec = spec
    at.switch_page("pages/train.py").run()
    assert not at.exception
    return at


def run_when(at: AppTest, predicate, what: str = "the condition", timeout: float = 90) -> None:
    """Run the page again once `predicate()` holds (AppTest does not run the page's timers)."""
    wait_until(predicate, timeout, what)
    at.run()


def job_of(at: AppTest):
    from ui import server
    return server.pool().get(at.session_state["pg"].job_id)


def test_train_produces_metrics_and_a_report():
    at = open_train("gauss-mlp", epochs=3)
    at.button(key="run-train").click().run()
    job = job_of(at)
    assert job is not None
    run_when(at, lambda: job.finished, "the run to finish")
    assert job.state == "done" and [m["epoch"] for m in job.metrics] == [1, 2, 3]
    assert not at.exception
    titles = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("Confusion matrix" in t for t in titles) and any("Learning rate" in t for t in titles)
    # the matrix in words, and as a table behind a toggle
    said = [re.sub(r"\\(.)", r"\1", c.value).replace(JOINER, "") for c in at.caption]  # as read: escapes undone
    assert any(c.startswith("Confusion matrix: ") and "predicted right" in c for c in said), said
    [show] = [t for t in at.toggle if t.key.startswith("run-cm-")]
    show.set_value(True).run()
    assert any(list(d.value.columns)[0] == "true class" for d in at.dataframe)
    # the finished run is kept for comparison
    assert [r["id"] for r in at.session_state["pg"].runs] == [job.id]


def test_step_batch_starts_paused_and_stop_ends_the_run():
    at = open_train("gauss-mlp")
    at.button(key="run-batch").click().run()
    job = job_of(at)
    assert job.state == "paused" and job.progress["steps"] == 1
    at.button(key="run-epoch").click().run()
    assert job.state == "paused" and len(job.metrics) == 1
    at.button(key="run-stop").click().run()
    run_when(at, lambda: job.finished, "the run to finish")
    assert job.state == "stopped" and not at.exception


def test_an_untrainable_setup_shows_a_message_not_a_traceback():
    at = open_train("gauss-mlp")
    spec = at.session_state["pg"].spec
    spec["model"]["layers"][-1]["out_features"] = 5  # gauss has 2 classes
    at.run()
    at.button(key="run-train").click().run()
    assert not at.exception
    assert any("cannot train yet" in e.value and "out_features=2" in shown(e.value) for e in at.error)


def test_ab_trains_both_in_lock_step_and_says_what_differs():
    at = open_train("gauss-mlp", epochs=3)
    at.selectbox(key="ab-knob").set_value("learning rate").run()
    at.number_input(key="ab-value-learning rate").set_value(0.3).run()
    assert any("train.optimizer.lr" in m.value for m in at.markdown)
    at.button(key="ab-start").click().run()
    ab = at.session_state["pg"].ab
    from ui import server
    a, b = server.pool().get(ab["a"]), server.pool().get(ab["b"])
    run_when(at, lambda: a.finished and b.finished, "A and B to finish")
    assert a.state == b.state == "done" and a.worker == b.worker
    assert [m["steps"] for m in a.metrics] == [m["steps"] for m in b.metrics]
    assert a.metrics[-1]["lr"] != b.metrics[-1]["lr"]
    assert ab["changes"] == ["train.optimizer.lr: 0.03 → 0.3"] and not at.exception
    ranges = [json.loads(c.proto.spec)["layout"]["yaxis"].get("range") for c in at.get("plotly_chart")]
    top = max(m[k] for j in (a, b) for m in j.metrics for k in ("train_loss", "val_loss"))
    assert len(ranges) == 2 and ranges[0] == ranges[1] and ranges[0][0] == 0 and ranges[0][1] >= top  # one axis


def buttons(at: AppTest) -> dict[str, bool]:
    """Which run buttons are enabled."""
    return {k: not at.button(key=f"run-{k}").disabled for k in ("train", "pause", "resume", "batch", "stop")}


def test_loading_a_preset_from_the_sidebar_loads_it_without_an_error():
    at = open_train("gauss-mlp")
    at.selectbox(key="train-preset").set_value("iris-mlp").run()
    at.button(key="train-load").click().run()
    assert not at.exception, at.exception
    assert from_dict(at.session_state["pg"].spec) == presets.get("iris-mlp")
    assert at.selectbox(key="train-preset").value is None  # ready for the next choice
    assert at.button(key="train-load").disabled


def test_the_buttons_follow_the_run_through_pause_resume_step_and_its_end():
    at = open_train("gauss-mlp", epochs=3000)
    assert buttons(at) == {"train": True, "pause": False, "resume": False, "batch": True, "stop": False}
    at.button(key="run-train").click().run()
    job = job_of(at)
    run_when(at, lambda: job.state == "running")
    assert buttons(at) == {"train": False, "pause": True, "resume": False, "batch": False, "stop": True}
    at.button(key="run-pause").click().run()  # one click: paused, and the buttons say so
    assert job.state == "paused"
    assert buttons(at) == {"train": False, "pause": False, "resume": True, "batch": True, "stop": True}
    at.button(key="run-batch").click().run()  # a step leaves it paused
    assert job.state == "paused"
    assert buttons(at) == {"train": False, "pause": False, "resume": True, "batch": True, "stop": True}
    at.button(key="run-resume").click().run()  # and it can be paused again
    assert job.state == "running"
    assert buttons(at) == {"train": False, "pause": True, "resume": False, "batch": False, "stop": True}
    at.button(key="run-pause").click().run()
    assert job.state == "paused" and buttons(at)["resume"]
    at.button(key="run-stop").click().run()
    assert job.finished
    assert buttons(at) == {"train": True, "pause": False, "resume": False, "batch": True, "stop": False}
    assert not at.exception
    assert not any("steps/s" in c.value for c in at.caption)  # a finished run has no speed


def test_a_preset_opened_after_a_run_does_not_show_that_runs_results():
    at = open_train("gauss-mlp", epochs=2)
    at.button(key="run-train").click().run()
    job = job_of(at)
    run_when(at, lambda: job.finished)
    assert any("Confusion matrix" in c.proto.spec for c in at.get("plotly_chart"))
    at.switch_page("pages/home.py").run()
    at.button(key="home-plane-regression").click().run()  # another preset, from its card
    assert not at.exception, at.exception
    charts = [c.proto.spec for c in at.get("plotly_chart")]
    assert not any("Confusion matrix" in c or "Learning rate" in c for c in charts), charts
    assert not any("done" in c.value and "epoch" in c.value for c in at.caption)
    assert any("another setup" in c.value for c in at.caption)
    assert any(t.value == "Train" for t in at.title) and buttons(at)["train"] and not buttons(at)["stop"]
    # back to the setup it came from: the results come back with it
    at.session_state["pg"].spec = copy.deepcopy(job.spec)
    at.switch_page("pages/train.py").run()
    assert any("Confusion matrix" in c.proto.spec for c in at.get("plotly_chart"))


def finished_run(at: AppTest, preset: str, epochs: int = 2):
    """Train `preset` on the Train page to its end."""
    spec = presets.get(preset).to_dict()
    spec["train"]["epochs"] = epochs
    at.session_state["pg"].spec = spec
    at.run()
    at.button(key="run-train").click().run()
    job = job_of(at)
    run_when(at, lambda: job.finished)
    return job


def overlay_picker(at: AppTest):
    found = [m for m in at.multiselect if m.label == "Compare with earlier runs"]
    return found[0] if found else None


def drawn_runs(at: AppTest) -> dict[str, str]:
    """The earlier runs drawn on the (polled) loss chart: legend name → line colour."""
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    return {t["name"]: t["line"]["color"] for t in fig["data"] if t["name"].startswith("run ")}


def test_compare_offers_runs_of_the_same_task_each_in_its_own_colour():
    at = open_train()
    gru = finished_run(at, "sentiment-gru")
    plane = finished_run(at, "plane-regression")  # a regression run: never offered over a classifier
    finished_run(at, "iris-mlp")  # another classification task: not comparable either
    at.session_state["pg"].spec = presets.get("sentiment-transformer").to_dict()  # lesson 7: GRU, then Transformer
    at.run()
    gru_label = "run 1: Sentiment: a GRU reads the review"
    assert overlay_picker(at).options == [gru_label] and overlay_picker(at).value == [gru.id]  # offered and chosen
    transformer = finished_run(at, "sentiment-transformer")
    gru2 = finished_run(at, "sentiment-gru")
    at.session_state["pg"].spec = copy.deepcopy(transformer.spec)
    at.run()
    assert overlay_picker(at).options == [gru_label, "run 4: Sentiment: a small Transformer",
                                          "run 5: Sentiment: a GRU reads the review"]
    assert overlay_picker(at).value == [transformer.id, gru2.id]  # the newest two
    drawn = drawn_runs(at)
    assert sorted(drawn) == ["run 4: Sentiment: a small Transformer (validation loss)",
                             "run 5: Sentiment: a GRU reads the review (validation loss)"]
    assert len(set(drawn.values())) == 2 and not set(drawn.values()) & {"#999999", PALETTE["train"], PALETTE["val"]}
    at.session_state["pg"].spec = presets.get("plane-regression").to_dict()
    at.run()
    assert overlay_picker(at).value == [plane.id]  # and only it over a regression
    assert overlay_picker(at).options == ["run 2: Plane: linear regression"]


def test_the_learning_rate_chart_starts_at_zero_so_a_constant_rate_reads_as_its_value():
    from ui.views.runner import lr_figure
    fig = lr_figure([{"epoch": e, "lr": 0.01} for e in (1, 2, 3)])
    low, high = fig.layout.yaxis.range
    assert low == 0 and 0.01 < high < 0.02 and "0.01" in fig.layout.title.text
    fig = lr_figure([{"epoch": 1, "lr": 0.1}, {"epoch": 2, "lr": 0.05}])  # a schedule: its top is in view
    assert fig.layout.yaxis.range[0] == 0 and fig.layout.yaxis.range[1] > 0.1


def test_the_status_line_gives_a_speed_only_while_the_run_runs():
    from types import SimpleNamespace

    from ui.views.runner import status_line
    job = SimpleNamespace(state="running", epochs=5, progress={"steps_per_s": 13.7}, info={"device": "cpu"},
                          metrics=[{"epoch": 1, "val_accuracy": 0.5}])
    assert status_line(job) == "running · epoch 1/5 · val acc 50.0% · 14 steps/s · cpu"
    for state in ("paused", "done", "stopped"):  # after a Step, or at the end
        job.state = state
        assert "steps/s" not in status_line(job)


def test_an_autoencoder_run_ends_with_its_reconstructions():
    at = open_train("digits-autoencoder", epochs=1)
    at.button(key="run-train").click().run()
    job = job_of(at)
    run_when(at, lambda: job.finished)
    assert job.state == "done" and not at.exception
    assert any("what the network rebuilt" in i.proto.imgs[0].caption for i in at.image)
    assert any(m.value.startswith("**Reconstructions**") for m in at.markdown)
    assert not any("Predicted vs. true" in c.proto.spec for c in at.get("plotly_chart"))


def test_reconstructions_are_drawn_inputs_above_outputs_tile_by_tile():
    import io

    import numpy as np
    from PIL import Image

    from ui.views.images import grey, grey_rows
    rng = np.random.default_rng(0)
    top, bottom = rng.random((8, 8, 8)), rng.random((8, 8, 8))
    pic = np.asarray(Image.open(io.BytesIO(grey_rows([top, bottom], tile=40, pad=3))))
    assert pic.shape == (2 * (40 + 3) + 3, 8 * (40 + 3) + 3, 3)  # 5× zoom of 8×8 tiles, 3-pixel gutters
    for r, maps in enumerate((top, bottom)):
        for i in (0, 7):
            y, x = 3 + r * 43, 3 + i * 43
            assert (pic[y:y + 40:5, x:x + 40:5] == grey(maps[i])).all()


def test_a_run_of_another_setup_still_running_is_said_and_can_be_stopped():
    at = open_train("gauss-mlp", epochs=3000)
    at.button(key="run-train").click().run()
    job = job_of(at)
    run_when(at, lambda: job.state == "running")
    at.session_state["pg"].spec = presets.get("iris-mlp").to_dict()  # e.g. a preset opened from Home
    at.run()
    assert any("another setup" in i.value and "still running" in i.value for i in at.info)
    assert buttons(at) == {"train": True, "pause": False, "resume": False, "batch": True, "stop": False}
    at.button(key="run-stop-other").click().run()
    assert job.finished and not at.info and not at.exception


def test_stop_both_and_close_ab_are_drawn_after_they_act():
    at = open_train("gauss-mlp", epochs=3000)
    at.button(key="ab-start").click().run()
    ab = at.session_state["pg"].ab
    from ui import server
    a, b = server.pool().get(ab["a"]), server.pool().get(ab["b"])
    assert not at.button(key="ab-stop").disabled
    at.button(key="ab-stop").click().run()
    assert a.finished and b.finished and at.button(key="ab-stop").disabled  # one click, and it says so
    at.button(key="ab-close").click().run()
    assert at.session_state["pg"].ab is None and not at.button(key="run-train").disabled and not at.exception
