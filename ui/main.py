"""The navigation: every page, in order. Runs on every script run (app.py calls `run`)."""

from __future__ import annotations

import logging
import re

import streamlit as st

from ui import a11y, state
from ui.navigation import HIDDEN, PAGES  # noqa: F401 (PAGES: the app's pages, read by tests too)
from ui.text import plain
from ui.views import lessons, runner
from ui.views.share import share_button

ICON = "🧠"  # the tab's icon: an emoji is drawn by the browser; a :material/…: icon would be fetched from a CDN
log = logging.getLogger("playground.pages")


def run() -> None:
    """Set up the page, restore the session's state, and run the chosen page."""
    st.set_page_config(page_title="playground", page_icon=ICON, layout="wide")
    a11y.styles()
    try:
        state.start()  # the session's one state object: made on its first run, found again after a reload
        runner.record_finished()  # a run that ended since the last script run joins the finished runs
        pages = [st.Page(path, title=title, icon=icon, url_path=url, default=(i == 0))
                 for i, (path, title, icon, url) in enumerate(PAGES)]
        pages += [st.Page(path, title=title, icon=icon, url_path=url, visibility="hidden")
                  for path, title, icon, url in HIDDEN]
        page = st.navigation(pages, position="top")
        with st.container(horizontal=True, horizontal_alignment="right"):
            share_button(state.PRIVATE)
            state.remember()  # a browser's first session gives it its secret (a cookie): reloads find their runs
        state.show_notices()
        lessons.banner(next((f for f, *_, url in PAGES if url == page.url_path), PAGES[0][0]))
        page.run()
    except Exception as e:  # noqa: BLE001 -- the page's error boundary (st.rerun/st.stop are not Exceptions)
        failed(e)
    try:
        state.sync_url()
    except Exception as e:  # noqa: BLE001 -- a link that cannot be written keeps the last one
        log.exception("the link could not be updated: %s", e)


def failed(e: Exception) -> None:
    """Log a page's exception on the server; show one line of it, never a traceback or a server path."""
    log.exception("a page failed")
    st.error(f"Something went wrong on this page: {plain(one_line(e), 200)}. Your setup is kept: "
             "undo the last change, or open another page.", icon=":material/error:")


def one_line(e: BaseException) -> str:
    """The exception's type and the first line of its message, with anything like a file path left out."""
    text = str(e).strip().splitlines()[0] if str(e).strip() else ""
    text = re.sub(r"(?<![\w.])(?:[A-Za-z]:|\.{1,2})?[\\/][^\s'\"]+", "…", text)  # /srv/x.py, C:\x, ./y.csv; not 1/2
    return f"{type(e).__name__}: {text}" if text else type(e).__name__
