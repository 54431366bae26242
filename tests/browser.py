"""Shared helpers for browser tests: a real `streamlit run app.py` server and headless Chromium.

Chromium is Debian's (never a Playwright download). Under CI=true a missing browser fails the run
instead of skipping it.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT / "benchmarks"))  # last: nothing there shadows a test module
import appserver  # noqa: E402
from appserver import CHROMIUM_ARGS, READY, free_port, open_expander  # noqa: E402,F401  (re-exported for the tests)

ARTIFACTS = ROOT / "test-artifacts"


def chromium_path() -> str:
    """Debian's Chromium, or skip (fail under CI) when it is missing."""
    path = appserver.chromium_path()
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed; CI must run the browser tests (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    return path


def streamlit_server(env: dict | None = None, timeout: float = 90):
    """`streamlit run app.py` on a free port (see benchmarks/appserver.py); its log goes to test-artifacts/."""
    return appserver.streamlit_server(env, timeout, ARTIFACTS)


def open_page(browser, url: str, width: int = 1400, height: int = 1000):
    """A new page at `url`, waited until the script has finished its first run."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(url)
    page.wait_for_selector(READY, timeout=60_000)
    return page


def shot(page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def chart_points(page) -> int:
    """Epoch points the live chart has drawn (-1 while the chart is not on the page)."""
    return page.evaluate("""() => {
        for (const el of document.querySelectorAll('*')) {
            const c = el.shadowRoot && el.shadowRoot.querySelector('canvas.chart');
            if (c) return +c.dataset.points;
        }
        return -1; }""")


def drag_row(page, src: int, dst: int, below: bool, read, expected: list, timeout: float = 20.0) -> None:
    """Drag stack row `src` onto the top (or bottom) edge of row `dst` with the mouse; wait for `expected`.

    The rows are measured once the page has stopped drawing and they have stopped moving. A drag that is
    lost (the rows read as before, as when a rerun redraws them mid-drag) is tried once more, as a person
    would; any other order is a failure, reported with every order seen after the drop. It returns once the
    app has the new order too: the address (which carries the spec) has changed and the page has redrawn.
    """
    rows, before, url = page.locator("li.row"), read(page), page.url
    seen: list = []
    for _attempt in (1, 2):
        page.wait_for_selector(READY, timeout=60_000)
        a, b = _settled_box(page, rows.nth(src)), _settled_box(page, rows.nth(dst))
        page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
        page.mouse.down()
        page.mouse.move(b["x"] + b["width"] / 2, b["y"] + (b["height"] - 3 if below else 3), steps=15)
        page.mouse.up()
        deadline = time.time() + timeout
        while time.time() < deadline:
            now = read(page)
            if not seen or seen[-1] != now:
                seen.append(now)
            if now == expected:
                # the rows move in the browser first; the order is the app's once the link carries it
                page.wait_for_function("(before) => location.href !== before", arg=url, timeout=timeout * 1000)
                page.wait_for_selector(READY, timeout=60_000)
                return
            page.wait_for_timeout(100)
        if read(page) != before:
            break
    raise AssertionError(f"after the drag the rows read, in turn: {seen}; expected {expected}")


def _settled_box(page, locator, timeout: float = 10.0) -> dict:
    """The element's bounding box once two readings 200 ms apart agree (the layout above it has settled)."""
    deadline, box = time.time() + timeout, locator.bounding_box()
    while time.time() < deadline:
        page.wait_for_timeout(200)
        again = locator.bounding_box()
        if again == box:
            return box
        box = again
    return box


def press_arrows(page, slider, presses: int, key: str = "ArrowRight", timeout: float = 20.0) -> None:
    """Focus `slider` (a slider's input[type=range]) and press `key` `presses` times, each once the app has
    taken the one before (its link changed and the page finished its run), as a person stepping a value would."""
    slider.focus()
    for _ in range(presses):
        url = page.url
        page.keyboard.press(key)
        try:
            page.wait_for_function("(before) => location.href !== before", arg=url, timeout=timeout * 1000)
        except Exception:  # the press went nowhere (the slider lost focus): the value tells, below
            return
        page.wait_for_selector(READY, timeout=60_000)
