"""The Build page in Chromium: drag a layer with the mouse, select one with a click, move one with the keyboard."""


import pytest
from browser import READY, drag_row, open_page, shot
from helpers import wait_until

pytestmark = pytest.mark.browser

ROWS = "li.row"  # inside the stack component's shadow root; Playwright's CSS selectors pierce it


def open_build(browser, server):
    page = open_page(browser, f"{server}/build")
    page.locator(ROWS).first.wait_for()
    return page


def rows(page) -> list[str]:
    """'Type(args)' of every row, top to bottom."""
    return page.locator(ROWS).evaluate_all("els => els.map(e => `${e.dataset.type}(${e.dataset.args})`)")


def wait_rows(page, expected: list[str], timeout: float = 20.0) -> None:
    """Wait until the rows read `expected` (the rerun after an action redraws them)."""
    wait_until(lambda: rows(page) == expected, timeout, f"the rows {expected} (they read {rows(page)} before)")


SPIRAL = ["Linear(out_features=16)", "Tanh()", "Linear(out_features=16)", "Tanh()", "Linear(out_features=2)"]


def test_drag_a_layer_to_the_top(server, browser):
    page = open_build(browser, server)
    assert rows(page) == SPIRAL
    url = page.url
    drag_row(page, 4, 0, below=False, read=rows, expected=SPIRAL[4:] + SPIRAL[:4])
    page.wait_for_function("(before) => location.href !== before", arg=url, timeout=20_000)
    assert "s=" in page.url  # the link now carries the new order
    page.locator("li.row.selected[data-index='0']").wait_for(timeout=20_000)  # the dragged layer is selected
    page.wait_for_selector(READY)
    assert rows(page) == SPIRAL[4:] + SPIRAL[:4]  # as redrawn from the spec
    shot(page, "build")
    page.close()


def test_click_selects_and_the_keyboard_moves(server, browser):
    page = open_build(browser, server)
    page.locator(ROWS).nth(1).click()
    page.locator("li.row.selected[data-index='1']").wait_for(timeout=20_000)
    page.wait_for_selector(READY)
    page.locator(ROWS).nth(1).focus()
    page.keyboard.press("Alt+ArrowDown")
    wait_rows(page, [SPIRAL[0], SPIRAL[2], SPIRAL[1], *SPIRAL[3:]])
    page.close()


def test_palette_adds_after_the_selection_and_undo_takes_it_back(server, browser):
    page = open_build(browser, server)
    page.locator(ROWS).nth(0).click()
    page.locator("li.row.selected[data-index='0']").wait_for(timeout=20_000)
    page.wait_for_selector(READY)
    url = page.url
    page.get_by_role("button", name="GELU", exact=True).click()
    wait_rows(page, [SPIRAL[0], "GELU()", *SPIRAL[1:]])
    page.wait_for_function("(before) => location.href !== before", arg=url, timeout=20_000)
    page.wait_for_selector(READY)
    page.get_by_role("button", name="Undo").click()
    wait_rows(page, SPIRAL)
    page.close()
