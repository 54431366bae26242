"""A student's part of the class board: their own submissions (rename, replace, delete, open), and the Submit
button under a finished run on the Train page."""

from __future__ import annotations

import streamlit as st

from playground.classroom import Board, BoardError, Submission
from playground.classroom.board import PER_STUDENT
from playground.classroom.schema import NAME
from playground.jobs import Job
from playground.registry import PlaygroundError
from ui import keys, state
from ui.text import plain
from ui.views import board_chart as chart
from ui.views import runner
from ui.views.board_store import board


def view(b: Board) -> None:
    """The student's class and their submissions."""
    s = state.get()
    seat = b.seat(s.seat)
    cls = b.class_info(seat.class_id) if seat is not None else None
    if seat is None or cls is None:
        st.warning("This address's student key opens no class: the class ended, or the address was cut when "
                   "copied. Join again with the class's code.", icon=":material/key_off:")
        st.button("Forget this key", on_click=_forget)
        return
    mine = b.mine(s.seat)
    st.subheader(f":material/school: {plain(cls.name, 60)}")
    st.markdown(f"You joined as **{plain(seat.name, 60)}**. Train a variant on the Train page; when its run has "
                f"finished, press **Submit to the class** under its chart. You keep up to {PER_STUDENT} "
                "submissions" + ("" if cls.open else " (the class is closed: it takes no more)") + ".")
    st.page_link("pages/train.py", label="Go to Train", icon=":material/play_circle:")
    st.caption(":material/key: This page's address holds your student key: it lets you (and only you) change "
               "your submissions. Bookmark it; **Copy link** leaves it out.")
    if not mine:
        st.info("You have not submitted a run yet.", icon=":material/hourglass_empty:")
    job = runner.current()
    last = job if job is not None and job.finished and job.metrics and job.state != "failed" else None
    for sub in reversed(mine):
        card(b, sub, last, taken={m.run for m in mine})
    with st.popover("Leave this class here…", icon=":material/logout:"):
        st.markdown("This page forgets your student key. Without this page's address you cannot change your "
                    "submissions again (they stay on the board).")
        st.button("Leave", key=keys.BOARD("leave"), on_click=_forget)


def card(b: Board, sub: Submission, last: Job | None, taken: set[str]) -> None:
    """One submission of this student's, with what they may do to it."""
    with st.container(border=True, key=keys.BOARD("mine", sub.id)):
        setup = sub.spec.get("name", "")
        st.markdown(f"**{plain(sub.title, 60)}**" + (f" · {plain(setup, 60)}" if setup != sub.title else "")
                    + f" · {sub.epochs} epochs · {chart.ago(sub.updated)}")
        st.caption(" · ".join(f"{plain(k)} {v:.4g}" for k, v in list(sub.metrics.items())[:6]))
        with st.container(horizontal=True, gap="small"):
            with st.popover("Rename", icon=":material/edit:"):
                st.text_input("Title", value=sub.title, max_chars=NAME, key=keys.BOARD("title", sub.id))
                st.button("Save", key=keys.BOARD("rename", sub.id), on_click=_own,
                          args=(lambda k: b.rename(k, sub.id, state.widget(keys.BOARD("title", sub.id))),))
            st.button("Replace with my last run", icon=":material/swap_horiz:", key=keys.BOARD("replace", sub.id),
                      disabled=last is None or last.id in taken,
                      help="Your latest finished run takes this submission's place (its setup, numbers and curve)",
                      on_click=_own, args=(lambda k: b.replace(k, sub.id, last.id, last.spec, last.metrics[-1],
                                                                last.metrics),))
            if st.button("Open its setup", icon=":material/open_in_new:", key=keys.BOARD("load", sub.id)):
                state.set_spec(sub.spec)
                st.switch_page("pages/build.py")
            st.button("Delete", icon=":material/delete:", key=keys.BOARD("del", sub.id), on_click=_own,
                      args=(lambda k: b.delete(k, sub.id),))


def submit_box(job: Job | None) -> None:
    """Under a finished run on Train: submit it to this student's class (once; a second press finds it)."""
    s = state.get()
    if not s.seat or job is None or not job.finished or not job.metrics or job.state == "failed":
        return
    b = board()
    seat = b.seat(s.seat) if b is not None else None
    cls = b.class_info(seat.class_id) if seat is not None else None
    if cls is None:
        return
    with st.container(border=True, key=keys.BOARD("submit")):
        done = next((m for m in b.mine(s.seat) if m.run == job.id), None)
        if done is not None:
            st.success(f"Submitted to **{plain(cls.name, 60)}** as “{plain(done.title, 60)}”.",
                       icon=":material/check_circle:")
            st.page_link("pages/class_board.py", label="Your submissions", icon=":material/groups:")
            return
        left, right = st.columns([3, 1], vertical_alignment="center")
        left.markdown(f":material/groups: Submit this run to **{plain(cls.name, 60)}**: its setup, its final "
                      "numbers and its curve go on the teacher's board, under your name.")
        right.button("Submit to the class", type="primary", icon=":material/upload:", key=keys.BOARD("submit-run"),
                     on_click=_submit, args=(b, job), width="stretch")


def _submit(b: Board, job: Job) -> None:
    s = state.get()
    try:
        b.submit(s.seat, job.id, job.spec, job.metrics[-1], job.metrics)
    except PlaygroundError as e:  # the board's refusal, or a spec it does not take
        s.notices.append(("error", f"Not submitted: {e.message}"))
    except Exception as e:  # noqa: BLE001 -- a database that is down: the run stays, try again
        s.notices.append(("error", f"Not submitted: the class board's database could not be reached "
                                   f"({type(e).__name__}); try again in a moment."))


def _own(fn) -> None:
    s = state.get()
    try:
        fn(s.seat)
    except BoardError as e:
        s.notices.append(("error", e.message))


def _forget() -> None:
    state.get().seat = None
