"""The teacher's board: the class's code and join link, its submissions ranked live, their curves, and actions."""

from __future__ import annotations

import streamlit as st

from playground import lessons as course
from playground.classroom import (
    Board,
    BoardError,
    ClassInfo,
    higher_is_better,
    main_metric,
    metric_names,
    ranked,
    setup_metric,
)
from ui import keys, state
from ui.text import plain
from ui.views import board_chart as chart
from ui.views.board_store import app_link

NO_LESSON = -1  # the Lesson box's "No lesson"
REFRESH = 3.0  # seconds between the board's updates: calm (one database read and a redraw per teacher)


def view(b: Board) -> None:
    """The whole teacher view, for the class of this session's teacher key."""
    s = state.get()
    cls = b.teacher(s.teach)
    if cls is None:
        st.warning("This address's teacher key opens no class: the class ended, or the address was cut when "
                   "copied.", icon=":material/key_off:")
        st.button("Forget this key", on_click=_forget)
        return
    header(b, cls)
    live(b)


def join_link(cls: ClassInfo) -> str:
    """The link students open to join (it carries the code, nothing secret)."""
    return app_link("class", join=cls.code)


def presenter_link(b: Board) -> str:
    """The presenter view of this class, with this session's setup (to share from there)."""
    params = {state.PRESENTER: b.viewer_key(state.get().teach) or ""}
    if state.link_text():
        params[state.URL_KEY] = state.link_text()
    return app_link("present", **params)


def header(b: Board, cls: ClassInfo) -> None:
    """The class's name, code, join link and QR code, and the teacher's controls."""
    st.subheader(f":material/groups: {plain(cls.name, 60)}")
    code_col, qr_col, controls = st.columns([2.2, 1, 1.6], gap="medium")
    with code_col:
        st.markdown(f"Students join with the code  \n## `{cls.code}`")
        st.caption("or with this link:")
        st.code(join_link(cls), language=None, wrap_lines=True)
    qr_col.image(chart.qr_png(join_link(cls), 6), caption="Scan to join", width=150)
    with controls:
        state.set_widget(keys.BOARD("open"), cls.open)  # the database says (another tab may have changed it)
        st.toggle("Class open", key=keys.BOARD("open"), help="While open, students can join and submit",
                  on_change=_act, args=(lambda k: b.set_open(k, state.widget(keys.BOARD("open"))),))
        st.link_button("Presenter view", presenter_link(b), icon=":material/slideshow:",
                       help="Opens in a new tab: the join code, one lesson and the run you put on the projector, "
                            "in large type, with this setup to share. Its address holds a key that opens only "
                            "that view, never your teacher key")
        with st.popover("End the class…", icon=":material/delete_forever:"):
            st.markdown("Deletes the class, its students and every submission. Their keys open nothing after.")
            st.button("End it now", type="primary", key=keys.BOARD("end"), on_click=_end, args=(b,))
    st.caption(":material/key: This page's address holds your teacher key: bookmark it to come back, and never "
               "share it (**Copy link** leaves it out). Share the join link instead.")


def live(b: Board) -> None:
    """The submissions, ranked by the chosen metric, with their curves: redrawn every REFRESH seconds."""
    @st.fragment(run_every=REFRESH)
    def board_view() -> None:
        s = state.get()
        cls = b.teacher(s.teach)
        if cls is None:
            st.rerun()  # ended (in another tab): the page says so
        subs = b.submissions(cls.id)
        names = metric_names(subs)
        metric = main_metric(subs, cls.metric)
        if metric not in names:
            names = [metric, *names]
        which, top, note = st.columns([1.2, 1, 1.6], vertical_alignment="bottom")
        with which:
            lesson_picker(b, cls)
        state.set_widget(keys.BOARD("metric"), metric)  # the class's choice, else the submissions' main metric
        metric = top.selectbox("Rank by", names, key=keys.BOARD("metric"), on_change=_act,
                      args=(lambda k: b.set_metric(k, state.widget(keys.BOARD("metric"))),),
                      help="The metric of each submission's last epoch. Loss and error rank lowest first. "
                           "Choosing a lesson sets it to the lesson's metric.")
        students = len({x.student_id for x in subs})
        order = "highest" if higher_is_better(metric) else "lowest"
        index = lesson_index(cls.lesson)
        whose = " (the lesson's metric)" if index is not None and metric == lesson_metric(index) else ""
        note.caption(f"{_count(len(subs), 'submission')} from {_count(students, 'student')} · {order} "
                     f"{plain(metric)} first{whose} · updated every {REFRESH:.0f} s")
        if not subs:
            st.info("No submissions yet. Students join with the code, train a variant on the Train page and press "
                    "**Submit to the class** under its chart.", icon=":material/hourglass_empty:")
            return
        rows = ranked(subs, metric)
        left, right = st.columns([1.15, 1], gap="medium")
        left.dataframe(chart.table(rows, metric), hide_index=True, key=keys.BOARD("table"),
                       column_config={metric: st.column_config.NumberColumn(format="%.4f")})
        with right:
            top_n = st.toggle(f"Draw the top {chart.MOST}", value=True, key=keys.BOARD("top"))
            by_id = {x.id: x for _, x in rows}
            if top_n:
                drawn = [x for _, x in rows[:chart.MOST]]
            else:
                picked = st.multiselect("Curves", list(by_id), default=list(by_id)[:3], key=keys.BOARD("curves"),
                                        max_selections=chart.MOST, format_func=lambda i: chart.label(by_id[i]))
                drawn = [by_id[i] for i in picked if i in by_id]
            st.plotly_chart(chart.curves(drawn, metric), width="stretch", key=keys.BOARD("curves-chart"))
        actions(b, cls, rows)
    board_view()


def lesson_index(title: str | None) -> int | None:
    """The index of the lesson called `title` (None: no lesson, or one this app no longer has)."""
    titles = [card.title for card in course.course()]
    return titles.index(title) if title in titles else None


def lesson_metric(i: int) -> str:
    """The metric lesson `i`'s runs are ranked by: the one it names, else its setup's (accuracy or loss)."""
    return setup_metric(course.opening_spec(course.course()[i]))


def lesson_picker(b: Board, cls: ClassInfo) -> None:
    """The class's lesson: choosing one ranks the board by its metric and opens the presenter view at it."""
    index = lesson_index(cls.lesson)  # the database says (another tab may change it)
    state.set_widget(keys.BOARD("lesson"), NO_LESSON if index is None else index)
    # (NO_LESSON, not None: a selectbox shows None as "Choose an option", not as an option of its own)
    st.selectbox("Lesson", [NO_LESSON, *range(len(course.course()))], key=keys.BOARD("lesson"),
                 format_func=lambda i: "No lesson" if i == NO_LESSON else course.course()[i].title, on_change=_act,
                 args=(_set_lesson(b),),
                 help="The lesson the class is on: the board ranks by its metric, and the presenter view opens "
                      "at it")


def _set_lesson(b: Board):
    def go(key: str) -> None:
        i = state.widget(keys.BOARD("lesson"))
        if i == NO_LESSON:
            b.set_lesson(key, None, None)
        else:
            b.set_lesson(key, course.course()[i].title, lesson_metric(i))
    return go


def actions(b: Board, cls: ClassInfo, rows) -> None:
    """Pick one submission: open it as this session's setup, put it on the projector, or delete it."""
    by_id = {x.id: (r, x) for r, x in rows}
    with st.container(horizontal=True, vertical_alignment="bottom", key=keys.BOARD("actions")):
        pick = st.selectbox("Submission", list(by_id), key=keys.BOARD("pick"), width=360,
                            format_func=lambda i: f"#{by_id[i][0] or '—'} {chart.label(by_id[i][1])}")
        if pick is None:
            return
        sub = by_id[pick][1]
        if st.button("Open as my setup", icon=":material/open_in_new:", key=keys.BOARD("open-setup"),
                     help="Loads its setup here (undoable) and opens it on Build"):
            state.set_spec(sub.spec)
            state.get().locked = False
            st.switch_page("pages/build.py")
        on = cls.presented == sub.id
        st.button("Take off the projector" if on else "Show on the projector", icon=":material/slideshow:",
                  key=keys.BOARD("present"), on_click=_act, args=(lambda k: b.present(k, None if on else sub.id),))
        with st.popover("Delete…", icon=":material/delete:"):
            st.markdown(f"Delete **{plain(chart.label(sub))}** from the board?")
            st.button("Delete it", type="primary", key=keys.BOARD("delete"), on_click=_act,
                      args=(lambda k: b.remove(k, sub.id),))
    if cls.presented is not None and cls.presented not in by_id:
        st.caption("The submission on the projector was deleted.")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _act(fn) -> None:
    """Run a teacher's action with their key; a refusal is shown once at the top of the page."""
    s = state.get()
    try:
        fn(s.teach)
    except BoardError as e:
        s.notices.append(("error", e.message))


def _end(b: Board) -> None:
    s = state.get()
    try:
        b.end_class(s.teach)
    except BoardError as e:
        s.notices.append(("error", e.message))
        return
    s.teach = None
    s.notices.append(("info", "The class ended: its board, students and submissions are deleted."))


def _forget() -> None:
    state.get().teach = None
