"""Runs outlive their browser session for a grace period, so that a reload or a dropped connection finds them.

Every session names its runs with an owner id. When Streamlit releases a session (tab closed, reloaded, or
its connection dropped), `leave` keeps its owner id here for GRACE seconds; a new session of the same browser
(the browser is known by a secret in its own cookie: see ui/state.py) `claim`s it and with it the runs. An id
nobody claims in time has its unfinished runs stopped, so runs left behind do not train on for nobody;
unless its own session is connected again by then (Streamlit reconnects a dropped connection to the same
session without always rerunning it): that one is looked at again a grace period later. A link carries no
part of this: another browser never holds the cookie's secret.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from playground import uploads as upload_store
from ui import server

GRACE = 60.0  # seconds a session's runs wait for its browser to come back (PLAYGROUND_GRACE_SECONDS)
REASON = "its page was closed (no window of that browser came back within {:.0f} s)"


def grace() -> float:
    """Seconds an abandoned session's runs wait (PLAYGROUND_GRACE_SECONDS over the default)."""
    v = os.environ.get("PLAYGROUND_GRACE_SECONDS")
    return float(v) if v else GRACE


@dataclass
class _Left:
    browser: str
    since: float
    connected: Callable[[], bool]
    timer: threading.Timer | None = field(default=None, repr=False)


def leave(owner_id: str, browser: str, connected: Callable[[], bool] = lambda: False) -> None:
    """A session ended: its runs stop after the grace period unless a session of `browser` claims them (or
    `connected()` says that the same session is connected again)."""
    _wait(owner_id, _Left(browser, time.monotonic(), connected))


def _wait(owner_id: str, left: _Left) -> None:
    wait = grace()
    left.timer = threading.Timer(wait, _expire, (owner_id, wait))
    left.timer.daemon = True
    with server._STATE.lock:
        old = server._STATE.left.pop(owner_id, None)
        server._STATE.left[owner_id] = left
    if old is not None and old.timer is not None and old.timer is not left.timer:
        old.timer.cancel()
    left.timer.start()


def claim(browser: str, prefer: str | None = None) -> str | None:
    """Take over a session of `browser` that ended within the grace period: `prefer` if it is one (the same
    session, reconnected), else the one that ended last (a reload). Its owner id, or None."""
    if not browser:
        return None  # a session that never knew its browser can take nothing over
    with server._STATE.lock:
        mine = {k: v for k, v in server._STATE.left.items() if v.browser == browser}
        if not mine:
            return None
        owner_id = prefer if prefer in mine else max(mine, key=lambda k: mine[k].since)
        left = server._STATE.left.pop(owner_id)
    if left.timer is not None:
        left.timer.cancel()
    return owner_id


def waiting(owner_id: str) -> bool:
    """Whether `owner_id`'s session ended and its runs wait for its browser."""
    return owner_id in server._STATE.left


def _expire(owner_id: str, wait: float) -> None:
    with server._STATE.lock:
        left = server._STATE.left.pop(owner_id, None)
    if left is None:
        return  # claimed in time
    if left.connected():  # the same session is back, though it has not run since: look again later
        _wait(owner_id, left)
        return
    upload_store.store().forget(owner_id)  # nobody came back: its uploads go too
    if not server.started():
        return
    for job in server.pool().jobs(owner_id):
        if not job.finished:
            job.stop(REASON.format(wait))
