"""The GAN lab page under AppTest: its settings write the session's spec; its buttons train both networks, one
alone, or one step of one, through the worker pool (the job's phase command).

AppTest runs no JavaScript and serves no routes, so the page falls back to a polled status line; the tests
read the run's live view (what the canvas would draw) and rerun.
"""

from __future__ import annotations

import pytest
from apptest import shown
from helpers import APP, wait_until
from streamlit.testing.v1 import AppTest

from playground import ganlab, presets
from playground.jobs import JobRefused
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


def small_ring() -> dict:
    """The gan-ring preset with small networks (fast steps)."""
    return ganlab.to_spec(ganlab.Settings(g_hidden=(16,), d_hidden=(16,), batch_size=32),
                          presets.get("gan-ring").to_dict())


def open_page(spec: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if spec is not None:
        at.query_params["s"] = encode(from_dict(spec))
    at.run()
    at.switch_page("pages/gan.py").run()
    assert not at.exception, at.exception
    return at


def job(at: AppTest):
    return server.pool().get(at.session_state["pg"].gan_job)


def view(j) -> dict:
    return j.views.get("gan2d") or j.views.get("gan_images") or {}


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def test_a_setup_that_is_not_a_gan_is_offered_the_ring():
    at = open_page()  # the default: the spiral classifier
    assert "is not one of those" in at.info[0].value
    before = at.session_state["pg"].spec
    click(at, "gan-convert")
    assert ganlab.from_spec(at.session_state["pg"].spec) == ganlab.Settings()
    assert at.session_state["pg"].history[-1] == before  # undoable


def test_the_page_holds_a_paused_run_and_d_only_leaves_the_generator_alone():
    at = open_page(small_ring())
    j = job(at)
    assert j is not None and wait_until(lambda: j.state == "paused", 60)
    click(at, "gan-d")
    assert wait_until(lambda: view(j).get("d_steps", 0) > 20, 60), view(j)
    click(at, "gan-pause")
    assert wait_until(lambda: j.state == "paused", 10)
    v = view(j)
    assert v["g_steps"] == 0 and v["d_steps"] > 20 and v["phase"] == "d"
    # one generator step, then paused again
    click(at, "gan-step-g")
    assert wait_until(lambda: view(j).get("g_steps") == 1, 20), view(j)
    assert j.state == "paused" and view(j)["d_steps"] == v["d_steps"]
    click(at, "gan-step-d")
    assert wait_until(lambda: view(j).get("d_steps") == v["d_steps"] + 1, 20) and view(j)["g_steps"] == 1
    # both in turn: the counters and the coverage move, and the status line says so
    click(at, "gan-train")
    assert wait_until(lambda: view(j).get("g_steps", 0) > 50 and j.metrics, 60)
    at.run()
    status = " ".join(c.value for c in at.caption)
    assert "running" in status and "modes covered" in status and "of 8" in status


def test_a_refused_run_says_why_once(pool, monkeypatch):
    """A run the pool refuses (over the session's limit) is a warning on the page, shown once, not a crash."""
    def refuse(*args, **kwargs):
        raise JobRefused("this browser already runs 3 jobs; stop one first")
    monkeypatch.setattr(pool, "submit", refuse)
    at = open_page(small_ring())
    assert [w for w in at.warning if "Not started: this browser already runs 3 jobs" in shown(w.value)]
    assert at.session_state["pg"].gan_job is None and at.session_state["pg"].notices == []


def test_a_setting_writes_the_spec_and_starts_a_fresh_paused_run():
    at = open_page(small_ring())
    first = job(at)
    at.radio(key=[w.key for w in at.radio if w.key.startswith("gan-data-")][0]).set_value("grid").run()
    assert not at.exception, at.exception
    spec = at.session_state["pg"].spec
    assert spec["data"]["name"] == "grid" and ganlab.from_spec(spec).dataset == "grid"
    second = job(at)
    assert second is not None and second.id != first.id
    assert wait_until(lambda: second.state == "paused" and "gan2d" in second.views, 60)
    assert view(second)["range"] >= 4  # the 5×5 grid spans -4 … 4


def test_digits_show_images_and_a_walk():
    at = open_page(presets.get("gan-digits").to_dict())
    j = job(at)
    assert wait_until(lambda: "gan_images" in j.views, 60)
    v = j.views["gan_images"]
    assert v["samples"].shape == (36, 8, 8) and v["walk"].shape == (10, 8, 8)
    assert len(v["scores"]) == 36 and "modes_covered" not in v


def test_a_gan_trained_on_the_train_page_reports_its_samples_and_inspect_says_why_not(pool):
    from apptest import trained
    job = trained(pool, "gan-ring", 1, batch_size=64)  # tracked, as the Train page starts runs
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.session_state["pg"].spec = job.spec
    at.session_state["pg"].job_id = job.id
    at.switch_page("pages/train.py").run()
    assert not at.exception, at.exception
    assert "(generate)" in at.markdown[0].value or any("(generate)" in m.value for m in at.markdown)
    assert job.report["kind"] == "gan_points" and job.report["modes"] == 8
    assert "gan" in [p.proto.page for p in at.get("page_link")]
    at.switch_page("pages/inspection.py").run()
    assert not at.exception, at.exception
    assert any("does not apply here" in i.value and "generator turns random noise" in i.value for i in at.info)
