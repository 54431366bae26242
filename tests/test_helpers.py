"""The shared test helpers: wait_until returns what it waited for and fails, named, when it does not come."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from helpers import APP, wait_until


def test_app_is_the_entry_point():
    assert Path(APP).name == "app.py" and Path(APP).is_file()


def test_wait_until_returns_the_first_true_value():
    counter = itertools.count()
    assert wait_until(lambda: next(counter) >= 3 and "ready", timeout=5, every=0) == "ready"


def test_wait_until_fails_naming_what_it_waited_for():
    with pytest.raises(AssertionError, match="timed out after 0.05 s waiting for the moon"):
        wait_until(lambda: False, timeout=0.05, what="the moon", every=0.01)
