"""What every kind of test shares: where the app is, and one way to wait for a condition."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")  # the app's entry point, for AppTest.from_file


def wait_until(predicate: Callable[[], object], timeout: float = 60.0, what: str = "the condition",
               every: float = 0.05):
    """Poll `predicate()` every `every` seconds until it returns something true, and return that; fail
    after `timeout` seconds, naming `what`. A test waits for what it expects, never for a fixed time."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out after {timeout:g} s waiting for {what}"
        time.sleep(every)
