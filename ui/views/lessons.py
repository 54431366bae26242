"""A started lesson: its setup becomes the session's, and its text stays above the page it takes place on.

The lessons themselves are data (`playground.lessons`, one file each); this module only starts, shows and
ends one. A started lesson stays with the session (`Session.lesson`, its name) until the learner ends it
or opens another setup, so its text never gets lost.
"""

from __future__ import annotations

import streamlit as st

from playground import lessons
from playground.registry import PlaygroundError
from ui import keys, state


def page_file(url: str) -> str:
    """The pages/ file of a page's url path (`train` → `pages/train.py`)."""
    from ui.navigation import PAGES
    return next(f for f, *_, path in PAGES if path == url)


def page_title(url: str) -> str:
    """The navigation title of a page's url path (`train` → `Train`)."""
    from ui.navigation import PAGES
    return next(title for _, title, _, path in PAGES if path == url)


def current() -> lessons.Lesson | None:
    """The started lesson, if any (a name that no longer exists ends it quietly)."""
    name = state.get().lesson
    if not name:
        return None
    try:
        return lessons.get(name)
    except PlaygroundError:
        return None


def banner(page: str) -> None:
    """The started lesson's text, what to try and what to notice, above `page` (a pages/ file) when the
    lesson takes place there."""
    lesson = current()
    if lesson is None or page != page_file(lesson.page):
        return
    with st.container(border=True, key=keys.LESSON("banner")):
        head, back, close = st.columns([4, 1, 1], vertical_alignment="center")
        head.markdown(f":material/school: **Lesson {lesson.order} · {lesson.title}**")
        back.page_link("pages/lessons.py", label="All lessons", icon=":material/list:")
        close.button("End lesson", key=keys.LESSON("end"), type="tertiary", on_click=end, width="stretch")
        st.markdown(lesson.text)
        st.markdown(f"**Try this:** {lesson.try_this}")
        st.markdown(f"**What to notice:** {lesson.notice}")


def start(name: str) -> str:
    """Start lesson `name`: its setup becomes the session's (undoable) and its banner shows; returns the
    pages/ file it takes place on."""
    lesson = lessons.get(name)
    state.set_spec(lessons.opening_spec(lesson))
    state.get().lesson = lesson.name
    return page_file(lesson.page)


def end() -> None:
    """End the started lesson (its banner goes)."""
    state.get().lesson = None
