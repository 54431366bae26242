"""AppTest of the Train page: start, step, stop, end-of-run report, comparison and A/B."""

import pytest
from helpers import APP, wait_until
from streamlit.testing.v1 import AppTest

from playground import presets

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


def run_when(at: AppTest, predicate, what: str, timeout: float = 90) -> None:
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
    assert any("cannot train yet" in e.value and "out_features=2" in e.value for e in at.error)


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
