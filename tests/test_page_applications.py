"""AppTest of the Applications page: a card per registry entry, Start opening the preset, and each application's
view drawn from a run trained through the real worker pool (a short run: the views need a model, not a good one)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from apptest import shown
from helpers import APP
from streamlit.testing.v1 import AppTest

from playground import appcards, presets
from playground.appdata import tictactoe
from playground.applications import APPLICATIONS
from ui.views import runner

pytestmark = pytest.mark.slow  # worker processes start and train
PAGE = "pages/applications.py"


@pytest.fixture(scope="module")
def pool(app_pool):
    return app_pool


_trained: dict[str, object] = {}


def trained(pool, name: str, epochs: int = 1, **data):
    """`name`'s preset trained briefly on the CPU (once per module)."""
    if name not in _trained:
        spec = presets.get(name).to_dict()
        spec["train"].update(epochs=epochs, device="cpu")
        spec["data"].update(data)
        job = pool.submit(spec, track=runner.TRACK)
        assert job.wait(180), "training did not finish"
        assert job.state == "done", job.message
        _trained[name] = job
    return _trained[name]


def open_app(name: str | None = None, job=None) -> AppTest:
    """The Applications page; with `name`, that application open on `job`'s setup and run."""
    at = AppTest.from_file(APP, default_timeout=120).run()
    s = at.session_state["pg"]
    if name is not None:
        s.apps.name = name
        s.spec = dict(job.spec) if job is not None else presets.get(name).to_dict()
        if job is not None:
            s.job_id = job.id
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def titles(at: AppTest) -> str:
    """The titles of the page's Plotly figures."""
    return " | ".join(json.loads(c.proto.spec)["layout"].get("title", {}).get("text", "")
                      for c in at.get("plotly_chart"))


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_a_card_per_application_and_start_opens_its_preset():
    at = open_app()
    starts = [b for b in at.button if b.key.startswith("apps-start-")]
    assert [b.key.removeprefix("apps-start-") for b in starts] == APPLICATIONS.names()
    page = " ".join(shown(m.value) for m in at.markdown) + " ".join(shown(c.value) for c in at.caption)
    for _, app in APPLICATIONS.items():
        assert app.field.capitalize() in page and app.goal_text() in page
    alts = [img.alt for e in at.image for img in e.proto.imgs]  # a picture per card that has one, described
    assert alts == [appcards.PICTURES[n].alt for n in APPLICATIONS.names() if n in appcards.PICTURES]
    assert len(alts) >= 7
    at.button(key="apps-start-fraud-mlp").click().run()
    assert not at.exception
    s = at.session_state["pg"]
    assert s.spec == presets.get("fraud-mlp").to_dict() and s.apps.name == "fraud-mlp"
    assert at.title[0].value == "Finance: fraud" and at.button(key="apps-run-train")
    at.button(key="apps-back").click().run()
    assert at.title[0].value == "Applications"


def test_a_setup_of_other_data_shows_the_cards():
    at = open_app("fraud-mlp")
    at.session_state["pg"].spec = presets.get("spiral-mlp").to_dict()  # loaded elsewhere since
    at.run()
    assert at.title[0].value == "Applications"


def test_diagnosis_roc_threshold_and_confusion(pool):
    at = open_app("diagnose-tumours", trained(pool, "diagnose-tumours", 5))
    assert "ROC curve" in titles(at) and "Confusion matrix" in titles(at)
    at.button(key="apps-measure").click().run()  # the figure measured against the goal
    assert {"AUC", "Accuracy"} <= {m.label for m in at.metric}
    assert any("the goal, AUC ≥ 0.97" in s.value for s in list(at.success) + list(at.warning))
    low = (metric(at, "Sensitivity"), metric(at, "Specificity"))
    at.slider(key="apps-threshold").set_value(0.99).run()
    high = (metric(at, "Sensitivity"), metric(at, "Specificity"))
    assert not at.exception
    as_share = [float(v.rstrip("%")) for v in low + high]
    assert as_share[2] <= as_share[0] and as_share[3] >= as_share[1] and low != high  # a stricter call


def test_diagnosis_one_patients_attributions_as_bars_words_and_a_table(pool):
    job = trained(pool, "diagnose-tumours", 5)
    at = open_app("diagnose-tumours", job)
    assert "Why patient 1:" in titles(at)
    bars = [t for c in at.get("plotly_chart") for t in json.loads(c.proto.spec)["data"]
            if t.get("orientation") == "h"]
    labels = [y for t in bars for y in t["y"]]
    assert len(labels) == 11 and "the other 20 features" in labels  # the 10 strongest, then the rest summed
    assert any(s.startswith("worst") or s.startswith("mean") for s in labels)  # named by their measurement
    words = " ".join(c.value for c in at.caption)
    assert "Strongest pushes:" in words and "Integrated Gradients" in words
    at.toggle(key="apps-attributions-table").set_value(True).run()
    table = at.dataframe[-1].value
    assert len(table) == 30 and list(table.columns)[0] == "measurement"
    pushes = table.iloc[:, 2].to_numpy()
    assert (np.abs(pushes)[:-1] >= np.abs(pushes)[1:] - 1e-9).all()  # strongest first
    at.number_input(key="apps-patient").set_value(5).run()
    assert "Why patient 5:" in titles(at) and not at.exception
    assert not at.dataframe[-1].value.equals(table)  # another patient, other numbers


def test_fraud_pr_curve_and_caught_vs_missed(pool):
    at = open_app("fraud-mlp", trained(pool, "fraud-mlp", 3))
    assert "Precision–recall" in titles(at) and "by true class" in titles(at)
    at.slider(key="apps-threshold").set_value(0.0).run()
    caught, of = metric(at, "Caught").split(" of ")
    assert metric(at, "Missed") == "0" and caught == of  # a threshold of 0 flags every payment


def test_markets_forecast_and_the_series_switch(pool):
    at = open_app("stocks-lstm", trained(pool, "stocks-lstm", 1))
    assert "Next-day forecasts" in titles(at) and "Error ratio (net / naive)" in [m.label for m in at.metric]
    at.radio(key="apps-series").set_value("random_walk").run()
    assert not at.exception and at.session_state["pg"].spec["data"]["kind"] == "random_walk"
    assert "Next-day forecasts" not in titles(at)  # the run trained the other series: train again


def test_tictactoe_the_user_moves_and_the_net_replies(pool):
    at = open_app("tictactoe-value", trained(pool, "tictactoe-value", 2))
    labels = [at.button(key=f"apps-cell-{c}").label for c in range(9)]
    assert all(lb.startswith(("+", "-")) for lb in labels)  # the net plays O: every square valued for the user
    at.button(key="apps-cell-4").click().run()
    board = at.session_state["pg"].apps.board
    assert board[4] == 1 and board.count(2) == 1 and board.count(1) == 1  # the net replied
    at.button(key="apps-cell-4").click().run()  # a taken square: nothing happens
    assert at.session_state["pg"].apps.board == board
    assert not at.exception
    at.radio(key="apps-net-side").set_value(1).run()  # the net plays X: it opens
    board = at.session_state["pg"].apps.board
    assert board.count(1) == 1 and board.count(2) == 0 and tictactoe.to_move(board) == 2


def test_driving_map_editing_and_the_drive(pool):
    at = open_app("drive-gridworld", trained(pool, "drive-gridworld", 1, n_samples=2000))
    a = at.session_state["pg"].apps
    assert len(a.walls) == 8 and "The drive, step 0" in titles(at)
    free = next((r, c) for r in range(8) for c in range(8) if not a.walls[r][c] and (r, c) not in (a.car, a.goal))
    at.button(key=f"apps-map-{free[0]}-{free[1]}").click().run()
    assert at.session_state["pg"].apps.walls[free[0]][free[1]] == 1  # a wall added
    at.radio(key="apps-map-tool").set_value("car").run()
    at.button(key=f"apps-map-{free[0]}-{free[1]}").click().run()
    a = at.session_state["pg"].apps
    assert a.car == free and a.walls[free[0]][free[1]] == 0 and not at.exception
    if at.get("slider"):
        at.slider(key="apps-drive-step").set_value(1).run()
        assert "The drive, step 1" in titles(at) and "move probabilities" in titles(at)


def test_speech_waveform_spectrogram_and_playback(pool):
    at = open_app("speech-vowels", trained(pool, "speech-vowels", 1))
    assert "Waveform" in titles(at) and at.get("audio") and any("Grad-CAM" in c for e in at.image for c in e.captions)
    at.number_input(key="apps-sample").set_value(3).run()
    assert not at.exception and "True vowel" in " ".join(m.value for m in at.markdown)
    assert all(img.alt for e in at.image for img in e.proto.imgs)  # each picture has a text alternative


def test_lesions_scan_with_grad_cam(pool):
    at = open_app("lesions-cnn", trained(pool, "lesions-cnn", 1))
    captions = [c for e in at.image for c in e.captions]
    assert any("Grad-CAM" in c for c in captions) and "The scan" in captions
    assert "What the net says" in titles(at) and not at.exception
    assert all(img.alt for e in at.image for img in e.proto.imgs)  # each picture has a text alternative


def test_segmentation_masks_mistakes_and_picker(app_pool):
    job = trained(app_pool, "unet-shapes", 1, n_samples=300)
    at = open_app("unet-shapes", job)
    fig = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if "segment-masks" in c.proto.id)
    names = [t.get("name") for t in fig["data"] if t.get("name")]
    assert names == ["background taken in (x)", "object left out (o)"]
    assert [a["text"] for a in fig["layout"]["annotations"]] == ["the picture", "true mask", "the net's mask"]
    said = " ".join(m.value for m in at.markdown)
    assert "covers the object with IoU" in said
    at.number_input(key="apps-segment-sample").set_value(5).run()
    assert not at.exception
