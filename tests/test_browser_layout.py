"""Every page at a projector's 1024×768 and at 1920×1080: screenshots for people to look at (test-artifacts/,
kept by CI), and checks of what was cut off before (palette names, layer arguments, labels split mid-word).

Inspect and Explain are shown after a short run, as a user reaches them.
"""

from __future__ import annotations

import pytest
from browser import READY, chart_points, shot

from playground import presets
from playground.spec import encode, from_dict

pytestmark = pytest.mark.browser

SIZES = {"1024x768": (1024, 768), "1920x1080": (1920, 1080)}
PAGES = ["Home", "Build", "Train", "Inspect", "Explain", "2-D Playground", "GAN lab"]
TABS = {"Build": ["Data", "Training"], "Inspect": ["Weights & gradients", "Backprop by hand", "Mistakes", "Over time"]}

# Text that must show whole: [(CSS selector, what)] per page. scrollWidth > clientWidth means it was cut.
LABELS = [("[data-testid='stWidgetLabel'] p", "widget labels"), ("button p", "button labels")]
WHOLE = {
    "Build": [("button.chip", "palette names"), ("li.row .label", "layer arguments"), *LABELS],
    "2-D Playground": LABELS,
    "GAN lab": LABELS,
    "Inspect": [*LABELS, ("button[role='tab'] p", "tab names")],
}


def cut(page, selector: str) -> list[str]:
    """Texts under `selector` (shadow roots included) that do not fit their box: cut short, or broken mid-word."""
    return page.evaluate(r"""(selector) => {
        const found = [];
        const roots = [document, ...[...document.querySelectorAll('*')].filter(e => e.shadowRoot)
                                        .map(e => e.shadowRoot)];
        for (const root of roots) for (const el of root.querySelectorAll(selector)) {
            if (!el.offsetParent) continue;  // not shown (a closed tab)
            let broken = false;  // a single word over two lines ("Regularis/ation")
            const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
            for (let t = walker.nextNode(); t; t = walker.nextNode()) {
                const words = t.textContent.trim().split(/\s+/);
                if (words.length !== 1 || !words[0]) continue;
                const range = document.createRange();
                range.selectNodeContents(t);
                broken ||= new Set([...range.getClientRects()].map(r => Math.round(r.top))).size > 1;
            }
            if (el.scrollWidth > el.clientWidth + 1 || broken) found.push(el.textContent.trim());
        }
        return found; }""", selector)


# The page links of the top bar that the Copy link button (fixed, top right) covers: none, at any width.
COVERED = """() => { const b = document.querySelector("button.share") || [...document.querySelectorAll('*')]
        .filter(e => e.shadowRoot).map(e => e.shadowRoot.querySelector("button.share")).find(Boolean);
    if (!b) return ["no Copy link button"];
    const r = b.getBoundingClientRect();
    return [...document.querySelectorAll("header a, [data-testid='stTopNavLink'], header [role='link']")]
        .filter(a => { const q = a.getBoundingClientRect();  // a link's box meets the button's
                       return q.width && q.left < r.right && r.left < q.right && q.top < r.bottom
                              && r.top < q.bottom; })
        .map(a => a.textContent.trim()); }"""

WHOLE_HEIGHT = """() => { const main = document.querySelector("[data-testid='stMainBlockContainer']");
    return Math.ceil(main.getBoundingClientRect().top + main.scrollHeight) + 40; }"""


def settle(page) -> None:
    """Wait until the page has run and drawn (components and charts draw just after the script run)."""
    page.wait_for_selector(READY, timeout=60_000)
    page.wait_for_timeout(1500)
    page.wait_for_selector(READY, timeout=60_000)


def test_every_page_at_1024x768_and_1920x1080(server, browser):
    spec = presets.get("circle-mlp").to_dict()
    spec["train"]["epochs"] = 3
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server}/train?s={encode(from_dict(spec))}")
    page.wait_for_selector(READY, timeout=60_000)
    page.get_by_role("button", name="Train", exact=True).click()  # a short run, for Inspect and Explain
    page.wait_for_function("""() => [...document.querySelectorAll('*')].some(el => el.shadowRoot &&
        el.shadowRoot.querySelector('canvas.chart[data-state="done"]'))""", timeout=120_000)
    assert chart_points(page) == 3
    problems = []
    for name in PAGES:
        page.set_viewport_size({"width": 1024, "height": 768})
        page.get_by_role("link", name=name, exact=True).click()
        settle(page)
        for tab in [None, *TABS.get(name, [])]:
            if tab is not None:
                page.get_by_role("tab", name=tab).click()
                settle(page)
            slug = name.lower().replace(" ", "-").replace("2-d", "2d") + (f"-{tab.split()[0].lower()}" if tab else "")
            assert page.locator("[data-testid='stException']").count() == 0, slug
            for size, (w, h) in SIZES.items():
                page.set_viewport_size({"width": w, "height": h})
                page.wait_for_timeout(500)  # the layout follows the new width
                shot(page, f"layout-{slug}-{size}")  # what the screen shows
                problems += [f"{slug} at {size}: Copy link covers the page link {t!r}" for t in page.evaluate(COVERED)]
                tall = page.evaluate(WHOLE_HEIGHT)
                page.set_viewport_size({"width": w, "height": min(6000, max(h, tall))})
                page.wait_for_timeout(500)
                shot(page, f"layout-{slug}-{size}-whole")  # the whole page (Streamlit scrolls its own container)
                for selector, what in WHOLE.get(name, []):
                    problems += [f"{slug} at {size}: {what} cut: {t!r}" for t in cut(page, selector)]
                page.set_viewport_size({"width": 1024, "height": 768})
    # a CNN's layers have the long arguments ("out_channels=8, kernel_size=3, …") that were cut short
    cnn = browser.new_page(viewport={"width": 1024, "height": 768})
    cnn.goto(f"{server}/build?s={encode(presets.get('digits-cnn'))}")
    settle(cnn)
    cnn.locator("li.row").first.wait_for()
    for size, (w, h) in SIZES.items():
        cnn.set_viewport_size({"width": w, "height": h})
        cnn.wait_for_timeout(500)
        shot(cnn, f"layout-build-cnn-{size}")
        problems += [f"build (CNN) at {size}: {what} cut: {t!r}" for selector, what in WHOLE["Build"]
                     for t in cut(cnn, selector)]
    cnn.close()
    assert not problems, "\n".join(problems)
    assert not errors, errors
    page.close()
