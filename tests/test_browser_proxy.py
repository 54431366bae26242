"""Behind a reverse proxy that forwards only Streamlit's own paths (nginx: /api/ answered 404, the websocket
forwarded), every live view still updates: the stream fails, the view polls (with a quiet note), and it
streams again once the proxy passes the app's routes."""

from __future__ import annotations

import re

import pytest
from browser import READY, open_expander, open_page, shot, streamlit_server
from helpers import wait_until
from proxy import nginx_proxy

from playground import presets, tfplay
from playground.spec import encode, from_dict

pytestmark = pytest.mark.browser
NOTE = "Live updates run in a slower mode here"
# each chart's own state (live_chart.js keeps it on its canvas), named in a failure's message
INSIDE = """() => [...document.querySelectorAll('*')].filter(el => el.shadowRoot)
    .map(el => el.shadowRoot.querySelector('canvas.chart')).filter(Boolean)
    .map(c => { const s = c.__lc || {}; return {job: c.dataset.job, state: s.state, mode: c.dataset.mode,
        points: c.dataset.points, updates: s.updates, feed: s.feed, stream_open: !!s.es, said: s.said,
        retry_timer: !!s.timer, on_page: c.isConnected}; })"""
CHARTS = """() => [...document.querySelectorAll('*')].filter(el => el.shadowRoot)
    .map(el => el.shadowRoot.querySelector('canvas.chart')).filter(Boolean)
    .map(c => ({points: +c.dataset.points, updates: +c.dataset.updates, mode: c.dataset.mode || '',
                state: c.dataset.state || '', job: c.dataset.job || ''}))"""


@pytest.fixture(scope="module")
def proxy():
    with streamlit_server(env={"PLAYGROUND_STREAM_RETRY_S": "3"}) as url, nginx_proxy(url) as p:
        yield p


def charts(page) -> list[dict]:
    return page.evaluate(CHARTS)


def link(url: str, path: str, spec: dict) -> str:
    return f"{url}/{path}?s={encode(from_dict(spec))}"


def long_spec(name: str = "spiral-mlp") -> dict:
    spec = presets.get(name).to_dict()
    spec["train"]["epochs"] = 3000  # still running whenever the test looks, however fast the host
    return spec


def first_chart(page, key: str):
    """`key` of the page's first live chart, or None while none is mounted (a rerun redraws the page)."""
    found = charts(page)
    return found[0][key] if found else None


def grows(read, what: str, timeout: float = 60.0) -> None:
    """`read()` (a number, or None while there is nothing to read) grows at least twice more from where it is."""
    first = wait_until(lambda: read() is not None and [read()], timeout, what)[0]
    wait_until(lambda: (read() or 0) >= first + 2, timeout, what)


@pytest.mark.slow
def test_train_and_inspect_update_by_polling(proxy, browser):
    page = open_page(browser, link(proxy.url, "train", long_spec()))
    page.get_by_role("button", name="Train", exact=True).click()
    wait_until(lambda: [c for c in charts(page) if c["mode"] == "poll" and c["points"] >= 1], 60, "polled points")
    page.get_by_text(NOTE).first.wait_for(timeout=10_000)
    grows(lambda: first_chart(page, "points"), "the polled curve to grow")
    grows(lambda: first_chart(page, "updates"), "more polled updates")
    assert charts(page)[0]["state"] == "running"
    shot(page, "proxy-train")

    page.get_by_role("link", name="Inspect").click()  # Inspect never streamed: it refreshes from the weights

    def epoch() -> int:
        m = re.search(r"Live: epoch (\d+) of", page.get_by_text("Live: epoch").first.inner_text())
        return int(m.group(1)) if m else -1
    page.get_by_text("Live: epoch").first.wait_for(timeout=60_000)
    grows(epoch, "Inspect's live refresh")
    shot(page, "proxy-inspect")
    page.get_by_role("link", name="Train").click()
    page.get_by_role("button", name="Stop").click()
    wait_until(lambda: charts(page) and charts(page)[0]["state"] == "stopped", 30, "the run to stop")
    page.close()


def test_ab_updates_by_polling(proxy, browser):
    page = open_page(browser, link(proxy.url, "train", long_spec()))
    open_expander(page, "A/B: change one thing")  # a click while it still opens hit the text above the button
    page.get_by_role("button", name="Train A and B").click()
    page.get_by_text("A/B in lock-step").wait_for(timeout=60_000)  # the click started the pair
    try:
        wait_until(lambda: len([c for c in charts(page) if c["mode"] == "poll" and c["points"] >= 1]) == 2, 60,
                   "both polled charts")
    except AssertionError as e:  # say what each chart was doing
        shot(page, "proxy-ab-failed")
        raise AssertionError(f"{e}; the charts: {page.evaluate(INSIDE)}; the page says: "
                             f"{page.locator('[data-testid=stAlert]').all_inner_texts()}") from None
    grows(lambda: min(c["points"] for c in charts(page)), "both polled curves to grow")
    page.get_by_text(NOTE).first.wait_for(timeout=10_000)
    shot(page, "proxy-ab")
    page.get_by_role("button", name="Stop both").click()
    wait_until(lambda: all(c["state"] == "stopped" for c in charts(page)), 30, "both runs to stop")
    page.close()


def test_playground_2d_updates_by_polling(proxy, browser):
    page = open_page(browser, link(proxy.url, "playground", tfplay.default_spec()))
    view = page.locator(".pg")
    view.wait_for(state="attached", timeout=60_000)
    page.get_by_role("button", name="Play").click()
    wait_until(lambda: view.get_attribute("data-mode") == "poll" and int(view.get_attribute("data-epoch")) >= 1, 60,
          "polled epochs")
    surface = page.locator("canvas.surface")
    grows(lambda: int(view.get_attribute("data-epoch")), "the epoch counter")
    grows(lambda: int(surface.get_attribute("data-draws")), "the decision surface to redraw")
    page.get_by_text(NOTE).first.wait_for(timeout=10_000)
    shot(page, "proxy-playground")
    page.get_by_role("button", name="Pause").click()
    wait_until(lambda: view.get_attribute("data-state") == "paused", 30, "the run to pause")
    page.close()


def test_live_views_stream_again_once_the_proxy_passes_the_routes(proxy, browser):
    page = open_page(browser, link(proxy.url, "train", long_spec()))
    page.get_by_role("button", name="Train", exact=True).click()
    wait_until(lambda: [c for c in charts(page) if c["mode"] == "poll" and c["points"] >= 1], 60, "polling first")
    proxy.allow_api()
    wait_until(lambda: [c for c in charts(page) if c["mode"] == "stream"], 60, "the chart to stream again")
    page.wait_for_selector(READY, timeout=30_000)
    wait_until(lambda: page.get_by_text(NOTE).count() == 0, 30, "the slow-mode note to go")
    grows(lambda: first_chart(page, "points"), "the streamed curve to grow")
    page.get_by_role("button", name="Stop").click()
    wait_until(lambda: first_chart(page, "state") == "stopped", 30, "the run to stop")
    page.close()
