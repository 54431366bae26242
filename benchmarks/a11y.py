"""Accessibility violations per page and state, as axe-core (bundled by axe-playwright-python) finds them in
headless Chromium against `streamlit run app.py`.

    python benchmarks/a11y.py [--details]

Walks every page of ui/main.py's PAGES when idle, then the states a student sees: Train while training, paused,
finished, with an error shown and with A/B open; Build with an error shown; Inspect (every tab) and Explain
with a finished run's results (a 2-D set's and a digits CNN's); the 2-D Playground playing and paused; Lessons:
the course, a claim being checked and checked, and a lesson opened with its banner above its page. Prints
serious+critical and moderate counts per page and state (and, with --details, every violation with the elements
it names). The browser tests (tests/test_browser_a11y.py) walk the same states and assert zero serious or
critical.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from itertools import chain
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from appserver import CHROMIUM_ARGS, READY, need_chromium, open_expander, streamlit_server  # noqa: E402

SERIOUS = ("serious", "critical")
CHART = """() => { for (const el of document.querySelectorAll('*')) { const c = el.shadowRoot &&
    el.shadowRoot.querySelector('canvas.chart'); if (c) return {job: c.dataset.job, state: c.dataset.state}; }
    return null; }"""


def pages() -> list[tuple[str, str]]:
    """(title, url path) of every page the navigation lists, in order (new pages are walked once registered)."""
    from ui.main import PAGES
    return [(title, url) for _file, title, _icon, url in PAGES]


def audit(page) -> list[dict]:
    """axe-core's violations on the page as it is now: [{id, impact, help, nodes: [target, …]}]."""
    from axe_playwright_python.sync_playwright import Axe
    results = Axe().run(page, options={"resultTypes": ["violations"]})
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [f"{n['target'][-1]} {n['html'][:160]!r}: " + " ".join(n.get("failureSummary", "").split())
                       for n in v["nodes"]]}
            for v in results.response["violations"]]


def counts(violations: list[dict]) -> tuple[int, int]:
    """(serious + critical, moderate) element counts, as the issue counts them."""
    serious = sum(len(v["nodes"]) for v in violations if v["impact"] in SERIOUS)
    return serious, sum(len(v["nodes"]) for v in violations if v["impact"] == "moderate")


def report(violations: list[dict], limit: int = 6) -> str:
    """The violations as lines a person can act on (rule, impact, how many, the first few elements)."""
    lines = []
    for v in violations:
        lines.append(f"  {v['impact']:>8} {v['id']} ×{len(v['nodes'])}: {v['help']}")
        lines += [f"           {n[:300]}" for n in v["nodes"][:limit]]
    return "\n".join(lines)


def settle(page, ms: int = 1200) -> None:
    """Wait until the script has run and the components have drawn."""
    page.wait_for_selector(READY, timeout=60_000)
    page.wait_for_timeout(ms)
    page.wait_for_selector(READY, timeout=60_000)


def wait(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.1)


def chart(page) -> dict:
    return page.evaluate(CHART) or {}


def link(server: str, path: str, preset: str, epochs: int, **changes) -> str:
    """A link to `path` carrying `preset` with `epochs` (and other top-level `changes`)."""
    from playground import presets
    from playground.spec import encode, from_dict
    spec = presets.get(preset).to_dict()
    spec["train"]["epochs"] = epochs
    spec.update(changes)
    return f"{server}/{path}?s={encode(from_dict(spec))}"


def goto(page, title: str) -> None:
    """Open a page through the navigation, as a user does (the session and its runs stay)."""
    page.get_by_role("link", name=title, exact=True).click()
    settle(page)


def walk(browser, server: str) -> Iterator[tuple[str, str, object]]:
    """Yield (page title, state, playwright page) in each state worth checking; the caller audits it then."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server)
    settle(page)
    for title, _url in pages():  # idle: the default setup, nothing run yet
        goto(page, title)
        yield title, "idle", page
    page.close()

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(link(server, "train", "moons-mlp", 400))
    settle(page)
    page.get_by_role("button", name="Train", exact=True).click()
    wait(lambda: chart(page).get("state") == "running", 60, "the run to start")
    page.get_by_role("button", name="Pause").wait_for(timeout=30_000)
    settle(page, 800)
    yield "Train", "training", page
    page.get_by_role("button", name="Pause").click()
    wait(lambda: chart(page).get("state") == "paused", 60, "the pause")
    settle(page, 800)
    yield "Train", "paused", page
    page.get_by_role("button", name="Stop").click()
    wait(lambda: chart(page).get("state") == "stopped", 60, "the stop")
    settle(page, 800)
    page.close()

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(link(server, "train", "moons-mlp", 4))
    settle(page)
    page.get_by_role("button", name="Train", exact=True).click()
    wait(lambda: chart(page).get("state") == "done", 120, "the run to end")
    page.get_by_role("button", name="Train", exact=True).wait_for(timeout=30_000)
    settle(page)
    yield "Train", "finished", page
    open_expander(page, "A/B: change one thing")
    page.locator(".st-key-ab-start button").click()
    wait(lambda: chart(page).get("state") == "done", 120, "A and B to end")
    settle(page)
    yield "Train", "A/B open", page
    goto(page, "Inspect")
    page.get_by_role("tab").first.wait_for(timeout=60_000)
    settle(page)
    yield "Inspect", "results", page
    tabs = page.get_by_role("tab")
    for i in range(1, tabs.count()):  # the tab's name carries its icon's ligature first ("monitoring …")
        name = tabs.nth(i).inner_text().strip().split(" ", 1)[-1]
        tabs.nth(i).click()
        settle(page)
        yield "Inspect", f"results: {name}", page
    goto(page, "Explain")
    page.get_by_text("Predicted:", exact=False).first.wait_for(timeout=60_000)
    settle(page)
    yield "Explain", "results", page
    page.close()

    page = browser.new_page(viewport={"width": 1400, "height": 1000})  # pictures: an image model's results
    page.goto(link(server, "train", "digits-cnn", 1))
    settle(page)
    page.get_by_role("button", name="Train", exact=True).click()
    wait(lambda: chart(page).get("state") == "done", 120, "the digits run to end")
    settle(page)
    goto(page, "Inspect")
    page.get_by_text("feature maps of 8×8").first.wait_for(timeout=60_000)
    settle(page)
    yield "Inspect", "results (images)", page
    goto(page, "Explain")
    page.get_by_text("Grad-CAM", exact=True).first.wait_for(timeout=60_000)
    settle(page)
    yield "Explain", "results (images)", page
    page.close()

    page = browser.new_page(viewport={"width": 1400, "height": 1000})  # a setup that cannot train
    page.goto(link(server, "build", "moons-mlp", 4, model={"layers": [{"type": "Conv2d", "out_channels": 4,
                                                                         "kernel_size": 3}]}))
    settle(page)
    yield "Build", "error shown", page
    goto(page, "Train")
    yield "Train", "error shown", page
    page.close()

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    from playground import tfplay
    from playground.spec import encode, from_dict
    page.goto(f"{server}/playground?s={encode(from_dict(tfplay.default_spec()))}")
    settle(page)
    page.locator("canvas.surface").wait_for(state="attached", timeout=60_000)
    page.get_by_role("button", name="Play").click()
    page.get_by_role("button", name="Pause").wait_for(timeout=30_000)
    wait(lambda: int(page.locator(".pg").get_attribute("data-epoch") or 0) >= 3, 60, "epochs")
    yield "2-D Playground", "playing", page
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for(timeout=30_000)
    settle(page, 500)
    yield "2-D Playground", "paused", page
    page.close()


def lesson_states(browser, server: str, name: str = "activations") -> Iterator[tuple[str, str, object]]:
    """The Lessons page's states: the course list, a lesson's claim being checked and checked, and the lesson
    opened where it takes place, with its banner above that page."""
    from playground import lessons
    lesson = lessons.get(name)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server}/lessons")
    settle(page)
    yield "Lessons", "course list", page
    page.get_by_text(f"{lesson.order} · {lesson.title}", exact=True).click()
    page.get_by_text(lesson.claim, exact=False).first.wait_for(timeout=60_000)
    settle(page, 500)
    yield "Lessons", "a lesson chosen", page
    page.get_by_role("button", name="Check the claim").click()
    page.get_by_role("button", name="Stop the check").wait_for(timeout=60_000)  # its runs' progress bars
    yield "Lessons", "check running", page
    page.get_by_text("Holds", exact=True).or_(page.get_by_text("Does not hold", exact=True)).first.wait_for(
        timeout=600_000)
    settle(page)
    yield "Lessons", "check done", page
    from ui.views.lessons import page_title
    where = page_title(lesson.page)
    page.get_by_role("button", name=f"Open it on {where}").click()
    page.locator(".st-key-lesson-banner").wait_for(timeout=60_000)
    settle(page)
    yield where, "lesson banner", page
    page.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--details", action="store_true", help="list every violation and its elements")
    args = ap.parse_args()
    path = need_chromium()
    from playwright.sync_api import sync_playwright
    rows = []
    with streamlit_server() as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        for title, state, page in chain(walk(browser, server), lesson_states(browser, server)):
            found = audit(page)
            rows.append((title, state, *counts(found)))
            print(f"{title:<16} {state:<32} serious/critical {rows[-1][2]:>3}   moderate {rows[-1][3]:>3}  "
                  f"{', '.join(sorted({v['id'] for v in found}))}", flush=True)
            if args.details and found:
                print(report(found, limit=50), flush=True)
        browser.close()
    print(f"total: serious/critical {sum(r[2] for r in rows)}, moderate {sum(r[3] for r in rows)} "
          f"over {len(rows)} page states")


if __name__ == "__main__":
    main()
