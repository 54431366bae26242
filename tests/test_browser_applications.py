"""A walk through Applications in Chromium: the cards, Start, Train, the view drawn (diagnosis: the ROC curve and
the threshold; tic-tac-toe: a move and the net's reply), at a projector's 1024×768 and at 1920×1080."""

from __future__ import annotations

import time

import pytest
from browser import READY, open_page, shot

from playground.applications import APPLICATIONS

pytestmark = pytest.mark.browser

import a11y  # noqa: E402  (benchmarks/, put on the path by tests/browser.py)

SIZES = [(1024, 768), (1920, 1080)]
CHART_STATE = """() => { for (const el of document.querySelectorAll('*')) {
    const c = el.shadowRoot && el.shadowRoot.querySelector('canvas.chart');
    if (c) return c.dataset.state || ''; } return null; }"""


def wait_for(predicate, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def start(page, name: str) -> None:
    """Press an application card's Start."""
    page.locator(f".st-key-apps-start-{name} button").click()
    page.get_by_role("button", name="All applications").wait_for(timeout=60_000)
    page.wait_for_selector(READY, timeout=60_000)


def train(page) -> None:
    """Press Train and wait for the run to end."""
    page.get_by_role("button", name="Train", exact=True).click()
    wait_for(lambda: page.evaluate(CHART_STATE) not in (None, "", "done"), 60, "the run to start")
    wait_for(lambda: page.evaluate(CHART_STATE) == "done", 180, "the run to end")
    wait_for(lambda: page.get_by_role("button", name="Train", exact=True).is_enabled(), 60, "Train again")


CUT = """() => [...document.querySelectorAll('[data-testid=stMain] button, [data-testid=stMain] p')]
    .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
    .map(e => e.textContent.trim().slice(0, 60))"""  # text wider than its box: cut off ("P..", "Sto…")


def sized_shots(page, name: str) -> None:
    """Screenshots of the whole page at both sizes (Streamlit scrolls inside the page, not the window), with
    nothing cut short; back to 1024×768 after."""
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.evaluate("() => document.querySelectorAll('*').forEach(e => { if (e.scrollTop) e.scrollTop = 0; })")
        full = page.evaluate("""() => { const b = document.querySelector('[data-testid=stMainBlockContainer]');
            return Math.ceil(b.getBoundingClientRect().top + b.scrollHeight + 40); }""")
        page.set_viewport_size({"width": width, "height": max(height, min(full, 5000))})
        page.wait_for_timeout(800)  # the layout settles at the new size before the picture (as test_browser_train)
        assert page.evaluate(CUT) == [], name
        shot(page, f"applications-{name}-{width}")
    page.set_viewport_size({"width": 1024, "height": 768})


def no_serious_axe_violation(page, state: str) -> None:
    """axe-core finds nothing serious or critical on the page as it is now (issue 14's bar, on this page)."""
    a11y.settle(page)
    found = [v for v in a11y.audit(page) if v["impact"] in a11y.SERIOUS]
    assert not found, f"Applications / {state}:\n{a11y.report(found)}"


def test_walk_cards_diagnosis_and_tictactoe(server, browser):
    page = open_page(browser, f"{server}/applications", 1024, 768)
    page.locator(".st-key-apps-start-diagnose-tumours button").wait_for()
    assert page.locator("[class*='st-key-apps-start-']").count() == len(APPLICATIONS.names())
    sized_shots(page, "cards")
    no_serious_axe_violation(page, "cards")
    start(page, "diagnose-tumours")
    train(page)
    page.get_by_text("Sensitivity").first.wait_for(timeout=60_000)
    page.locator(".js-plotly-plot").filter(has_text="ROC curve").wait_for(timeout=60_000)
    assert page.locator(".js-plotly-plot").filter(has_text="Confusion matrix").count() == 1
    page.locator(".js-plotly-plot").filter(has_text="Why patient 1").wait_for(timeout=60_000)
    sized_shots(page, "diagnosis")
    no_serious_axe_violation(page, "diagnosis trained")
    page.locator(".st-key-apps-attributions-table label").click()  # one patient's attributions as a table
    page.locator(".st-key-apps-attributions-table ~ * [data-testid=stDataFrame], [data-testid=stDataFrame]") \
        .first.wait_for(timeout=60_000)
    no_serious_axe_violation(page, "diagnosis, attributions as a table")
    page.get_by_role("button", name="All applications").click()
    page.wait_for_selector(READY, timeout=60_000)
    start(page, "tictactoe-value")
    train(page)
    page.wait_for_selector(READY, timeout=60_000)
    cell = page.locator(".st-key-apps-cell-4 button")
    wait_for(lambda: cell.count() == 1 and cell.is_enabled(), 60, "the board to take a move")
    cell.click()
    marks = """() => [...Array(9).keys()].map(c => [...document.querySelectorAll(`.st-key-apps-cell-${c} button`)]
        .map(b => b.innerText.trim()).join('|'))"""
    wait_for(lambda: page.evaluate(marks)[4] == "X" and page.evaluate(marks).count("O") == 1, 60,
             "the user's X and the net's reply")
    sized_shots(page, "tictactoe")
    no_serious_axe_violation(page, "tic-tac-toe played")
    page.close()


VIEWS = {  # application -> a title its view draws once the net has trained an epoch
    "lesions-cnn": "What the net says", "fraud-mlp": "Precision–recall", "stocks-lstm": "Next-day forecasts",
    "speech-vowels": "Waveform", "drive-gridworld": "The drive, step 0", "unet-shapes": "the net's mask"}


def test_every_other_application_draws_its_view_after_one_epoch(server, browser):
    """The other cards: Start, Step epoch (one epoch, then paused), and the view drawn from that net, with
    nothing cut short at either size and nothing serious for axe."""
    page = open_page(browser, f"{server}/applications", 1024, 768)
    for name, title in VIEWS.items():
        page.locator(f".st-key-apps-start-{name} button").wait_for(timeout=60_000)
        start(page, name)
        page.get_by_role("button", name="Step epoch", exact=True).click()
        wait_for(lambda: page.evaluate(CHART_STATE) == "paused", 120, f"{name}: an epoch")
        page.locator(".js-plotly-plot").filter(has_text=title).first.wait_for(timeout=60_000)
        sized_shots(page, name)
        no_serious_axe_violation(page, f"{name} after an epoch")
        page.get_by_role("button", name="Stop", exact=True).click()  # end the paused run before the next
        wait_for(lambda: page.evaluate(CHART_STATE) in ("stopped", "done"), 60, f"{name}: the stop")
        page.get_by_role("button", name="All applications").click()
        page.wait_for_selector(READY, timeout=60_000)
    page.close()
