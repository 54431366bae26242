"""The detection application in Chromium: Start, Train, and the picture with its true and predicted boxes and
the table of IoUs drawn; screenshots at 1024×768 and 1920×1080 with nothing cut off."""

from __future__ import annotations

import pytest
from browser import open_page
from test_browser_applications import CHART_STATE, no_serious_axe_violation, sized_shots, start, wait_for

pytestmark = pytest.mark.browser


@pytest.mark.timeout(900)  # the whole preset trains: a minute on an idle 2-core machine, far longer on a loaded one
def test_detection_trains_and_draws_its_boxes(server, browser):
    page = open_page(browser, f"{server}/applications", 1024, 768)
    page.locator(".st-key-apps-start-detect-shapes button").wait_for()
    start(page, "detect-shapes")
    page.get_by_role("button", name="Train", exact=True).click()
    wait_for(lambda: page.evaluate(CHART_STATE) == "done", 900, "the run to end")
    page.get_by_text("This image holds").first.wait_for(timeout=60_000)
    boxes = page.locator(".st-key-apps-detect-boxes .js-plotly-plot")
    boxes.wait_for(timeout=60_000)
    assert boxes.filter(has_text="true box (solid)").count() == 1  # the legend: both kinds of box named
    assert page.locator("[data-testid=stMain] [data-testid=stDataFrame]").count() == 1  # the IoU table
    sized_shots(page, "detection")
    no_serious_axe_violation(page, "detection trained")
    page.close()
