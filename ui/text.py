"""User text on a page: shown as text, never as Markdown or HTML, and never unbounded.

A spec's name, description, layer types, class names, CSV labels and error messages that quote them come
from whoever wrote a link or a file. Streamlit renders Markdown in `st.markdown`, `st.caption`, `st.info` & co,
in widget labels and in `help=` tooltips: `![t](http://host/x.png)` there would make every visitor's browser
fetch that address. Every place where user text meets Markdown goes through `plain`; places that show
text as it is (`st.text`, select options, Plotly titles, canvas) go through `short`.
"""

from __future__ import annotations

import re

NAME = 80  # characters of a name shown (a 999,000-character name froze a browser)
MESSAGE = 400  # characters of a message that may quote user text

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")  # newlines, tabs, terminal codes: one line of text
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character; CommonMark escapes each
_AUTOLINK = re.compile(r"\\:|(?i:www)(?=\\\.)")  # after "\:" (http://) and "www" before a dot
JOINER = "\u2060"  # WORD JOINER: zero width, not copied as a space


def short(text: object, limit: int = NAME) -> str:
    """`text` as one line of at most `limit` characters (an ellipsis marks a cut), valid Unicode."""
    s = str(text)
    if len(s) > 4 * limit:  # never scan a huge string further than needed
        s = s[:4 * limit]
    s = s.encode("utf-8", "replace").decode("utf-8")  # a lone surrogate cannot be sent to the browser
    s = _CONTROL.sub(" ", s).strip()
    return s if len(s) <= limit else s[:limit - 1].rstrip() + "…"


def plain(text: object, limit: int = NAME) -> str:
    """`short(text)` with every Markdown and HTML character escaped: it reads as typed inside Markdown.

    Streamlit's Markdown also turns bare addresses (http://…, www.…, a@b.c) into links after escapes are read,
    so an invisible word joiner goes where those patterns need two characters side by side."""
    s = _PUNCTUATION.sub(r"\\\1", short(text, limit))
    return _AUTOLINK.sub(lambda m: m.group(0) + JOINER, s).replace("\\@", JOINER + "\\@")


def message(text: object) -> str:
    """An error or status message (ours, but it may quote user text) made safe for Markdown."""
    return plain(text, MESSAGE)


def code(text: object, limit: int = MESSAGE) -> str:
    """`short(text)` as a Markdown code span (nothing inside one is Markdown; a backtick would end it)."""
    return "`" + short(text, limit).replace("`", "'") + "`"
