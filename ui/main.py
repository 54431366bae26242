"""The navigation: every page, in order. Runs on every script run (app.py calls `run`)."""

from __future__ import annotations

import streamlit as st

from ui import state
from ui.views.share import share_button

PAGES = [  # (file, title, icon, url path); the first is the default page
    ("pages/home.py", "Home", ":material/home:", "home"),
    ("pages/build.py", "Build", ":material/construction:", "build"),
    ("pages/train.py", "Train", ":material/play_circle:", "train"),
    ("pages/inspection.py", "Inspect", ":material/biotech:", "inspect"),
    ("pages/explain.py", "Explain", ":material/lightbulb:", "explain"),
    ("pages/playground2d.py", "2-D Playground", ":material/scatter_plot:", "playground"),
]


def run() -> None:
    """Set up the page, restore the session's state, and run the chosen page."""
    st.set_page_config(page_title="playground", page_icon=":material/hub:", layout="wide")
    state.get()
    pages = [st.Page(path, title=title, icon=icon, url_path=url, default=(i == 0))
             for i, (path, title, icon, url) in enumerate(PAGES)]
    page = st.navigation(pages, position="top")
    with st.container(horizontal=True, horizontal_alignment="right"):
        share_button()
        state.remember()  # a browser's first session gives it its secret (a cookie): reloads find their runs
    state.show_notices()
    page.run()
    state.sync_url()
