"""The presenter view: for a projector. Large type, no side panels; one lesson at a time, the class's join
code with its QR code and link, the submission the teacher put on the projector, and a setup's link to share
(read-only if the teacher locks it)."""

from __future__ import annotations

import streamlit as st

from playground import lessons as course
from playground.classroom import Board, ClassInfo, main_metric
from ui import keys, state
from ui.text import plain
from ui.views import board_chart as chart
from ui.views import lessons
from ui.views.board_lock import locked_link
from ui.views.board_store import app_link, board
from ui.views.board_teacher import REFRESH, join_link, lesson_index

QR_CHARS = 1200  # characters of a link drawn as a QR code (longer ones make codes too dense to scan)
CSS = """<style>
[data-testid="stHeader"], .st-key-share-link, .st-key-lesson-banner { display: none !important; }
[data-testid="stMainBlockContainer"] { padding-top: 1.5rem; max-width: 100%; }
.st-key-presenter p, .st-key-presenter li { font-size: clamp(1.5rem, 1.8vw, 2.4rem); line-height: 1.4; }
.st-key-presenter h1 { font-size: clamp(2.4rem, 3vw, 4rem); }
.st-key-presenter h2 { font-size: clamp(1.9rem, 2.3vw, 3rem); }
.st-key-presenter .st-key-join-code p { font-size: clamp(3rem, 4.4vw, 6rem); font-family: "Source Code Pro",
  monospace; letter-spacing: 0.12em; font-weight: 600; margin: 0; }
.st-key-presenter .st-key-join-link p { font-size: clamp(1rem, 1.2vw, 1.6rem); overflow-wrap: anywhere; }
.st-key-presenter .st-key-join-qr img { width: min(100%, 40vh) !important; height: auto; }
.st-key-presenter button p, .st-key-presenter a p { font-size: clamp(1.1rem, 1.1vw, 1.5rem); }
</style>"""


def view() -> None:
    """The whole presenter view."""
    st.html(CSS)
    s = state.get()
    b = board() if s.teach or s.presenter else None
    cls = shown_class(b)
    follow(cls)
    with st.container(key=keys.PRESENTER):
        head, leave = st.columns([6, 1], vertical_alignment="center")
        head.markdown(f"# {plain(cls.name, 60)}" if cls else "# Lessons")
        leave.page_link("pages/class_board.py", label="Exit", icon=":material/close:", help="Back to the Class page")
        left, right = st.columns([1.8, 1], gap="large")
        with left:
            lesson()
            if b is not None and cls is not None:
                projector(b)
        with right:
            join(cls)
        share()


def shown_class(b: Board | None) -> ClassInfo | None:
    """The class this view shows: opened by a presenter key, or by the teacher's own key."""
    s = state.get()
    if b is None:
        return None
    return (b.viewer(s.presenter) if s.presenter else None) or (b.teacher(s.teach) if s.teach else None)


def follow(cls: ClassInfo | None) -> None:
    """Move to the class's lesson when the teacher chose another one (Previous and Next still move freely)."""
    s = state.get()
    if cls is None or cls.lesson == s.slide_lesson:
        return
    s.slide_lesson = cls.lesson
    i = lesson_index(cls.lesson)
    if i is not None:
        s.slide = i


def lesson() -> None:
    """One lesson card at a time, with Previous and Next."""
    s = state.get()
    s.slide = min(max(s.slide, 0), len(course.course()) - 1)
    card = course.course()[s.slide]
    with st.container(border=True, key=keys.PRESENTER("lesson")):
        st.markdown(f"## {card.title}")  # the package's own lesson text (Markdown by design)
        st.markdown(card.text)
        st.markdown(f"**Try it:** {card.try_this}")
    with st.container(horizontal=True, vertical_alignment="center", key=keys.PRESENTER("nav")):
        st.button("Previous", icon=":material/arrow_back:", key=keys.PRESENTER("prev"), disabled=s.slide == 0,
                  on_click=_move, args=(-1,))
        st.markdown(f"Lesson {s.slide + 1} of {len(course.course())}", width="content")
        st.button("Next", icon=":material/arrow_forward:", key=keys.PRESENTER("next"),
                  disabled=s.slide == len(course.course()) - 1, on_click=_move, args=(1,))
        if st.button("Start it here", icon=":material/play_arrow:", key=keys.PRESENTER("start"),
                     help="Opens the lesson's setup on its page, in this tab"):
            st.switch_page(lessons.start(card.name))


def join(cls: ClassInfo | None) -> None:
    """The class's join code, QR code and short link (nothing secret in any of them)."""
    if cls is None:
        st.info("Start a class on the Class page to show its join code and QR code here.", icon=":material/groups:")
        return
    link = join_link(cls)
    st.markdown("**Join the class**")
    with st.container(key=keys.JOIN("code")):
        st.markdown(cls.code)
    with st.container(key=keys.JOIN("qr")):
        st.image(chart.qr_png(link, 10), width="stretch", caption="Scan to join")
    with st.container(key=keys.JOIN("link")):
        st.markdown(plain(link, 200))
    if not cls.open:
        st.caption("The class is closed: it takes no new students.")


def projector(b: Board) -> None:
    """The submission the teacher put on the projector (from the Class page), followed live."""
    @st.fragment(run_every=REFRESH)
    def shown() -> None:
        cls = shown_class(b)
        if cls is not None and cls.lesson != state.get().slide_lesson:
            st.rerun()  # the teacher put the class on another lesson: the whole view moves to it
        subs = {x.id: x for x in b.submissions(cls.id)} if cls is not None else {}
        sub = subs.get(cls.presented) if cls is not None else None
        if sub is None:
            st.caption("Put a submission on the projector from the Class page's board: it shows here.")
            return
        metric = main_metric(list(subs.values()), cls.metric)
        with st.container(border=True, key=keys.PRESENTER("projector")):
            st.markdown(f"## {plain(chart.label(sub), 80)}")
            st.markdown(f"{plain(metric)}: **{chart.value(sub, metric)}** after {sub.epochs} epochs · "
                        f"{plain(sub.spec.get('name', ''), 60)}")
            st.plotly_chart(chart.curves([sub], metric, height=340, font=20), width="stretch",
                            key=keys.PRESENTER("curve"))
    shown()


def share() -> None:
    """This tab's setup as a link to open on students' machines, read-only if locked."""
    s = state.get()
    with st.expander("Share a setup with the class", icon=":material/share:"):
        st.markdown(f"The setup open here: **{plain(s.spec.get('name', 'Untitled'), 60)}**. Load another on "
                    "Build or with a lesson, then come back.")
        locked = st.toggle("Read-only: students see it and make their own copy to change it", value=True,
                           key=keys.PRESENTER("lock"))
        try:
            link = locked_link(s.spec) if locked else app_link("build", **{state.URL_KEY: state.link_text() or ""})
        except Exception:  # noqa: BLE001 -- a setup that is not valid has no link
            st.warning("This setup is not valid yet: fix it on Build first.")
            return
        st.code(link, language=None, wrap_lines=True)
        if len(link) <= QR_CHARS:
            st.image(chart.qr_png(link, 4), width=320, caption="Scan to open this setup")
        st.caption("Read-only is a classroom convenience, not a lock: anyone can remove it from the link.")


def _move(step: int) -> None:
    s = state.get()
    s.slide = min(max(s.slide + step, 0), len(course.course()) - 1)
