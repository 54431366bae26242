"""Inspect and Explain in Chromium, the issue's learner flow: train digits-cnn, draw a digit, see its feature
maps, see saliency, Integrated Gradients and Grad-CAM side by side; then train sentiment-gru and see which
words drove its prediction. Screenshots go to test-artifacts/inspect.png and explain.png.
"""

import time

import pytest
from browser import READY, open_page, shot

from playground import presets
from playground.spec import encode, from_dict

pytestmark = pytest.mark.browser


def link(server: str, preset: str, epochs: int, page: str = "train") -> str:
    spec = presets.get(preset).to_dict()
    spec["train"]["epochs"] = epochs
    return f"{server}/{page}?s={encode(from_dict(spec))}"


def train(page) -> None:
    """Press Train and wait until the live chart says the run is done."""
    page.get_by_role("button", name="Train", exact=True).click()
    page.wait_for_function("""() => [...document.querySelectorAll('*')].some(el => el.shadowRoot &&
        el.shadowRoot.querySelector('canvas.chart[data-state="done"]'))""", timeout=120_000)


def settle(page, timeout: float = 60) -> None:
    """Wait until the script has finished running (and has had a moment to start again if it will)."""
    time.sleep(0.3)
    page.wait_for_selector(READY, timeout=timeout * 1000)


def draw_three(page) -> None:
    """Two strokes on the drawing pad: a 3."""
    box = page.locator("canvas.pad").bounding_box()
    x0, y0, w, h = box["x"], box["y"], box["width"], box["height"]
    strokes = [[(0.25, 0.15), (0.5, 0.08), (0.72, 0.18), (0.7, 0.35), (0.45, 0.48)],
               [(0.45, 0.48), (0.72, 0.6), (0.75, 0.8), (0.5, 0.92), (0.25, 0.85)]]
    for stroke in strokes:
        page.mouse.move(x0 + stroke[0][0] * w, y0 + stroke[0][1] * h)
        page.mouse.down()
        for fx, fy in stroke[1:]:
            page.mouse.move(x0 + fx * w, y0 + fy * h, steps=8)
        page.mouse.up()
        settle(page)


def png_of_a_one() -> bytes:
    import io

    import numpy as np
    from PIL import Image
    paper = np.full((80, 60), 250, np.uint8)
    paper[10:70, 27:34] = 20  # a dark stroke on light paper
    buf = io.BytesIO()
    Image.fromarray(paper).save(buf, format="PNG")
    return buf.getvalue()


def test_digits_inspect_and_explain_a_drawn_digit(server, browser):
    page = open_page(browser, link(server, "digits-cnn", 3), height=1500)
    train(page)
    page.get_by_role("link", name="Inspect").click()
    page.get_by_text("feature maps of 8×8").first.wait_for(timeout=60_000)
    page.get_by_text("drawing", exact=True).click()
    page.locator("canvas.pad").wait_for(timeout=30_000)
    settle(page)
    draw_three(page)
    page.get_by_text("your drawing").first.wait_for(timeout=30_000)
    page.get_by_text("feature maps of 8×8").first.wait_for(timeout=30_000)
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.get_by_text("Predicted:").count() >= 1
    shot(page, "inspect")

    page.get_by_text("uploaded image", exact=True).click()  # a file that is no picture, then one that is
    upload = page.locator("[data-testid='stFileUploader'] input[type='file']")
    upload.wait_for(state="attached", timeout=30_000)
    upload.set_input_files({"name": "notes.png", "mimeType": "image/png", "buffer": b"these are notes"})
    page.get_by_text("is not an image").first.wait_for(timeout=30_000)
    upload.set_input_files({"name": "one.png", "mimeType": "image/png", "buffer": png_of_a_one()})
    page.get_by_text("your image").first.wait_for(timeout=30_000)
    assert page.locator("[data-testid='stException']").count() == 0
    page.get_by_text("drawing", exact=True).click()
    page.get_by_text("your drawing").first.wait_for(timeout=30_000)  # the drawing is kept

    page.get_by_role("tab", name="Mistakes").click()  # a click on a cell of the confusion matrix shows its samples
    page.get_by_text("The most confident mistakes").wait_for(timeout=30_000)
    settle(page)
    area = page.locator(".st-key-inspect-err-cm .nsewdrag").first.bounding_box()
    page.mouse.click(area["x"] + 7.5 / 10 * area["width"], area["y"] + 7.5 / 10 * area["height"])  # true 7, pred 7
    page.get_by_text("of class 7 predicted as 7 (correct)").wait_for(timeout=30_000)

    page.get_by_role("link", name="Explain").click()
    page.get_by_text("Grad-CAM", exact=True).first.wait_for(timeout=60_000)
    settle(page)
    for title in ("Input", "Saliency", "Integrated Gradients", "Grad-CAM"):
        assert page.get_by_text(title, exact=True).count() >= 1, title
    assert page.get_by_text("your drawing").count() >= 1  # the drawing is still the pinned input
    images = page.locator("[data-testid='stMain'] [data-testid='stImage'] img")
    images.nth(3).wait_for(timeout=30_000)
    assert images.count() == 4 and all(images.nth(i).evaluate("i => i.naturalWidth") > 0 for i in range(4))
    assert page.get_by_text("Convergence delta").count() == 1
    assert page.locator("[data-testid='stException']").count() == 0
    shot(page, "explain")
    page.close()


def test_sentiment_words_that_drove_the_prediction(server, browser):
    page = open_page(browser, link(server, "sentiment-gru", 2), height=1200)
    train(page)
    page.get_by_role("link", name="Explain").click()
    page.get_by_text("Integrated Gradients", exact=True).first.wait_for(timeout=60_000)
    page.get_by_text("sentence", exact=True).click()
    settle(page)
    box = page.get_by_label("Your sentence")
    box.fill("the plot was not good but the music was great")
    box.press("Enter")
    settle(page)
    page.locator("span[title]", has_text="great").first.wait_for(timeout=30_000)
    assert page.locator("span[title]", has_text="not").count() >= 2  # one per method
    assert page.locator("[data-testid='stException']").count() == 0
    shot(page, "explain-text")
    page.close()
