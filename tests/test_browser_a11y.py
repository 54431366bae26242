"""Accessibility in a real browser (issue 14): axe-core on every page in every state a student sees, keyboard-only
journeys that never touch the mouse, and what a screen reader reads from the live figures.

axe-core comes bundled with axe-playwright-python (nothing is fetched). The states are walked by
benchmarks/a11y.py (the same walk prints the before/after counts), over every page of ui/main.py's PAGES.
"""

from __future__ import annotations

import re

import pytest
from browser import READY, ROOT, shot
from helpers import wait_until

from playground import presets, tfplay
from playground.spec import encode, from_dict

pytestmark = pytest.mark.browser

import a11y  # noqa: E402  (benchmarks/, put on the path by tests/browser.py)

# The element that has the keyboard focus, inside shadow roots too (the components draw in them).
ACTIVE = """() => { let e = document.activeElement;
    while (e && e.shadowRoot && e.shadowRoot.activeElement) e = e.shadowRoot.activeElement; return e; }"""
FOCUS = f"""() => {{ const e = ({ACTIVE})(); if (!e || e === document.body) return null;
    const cs = getComputedStyle(e), r = e.getBoundingClientRect();
    return {{tag: e.tagName, text: (e.getAttribute('aria-label') || e.textContent || '').trim().slice(0, 80),
             cls: String(e.className), type: e.dataset ? (e.dataset.type || '') : '', role: e.getAttribute('role'),
             label: e.getAttribute('aria-label') || '', index: e.dataset ? e.dataset.index : null,
             kind: e.type || '', checked: !!e.checked,
             group: (e.closest && e.closest('[role=radiogroup]') &&
                     e.closest('[role=radiogroup]').getAttribute('aria-label')) || '',
             ring: (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0) || cs.boxShadow !== 'none',
             visible: r.width > 0 && r.height > 0}}; }}"""
MOVING = """() => { const roots = [document, ...[...document.querySelectorAll('*')].filter(e => e.shadowRoot)
        .map(e => e.shadowRoot)];
    const slow = (v) => v.split(',').some(t => parseFloat(t) * (t.includes('ms') ? 1 : 1000) > 1);
    const out = [];
    for (const root of roots) for (const e of root.querySelectorAll('*')) { const cs = getComputedStyle(e);
        if ((cs.animationName !== 'none' && slow(cs.animationDuration)) ||
            (cs.transitionProperty !== 'none' && slow(cs.transitionDuration)))
            out.push(e.tagName + '.' + String(e.className).slice(0, 40)); }
    return out; }"""  # elements that animate or transition for longer than 1 ms
STACK = """() => { for (const el of document.querySelectorAll('*')) { const l = el.shadowRoot &&
    el.shadowRoot.querySelectorAll('li.row'); if (l && l.length) return [...l].map(li => li.dataset.type +
    (li.dataset.args ? '(' + li.dataset.args + ')' : '')); } return []; }"""


def link(server: str, path: str, preset: str, epochs: int) -> str:
    spec = presets.get(preset).to_dict()
    spec["train"]["epochs"] = epochs
    return f"{server}/{path}?s={encode(from_dict(spec))}"


class Keyboard:
    """A student with a keyboard only: Tab (or Shift+Tab) to a control, then keys. Every control reached on the
    way must show where the focus is (a ring: outline or shadow)."""

    def __init__(self, page):
        self.page, self.unringed = page, []

    def focus(self) -> dict | None:
        return self.page.evaluate(FOCUS)

    def tab_to(self, match, back: bool = False, limit: int = 250) -> dict:
        """Press Tab until `match(focused)` is true; fail naming the last element reached."""
        now = None
        for _ in range(limit):
            self.page.keyboard.press("Shift+Tab" if back else "Tab")
            now = self.focus()
            if now and now["visible"] and not now["ring"]:
                self.unringed.append(now)
            if now and match(now):
                return now
        raise AssertionError(f"the keyboard never reached the control; last focused: {now}")

    def button(self, name: str, back: bool = False) -> dict:
        return self.tab_to(lambda f: f["tag"] == "BUTTON" and f["text"].endswith(name), back)

    def press_on(self, name: str, back: bool = False) -> None:
        self.button(name, back)
        self.page.keyboard.press("Enter")

    def settle(self) -> None:
        self.page.wait_for_selector(READY, timeout=60_000)


@pytest.mark.slow
@pytest.mark.timeout(900)  # 22 page states, each audited whole; ~2 minutes on an idle 2-core machine
def test_no_serious_or_critical_axe_violation_on_any_page_in_any_state(server, browser):
    seen, failures = [], []
    for title, state, page in a11y.walk(browser, server):
        found = a11y.audit(page)
        serious, moderate = a11y.counts(found)
        seen.append((title, state))
        print(f"axe: {title} / {state}: serious+critical {serious}, moderate {moderate}")
        if found:
            print(a11y.report(found))  # every violation, in CI's output
        if serious:
            failures.append(f"{title} / {state}:\n{a11y.report([v for v in found if v['impact'] in a11y.SERIOUS])}")
    assert {(t, "idle") for t, _ in a11y.pages()} <= set(seen), seen  # every page of the navigation
    assert len(seen) >= len(a11y.pages()) + 14, seen  # and the states the issue lists
    assert not failures, "\n".join(failures)


@pytest.mark.slow
def test_no_serious_or_critical_axe_violation_on_the_lessons_page(server, browser):
    seen, failures = [], []
    for title, state, page in a11y.lesson_states(browser, server):
        found = a11y.audit(page)
        serious, moderate = a11y.counts(found)
        seen.append(state)
        print(f"axe: {title} / {state}: serious+critical {serious}, moderate {moderate}")
        if found:
            print(a11y.report(found))
        if serious:
            failures.append(f"{title} / {state}:\n{a11y.report([v for v in found if v['impact'] in a11y.SERIOUS])}")
        if state in ("check done", "lesson banner"):
            shot(page, f"a11y-lessons-{state.replace(' ', '-')}")
    assert seen == ["course list", "a lesson chosen", "check running", "check done", "lesson banner"], seen
    assert not failures, "\n".join(failures)


def test_build_from_the_palette_with_the_keyboard_only(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(link(server, "build", "moons-mlp", 5))
    a11y.settle(page)
    kb = Keyboard(page)
    wait_until(lambda: len(page.evaluate(STACK)) > 0, 60, "the layer stack")
    kb.settle()
    before = page.evaluate(STACK)
    # add: a palette chip, then Enter. A press that lands while the page is still redrawing after the link was
    # read finds no chip under the focus any more: then the student tabs to it again (once).
    is_chip = lambda f: f is not None and f["tag"] == "BUTTON" and f["type"] == "Tanh"  # noqa: E731
    for attempt in (1, 2):
        kb.tab_to(is_chip)
        page.keyboard.press("Enter")
        try:
            wait_until(lambda: len(page.evaluate(STACK)) == len(before) + 1, 30, "the added layer")
            break
        except AssertionError:
            if attempt == 2 or is_chip(kb.focus()):  # the chip had the focus and Enter did nothing: a bug
                raise
    kb.settle()
    added = page.evaluate(STACK)
    assert sorted(added) == sorted([*before, "Tanh"]), (before, added)
    # reorder: Tab to the second row, Alt+Up moves it first
    row = kb.tab_to(lambda f: f["role"] == "option" and f["index"] == "1")
    assert row["ring"], row
    page.keyboard.press("Alt+ArrowUp")
    wait_until(lambda: page.evaluate(STACK)[:2] == [added[1], added[0]], 60, "the moved row")
    kb.settle()
    moved = page.evaluate(STACK)
    assert moved == [added[1], added[0], *added[2:]], (added, moved)
    # configure: select the first Linear with Enter, then set its width in the settings beside the stack
    first_linear = next(i for i, t in enumerate(moved) if t.startswith("Linear"))
    kb.tab_to(lambda f: f["role"] == "option" and f["index"] == str(first_linear), back=True)
    page.keyboard.press("Enter")
    kb.settle()
    wait_until(lambda: page.locator("input[aria-label='out_features']").count() > 0, 60, "the layer's settings")
    kb.tab_to(lambda f: f["tag"] == "INPUT" and f["label"] == "out_features")
    page.keyboard.press("Control+A")
    page.keyboard.type("12")
    page.keyboard.press("Enter")
    wait_until(lambda: "out_features=12" in page.evaluate(STACK)[first_linear], 60, "the new width")
    kb.settle()
    configured = page.evaluate(STACK)
    # delete the selected layer, then undo it
    kb.press_on("Delete")
    wait_until(lambda: len(page.evaluate(STACK)) == len(configured) - 1, 60, "the deletion")
    kb.settle()
    kb.press_on("Undo", back=True)
    wait_until(lambda: page.evaluate(STACK) == configured, 60, "the undo")
    shot(page, "a11y-keyboard-build")
    assert not kb.unringed, f"focus not visible on: {kb.unringed}"
    page.close()


def test_train_pause_step_and_stop_with_the_keyboard_only(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(link(server, "train", "moons-mlp", 300))
    a11y.settle(page)
    kb = Keyboard(page)
    kb.press_on("Train")
    wait_until(lambda: a11y.chart(page).get("state") == "running", 60, "the run")
    kb.settle()
    kb.press_on("Pause")
    wait_until(lambda: a11y.chart(page).get("state") == "paused", 60, "the pause")
    kb.settle()
    kb.press_on("Step batch")
    wait_until(lambda: page.get_by_role("button", name="Resume").is_enabled(), 60, "paused after a step")
    kb.settle()
    kb.press_on("Stop")
    wait_until(lambda: a11y.chart(page).get("state") == "stopped", 60, "the stop")
    assert not kb.unringed, f"focus not visible on: {kb.unringed}"
    page.close()


def test_play_the_2d_page_and_change_its_settings_with_the_keyboard_only(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server}/playground?s={encode(from_dict(tfplay.default_spec()))}")
    a11y.settle(page)
    page.locator("canvas.surface").wait_for(state="attached", timeout=60_000)
    kb = Keyboard(page)
    kb.press_on("Play")
    wait_until(lambda: page.locator(".pg").get_attribute("data-state") == "running", 60, "playing")
    kb.settle()
    # a slider keeps the focus after each arrow press, so the next press moves it again
    noise = page.locator("input[type='range'][aria-label='Noise']")
    is_noise = lambda f: f is not None and f["tag"] == "INPUT" and f["label"] == "Noise"  # noqa: E731
    kb.tab_to(is_noise)
    start = int(noise.input_value())
    for step in (1, 2):
        url = page.url
        page.keyboard.press("ArrowRight")
        page.wait_for_function("(before) => location.href !== before", arg=url, timeout=30_000)
        kb.settle()
        assert is_noise(kb.focus()), f"focus after press {step}: {kb.focus()}"
    assert int(noise.input_value()) == start + 2
    # the network: Tab to it, arrow keys step through the weights and say each one
    net = kb.tab_to(lambda f: f["role"] == "group" and f["label"].startswith("The network"))
    assert net["ring"], net
    page.keyboard.press("ArrowRight")
    tip = page.locator(".tip")
    wait_until(lambda: tip.is_visible() and tip.inner_text().startswith("weight "), 30, "a weight shown")
    first = tip.inner_text()
    page.keyboard.press("ArrowRight")
    wait_until(lambda: tip.inner_text() != first, 30, "the next weight")
    assert "→" in tip.inner_text()
    kb.press_on("Pause", back=True)
    wait_until(lambda: page.locator(".pg").get_attribute("data-state") == "paused", 60, "paused")
    assert not kb.unringed, f"focus not visible on: {kb.unringed}"
    page.close()


def test_two_attribution_methods_and_copy_the_link_with_the_keyboard_only(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(link(server, "train", "moons-mlp", 3))
    a11y.settle(page)
    kb = Keyboard(page)
    kb.press_on("Train")
    wait_until(lambda: a11y.chart(page).get("state") == "done", 120, "the run's end")
    kb.settle()
    kb.tab_to(lambda f: f["tag"] == "A" and f["text"].endswith("Explain"), back=True)
    page.keyboard.press("Enter")
    page.get_by_text("Predicted:", exact=False).first.wait_for(timeout=60_000)
    kb.settle()
    # two methods: keep Saliency, swap Integrated Gradients for Input × gradient (typed into the picker)
    kb.tab_to(lambda f: f["tag"] == "INPUT" and "Methods" in f["label"])
    page.keyboard.press("Backspace")
    kb.settle()
    page.keyboard.type("Input ×")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    kb.settle()
    main = page.locator("[data-testid='stMain']")
    wait_until(lambda: main.get_by_text("Input × gradient", exact=True).count() > 0
               and main.get_by_text("Saliency", exact=True).count() > 0, 60, "both methods' results")
    assert main.get_by_text("Integrated Gradients", exact=True).count() == 0
    # copy the link: the button in the top bar
    kb.tab_to(lambda f: f["tag"] == "BUTTON" and "Copy link" in f["text"], back=True)
    page.keyboard.press("Enter")
    wait_until(lambda: page.evaluate("""() => { for (const el of document.querySelectorAll('*')) {
        const b = el.shadowRoot && el.shadowRoot.querySelector('button.share'); if (b) return b.dataset.copied; }
        return null; }"""), 30, "the copied link")
    assert not kb.unringed, f"focus not visible on: {kb.unringed}"
    page.close()


def test_draw_a_digit_on_the_pad_with_the_keyboard_only(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    page.goto(link(server, "train", "digits-cnn", 1))
    a11y.settle(page)
    kb = Keyboard(page)
    kb.press_on("Train")
    wait_until(lambda: a11y.chart(page).get("state") == "done", 120, "the run's end")
    kb.settle()
    kb.tab_to(lambda f: f["tag"] == "A" and f["text"].endswith("Inspect"), back=True)
    page.keyboard.press("Enter")
    page.get_by_text("feature maps of 8×8").first.wait_for(timeout=60_000)
    kb.settle()
    # the input picker's radio group: Tab into it, arrow keys to "drawing"
    kb.tab_to(lambda f: f["kind"] == "radio" and f["checked"] and f["group"] == "Input")
    for _ in range(4):
        if page.locator("canvas.pad").count():
            break
        page.keyboard.press("ArrowDown")
        kb.settle()
    page.locator("canvas.pad").wait_for(timeout=30_000)
    pad = kb.tab_to(lambda f: f["tag"] == "CANVAS" and "Drawing pad" in f["label"])
    assert pad["ring"], pad
    # a 1: pen down at the top, six pixels down, pen up (which sends the drawing)
    for key in ["ArrowUp"] * 3 + ["Space"] + ["ArrowDown"] * 6 + ["Space"]:
        page.keyboard.press(key)
    page.get_by_text("your drawing").first.wait_for(timeout=30_000)
    kb.settle()
    assert page.get_by_text("Predicted:").count() >= 1
    assert page.locator("[data-testid='stException']").count() == 0
    shot(page, "a11y-keyboard-drawing")
    assert not kb.unringed, f"focus not visible on: {kb.unringed}"
    page.close()


def test_a_screen_reader_reads_the_live_figures_on_train_and_the_2d_page(server, browser):
    # this student also asked the system for less motion: nothing but the training itself moves
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, reduced_motion="reduce")
    # long enough to be still training when the figures are said again, 10 s apart, on a fast host too
    # (300 epochs of moons-mlp end in about 5 s on an idle 2-core machine, and then "Finished: …" is said)
    page.goto(link(server, "train", "moons-mlp", 5000))
    a11y.settle(page)
    assert page.evaluate(MOVING) == []
    page.get_by_role("button", name="Train", exact=True).click()
    loss = r"(?:under )?\d+(?:\.\d+)?"  # as speak.js's num() says a figure: never in e-notation
    said = re.compile(rf"Training: epoch (\d+) of 5000, training loss {loss}, validation loss {loss}, "
                      r"validation accuracy \d+ %")
    chart = page.locator(".st-key-run-chart")

    def reads() -> list[int]:  # the epochs the accessibility tree's status lines read
        return [int(m.group(1)) for m in said.finditer(chart.aria_snapshot())]
    wait_until(lambda: any(e > 0 for e in reads()), 60, "the chart's spoken figures")
    tree = chart.aria_snapshot()
    assert "img \"training curves" in tree and "status:" in tree, tree
    first = max(reads())
    wait_until(lambda: max(reads() or [0]) > first, 40, "the figures said again, later")  # calm: every 10 s
    page.get_by_role("button", name="Stop").click()
    wait_until(lambda: "Stopped: epoch" in chart.aria_snapshot(), 60, "the stop said at once")
    assert page.evaluate(MOVING) == []
    page.close()

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server}/playground?s={encode(from_dict(tfplay.default_spec()))}")
    a11y.settle(page)
    view = page.locator(".st-key-pg2d-view")
    wait_until(lambda: "group \"The network: 2 inputs" in view.aria_snapshot(), 60, "the network in words")
    page.get_by_role("button", name="Play").click()
    said = re.compile(r"Training: epoch (\d+), training loss [\d.]+, test loss [\d.]+, test accuracy \d+ %")
    wait_until(lambda: said.search(view.aria_snapshot()), 60, "the 2-D run's spoken figures")
    # the table behind the view: a keyboard toggle, then the losses and the signed weights as rows
    view.get_by_text("Show as table").click()
    wait_until(lambda: "positive" in view.aria_snapshot() or "negative" in view.aria_snapshot(), 30, "the table")
    tree = view.aria_snapshot()
    assert "table \"Loss per epoch\"" in tree and "table \"Weights at epoch" in tree, tree
    page.get_by_role("button", name="Pause").click()
    page.close()


def test_spoken_figures_are_never_in_e_notation(browser):
    # a run that fits its data drives the loss under 0.000001, where toPrecision switches to "6.8e-7"
    page = browser.new_page()
    page.add_script_tag(content=(ROOT / "ui/components/speak.js").read_text() + "\nwindow.num = num;")
    said = page.evaluate("""() => [6.8e-7, -3e-9, 0, 1e-6, 0.00025, 0.21, 1.5, 120, 1234.5, 1.2e5]
        .map((v) => num(v, 2))""")
    assert said == ["under 0.000001", "between -0.000001 and 0", "0", "0.000001", "0.00025", "0.21", "1.5",
                    "120", "1235", "120000"], said
    assert page.evaluate("() => num(6.8e-7, 4)") == "under 0.000001"
    page.close()
