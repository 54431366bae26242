"""AppTest of the Explain page: no run, overlays for a digits CNN (two methods, then three, with the IG delta),
a method that cannot apply says why, per-word attributions for a text GRU, signed bars for a tabular MLP.
"""

from __future__ import annotations

import pytest
from apptest import open_page, shown, trained
from streamlit.testing.v1 import AppTest

from playground import presets

pytestmark = pytest.mark.slow  # worker processes start and train


@pytest.fixture(scope="module")
def pool(app_pool):
    return app_pool




def open_explain(job=None) -> AppTest:
    return open_page("pages/explain.py", job)


def titles(at: AppTest) -> list[str]:
    """The bold method titles drawn above each result."""
    return [m.value.strip("*") for m in at.markdown if m.value.startswith("**") and m.value.endswith("**")]


def test_without_a_run_it_says_so(pool):
    at = open_explain()
    assert any("no trained model yet" in i.value for i in at.info)


def test_digits_overlays_side_by_side(pool):
    job = trained(pool, "digits-cnn", 2)
    at = open_explain(job)
    # first click: the defaults (saliency, IG, Grad-CAM) drawn beside the input
    assert at.multiselect(key="explain-methods").value == ["saliency", "integrated_gradients", "grad_cam"]
    assert {"Input", "Saliency", "Integrated Gradients", "Grad-CAM"} <= set(titles(at))
    assert sum(len(i.value) for i in at.image) == 4  # the input and three overlays
    assert any("Convergence delta" in c.value for c in at.caption)
    assert at.selectbox(key="explain-baseline").value == "zeros" and at.slider(key="explain-steps").value == 50
    # two other methods, a blurred baseline and another class
    at.multiselect(key="explain-methods").set_value(["input_x_gradient", "occlusion"]).run()
    at.selectbox(key="explain-baseline").set_value("blurred").run()
    at.selectbox(key="explain-target").set_value(7).run()
    assert not at.exception, at.exception
    assert {"Input × gradient", "Occlusion"} <= set(titles(at))
    assert sum(len(i.value) for i in at.image) == 3
    assert not any("Convergence delta" in c.value for c in at.caption)
    # a drawn digit is explained the same way
    at.radio(key="input-kind").set_value("drawing").run()
    at.session_state["input-draw"] = {"pixels": [0.0] * 20 + [1.0] * 8 + [0.0] * 36}
    at.run()
    assert not at.exception, at.exception
    assert sum(len(i.value) for i in at.image) == 3


def test_text_gets_per_word_highlights_and_only_the_methods_that_apply(pool):
    job = trained(pool, "sentiment-gru", 1)
    at = open_explain(job)
    assert at.multiselect(key="explain-methods").value == ["saliency", "integrated_gradients"]
    words = [m.value for m in at.markdown if "<span title=" in m.value]
    assert len(words) == 2 and all("<span" in w for w in words)
    at.radio(key="input-kind").set_value("sentence").run()
    at.text_input(key="input-text").set_value("the acting was <b>not</b> good").run()
    assert not at.exception, at.exception
    html = " ".join(m.value for m in at.markdown if "<span title=" in m.value)
    assert ">good</span>" in html and ">not</span>" in html and "<b>" not in html  # words escaped, tags dropped
    # only the methods that apply are offered (no Grad-CAM, no DeepLIFT for a GRU); the others say why
    offered = at.multiselect(key="explain-methods").options
    assert "Integrated Gradients" in offered and "Grad-CAM" not in offered and "DeepLIFT" not in offered
    said = " ".join(shown(c.value) for c in at.caption if c.value.startswith("Not for this model"))
    assert "Grad-CAM (needs an image model" in said and "DeepLIFT (cannot explain GRU layers" in said
    at.session_state["explain-methods"] = ["integrated_gradients", "deeplift"]  # e.g. chosen for another model
    at.run()
    assert not at.exception and at.multiselect(key="explain-methods").value == ["integrated_gradients"]
    assert not at.info


def test_a_saved_run_folder_can_be_explained(pool, tmp_path, monkeypatch):
    from playground import runs
    from playground.train import Trainer
    spec = presets.get("gauss-mlp")
    trainer = Trainer(spec, device="cpu")
    metrics = list(trainer.fit(2))
    runs.save(tmp_path / "blobs", spec, trainer.model.state_dict(), metrics)
    (tmp_path / "not-a-run").mkdir()
    monkeypatch.setenv("PLAYGROUND_RUNS_DIR", str(tmp_path))
    at = open_explain()
    assert at.selectbox(key="model-source").options == ["saved run: blobs"]
    charts = " ".join(c.proto.spec for c in at.get("plotly_chart"))
    assert "Saliency" in charts and "x1" in charts


def test_tabular_data_gets_signed_bars_per_feature(pool):
    job = trained(pool, "iris-mlp", 2)
    at = open_explain(job)
    charts = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("Saliency" in c and "petal length" in c for c in charts)
    assert any("Integrated Gradients" in c for c in charts)


def test_a_sequence_gets_attribution_per_step_over_its_input(pool):
    job = trained(pool, "sine-lstm", 1)
    at = open_explain(job)
    charts = [c.proto.spec for c in at.get("plotly_chart")]
    drawn = [c for c in charts if '"step"' in c and '"attribution"' in c]
    assert len(drawn) == len(at.multiselect(key="explain-methods").value) >= 2, charts
    assert any("Convergence delta" in c.value for c in at.caption)
