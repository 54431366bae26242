"""Lessons: the course in order; the chosen lesson's text, where it opens, and its claim checked live."""

import streamlit as st

from playground import lessons
from ui import keys
from ui.views import lesson_check
from ui.views import lessons as started

course = lessons.course()
st.title("Lessons")
st.markdown("An introductory deep-learning course, one idea a lesson. Each lesson opens a setup to play with, "
            "and makes one claim that you can check: **Check the claim** trains the lesson's networks here and "
            "now, and shows the measured numbers next to the claim.")

pick, detail = st.columns([1, 2], gap="large")
with pick:
    name = st.radio("Course", [lesson.name for lesson in course], key=keys.LESSON("pick"),
                    format_func=lambda n: f"{lessons.get(n).order} · {lessons.get(n).title}")
lesson = lessons.get(name)
with detail:
    st.header(f"{lesson.order} · {lesson.title}", anchor=False)  # h2 under the page's h1 (axe: heading-order)
    st.markdown(lesson.text)
    st.markdown(f"**Try this:** {lesson.try_this}")
    st.markdown(f"**What to notice:** {lesson.notice}")
    if st.button(f"Open it on {started.page_title(lesson.page)}", key=keys.LESSON(lesson.name),
                 icon=":material/school:"):
        st.switch_page(started.start(lesson.name))
    lesson_check.show(lesson)
