"""The GAN lab in a real browser: the canvas redraws from the stream, the modes counter moves, D only and G only
train one network, one step steps one, and a drawing becomes the data."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from browser import READY, shot
from helpers import wait_until

from playground import presets
from playground.spec import decode, encode

pytestmark = pytest.mark.browser


def open_lab(browser, url: str, spec, width: int = 1400, height: int = 1000):
    """A direct link to /gan carrying `spec`."""
    page = browser.new_page(viewport={"width": width, "height": height})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{url}/gan?s={encode(spec)}")
    page.wait_for_selector(READY, timeout=60_000)
    page.locator(".gl").wait_for(state="attached", timeout=60_000)
    assert page.get_by_text("Page not found").count() == 0
    return page, errors


def draws(page) -> int:
    return int(page.locator("canvas.surface").get_attribute("data-draws"))


def steps(page) -> tuple[int, int]:
    """(generator steps, discriminator steps) as the view shows them."""
    return int(page.locator(".gsteps").inner_text()), int(page.locator(".dsteps").inner_text())


def covered(page) -> str:
    return page.locator(".gl").get_attribute("data-covered")


def test_the_lab_trains_draws_and_counts_the_modes(server, browser):
    page, errors = open_lab(browser, server, presets.get("gan-ring"))
    wait_until(lambda: draws(page) >= 1, what="the first frame (step 0, before training)")
    assert steps(page) == (0, 0) and page.locator(".phase").inner_text() == "paused"
    assert page.locator(".covered").inner_text() == "0" and page.locator(".of").inner_text() == "/ 8"
    page.get_by_role("button", name="Train both").click()
    page.get_by_role("button", name="Pause").wait_for(timeout=30_000)
    assert page.locator(".phase").inner_text() == "training both"
    wait_until(lambda: steps(page)[0] > 100, what="generator steps")
    d0 = draws(page)
    wait_until(lambda: draws(page) > d0 + 10, what="redraws while it trains")
    # the counter moves as the generator reaches the modes (the preset covers 6-8 of 8 by step 3,000)
    wait_until(lambda: covered(page) not in ("", "0"), timeout=120, what="a covered mode")
    shot(page, "gan-lab-ring")

    # the discriminator alone: the generator's steps stop, the discriminator's go on
    page.get_by_role("button", name="D only").click()
    wait_until(lambda: page.locator(".phase").inner_text() == "training the discriminator only", what="D only")
    g, d = steps(page)
    wait_until(lambda: steps(page)[1] > d + 50, what="discriminator steps")
    assert steps(page)[0] == g
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Train both").wait_for(timeout=30_000)
    wait_until(lambda: page.locator(".phase").inner_text() == "paused", what="paused")
    g, d = steps(page)
    page.get_by_role("button", name="Step G").click()
    wait_until(lambda: steps(page) == (g + 1, d), what="one generator step")
    page.get_by_role("button", name="Step D").click()
    wait_until(lambda: steps(page) == (g + 1, d + 1), what="one discriminator step")
    # a layer switched off in the browser: no rerun, the canvas simply draws without it
    page.locator("input[data-layer='surface']").uncheck()
    assert page.locator("canvas.surface").evaluate("c => c.style.visibility") == "hidden"
    assert not errors, errors
    page.close()


@pytest.mark.parametrize(("width", "height"), [(1024, 768), (1920, 1080)])
def test_the_lab_reads_whole_at_both_sizes(server, browser, width, height):
    page, errors = open_lab(browser, server, presets.get("gan-ring"), width, height)
    page.get_by_role("button", name="Train both").click()
    wait_until(lambda: steps(page)[0] > 300, what="training")
    page.get_by_text("Training", exact=True).click()
    page.wait_for_timeout(500)
    box = page.locator(".gl").bounding_box()
    assert box["x"] + box["width"] <= width + 1  # nothing cut off on the right
    shot(page, f"gan-lab-{width}x{height}")
    page.get_by_role("button", name="Pause").click()
    assert not errors, errors
    page.close()


def test_digits_draw_a_grid_of_samples(server, browser):
    page, errors = open_lab(browser, server, presets.get("gan-digits"))
    grid = page.locator("canvas.grid")
    wait_until(lambda: int(grid.get_attribute("data-draws")) >= 1, what="the first samples")
    page.get_by_role("button", name="Train both").click()
    wait_until(lambda: int(grid.get_attribute("data-draws")) > 10 and steps(page)[0] > 200, what="training")
    assert "the discriminator calls" in page.locator(".imgs .cap").first.inner_text()
    shot(page, "gan-lab-digits")
    page.get_by_role("button", name="Pause").click()
    assert not errors, errors
    page.close()


def test_a_drawing_becomes_the_data(server, browser):
    page, errors = open_lab(browser, server, presets.get("gan-ring"))
    page.get_by_text("Your drawing").click()
    pad = page.locator("canvas.pad")
    pad.wait_for(timeout=30_000)
    page.wait_for_selector(READY, timeout=60_000)
    page.get_by_role("button", name="Clear").click()
    page.get_by_text("0 of at most").wait_for(timeout=10_000)
    box = pad.bounding_box()
    for fx, fy in ((0.25, 0.25), (0.75, 0.25), (0.5, 0.75)):  # three strokes of one point each
        page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
        page.wait_for_timeout(300)

    def drawn():
        s = parse_qs(urlparse(page.url).query).get("s")
        spec = decode(s[0]) if s else None
        return spec is not None and spec.data.name == "drawn" and len(spec.data.options().get("points", [])) == 3
    wait_until(drawn, timeout=60, what="the drawing in the link")  # each stroke restarts the run: slow when busy
    points = decode(parse_qs(urlparse(page.url).query)["s"][0]).data.options()["points"]
    assert points[0] == pytest.approx([-2.0, 2.0], abs=0.1) and points[2] == pytest.approx([0.0, -2.0], abs=0.1)
    shot(page, "gan-lab-drawing")
    assert not errors, errors
    page.close()
