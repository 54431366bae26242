"""A reload (or a dropped connection) finds its running job again, in the same browser only (issue 9, bug 7:
a reload stopped the run, "stopped by the user", and lost it from Inspect and the compare list)."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request

import pytest
from browser import READY, shot, streamlit_server

from playground import presets, tfplay
from playground.spec import encode, from_dict

pytestmark = pytest.mark.browser
GRACE = 8  # seconds a closed page's runs wait for their browser on this module's server
CHART = """() => { for (const el of document.querySelectorAll('*')) {
    const c = el.shadowRoot && el.shadowRoot.querySelector('canvas.chart');
    if (c) return {job: c.dataset.job || '', state: c.dataset.state || '', points: +c.dataset.points,
                   url: (c.__lc || {}).url || ''}; }
    return null; }"""
GRID = """() => { const pg = document.querySelector('*') && [...document.querySelectorAll('*')]
    .map(el => el.shadowRoot && el.shadowRoot.querySelector('.pg')).find(Boolean);
    return pg ? {url: (pg.__s || {}).url || '', epoch: +pg.dataset.epoch, state: pg.dataset.state} : null; }"""


@pytest.fixture(scope="module")
def server():
    with streamlit_server(env={"PLAYGROUND_GRACE_SECONDS": str(GRACE)}) as url:
        yield url


def until(predicate, timeout: float = 60.0, what: str = ""):
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def link(server: str, path: str, spec: dict) -> str:
    return f"{server}/{path}?s={encode(from_dict(spec))}"


def status(server: str, stream_url: str) -> dict:
    """The run's status through its own route, with the key its page was given."""
    u = urllib.parse.urlsplit(stream_url)
    with urllib.request.urlopen(f"{server}{u.path.rsplit('/', 1)[0]}?{u.query}".replace("/playground/", "/jobs/"),
                                timeout=30) as r:
        return json.load(r)


@pytest.mark.slow
def test_a_reload_finds_its_runs_and_another_browser_does_not(server, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    spec = presets.get("spiral-mlp").to_dict()
    spec["train"]["epochs"] = 3000
    page.goto(link(server, "train", spec))
    page.wait_for_selector(READY, timeout=60_000)
    page.get_by_role("button", name="Train", exact=True).click()
    first = until(lambda: (c := page.evaluate(CHART)) and c["points"] >= 1 and c["url"] and c, 60, "the run")

    page.reload()
    page.wait_for_selector(READY, timeout=60_000)
    again = until(lambda: page.evaluate(CHART), 30, "the chart after the reload")
    assert again["job"] == first["job"], "the reload lost its run"
    secret = {c["name"]: c["value"] for c in context.cookies()}.get("playground_browser", "")
    assert len(secret) >= 43 and secret not in page.url  # the browser's secret is never in the link
    until(lambda: page.evaluate(CHART)["points"] > first["points"], 60, "the run to go on after the reload")
    assert status(server, first["url"])["state"] == "running"
    page.get_by_role("link", name="Inspect").click()  # it is still the run Inspect looks at
    page.get_by_text("Live: epoch").first.wait_for(timeout=60_000)
    shot(page, "reload-inspect")

    # the 2-D Playground's run too
    page.goto(link(server, "playground", tfplay.default_spec()))
    page.wait_for_selector(READY, timeout=60_000)
    page.get_by_role("button", name="Play").click()
    grid = until(lambda: (g := page.evaluate(GRID)) and g["url"] and g["epoch"] >= 1 and g, 60, "the 2-D run")
    page.reload()
    page.wait_for_selector(READY, timeout=60_000)
    until(lambda: (g := page.evaluate(GRID)) and g["url"] == grid["url"] and g["epoch"] > grid["epoch"], 60,
          "the same 2-D run, going on")

    # another browser opening the same address gets the setup, not the runs
    other = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    other.goto(page.url)
    other.wait_for_selector(READY, timeout=60_000)
    theirs = until(lambda: other.evaluate(GRID), 60, "the other browser's 2-D view")
    assert theirs["url"] != grid["url"] and theirs["epoch"] == 0
    other.goto(link(server, "train", spec))
    other.wait_for_selector(READY, timeout=60_000)
    assert until(lambda: other.evaluate(CHART), 30, "the other browser's chart")["job"] == ""
    other.context.close()

    # closing the browser leaves its runs to stop once the grace period is over, saying why
    assert status(server, first["url"])["state"] == "running"
    context.close()
    for url in (first["url"], grid["url"]):
        done = until(lambda u=url: (s := status(server, u))["state"] == "stopped" and s, GRACE + 60, "the stop")
        assert "page was closed" in done["message"], done["message"]
