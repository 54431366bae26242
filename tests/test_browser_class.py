"""The class board in Chromium: a teacher starts a class, two students (two browsers) join with its code,
train and submit, and the teacher's board shows both without a reload; the presenter view and a read-only
link; class keys stay out of copied links; screenshots at a projector's 1024×768 and at 1920×1080."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
import safetensors.numpy
from browser import READY, open_page, shot
from helpers import wait_until

from playground import presets
from playground.spec import encode, from_dict

pytestmark = pytest.mark.browser
SIZES = [(1024, 768), (1920, 1080)]


def short_spec(preset: str = "gauss-mlp", epochs: int = 3) -> str:
    spec = presets.get(preset).to_dict()
    spec["train"].update(epochs=epochs, device="cpu")
    return encode(from_dict(spec))


def text(page) -> str:
    return page.evaluate("() => document.body.innerText.replaceAll('\\u2060', '')")


def start(browser, server, width=1400, height=1000):
    page = open_page(browser, f"{server}/class", width, height)
    page.get_by_label("Class name").fill("Tuesday <b>lab</b>")
    page.get_by_role("button", name="Start the class").click()
    page.get_by_text("Students join with the code", exact=True).wait_for(timeout=30_000)
    page.wait_for_selector(READY, timeout=60_000)
    code = re.search(r"Students join with the code\s+([A-Z0-9]{6})", text(page)).group(1)
    drawn(page)
    return page, code


def drawn(page) -> None:
    """Wait until the page's pictures (the QR codes) have loaded and its join link is shown."""
    page.get_by_text(re.compile(r"class\?join=")).first.wait_for(timeout=30_000)
    wait_until(lambda: page.evaluate("() => [...document.querySelectorAll('[data-testid=stImage] img')].every("
                                     "i => i.complete && i.naturalWidth > 0)"), 30, "the QR code")


def presenter_link(teacher) -> str:
    """The Class page's Presenter view link: it carries a key that opens that view only."""
    link = teacher.get_by_role("link", name="Presenter view").get_attribute("href")
    assert "presenter=" in link and "teach=" not in link and "s=" in link
    return link


def student(browser, server, code: str, name: str, preset: str):
    """A student in a browser of their own: joins through the join link, trains a short run, submits it."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                  permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(f"{server}/class?join={code}&s={short_spec(preset)}")
    page.get_by_label("Class code").wait_for(timeout=60_000)
    wait_until(lambda: page.get_by_label("Class code").input_value() == code, 30, "the join link's code")
    page.get_by_role("textbox", name="Your name on the board").fill(name)
    page.get_by_role("button", name="Join", exact=True).click()
    page.get_by_text(f"You joined as {name}").wait_for(timeout=30_000)
    here = page.evaluate("location.href")
    assert "seat=" in here and "join=" not in here
    page.get_by_role("link", name="Go to Train").click()
    page.get_by_role("button", name="Train", exact=True).wait_for(timeout=30_000)
    page.wait_for_selector(READY, timeout=60_000)
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_role("button", name="Submit to the class").wait_for(timeout=120_000)
    page.get_by_role("button", name="Submit to the class").click()
    page.get_by_text("Submitted to Tuesday <b>lab</b>").wait_for(timeout=30_000)
    return context, page


def test_two_students_submit_and_the_teachers_board_shows_both_live(server, browser):
    teacher, code = start(browser, server, 1400, 1700)  # tall: the whole board in one screenshot
    assert "teach=" in teacher.evaluate("location.href")
    legend = "() => [...document.querySelectorAll('.legendtext')].map(t => t.textContent)"
    ada_context, ada = student(browser, server, code, "Ada", "gauss-mlp")
    bob_context, bob = student(browser, server, code, "Bob", "xor-mlp")
    # the teacher's page was not touched: its board redraws by itself
    wait_until(lambda: "2 submissions from 2 students" in text(teacher), 30, "both submissions on the board")
    wait_until(lambda: sorted(n.split(" — ")[0] for n in teacher.evaluate(legend)) == ["Ada", "Bob"], 30,
               "both curves in the legend")
    shot(teacher, "class-board-two-students")
    # the teacher puts the first one on the projector: the presenter view (another tab) shows it
    teacher.get_by_role("button", name="Show on the projector").click()
    teacher.get_by_role("button", name="Take off the projector").wait_for(timeout=30_000)
    present = open_page(browser, presenter_link(teacher), 1920, 1080)
    present.get_by_text("Ada — Gaussian blobs").wait_for(timeout=60_000)
    present.wait_for_selector(READY, timeout=60_000)
    drawn(present)
    present.locator(".st-key-presenter-projector .js-plotly-plot").wait_for(timeout=30_000)  # its curve
    shot(present, "presenter-projector-1920x1080")
    # the run's downloads, made by the server when the browser asks (outside the page's own run)
    with bob.expect_download(timeout=60_000) as notebook:
        bob.get_by_role("button", name="Notebook (.ipynb)").click()
    nb = nbformat.reads(Path(notebook.value.path()).read_text(), as_version=4)
    nbformat.validate(nb)
    assert any("class Model(nn.Module)" in c.source for c in nb.cells)
    with bob.expect_download(timeout=60_000) as weights:
        bob.get_by_role("button", name="Weights (.safetensors)").click()
    tensors = safetensors.numpy.load(Path(weights.value.path()).read_bytes())
    assert tensors and all(k.split(".")[0].isdigit() for k in tensors)  # playground's layer-numbered names
    for width, height in SIZES:  # Train after submitting: the downloads and the submitted note
        bob.set_viewport_size({"width": width, "height": height})
        bob.get_by_text("Submitted to Tuesday <b>lab</b>").scroll_into_view_if_needed()
        shot(bob, f"train-submitted-{width}x{height}")
    # Copy link on a student's page: the setup and the page, never the student's key
    ada.locator("button.share").click()
    wait_until(lambda: ada.locator("button.share[data-copied]").count() > 0, what="the copy")
    copied = ada.evaluate("navigator.clipboard.readText()")
    assert "seat=" in ada.evaluate("location.href") and "seat=" not in copied and "s=" in copied
    # the student's own list on the Class page, after a reload (the key rides in their address)
    ada.goto(ada.evaluate("location.href").replace("/train", "/class"))
    ada.wait_for_selector(READY, timeout=60_000)
    ada.get_by_text("You joined as Ada").wait_for(timeout=30_000)
    assert "Gaussian blobs" in text(ada)
    for width, height in SIZES:  # the student's own list, at both sizes
        ada.set_viewport_size({"width": width, "height": height})
        ada.wait_for_timeout(300)  # the layout follows the new width
        shot(ada, f"class-student-{width}x{height}")
    ada_context.close()
    bob_context.close()
    teacher.context.close()
    present.context.close()


@pytest.mark.parametrize("width,height", SIZES)
def test_the_class_pages_at_projector_and_desktop_sizes(server, browser, width, height):
    from playground.lessons import course
    lesson = course()[3].title  # a classifier's lesson: ranked by validation accuracy
    teacher, code = start(browser, server, width, height)
    # the class's lesson: the board ranks by its metric, and the presenter view opens at it
    teacher.get_by_role("combobox", name="Lesson").click()
    teacher.get_by_role("option", name=lesson).click()
    teacher.get_by_text(re.compile(r"highest val_accuracy first \(the lesson's metric\)")).wait_for(timeout=30_000)
    teacher.wait_for_selector(READY, timeout=60_000)
    shot(teacher, f"class-teacher-{width}x{height}")
    # the presenter view: its own page, large type, no navigation bar, the join code and its QR code
    teacher.goto(presenter_link(teacher))
    teacher.wait_for_selector(READY, timeout=60_000)
    teacher.get_by_text("Join the class").wait_for(timeout=30_000)
    teacher.get_by_role("heading", name=lesson).wait_for(timeout=30_000)
    drawn(teacher)
    assert code in text(teacher)
    wait_until(lambda: teacher.locator("[data-testid='stHeader']").is_hidden(), 30, "the header to be hidden")
    assert teacher.locator(".st-key-presenter img").count() >= 1
    size = teacher.evaluate("() => parseFloat(getComputedStyle(document.querySelector("
                            "'.st-key-presenter-lesson p')).fontSize)")
    assert size >= 24  # large type
    shot(teacher, f"presenter-{width}x{height}")
    join = open_page(browser, f"{server}/class?join={code}", width, height)
    wait_until(lambda: join.get_by_label("Class code").input_value() == code, 30, "the join form")
    shot(join, f"class-join-{width}x{height}")
    locked = open_page(browser, f"{server}/build?s={short_spec()}&lock=1", width, height)
    locked.get_by_role("button", name="Make my own copy").wait_for(timeout=30_000)
    shot(locked, f"build-locked-{width}x{height}")
    locked.get_by_role("button", name="Make my own copy").click()
    # (Playwright's page.url misses this history.pushState: ask the page)
    wait_until(lambda: "lock=" not in locked.evaluate("location.href"), 30, "the lock to leave the address")
    locked.get_by_role("tab", name="Model").wait_for(timeout=30_000)  # the editors are back
    for p in (teacher, join, locked):
        p.context.close()
