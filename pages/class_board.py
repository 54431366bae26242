"""Class: join a class with its code, or start one; a student's submissions; the teacher's live board."""

import streamlit as st

from ui import state
from ui.views import board_join, board_student, board_teacher
from ui.views.board_store import board

s = state.get()
st.title("Class")
b = board()
if b is not None:
    if s.teach:
        board_teacher.view(b)
    if s.seat:
        if s.teach:
            st.divider()
        board_student.view(b)
    if not s.teach and not s.seat:
        board_join.view(b)
