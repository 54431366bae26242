"""AppTest of the Lessons page: the course in order, a lesson's text and claim, opening it with one click, and
Check the claim run through the app's job pool until its verdict and numbers show."""

import pytest
from helpers import APP, wait_until
from streamlit.testing.v1 import AppTest

from playground import lessons, presets


def open_lessons() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("pages/lessons.py").run()
    assert not at.exception, at.exception
    return at


def test_the_course_is_listed_in_order_and_a_pick_shows_its_lesson():
    at = open_lessons()
    course = lessons.course()
    assert at.radio(key="lesson-pick").options == [f"{x.order} · {x.title}" for x in course]
    at.radio(key="lesson-pick").set_value("rnn-memory").run()
    lesson = lessons.get("rnn-memory")
    assert any(s.value == f"{lesson.order} · {lesson.title}" for s in at.header)
    assert any(m.value == f"**Claim:** {lesson.claim}" for m in at.markdown)
    assert any(lesson.text == m.value for m in at.markdown) and not at.exception


def test_one_click_opens_a_lesson_on_its_page_with_its_setup():
    at = open_lessons()
    at.radio(key="lesson-pick").set_value("learning-rate").run()
    at.button(key="lesson-learning-rate").click().run()
    lesson = lessons.get("learning-rate")
    assert not at.exception
    assert at.session_state["pg"].spec == lessons.opening_spec(lesson)
    assert at.session_state["pg"].lesson == "learning-rate"
    assert any(t.value == "Train" for t in at.title)
    assert any(m.value == f"**What to notice:** {lesson.notice}" for m in at.markdown)


@pytest.mark.slow  # worker processes start
def test_check_the_claim_runs_in_the_pool_and_shows_holds_with_the_numbers(app_pool):
    at = open_lessons()
    at.radio(key="lesson-pick").set_value("activations").run()
    at.number_input(key="lesson-seed-activations").set_value(11).run()  # a seed the claim was not measured on
    at.button(key="lesson-check").click().run()
    check = at.session_state["pg"].checks["activations"]
    assert check.seed == 11 and set(check.jobs) <= {"sigmoid", "relu"}
    assert all(j.owner == at.session_state["pg"].owner_id or j.owner for j in check.jobs.values())
    wait_until(lambda: check.result() is not None, 600, "the check to finish")  # workers start first
    at.run()
    assert not at.exception
    assert any("Holds" in s.value for s in at.success), [e.value for e in at.error]
    table = at.dataframe[0].value  # the one table on the page: AppTest does not keep a dataframe's key
    labels = [m.label for m in lessons.get("activations").experiment.measures.values()]
    assert list(table["measured"]) == labels
    assert float(table["value"][0]) < 1e-3 < 1e-2 < float(table["value"][1])  # sigmoid tiny, ReLU not


@pytest.mark.slow  # the GAN lab holds a paused run in a worker
def test_the_gan_lesson_opens_the_gan_lab_on_the_ring_with_its_text(app_pool):
    at = open_lessons()
    at.radio(key="lesson-pick").set_value("gan").run()
    at.button(key="lesson-gan").click().run()
    lesson = lessons.get("gan")
    try:
        assert not at.exception, at.exception
        assert any(t.value == "GAN lab" for t in at.title)
        assert at.session_state["pg"].spec == lessons.opening_spec(lesson) == presets.get("gan-ring").to_dict()
        assert any(m.value == f"**What to notice:** {lesson.notice}" for m in at.markdown)  # the lesson's banner
    finally:
        for j in app_pool.jobs():  # AppTest sessions never end: stop the page's paused run
            if not j.finished:
                j.stop()
                j.wait(5)
