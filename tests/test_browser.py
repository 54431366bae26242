"""What only a real browser shows: the app served by `streamlit run app.py`, driven in Chromium."""

import time

import pytest
from browser import CHROMIUM_ARGS, chart_points, chromium_path, open_page, shot, streamlit_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server():
    with streamlit_server() as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    path = chromium_path()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_home_lists_presets(server, browser):
    page = open_page(browser, server)
    assert page.get_by_text("Neural-network playground").is_visible()
    assert page.get_by_text("Spiral, two hidden layers").is_visible()
    shot(page, "home")
    page.close()


def test_train_draws_the_loss_curve_live(server, browser):
    page = open_page(browser, f"{server}/train")
    assert chart_points(page) == 0
    page.get_by_role("button", name="Train", exact=True).click()
    t0 = time.time()
    while chart_points(page) < 1:
        assert time.time() - t0 < 60, "no loss point reached the chart"
        time.sleep(0.05)
    first = chart_points(page)
    time.sleep(1.5)
    assert chart_points(page) > first, "the curve stopped growing"
    shot(page, "train-live")
    page.get_by_role("button", name="Stop").click()
    page.wait_for_function("""() => [...document.querySelectorAll('*')].some(el => el.shadowRoot &&
        el.shadowRoot.querySelector('canvas.chart[data-state="stopped"]'))""", timeout=20_000)
    page.close()
