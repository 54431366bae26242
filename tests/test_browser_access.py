"""A run is its owner's alone: the app's routes over real HTTP, and a second browser that has the first one's
link (issue 8: the job routes answered anyone with an id, and reading a 2-D stream paused another's run)."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from browser import READY, open_page, shot, streamlit_server

from playground import presets
from playground.spec import encode, from_dict

pytestmark = pytest.mark.browser
LIMIT = 12  # seconds of training a run may take on this module's server (its stop must say why)
CHART = """() => { for (const el of document.querySelectorAll('*')) {
    const c = el.shadowRoot && el.shadowRoot.querySelector('canvas.chart');
    if (c) return {job: c.dataset.job || '', state: c.dataset.state || '', points: +c.dataset.points,
                   mode: c.dataset.mode || '', url: (c.__lc || {}).url || '',
                   status: el.shadowRoot.querySelector('.status').textContent}; }
    return null; }"""


@pytest.fixture(scope="module")
def server():
    with streamlit_server(env={"PLAYGROUND_MAX_SECONDS": str(LIMIT)}) as url:
        yield url


def until(predicate, timeout: float = 60.0, what: str = ""):
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def long_run(server: str) -> str:
    spec = presets.get("spiral-mlp").to_dict()
    spec["train"]["epochs"] = 3000
    return f"{server}/train?s={encode(from_dict(spec))}"


def start_run(browser, server: str):
    """A new browser on Train with a long run started and streaming; (page, job id, its key)."""
    page = open_page(browser, long_run(server))
    page.get_by_role("button", name="Train", exact=True).click()
    chart = until(lambda: (c := page.evaluate(CHART)) and c["url"] and c["points"] >= 1 and c, 60,
                  "the run to stream")
    url = urllib.parse.urlsplit(chart["url"])
    assert url.path == f"/api/jobs/{chart['job']}/stream"
    return page, chart["job"], urllib.parse.parse_qs(url.query).get("key", [""])[0]


def get(url: str, headers: dict | None = None) -> tuple[int, str, bytes]:
    """(status, content type, body) of a GET, errors included."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30) as r:
            return r.status, r.headers.get("content-type"), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("content-type"), e.read()


def first_event(server: str, path: str, headers: dict | None = None) -> tuple[int, dict | None]:
    """Open a stream, read its first event, hang up: (status, the event's data or None)."""
    u = urllib.parse.urlsplit(server)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        if r.status != 200:
            return r.status, None
        for raw in r:
            line = raw.decode().strip()
            if line.startswith("data: "):
                return r.status, json.loads(line[6:])
        return r.status, None
    finally:
        conn.close()


def test_the_routes_answer_only_with_the_runs_key(server, browser):
    page, job, key = start_run(browser, server)
    unknown = get(f"{server}/api/jobs/j0-00000000?key={key}")
    assert unknown[0] == 404
    other = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    for path in (f"/api/jobs/{job}", f"/api/jobs/{job}/stream", f"/api/playground/{job}/stream",
                 f"/api/gan/{job}/stream"):
        for query in ("", "?key=", f"?key={other}", f"?key={key[:-1]}", "?key=%F0%9F%98%80", f"?Key={key}"):
            assert get(server + path + query) == unknown, path + query  # the same 404 as an unknown run
        assert get(server + path, {"X-Job-Key": other}) == unknown
    assert len(key) >= 22  # >= 128 bits, in URL-safe base64
    status, kind, body = get(f"{server}/api/jobs/{job}?key={key}")
    assert status == 200 and kind == "application/json" and json.loads(body)["state"] == "running"
    assert get(f"{server}/api/jobs/{job}", {"X-Job-Key": key})[0] == 200

    # a bad Last-Event-ID is ignored: the stream starts over from epoch 1; a good one resumes after it
    until(lambda: len(json.loads(get(f"{server}/api/jobs/{job}?key={key}")[2])["metrics"]) >= 2, 60, "2 epochs")
    for path in (f"/api/jobs/{job}/stream?key={key}", f"/api/playground/{job}/stream?key={key}",
                 f"/api/gan/{job}/stream?key={key}"):
        for bad in ("abc", "-3", "1e3", "²", "1.5", "9" * 5000, "99999999", "0x10"):
            status, event = first_event(server, path, {"Last-Event-ID": bad})
            assert status == 200 and event["metrics"][0]["epoch"] == 1, (path, bad[:20])
        status, event = first_event(server, path, {"Last-Event-ID": "1"})
        assert status == 200 and event["metrics"][0]["epoch"] == 2
    page.get_by_role("button", name="Stop").click()
    until(lambda: page.evaluate(CHART)["state"] == "stopped", 30, "the run to stop")
    page.close()


@pytest.mark.slow
def test_reading_a_stream_changes_nothing_and_the_time_limit_says_so(server, browser):
    page, job, key = start_run(browser, server)
    # its owner opens the run's 2-D stream and hangs up: before the fix that paused the run 5 s later
    status, event = first_event(server, f"/api/playground/{job}/stream?key={key}")
    assert status == 200 and event["state"] == "running"
    # so it trains on until its time limit stops it, and the page says why it stopped
    chart = until(lambda: (c := page.evaluate(CHART)) and c["state"] not in ("", "starting", "running") and c,
                  LIMIT * 4 + 60, "the time limit to stop the run")
    assert chart["state"] == "stopped" and "time limit" in chart["status"], chart["status"]
    assert "time limit" in json.loads(get(f"{server}/api/jobs/{job}?key={key}")[2])["message"]
    shot(page, "time-limit-reason")
    page.close()


def test_another_browser_with_the_link_never_reaches_the_run(server, browser):
    page, job, key = start_run(browser, server)
    b = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    other = b.new_page()
    other.goto(page.url)  # A's address: its setup, never its run
    other.wait_for_selector(READY, timeout=60_000)
    chart = until(lambda: other.evaluate(CHART), 30, "B's chart")
    assert chart["job"] == "" and chart["url"] == "" and "Press Train" in chart["status"]
    for name in ("Pause", "Resume", "Stop"):
        assert other.get_by_role("button", name=name).is_disabled()
    shot(other, "other-browser-same-link")
    for path in (f"/api/jobs/{job}", f"/api/jobs/{job}/stream", f"/api/playground/{job}/stream"):
        r = other.request.get(server + path)  # with B's cookies, by the run's id
        assert r.status == 404 and r.json() == {"error": "no such run"}, path

    for path, what in (("inspect", "There is no trained model yet"), ("explain", "There is no trained model yet")):
        other.get_by_role("link", name=path.capitalize()).click()
        other.get_by_text(what).first.wait_for(timeout=60_000)  # nothing of A's to look inside

    other.get_by_role("link", name="Build").click()
    with other.expect_download() as download:
        other.get_by_role("button", name="JSON").click()
    exported = open(download.value.path()).read()
    assert job not in exported and (key or job) not in exported
    assert json.loads(exported) == from_dict(presets.get("spiral-mlp").to_dict() | {
        "train": {**presets.get("spiral-mlp").to_dict()["train"], "epochs": 3000}}).to_dict()


    a = page.evaluate(CHART)  # A's run went on, untouched
    assert a["job"] == job and a["state"] in ("running", "stopped")
    assert "stopped by the user" not in json.loads(get(f"{server}/api/jobs/{job}?key={key}")[2])["message"]
    b.close()
    page.close()
