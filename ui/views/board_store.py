"""The class board of this process (one database connection pool for every session) and who is asking."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import streamlit as st

from playground.classroom import Board, db, engine
from playground.registry import PlaygroundError
from ui import server
from ui.text import message

log = logging.getLogger("playground.board")


@st.cache_resource(show_spinner=False)
def _board(url: str) -> Board:
    return Board(engine(url))


def board() -> Board | None:
    """The board, or None with a message on the page when its database cannot be opened (nothing is cached
    then: the next page run tries again)."""
    try:
        return _board(db.url())
    except PlaygroundError as e:
        st.error(f"The class board is not available: {message(e.message)}", icon=":material/error:")
    except Exception as e:  # noqa: BLE001 -- a database that is down or refuses us: say so, log the details
        log.exception("the class board's database cannot be opened")
        st.error(f"The class board's database cannot be reached ({type(e).__name__}); try again in a moment.",
                 icon=":material/error:")
    return None


def address() -> str | None:
    """The client's address, which the join rate limit counts by (None on localhost)."""
    try:
        return st.context.ip_address
    except Exception:  # noqa: BLE001 -- no client context (a bare script run)
        return None


def app_link(page: str, **params: str) -> str:
    """An absolute link to one of the app's pages (`page` is its url path) with `params`; relative where the
    browser's address is not known (AppTest)."""
    from urllib.parse import urlencode
    base = server.base_path()
    path = f"/{base}/{page}" if base else f"/{page}"
    query = f"?{urlencode(params)}" if params else ""
    url = st.context.url
    if not url:
        return path + query
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{path}{query}"
