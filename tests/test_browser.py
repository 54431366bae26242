"""What only a real browser shows: the app served by `streamlit run app.py`, driven in Chromium."""

import pytest
from browser import READY, chart_points, drag_row, open_page, shot
from helpers import wait_until

from playground import presets
from playground.spec import encode, from_dict

pytestmark = pytest.mark.browser


def test_home_lists_presets(server, browser):
    page = open_page(browser, server)
    assert page.get_by_text("Neural-network playground").is_visible()
    assert page.get_by_text("Spiral, two hidden layers").is_visible()
    shot(page, "home")
    page.close()


def long_run(server: str) -> str:
    """The Train page with spiral-mlp for many epochs: still running when the test acts, however fast the host."""
    spec = presets.get("spiral-mlp").to_dict()
    spec["train"]["epochs"] = 3000
    return f"{server}/train?s={encode(from_dict(spec))}"


def test_train_draws_the_loss_curve_live(server, browser):
    page = open_page(browser, long_run(server))
    wait_until(lambda: chart_points(page) == 0, what="the empty chart")  # components mount just after the run
    page.get_by_role("button", name="Train", exact=True).click()
    first = wait_until(lambda: chart_points(page), 60, "a loss point on the chart")
    wait_until(lambda: chart_points(page) > first, 60, "the curve to go on growing")
    shot(page, "train-live")
    page.get_by_role("button", name="Stop").click()
    page.wait_for_function("""() => [...document.querySelectorAll('*')].some(el => el.shadowRoot &&
        el.shadowRoot.querySelector('canvas.chart[data-state="stopped"]'))""", timeout=20_000)
    page.close()


ROWS = "li.row"  # the Build page's stack rows (inside the component's shadow root; Playwright CSS pierces it)


def rows(page) -> list[str]:
    return page.locator(ROWS).evaluate_all("els => els.map(e => e.dataset.type)")


def home_with_clipboard(browser, server):
    """A new browser (one that lets Copy link write the clipboard) on the home page; (context, page)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                  permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(server)
    page.wait_for_selector(READY, timeout=60_000)
    return context, page


def test_every_run_ends_with_its_report_without_a_click(server, browser):
    spec = presets.get("spiral-mlp").to_dict()
    spec["train"]["epochs"] = 15
    page = open_page(browser, f"{server}/train?s={encode(from_dict(spec))}")
    train = page.get_by_role("button", name="Train", exact=True)
    chart = """() => { for (const el of document.querySelectorAll('*')) {
        const c = el.shadowRoot && el.shadowRoot.querySelector('canvas.chart');
        if (c) return [c.dataset.job, c.dataset.state]; } return [null, null]; }"""
    jobs = []
    for run in (1, 2):  # the second run ends in the same state as the first: its end must be drawn too
        train.click()
        wait_until(lambda: page.evaluate(chart)[0] not in [None, "", *jobs], 30, f"run {run} to start")
        jobs.append(page.evaluate(chart)[0])
        wait_until(lambda: page.evaluate(chart)[1] == "done", 60, f"run {run} to finish")
        wait_until(lambda: train.is_enabled(), 20, f"Train to be offered again after run {run}")
        page.locator(f".st-key-run-cm-{jobs[-1]}").wait_for(timeout=20_000)  # its confusion matrix
    page.close()


def test_a_learner_loads_drags_trains_and_shares(server, browser):
    context, page = home_with_clipboard(browser, server)
    page.locator(".st-key-home-moons-mlp button").click()  # load a preset from its card
    page.get_by_text("Two moons", exact=False).first.wait_for(timeout=30_000)

    page.get_by_role("link", name="Build").click()  # drag layer 2 (ReLU) below layer 3 (Linear)
    page.locator(ROWS).first.wait_for(timeout=30_000)
    assert rows(page) == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    moved = ["Linear", "Linear", "ReLU", "ReLU", "Linear"]
    drag_row(page, 1, 2, below=True, read=rows, expected=moved)
    page.wait_for_selector(READY)
    shot(page, "journey-build")

    page.get_by_role("link", name="Train").click()
    page.get_by_role("button", name="Train", exact=True).wait_for(timeout=30_000)
    page.get_by_role("button", name="Train", exact=True).click()
    wait_until(lambda: chart_points(page) >= 2, 60, "loss points")
    shot(page, "journey-train")

    other = share_and_open(browser, page)
    other.get_by_text("Two moons", exact=False).first.wait_for(timeout=30_000)
    other.get_by_role("link", name="Build").click()
    other.locator(ROWS).first.wait_for(timeout=30_000)
    assert rows(other) == moved
    shot(other, "journey-shared-link")
    context.close()  # the session ends: its run stops (see test_closing_the_tab_stops_its_run)
    other.context.close()


def share_and_open(browser, page):
    """Copy link (top right), then open the copied link as someone else: a new browser, no session."""
    page.locator("button.share").click()
    wait_until(lambda: page.locator("button.share[data-copied]").count() > 0, what="the copy")
    link = page.evaluate("navigator.clipboard.readText()")
    assert link == page.url and "s=" in link
    other = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    other.goto(link)
    other.wait_for_selector(READY, timeout=60_000)
    return other


def test_a_new_user_builds_from_scratch_trains_reorders_and_shares(server, browser):
    context, page = home_with_clipboard(browser, server)
    page.locator(".st-key-home-scratch button").click()  # spiral data, no layers
    page.locator("button.chip[data-type='Linear']").wait_for(timeout=30_000)

    def full_rows(p) -> list[str]:
        return p.locator(ROWS).evaluate_all("els => els.map(e => `${e.dataset.type}(${e.dataset.args})`)")

    for n, kind in enumerate(["Linear", "ReLU", "Linear"], start=1):  # from the palette, each at the end
        page.locator(f"button.chip[data-type='{kind}']").click()
        wait_until(lambda n=n: len(full_rows(page)) == n, what=f"{n} layers")
        page.wait_for_selector(READY)
    # the last Linear has 8 outputs and spiral has 2 classes: the error sits on layer 3 with a one-click fix
    page.locator(".st-key-build-fix").get_by_role("button", name="Set out_features = 2 on layer 3 (Linear)") \
        .first.click()
    built = ["Linear(out_features=8)", "ReLU()", "Linear(out_features=2)"]
    wait_until(lambda: full_rows(page) == built, what="the fixed stack")
    page.wait_for_selector(READY)

    page.get_by_role("link", name="Train").click()
    page.get_by_role("button", name="Train", exact=True).click()
    wait_until(lambda: chart_points(page) >= 2, 60, "loss points")

    page.get_by_role("link", name="Build").click()  # reorder: the ReLU to the top
    page.locator(ROWS).first.wait_for(timeout=30_000)
    moved = [built[1], built[0], built[2]]
    drag_row(page, 1, 0, below=False, read=full_rows, expected=moved)
    page.wait_for_selector(READY)

    other = share_and_open(browser, page)
    other.get_by_role("link", name="Build").click()
    other.locator(ROWS).first.wait_for(timeout=30_000)
    assert full_rows(other) == moved
    shot(other, "scratch-shared-link")
    context.close()
    other.context.close()


