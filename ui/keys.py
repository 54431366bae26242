"""Every widget key, built here: `<namespace>-<name>[-<part>…]`, one namespace per page or shared view.

A widget's value is Streamlit's: it lives in `st.session_state[key]`. Everything else a session keeps is a field
of `ui.state.Session` (stored under `ui.state.KEY`, which is no widget key). Pages and views name their widgets
from the namespaces below, never with a literal or an f-string of their own, so no two widgets collide, and a
test can tell a widget's value from stray state (tests/test_state.py).
"""

from __future__ import annotations


class Key(str):
    """A widget key that names its parts: `BUILD("insert")` is "build-insert". A view given a key names every
    widget it draws from it (`key("epoch")`), so two copies of the view on one page do not collide."""

    __slots__ = ()

    def __call__(self, *parts: object) -> Key:
        """The key of a part of this one: its name and parts joined by '-'."""
        return Key("-".join([self, *(str(p) for p in parts)]))


HOME = Key("home")  # Home: preset cards, the blank start
LESSON = Key("lesson")  # a lesson's Start card (Home) and its banner
BUILD = Key("build")  # Build: toolbar, model editor, data and training settings
TRAIN = Key("train")  # Train: its setup bar and the overlay picker
RUN = Key("run")  # a run's controls, chart and end-of-run report (Train)
AB = Key("ab")  # the A/B comparison (Train)
MODEL = Key("model")  # the run picker Inspect and Explain share
INPUT = Key("input")  # the pinned input Inspect and Explain share
INSPECT = Key("inspect")  # Inspect's tabs and views
EXPLAIN = Key("explain")  # Explain's controls and figures
PG2D = Key("pg2d")  # the 2-D Playground
APPS = Key("apps")  # Applications: the cards and each application's view
SHARE = Key("share")  # the Copy link button (every page)
BROWSER = Key("browser")  # the component that gives a browser its cookie (every page)
BOARD = Key("board")  # the Class page: start, join, the teacher's board, a student's submissions
JOIN = Key("join")  # a class's join code, link and QR code
PRESENTER = Key("presenter")  # the presenter view
LOCKED = Key("locked")  # a setup opened read-only, and its "Make my own copy"
GAN = Key("gan")  # the GAN lab

NAMESPACES = (HOME, LESSON, BUILD, TRAIN, RUN, AB, MODEL, INPUT, INSPECT, EXPLAIN, PG2D, SHARE, BROWSER, BOARD,
              JOIN, PRESENTER, LOCKED, GAN, APPS)


def namespace(key: str) -> Key | None:
    """The namespace a widget key was built in (None: not a widget key of this app)."""
    return next((n for n in NAMESPACES if key == n or key.startswith(f"{n}-")), None)
