"""Helpers for AppTests of pages that look at a trained run (Inspect, Explain)."""

from __future__ import annotations

import re

from helpers import APP
from streamlit.testing.v1 import AppTest

from playground import presets
from ui.views import runner


def shown(markdown: str) -> str:
    """Markdown source as a reader sees it: the backslash escapes of user text (ui.text.plain) removed."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace("\u2060", "")


def trained(pool, preset: str, epochs: int, **changes):
    """`preset` trained for `epochs` on the CPU through the real worker pool, tracked as Train tracks it."""
    spec = presets.get(preset).to_dict()
    spec["train"].update(epochs=epochs, device="cpu", **changes)
    job = pool.submit(spec, track=runner.TRACK)
    assert job.wait(180), "training did not finish"
    assert job.state == "done", job.message
    return job


def open_page(page: str, job=None) -> AppTest:
    """The app switched to `page` (e.g. "pages/inspection.py"), looking at `job` when given."""
    at = AppTest.from_file(APP, default_timeout=120).run()
    if job is not None:
        at.session_state["pg"].job_id = job.id
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at
