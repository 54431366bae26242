"""The Lessons page in Chromium: pick a lesson, press Check the claim, and see it hold with its numbers, at a
projector's 1024×768 and at 1920×1080."""

from __future__ import annotations

import pytest
from browser import READY, open_page, shot
from test_browser_train import CUT, tall_shot

from playground import lessons

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width,height", [(1024, 768), (1920, 1080)])
def test_a_lesson_checks_its_claim_live_and_it_holds(server, browser, width, height):
    lesson = lessons.get("activations")
    page = open_page(browser, f"{server}/lessons", width, height)
    page.get_by_text(f"{lesson.order} · {lesson.title}", exact=True).click()
    page.get_by_text(lesson.claim, exact=False).first.wait_for(timeout=60_000)
    page.wait_for_selector(READY, timeout=60_000)
    assert page.evaluate(CUT) == []
    shot(page, f"lessons-{width}-claim")
    page.get_by_role("button", name="Check the claim").click()
    page.get_by_text("Holds", exact=True).first.wait_for(timeout=600_000)  # polled from the workers' jobs
    page.wait_for_selector(READY, timeout=60_000)
    body = page.evaluate("() => document.body.innerText")
    assert "Does not hold" not in body
    for m in lesson.experiment.measures.values():  # every measured number is shown with its label
        assert m.label in body
    assert page.evaluate(CUT) == []
    tall_shot(page, f"lessons-{width}-holds", width, height)
    page.get_by_role("button", name="Open it on Inspect").click()  # one click opens the lesson where it happens
    page.get_by_text(f"Lesson {lesson.order} · {lesson.title}", exact=False).first.wait_for(timeout=60_000)
    page.close()
