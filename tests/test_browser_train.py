"""What only a browser shows on Home, Train and Explain: user text that never fetches anything, the live
chart's legend and status, A/B on one axis, and both screen sizes (a projector's 1024×768 and 1920×1080)."""

from __future__ import annotations

import http.server
import threading
import time

import pytest
from browser import READY, free_port, open_expander, open_page, shot

from playground import lessons, presets
from playground.spec import encode, from_dict

pytestmark = pytest.mark.browser

SIZES = [(1024, 768), (1920, 1080)]
CHARTS = """() => [...document.querySelectorAll('*')].filter(el => el.shadowRoot &&
    el.shadowRoot.querySelector('canvas.chart')).map(el => { const c = el.shadowRoot.querySelector('canvas.chart');
    return {job: c.dataset.job, state: c.dataset.state, top: c.dataset.lossTop,
            status: el.shadowRoot.querySelector('.status').textContent,
            legend: [...el.shadowRoot.querySelectorAll('.legend span')].map(s => s.textContent)}; })"""
CHART = f"() => ({CHARTS})()[0] || null"  # the first live chart on the page


def wait_for(predicate, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def link(server: str, page: str, preset: str, epochs: int, **changes) -> str:
    spec = presets.get(preset).to_dict()
    spec["train"]["epochs"] = epochs
    spec.update(changes)
    return f"{server}/{page}?s={encode(from_dict(spec))}"


def train_to_the_end(page) -> dict:
    """Press Train and wait until the run is done and its report is drawn; the chart's state then."""
    before = (page.evaluate(CHART) or {}).get("job")
    page.get_by_role("button", name="Train", exact=True).click()
    wait_for(lambda: (page.evaluate(CHART) or {}).get("job") not in (None, "", before), 60, "the run to start")
    wait_for(lambda: page.evaluate(CHART)["state"] == "done", 120, "the run to end")
    page.get_by_role("button", name="Train", exact=True).wait_for(timeout=30_000)
    wait_for(lambda: page.get_by_role("button", name="Train", exact=True).is_enabled(), 30, "Train again")
    page.wait_for_selector(READY, timeout=60_000)
    return page.evaluate(CHART)


# ---- user text ------------------------------------------------------------------------------------------

def seen(page) -> str:
    """The page's text as a reader sees it (the invisible word joiners that stop autolinks left out)."""
    return page.evaluate("() => document.body.innerText.replaceAll('\\u2060', '')")


class Tracker:
    """A web server that counts what browsers fetch from it (a tracking pixel's host)."""

    def __init__(self) -> None:
        hits = self.hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 -- the name http.server calls
                hits.append(self.path)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_user_text_is_shown_as_text_and_fetches_nothing_on_any_page(server, browser, tmp_path):
    tracker = Tracker()
    base = f"http://127.0.0.1:{tracker.port}"
    pixel = f"![t]({base}/name.png)"
    evil = f"{pixel} <img src='{base}/tag.png'>"
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))  # from the first request on: the tab's icon too
    page.goto(link(server, "build", "gauss-mlp", 3, name=f"Evil {evil}", description=f"About {evil} **bold**"))
    page.wait_for_selector(READY, timeout=60_000)
    # class names and a feature name from a CSV: its labels and a column are the same attack
    rows = [f"x1,![f]({base}/col.png),label"] + [
        f"{i / 40:.3f},{(i % 7) / 7:.3f},{'![c](' + base + '/cls.png)' if i % 2 else '<img src=' + base + '/c2.png>'}"
        for i in range(120)]
    page.get_by_role("tab", name="Data").click()
    upload = page.locator(".st-key-build-csv input[type='file']")
    upload.wait_for(state="attached", timeout=60_000)
    upload.set_input_files({"name": "evil.csv", "mimeType": "text/csv", "buffer": "\n".join(rows).encode()})
    page.get_by_text("predicting column", exact=False).first.wait_for(timeout=60_000)
    page.wait_for_selector(READY, timeout=60_000)

    page.get_by_role("link", name="Train").click()
    page.get_by_role("button", name="Train", exact=True).wait_for(timeout=60_000)
    assert pixel in seen(page)  # the name reads as typed
    train_to_the_end(page)
    for name in ("Inspect", "Explain", "2-D Playground", "Build", "Home", "Train"):
        page.get_by_role("link", name=name).click()
        page.wait_for_selector(READY, timeout=60_000)
        page.wait_for_timeout(1500)  # images and their fetches start as elements mount
        assert page.locator("[data-testid='stException']").count() == 0, name
    page.get_by_role("link", name="Explain").click()
    page.get_by_text("Predicted:", exact=False).first.wait_for(timeout=60_000)
    assert f"![c]({base}/cls.png)" in seen(page) or f"<img src={base}/c2.png>" in seen(page)  # a class name
    shot(page, "text-as-text-explain")
    page.close()
    tracker.close()
    assert tracker.hits == [], tracker.hits
    assert not [u for u in requests if str(tracker.port) in u], requests
    assert not [u for u in requests if not u.startswith((server, "blob:", "data:"))], requests  # no CDN either


# ---- the live chart --------------------------------------------------------------------------------------

def test_every_line_has_a_legend_entry_and_a_finished_run_shows_no_speed(server, browser):
    page = open_page(browser, link(server, "train", "moons-mlp", 8), 1400, 1000)
    first = train_to_the_end(page)
    assert first["legend"] == ["train", "validation"]  # the running loss was a live aid: gone at the end
    assert first["status"].startswith("done · epoch 8/8") and "steps/s" not in first["status"]
    page.get_by_role("button", name="Step batch").click()  # one step: paused, no speed worth a figure
    wait_for(lambda: page.evaluate(CHART)["job"] != first["job"] and page.evaluate(CHART)["state"] == "paused",
             60, "a paused run after one step")
    page.wait_for_selector(READY, timeout=60_000)
    chart = page.evaluate(CHART)
    assert "steps/s" not in chart["status"], chart["status"]
    assert page.get_by_role("button", name="Resume").is_enabled()
    assert page.get_by_role("button", name="Pause").is_disabled()
    # the earlier run is comparable (same data and loss): its own line, colour and name in the legend
    assert "run 1: Two moons: ReLU hidden layers (validation)" in chart["legend"], chart["legend"]
    page.get_by_role("button", name="Stop").click()
    wait_for(lambda: page.evaluate(CHART)["state"] == "stopped", 30, "the stop")
    page.close()


def test_ab_charts_share_one_loss_axis(server, browser):
    page = open_page(browser, link(server, "train", "moons-mlp", 6), 1400, 1000)
    open_expander(page, "A/B: change one thing")
    page.locator(".st-key-ab-start button").click()  # B: three times the learning rate
    wait_for(lambda: len(page.evaluate(CHARTS)) == 2 and all(c["state"] == "done"
                                                              for c in page.evaluate(CHARTS)), 120, "A and B")
    page.wait_for_timeout(500)
    a, b = page.evaluate(CHARTS)
    assert a["top"] == b["top"] and float(a["top"]) > 0, (a, b)
    shot(page, "train-ab")
    page.close()


# ---- both screen sizes -----------------------------------------------------------------------------------

CUT = """() => [...document.querySelectorAll('[data-testid=stMain] button, [data-testid=stMain] p')]
    .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
    .map(e => e.textContent.trim().slice(0, 60))"""  # text wider than its box: cut off ("P..", "Sto…")


def tall_shot(page, name: str, width: int, height: int) -> None:
    """A screenshot of the whole page at this width (Streamlit scrolls inside the page, not the window)."""
    full = page.evaluate("""() => { const b = document.querySelector('[data-testid=stMainBlockContainer]');
        return Math.ceil(b.getBoundingClientRect().top + b.scrollHeight + 40); }""")
    page.set_viewport_size({"width": width, "height": max(height, min(full, 5000))})
    page.wait_for_timeout(800)
    shot(page, name)
    page.set_viewport_size({"width": width, "height": height})


@pytest.mark.parametrize("width,height", SIZES)
def test_home_train_and_explain_read_well_at_both_sizes(server, browser, width, height):
    page = open_page(browser, server, width, height)
    page.locator(".st-key-lesson-losses button").click()  # a lesson that opens Train with its text
    page.get_by_text(f"Lesson {lessons.get('losses').order} ·", exact=False).first.wait_for(timeout=60_000)
    page.wait_for_selector(READY, timeout=60_000)
    train_to_the_end(page)
    assert page.evaluate(CUT) == []  # no button or text cut short ("P..", "Sto…")
    tall_shot(page, f"size-{width}-train", width, height)
    page.get_by_role("link", name="Explain").click()
    page.get_by_text("Predicted:", exact=False).first.wait_for(timeout=60_000)
    page.wait_for_selector(READY, timeout=60_000)
    assert page.evaluate(CUT) == []
    tall_shot(page, f"size-{width}-explain", width, height)
    page.get_by_role("link", name="Home").click()
    page.get_by_text("Start from scratch", exact=True).wait_for(timeout=60_000)
    assert page.evaluate(CUT) == []
    tall_shot(page, f"size-{width}-home", width, height)
    page.close()
