"""Live views stream where they can and poll where they cannot: the switch between the two, for every page.

A live view (Train's chart, A/B's two charts, the 2-D Playground) is a component fed by its run's
Server-Sent-Events stream. Behind a proxy that forwards only Streamlit's own paths that stream fails: the
component says so, and this session's live views switch to a fragment that reruns every POLL seconds and
hands the same component the same data (with a quiet note). The component keeps trying the stream, at once
for a new run and every `streams.retry_s()` seconds otherwise; when it works again the views go back to
streaming.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from playground.jobs import Job
from ui import state

POLL = 0.5  # seconds between updates of a polled live view: 2 a second
NOTE = "Live updates run in a slower mode here: this server does not pass the app's live stream through."
MOVING = ("queued", "starting", "running")  # states that change without a click


def slow() -> bool:
    """Whether this session's live views poll (their stream failed here)."""
    return state.get().slow_live


def follow(result) -> None:
    """Switch this session's live views to what a component found: its stream 'failed' (poll) or is 'ok'."""
    s = state.get()
    said = result.get("stream") if result is not None else None
    if said == "failed" and not s.slow_live:
        s.slow_live = True
        st.rerun()
    elif said == "ok" and s.slow_live:
        s.slow_live = False
        st.rerun()


def phase(job: Job | None) -> tuple:
    """What the page's buttons depend on: whether there is a run, it is paused, it has ended."""
    return (job is not None, job is not None and job.state == "paused", job is not None and job.finished)


def show(job: Job | None, draw: Callable[[bool], object]) -> None:
    """Draw `job`'s live view: `draw(feed)` renders its component and returns the component's result; with
    feed=True the component is handed the run's data (the page polls) instead of reading its stream."""
    if not slow():
        follow(draw(False))
        return
    drawn = phase(job)

    @st.fragment(run_every=POLL if job is not None and job.state in MOVING else None)
    def polled() -> None:
        follow(draw(True))
        st.caption(NOTE)
        if phase(job) != drawn:  # paused or ended since the page was drawn: redraw its buttons
            st.rerun()
    polled()
