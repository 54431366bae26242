"""The recommendation application in Chromium: Start, Train, a user's top ten and the item map drawn, another
user picked, the map's table shown; screenshots at 1024×768 and 1920×1080 with nothing cut short."""

from __future__ import annotations

import pytest
from browser import open_page
from test_browser_applications import no_serious_axe_violation, sized_shots, start, train

pytestmark = pytest.mark.browser


def test_recommend_top_ten_and_item_map(server, browser):
    page = open_page(browser, f"{server}/applications", 1024, 768)
    page.locator(".st-key-apps-start-recommend-mf button").wait_for(timeout=60_000)
    start(page, "recommend-mf")
    train(page)
    page.locator(".js-plotly-plot").filter(has_text="The learned item vectors").wait_for(timeout=60_000)
    page.get_by_text("Top 10 for user 0").wait_for(timeout=60_000)
    box = page.locator(".st-key-apps-user input")
    box.fill("7")
    box.press("Enter")
    page.get_by_text("Top 10 for user 7").wait_for(timeout=60_000)
    page.locator(".st-key-apps-item-map-table label").click()
    page.get_by_text("axis 1").first.wait_for(timeout=60_000)
    sized_shots(page, "recommend")
    no_serious_axe_violation(page, "recommendation trained, the map as a table")
    page.close()
