"""The Class page before a class: join one with its code, or start one (teachers)."""

from __future__ import annotations

import streamlit as st

from playground.classroom import Board, BoardError
from playground.classroom.checks import CODE_LENGTH, code
from playground.classroom.schema import NAME
from ui import keys, state
from ui.text import message
from ui.views.board_store import address

JOIN = "join"  # URL key of a join link: ?join=CODE fills in the code


def view(b: Board) -> None:
    """Join (left) and start (right) side by side."""
    left, right = st.columns(2, gap="large")
    with left, st.container(border=True, key=keys.BOARD("join")):
        join_form(b)
    with right, st.container(border=True, key=keys.BOARD("start")):
        start_form(b)


def join_form(b: Board) -> None:
    """A student joins with the class's code and the name the board will show."""
    st.subheader(":material/login: Join a class")
    st.caption("Your teacher shows the class's code (or a QR code that opens this page with it filled in).")
    given = code(st.query_params.get(JOIN) or "") or ""
    with st.form("board-join-form", border=False):
        typed = st.text_input("Class code", value=given, max_chars=4 * CODE_LENGTH, placeholder="e.g. HJK234",
                              key=keys.BOARD("join-code"))
        name = st.text_input("Your name on the board", max_chars=NAME, placeholder="e.g. Ada L.",
                             key=keys.BOARD("join-name"), help="Shown to your teacher and on the projector.")
        if st.form_submit_button("Join", type="primary", icon=":material/login:"):
            try:
                _, _, key = b.join(typed, name, address())
            except BoardError as e:
                st.error(message(e.message), icon=":material/error:")
                return
            state.get().seat = key  # the page now shows the class and what to do next
            st.query_params.pop(JOIN, None)
            st.rerun()


def start_form(b: Board) -> None:
    """A teacher starts a class: a name; the board gives a join code and the teacher's key."""
    st.subheader(":material/co_present: Start a class")
    st.caption("For teachers: you get a short code for your students to join with, and a board that ranks what "
               "they submit, live.")
    with st.form("board-start-form", border=False):
        name = st.text_input("Class name", max_chars=NAME, placeholder="e.g. Deep learning, Tuesday 10:00",
                             key=keys.BOARD("start-name"))
        if st.form_submit_button("Start the class", type="primary", icon=":material/add:"):
            try:
                _, key = b.start_class(name, address())
            except BoardError as e:
                st.error(message(e.message), icon=":material/error:")
                return
            state.get().teach = key  # the page now shows the board, its code and the key's warning
            st.rerun()
    st.page_link("pages/presenter.py", label="Presenter view (lessons on a projector)", icon=":material/slideshow:")
    st.caption(f"Names are at most {NAME} characters, shown as plain text.")
