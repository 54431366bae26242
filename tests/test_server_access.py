"""ui/server: a run's key opens its routes and nothing else opens them; the grace period of a closed page's
runs (ui/server/owners.py); the polled views' bounded metrics; the package imports without cycles."""

from __future__ import annotations

import ast
import threading
import time
from pathlib import Path

import pytest
from starlette.requests import Request

from ui import server
from ui.server import access, owners, streams


class FakeJob:
    def __init__(self, job_id: str, owner: str = "o", epochs: int = 0) -> None:
        self.id, self.owner, self.state, self.message = job_id, owner, "running", ""
        self.metrics = [{"epoch": i + 1} for i in range(epochs)]
        self.stopped = threading.Event()

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed", "stopped")

    def stop(self, reason: str = "") -> None:
        self.state, self.message = "stopped", reason
        self.stopped.set()


class FakePool:
    def __init__(self, *jobs: FakeJob) -> None:
        self._jobs = {j.id: j for j in jobs}
        self._closed = False

    def get(self, job_id):
        return self._jobs.get(job_id)

    def jobs(self, owner=None):
        return [j for j in self._jobs.values() if owner is None or j.owner == owner]


@pytest.fixture
def pool(monkeypatch):
    p = FakePool(FakeJob("j1-abcd", epochs=3), FakeJob("j2-ef01", owner="other"))
    monkeypatch.setattr(server._STATE, "pool", p)
    return p


def request(job_id: str, query: str = "", headers: dict | None = None) -> Request:
    raw = [(k.lower().encode(), v.encode("latin-1")) for k, v in (headers or {}).items()]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": raw, "path_params": {"job": job_id},
                    "query_string": query.encode()})


def test_keys_are_long_distinct_and_not_the_id():
    keys = {access.job_key(f"j{i}-0000") for i in range(100)}
    assert len(keys) == 100
    k = access.job_key("j1-abcd")
    assert len(k) == 43 and k == access.job_key("j1-abcd") and "j1" not in k  # 256 bits, URL-safe


def test_only_the_runs_own_key_finds_it(pool):
    key = access.job_key("j1-abcd")
    assert access.find(request("j1-abcd", f"key={key}")) is pool.get("j1-abcd")
    assert access.find(request("j1-abcd", headers={"X-Job-Key": key})) is pool.get("j1-abcd")
    for query in ("", "key=", f"key={access.job_key('j2-ef01')}", f"key={key[:-1]}", f"key={key}x",
                  "key=%00", "key=%ED%A0%80"):
        assert access.find(request("j1-abcd", query)) is None, query
    assert access.find(request("j9-none", f"key={access.job_key('j9-none')}")) is None  # unknown run
    assert access.find(request("j1-abcd" * 100, f"key={key}")) is None


def test_one_answer_for_unknown_runs_and_wrong_keys():
    a, b = access.not_found(), access.not_found()
    assert a.status_code == 404 and a.body == b.body and dict(a.headers) == dict(b.headers)


@pytest.mark.parametrize("value, expected", [
    (None, 0), ("2", 2), ("0", 0), ("3", 3), ("", 0), ("4", 0), ("-1", 0), ("abc", 0), ("1.5", 0), ("1e2", 0),
    ("²", 0), ("٣", 0), ("9" * 5000, 0), ("0x1", 0), ("+1", 0)])
def test_a_bad_last_event_id_starts_over(value, expected):
    """A count of the epochs the browser has resumes after them; anything else (text, negative, more than the
    run has, digits Python's int() would take but HTTP does not mean) starts the stream over."""
    headers = [] if value is None else [(b"last-event-id", value.encode())]
    req = Request({"type": "http", "method": "GET", "path": "/", "path_params": {"job": "j1-abcd"},
                   "query_string": b"", "headers": headers})
    assert access.resume_from(req, FakeJob("j1-abcd", epochs=3)) == expected


def test_polled_metrics_stay_bounded_and_keep_the_last_epoch():
    metrics = [{"epoch": i + 1, "train_loss": 1.0 / (i + 1), "lr": 0.1, "seconds": i} for i in range(5000)]
    thin = streams.thin(metrics, most=500)
    assert len(thin) <= 501 and thin[-1]["epoch"] == 5000 and thin[0]["epoch"] == 1
    assert set(thin[0]) == {"epoch", "train_loss"}
    assert streams.thin(metrics[:10]) == streams.slim(metrics[:10]) and streams.thin([]) == []


@pytest.fixture
def left(monkeypatch, pool):
    """A fresh list of closed sessions; grace(seconds) sets the grace period."""
    monkeypatch.setattr(server._STATE, "left", {})
    return lambda seconds: monkeypatch.setenv("PLAYGROUND_GRACE_SECONDS", str(seconds))


def test_a_session_of_the_same_browser_takes_the_runs_over(left, pool):
    left(60)
    owners.leave("o", "browser-a")
    timer = server._STATE.left["o"].timer
    assert owners.claim("browser-b") is None and owners.claim("") is None  # another browser: nothing
    assert owners.claim("browser-a") == "o"
    assert owners.claim("browser-a") is None  # once
    timer.join(5)  # cancelled: the thread ends without stopping anything
    assert not timer.is_alive() and pool.get("j1-abcd").state == "running"


def test_a_reconnected_session_takes_its_own_id_back(left):
    left(60)
    owners.leave("o", "browser-a")
    owners.leave("o2", "browser-a")
    assert owners.claim("browser-a", prefer="o") == "o"
    assert owners.claim("browser-a", prefer="zzz") == "o2"  # else the one that left last


def test_runs_nobody_takes_over_stop_after_the_grace_period_saying_why(left, pool):
    left(0.05)
    owners.leave("o", "browser-a")
    job = pool.get("j1-abcd")
    assert job.stopped.wait(30)
    assert "page was closed" in job.message
    assert pool.get("j2-ef01").state == "running"  # another owner's run is left alone
    assert not owners.waiting("o") and owners.claim("browser-a") is None


def test_a_session_that_is_connected_again_keeps_its_runs(left, pool):
    """Streamlit may reconnect a dropped connection to the same session without rerunning it: while that
    session is connected, its runs are looked at again a grace period later instead of stopped."""
    left(0.02)
    looks = []
    back = threading.Event()

    def connected() -> bool:
        looks.append(1)
        return not back.is_set()
    owners.leave("o", "browser-a", connected=connected)
    job = pool.get("j1-abcd")
    deadline = time.monotonic() + 30
    while len(looks) < 3:  # three grace periods over, the session connected at each
        assert time.monotonic() < deadline and not job.stopped.wait(0.01)
    assert job.state == "running"
    back.set()  # gone for good
    assert job.stopped.wait(30) and "page was closed" in job.message


def test_the_server_package_has_no_import_cycle():
    """ui/server/__init__.py imports none of its own modules, and none of them is imported inside a function."""
    folder = Path(server.__file__).parent
    init = ast.parse((folder / "__init__.py").read_text())
    assert not [n for n in ast.walk(init) if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("ui.")]
    for path in folder.glob("*.py"):
        tree = ast.parse(path.read_text())
        for fn in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]:
            inner = [n for n in ast.walk(fn) if isinstance(n, ast.Import | ast.ImportFrom)]
            assert all(not (getattr(n, "module", "") or "").startswith("ui") for n in inner), (path.name, fn.name)


def test_the_debug_listing_is_mounted_only_when_asked(monkeypatch):
    from ui.server.routes import routes
    monkeypatch.delenv("PLAYGROUND_BENCH_ROUTES", raising=False)
    assert not [r for r in routes() if "debug" in r.path]
    monkeypatch.setenv("PLAYGROUND_BENCH_ROUTES", "1")
    assert [r.path for r in routes("/base") if "debug" in r.path] == ["/base/api/debug/jobs"]


def test_a_reload_shows_the_latest_run_of_each_kind(monkeypatch):
    """ui/state.py: the session that takes over finds Train's run, the A/B pair and the 2-D run again."""
    from ui import state

    def job(job_id, group=None, views=None, lr=0.1):
        j = FakeJob(job_id)
        j.group, j.wanted_views = group, views or {}
        j.spec = {"model": {"layers": []}, "train": {"optimizer": {"type": "Adam", "lr": lr}}}
        return j
    jobs = [job("t1"), job("a1", "g1"), job("b1", "g1", lr=0.3), job("p1", views={"grid2d": {}}), job("t2"),
            job("a2", "g2"), job("b2", "g2", lr=0.5)]
    monkeypatch.setattr(server._STATE, "pool", FakePool(*jobs))
    s = state.Session(spec={})
    state._take_over(s, "o")
    assert (s.job_id, s.pg2d.job_id) == ("t2", "p1")
    assert (s.ab["a"], s.ab["b"]) == ("a2", "b2") and s.ab["changes"] == ["train.optimizer.lr: 0.1 → 0.5"]
    kept = state.Session(spec={}, job_id="mine")
    state._take_over(kept, "o")
    assert kept.job_id == "mine"  # a session that has its own run keeps it
