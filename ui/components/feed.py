"""What the live views that stream a run's frames share (the 2-D page's, the GAN lab's): feed.js (the stream
and its polled fallback, prepended to each view's JavaScript) and the state a page is drawn for."""

from __future__ import annotations

from pathlib import Path

JS = (Path(__file__).parent / "feed.js").read_text()


def expected_state(job) -> str:
    """The state the page is drawn for; a run still starting counts as what it will be (no extra rerun)."""
    if job is None:
        return ""
    if job.state in ("queued", "starting"):
        return "paused" if job.start_paused else "running"
    return job.state
