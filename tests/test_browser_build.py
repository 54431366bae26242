"""The Build page in Chromium: drag a layer with the mouse, select one with a click, move one with the keyboard."""


import pytest
from browser import READY, drag_row, open_page, press_arrows, shot
from helpers import wait_until

from playground.spec import decode

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


def test_a_data_slider_steps_with_the_keyboard(server, browser):
    page = open_build(browser, server)
    page.wait_for_selector(READY)
    page.get_by_role("tab", name="Data").click()
    slider = page.locator("input[type='range'][aria-label='noise']")
    slider.wait_for(state="attached", timeout=30_000)
    page.wait_for_selector(READY)
    assert float(slider.input_value()) == 0.1  # the spiral preset's noise
    press_arrows(page, slider, 5)
    assert float(slider.input_value()) == pytest.approx(0.15)  # five presses, five steps
    assert decode(page.url.split("s=", 1)[1].split("&")[0]).data.options()["noise"] == pytest.approx(0.15)
    page.close()


def test_a_layer_dragged_from_the_palette_lands_where_it_is_dropped(server, browser):
    page = open_build(browser, server)
    page.wait_for_selector(READY)
    url = page.url
    target = page.locator(ROWS).nth(2)  # onto the top edge of row 3: the new layer becomes row 3
    page.locator("button.chip[data-type='Dropout']").drag_to(target, target_position={"x": 40, "y": 3})
    wait_rows(page, [*SPIRAL[:2], "Dropout(p=0.5)", *SPIRAL[2:]])
    page.wait_for_function("(before) => location.href !== before", arg=url, timeout=20_000)
    page.locator("li.row.selected[data-index='2']").wait_for(timeout=20_000)  # the new layer is selected
    page.wait_for_selector(READY)
    page.locator("button.chip[data-type='GELU']").click()  # a click still adds, after the selection
    wait_rows(page, [*SPIRAL[:2], "Dropout(p=0.5)", "GELU()", *SPIRAL[2:]])
    page.close()


def test_build_a_residual_block_by_drag(server, browser):
    """Drag the 'Residual block' chip under the first Tanh, then drag the last Linear into the block and the
    block's first layer out of it; screenshots at 1024×768 and 1920×1080."""
    page = open_build(browser, server)
    page.wait_for_selector(READY)
    target = page.locator(ROWS).nth(2)  # onto the top edge of row 3: the block becomes layer 3
    page.locator("button.chip[data-type='Residual']").drag_to(target, target_position={"x": 40, "y": 3})
    residual = ["Residual(3 layers)", "Linear(out_features=16)", "ReLU()", "Linear(out_features=16)"]
    wait_rows(page, [*SPIRAL[:2], *residual, *SPIRAL[2:]])
    page.locator("li.row.selected[data-path='3']").wait_for(timeout=20_000)  # the new block is selected
    assert page.locator("li.row[data-path='3.2']").get_attribute("data-type") == "ReLU"
    page.wait_for_selector(READY)
    # the model's second Tanh (row 7) dragged onto the bottom edge of the block's last layer: it joins the block
    drag_row(page, 7, 5, below=True, read=rows,
             expected=[*SPIRAL[:2], "Residual(4 layers)", *residual[1:], "Tanh()", SPIRAL[2], SPIRAL[4]])
    assert page.locator("li.row[data-path='3.4']").get_attribute("data-type") == "Tanh"
    assert decode(page.url.split("s=", 1)[1].split("&")[0]).model.layers[2].layers[3].type == "Tanh"
    # the block folds: its layers hide, and the stack still reads them when unfolded
    page.locator("li.row[data-path='3'] .toggle").click()
    page.locator("li.row[data-path='3.1']").wait_for(state="hidden", timeout=10_000)
    for size in ("1024x768", "1920x1080"):
        w, h = map(int, size.split("x"))
        page.set_viewport_size({"width": w, "height": h})
        page.locator("li.row[data-path='3'] .toggle").click()  # unfolded for the pictures, then folded again
        page.wait_for_timeout(300)  # a CSS reflow, not the app: nothing to wait for
        shot(page, f"build-blocks-{size}")
        page.locator("li.row[data-path='3'] .toggle").click()
    page.locator("li.row[data-path='3'] .toggle").click()
    # undo takes the move back
    page.get_by_role("button", name="Undo").click()
    wait_rows(page, [*SPIRAL[:2], *residual, *SPIRAL[2:]])
    page.close()
