"""The 2-D Playground in a real browser: the canvas redraws from the stream while the run trains."""

from __future__ import annotations

import pytest
from browser import READY, press_arrows, shot
from helpers import wait_until

from playground import tfplay
from playground.spec import decode, encode, from_dict

pytestmark = pytest.mark.browser


def open_playground(browser, url: str, spec: dict):
    """A direct link to /playground carrying `spec`, on its own (deep links must work on a fresh server)."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{url}/playground?s={encode(from_dict(spec))}")
    page.wait_for_selector(READY, timeout=60_000)
    page.locator("canvas.surface").wait_for(state="attached", timeout=60_000)
    assert page.get_by_text("Page not found").count() == 0
    return page, errors


def draws(page) -> int:
    return int(page.locator("canvas.surface").get_attribute("data-draws"))


def epoch(page) -> int:
    return int(page.locator(".pg").get_attribute("data-epoch"))


def test_play_redraws_the_canvas_live(server, browser):
    page, errors = open_playground(browser, server, tfplay.default_spec())
    wait_until(lambda: draws(page) >= 1, what="the first frame (epoch 0, before Play)")
    assert epoch(page) == 0 and page.locator(".pg").get_attribute("data-state") == "paused"
    page.get_by_role("button", name="Play").click()
    page.get_by_role("button", name="Pause").wait_for(timeout=30_000)
    wait_until(lambda: epoch(page) >= 2, what="epochs")
    d0, e0 = draws(page), epoch(page)
    # it goes on training and redrawing (how many redraws a second: benchmarks/playground2d.py)
    wait_until(lambda: epoch(page) > e0 + 2 and draws(page) > d0 + 5, what="more epochs and redraws")
    d1 = draws(page)
    assert page.locator(".test-loss").inner_text() not in ("", "–")

    # hover the network: an edge shows its weight
    box = page.locator("canvas.edges").bounding_box()
    tip = page.locator(".tip")
    for dx in range(0, 80, 2):
        page.mouse.move(box["x"] + box["width"] * 0.22 + dx, box["y"] + 60)
        if tip.is_visible():
            break
    assert tip.is_visible() and tip.inner_text().startswith("weight ")

    page.get_by_text("Show test data").click()
    in_link = "(view) => decodeURIComponent(location.href).includes(view)"  # Copy link copies the address
    page.wait_for_function(in_link, arg="view=test", timeout=30_000)
    page.wait_for_selector(READY)
    page.get_by_text("Discretise output").click()
    wait_until(lambda: draws(page) > d1 + 3, what="redraws after the options changed")
    page.wait_for_function(in_link, arg="view=test,discrete", timeout=30_000)
    page.mouse.move(box["x"] + 5, box["y"] + box["height"] - 5)
    shot(page, "playground2d")

    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for(timeout=30_000)
    wait_until(lambda: page.locator(".pg").get_attribute("data-state") == "paused", what="paused")
    stopped = epoch(page)
    # paused means no epoch until told: one Step is then exactly one epoch more, and paused again
    page.get_by_role("button", name="Step").click()
    wait_until(lambda: epoch(page) > stopped and page.locator(".pg").get_attribute("data-state") == "paused",
               what="one step")
    assert epoch(page) == stopped + 1
    assert not errors, errors
    page.close()


def test_changing_the_network_redraws_it_from_epoch_0(server, browser):
    page, errors = open_playground(browser, server, tfplay.default_spec())
    wait_until(lambda: draws(page) >= 1, what="the first frame")
    nodes = page.locator(".node").count()
    assert nodes == 2 + 4 + 2 + 2  # inputs, two hidden layers, two output logits
    page.get_by_role("button", name="Step").click()
    wait_until(lambda: epoch(page) == 1, what="one step")
    page.get_by_role("button", name="Reset").click()
    wait_until(lambda: epoch(page) == 0, what="reset")
    page.get_by_role("button", name="Play").click()
    wait_until(lambda: epoch(page) >= 1, what="training after reset")
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for(timeout=30_000)
    # one more hidden layer: the structure changes, the run resets and the new network is drawn
    page.wait_for_selector(READY)
    page.locator(".st-key-pg2d-layer-plus button").first.click()
    wait_until(lambda: page.locator(".node").count() == nodes + 2, what="the new layer")
    wait_until(lambda: draws(page) >= 1 and epoch(page) == 0, what="the new run's first frame")
    assert not errors, errors
    page.close()


def test_the_noise_slider_steps_with_the_keyboard(server, browser):
    page, errors = open_playground(browser, server, tfplay.default_spec())
    slider = page.locator("input[type='range'][aria-label='Noise']")
    assert slider.input_value() == "0"
    press_arrows(page, slider, 5)
    assert slider.input_value() == "5"  # five presses, five steps: the focus stayed
    assert tfplay.from_spec(decode(page.url.split("s=", 1)[1].split("&")[0]).to_dict()).noise == 5
    assert not errors, errors
    page.close()
