"""AppTest of the Inspect page: no run, a trained digits CNN (feature maps of a drawn digit, every tab), a
text GRU (hidden state over time), and one back-propagation step by hand for a small MLP.

Runs are trained once per module through the real worker pool (with the tracking the Train page asks for).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from apptest import APP, open_page, trained
from helpers import wait_until
from streamlit.testing.v1 import AppTest

from playground import presets
from ui.text import JOINER
from ui.views import runner

TABS = [":material/layers: Layers", ":material/monitoring: Weights & gradients",
        ":material/calculate: Backprop by hand", ":material/rule: Mistakes", ":material/history: Over time"]
pytestmark = pytest.mark.slow  # worker processes start and train

# A hand-drawn 3 (8×8, ink high), as the drawing pad would send it.
THREE = [0, .3, .8, 1, 1, .7, 0, 0, 0, .2, .2, 0, .1, 1, .2, 0, 0, 0, 0, 0, .3, 1, .1, 0, 0, 0, .4, .9, 1, .5, 0, 0,
         0, 0, 0, 0, .5, 1, .3, 0, 0, 0, 0, 0, 0, .9, .6, 0, 0, .4, .3, .1, .3, 1, .4, 0, 0, .4, 1, 1, 1, .5, 0, 0]


@pytest.fixture(scope="module")
def pool(app_pool):
    return app_pool




@pytest.fixture(scope="module")
def digits(pool):
    return trained(pool, "digits-cnn", 2)


def open_inspect(job=None) -> AppTest:
    return open_page("pages/inspection.py", job)


def tab(at: AppTest, i: int) -> AppTest:
    at.session_state["inspect-tabs"] = TABS[i]
    at.run()
    assert not at.exception, at.exception
    return at


def images(at: AppTest) -> int:
    return sum(len(e.value) for e in at.image)


def said(at: AppTest) -> list[str]:
    """The captions as read (their Markdown escapes and word joiners undone)."""
    return [re.sub(r"\\(.)", r"\1", c.value).replace(JOINER, "") for c in at.caption]


def table(at: AppTest, key: str) -> list[str]:
    """Turn on the "Show as table" toggle of the chart keyed `key`; the columns of the table it shows."""
    before = len(at.dataframe)
    at.toggle(key=f"{key}-table").set_value(True).run()
    assert not at.exception, at.exception
    assert len(at.dataframe) == before + 1, f"no table under {key}"
    columns = [list(d.value.columns) for d in at.dataframe]
    at.toggle(key=f"{key}-table").set_value(False).run()
    return next(c for c in columns if c not in [list(d.value.columns) for d in at.dataframe])


def captions(at: AppTest) -> str:
    """Every caption on the page, of images too."""
    return " | ".join([c.value for c in at.caption] + [c for e in at.image for c in e.captions])


def test_without_a_run_it_says_so_and_offers_to_train(pool):
    at = open_inspect()
    assert any("no trained model yet" in i.value for i in at.info)
    assert at.button(key="inspect-train-here").label.startswith("Train")


def test_digits_cnn_shows_feature_maps_of_a_drawn_digit(digits):
    at = open_inspect(digits)
    assert at.selectbox(key="model-source").value == digits.id
    assert images(at) >= 3  # the input, and feature-map pictures
    assert "feature maps of 8×8" in captions(at)
    assert any("Learned kernels" in e.label for e in at.expander)
    at.radio(key="input-kind").set_value("drawing").run()
    assert any("Draw a digit" in c.value for c in at.caption)
    at.session_state["input-draw"] = {"pixels": THREE}
    at.run()
    assert not at.exception, at.exception
    assert "your drawing" in captions(at)
    assert any(m.value.startswith("**Predicted:") for m in at.markdown)
    assert "feature maps of 8×8" in captions(at)


def test_digits_cnn_every_tab(digits):
    at = open_inspect(digits)
    tab(at, 1)  # weights and gradients over the epochs, and their health now
    titles = " ".join(c.proto.spec for c in at.get("plotly_chart"))
    assert "Gradient norm per layer" in titles and "Weights of layer 1 (Conv2d)" in titles
    assert "Gradient norm per layer now" in titles
    # the norms and the histograms in words, and as tables behind their toggles
    assert any(c.startswith("Weight and gradient norms of") for c in said(at))
    assert any(c.startswith("Weights of layer 1 (Conv2d) at 2 epochs") for c in said(at)), said(at)
    assert table(at, "inspect-wg-norms")[:2] == ["epoch", "layer"]
    assert table(at, "inspect-wg-weight_hist") == ["epoch", "from", "to", "count"]
    tab(at, 2)  # a CNN is no MLP: said, not raised
    assert any("works out small MLPs" in i.value for i in at.info)
    tab(at, 3)  # the confusion matrix; a cell's examples
    assert "Confusion matrix" in " ".join(c.proto.spec for c in at.get("plotly_chart"))
    assert any(c.startswith("Confusion matrix: ") and "predicted right" in c for c in said(at)), said(at)
    assert table(at, "inspect-err-cm") == ["true class", *[f"predicted {k}" for k in range(10)]]
    at.selectbox(key="inspect-err-true").set_value(3).run()
    at.selectbox(key="inspect-err-pred").set_value(3).run()
    assert any("of class 3 predicted as 3 (correct)" in c.value for c in at.caption)
    tab(at, 4)  # checkpoints: epochs 0, 1, 2
    assert at.select_slider(key="inspect-time-epoch").value == 2
    at.select_slider(key="inspect-time-epoch").set_value(0).run()
    assert not at.exception
    assert any("Why, at epoch 0" in m.value for m in at.markdown)
    at.button(key="inspect-time-land").click().run()
    assert not at.exception, at.exception
    assert "Validation loss around the final weights" in " ".join(c.proto.spec for c in at.get("plotly_chart"))
    assert any(c.startswith("Loss landscape on a 21×21 grid") for c in said(at))
    at.toggle(key="inspect-time-land-plot-table").set_value(True).run()
    grid, path = [list(d.value.columns) for d in at.dataframe][-2:]
    assert grid[0] == "β" and len(grid) == 22 and path == ["epoch", "α", "β"]


def test_sentiment_gru_shows_hidden_state_over_time(pool):
    job = trained(pool, "sentiment-gru", 1)
    at = open_inspect(job)
    titles = " ".join(c.proto.spec for c in at.get("plotly_chart"))
    assert "Hidden state over time" in titles
    at.radio(key="input-kind").set_value("sentence").run()
    assert not at.exception
    assert any("your sentence" in m.value and "not good" in m.value for m in at.markdown)


def test_backprop_by_hand_for_a_small_mlp(pool):
    job = trained(pool, "circle-mlp", 2)
    at = open_inspect(job)
    tab(at, 2)
    assert any("matches PyTorch's autograd" in s.value for s in at.success)
    frames = at.dataframe
    assert len(frames) >= 9  # input, forward per layer, probabilities, backward per layer, updates, check
    assert set(frames[-1].value["matches"]) == {"yes"}
    update = frames[-2].value
    assert list(update.columns)[-1] == "new value"
    lr = float(at.number_input(key="inspect-bp-lr").value)
    assert np.allclose(update["value"] - lr * update["gradient"], update["new value"], atol=1e-4)
    tab(at, 4)
    titles = " ".join(c.proto.spec for c in at.get("plotly_chart"))
    assert "Decision boundary at epoch 2" in titles


def test_gradient_norms_fall_off_in_a_deep_sigmoid_mlp_and_not_in_a_relu_one(pool):
    at = open_inspect(trained(pool, "circle-mlp", 2))
    hints = {}
    for act in ("Sigmoid", "ReLU"):
        tab(at, 1)
        at.button(key=f"inspect-gh-deep-{act}").click().run()  # loads the 6×16 MLP and opens Train
        spec = at.session_state["pg"].spec
        assert [layer["type"] for layer in spec["model"]["layers"]].count(act) == 6
        job = pool.submit({**spec, "train": {**spec["train"], "epochs": 3}}, track=runner.TRACK)
        assert job.wait(120) and job.state == "done"
        at.session_state["pg"].job_id = job.id
        at.switch_page("pages/inspection.py").run()
        tab(at, 1)
        hints[act] = " ".join(w.value for w in at.warning)
        titles = " ".join(c.proto.spec for c in at.get("plotly_chart"))
        assert "layer 13 (Linear)" in titles  # every layer's gradient norm, over the epochs and now
    assert "vanishing gradients" in hints["Sigmoid"]
    assert "vanishing" not in hints["ReLU"]


@pytest.mark.parametrize("preset", presets.names())
def test_every_preset_opens_on_every_tab_and_on_explain(preset):
    """Any model the builder makes: one epoch on a few samples, kept as a finished run of the session."""
    from playground import health
    from playground.spec import from_dict
    from playground.trainers import make_trainer
    d = presets.get(preset).to_dict()
    d["train"].update(epochs=1, device="cpu")
    d["data"]["n_samples"] = min(d["data"].get("n_samples", 400), 400)
    trainer = make_trainer(from_dict(d))
    cps = [{"epoch": 0, "weights": health.state_copy(trainer.model)}]
    trainer.run_epoch()
    cps.append({"epoch": 1, "weights": health.state_copy(trainer.model)})
    stats = health.Tracker(1).epoch_end(trainer)
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.session_state["pg"].runs = [{"id": "r1", "label": preset, "spec": d, "metrics": [], "state": "done"}]
    at.session_state["pg"].inspect.kept = {"r1": {"weights": cps[-1]["weights"], "checkpoints": cps,
                                                  "stats": [stats], "epoch": 1}}
    at.switch_page("pages/inspection.py").run()
    if trainer.task.why_not("inspect"):  # a kind of learning the page does not apply to says so (a GAN)
        for page in ("pages/inspection.py", "pages/explain.py"):
            at.switch_page(page).run()
            assert not at.exception, at.exception
            assert any("does not apply here" in i.value for i in at.info), page
        return
    for i in range(len(TABS)):
        tab(at, i)
    at.switch_page("pages/explain.py").run()
    assert not at.exception, at.exception


def test_uploads_become_the_datasets_picture_or_say_why_not():
    import io

    from PIL import Image

    from ui.views.input_picker import image_from_bytes, tokens_of
    paper = np.full((60, 40), 255, np.uint8)
    paper[10:50, 18:22] = 0  # a dark "1" on white paper
    buf = io.BytesIO()
    Image.fromarray(paper).save(buf, format="PNG")
    x = image_from_bytes(buf.getvalue(), (1, 8, 8), fit=True)
    assert x.shape == (1, 8, 8) and x.max() == 1.0  # inverted: ink high, as in the data
    assert x[0, :, 3:5].mean() > 0.5 > x[0, :, :2].mean()  # fitted: the stroke fills the height, centred
    with pytest.raises(ValueError, match="not an image"):
        image_from_bytes(b"hello, not a picture", (1, 8, 8))
    vocab = ["<pad>", "<unk>", "the", "movie", "was", "not", "good"]
    ids, unknown = tokens_of("The movie was NOT good, zorp!", vocab, 8)
    assert ids.tolist() == [0, 0, 2, 3, 4, 5, 6, 1] and unknown == ["zorp"]


def test_a_live_run_is_shown_while_it_trains(pool):
    spec = presets.get("digits-cnn").to_dict()
    spec["train"].update(epochs=200, device="cpu")
    job = pool.submit(spec, track=runner.TRACK)
    try:
        wait_until(lambda: job.metrics, 60, "the first epoch")
        at = open_inspect(job)
        assert any("Live: epoch" in c.value for c in at.caption)
        assert images(at) >= 3
    finally:
        job.stop()
        job.wait(10)


def test_a_paused_run_is_shown_live_without_polling(pool):
    spec = presets.get("spiral-mlp").to_dict()
    spec["train"].update(epochs=500, device="cpu")
    job = pool.submit(spec, track=runner.TRACK, paused=True)
    try:
        job.step("epoch")
        assert job.wait_for(lambda: len(job.metrics) >= 1 and job.state == "paused", 60)
        at = open_inspect(job)
        assert any("refreshed when it resumes" in c.value for c in at.caption), [c.value for c in at.caption]
    finally:
        job.stop()
