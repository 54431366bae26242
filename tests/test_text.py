"""ui/text.py: user text reads as typed inside Markdown, on one line, bounded, always sendable."""

import re

import pytest
from apptest import shown
from hypothesis import given
from hypothesis import strategies as st

from ui.text import NAME, code, message, plain, short

ATTACKS = ["![t](http://127.0.0.1:9/track.png)", "<img src='http://127.0.0.1:9/i.png'>", "[link](javascript:x)",
           "**bold** _it_ `code` ~~s~~", ":red[red] :material/home: $x^2$", "# heading", "- item", "1. item",
           "> quote", "a\\b", "<script>alert(1)</script>", "&lt;img&gt;", "|a|b|"]


@pytest.mark.parametrize("text", ATTACKS)
def test_plain_escapes_every_markdown_and_html_character(text):
    out = plain(text, 200)
    assert shown(out) == text  # the reader sees exactly what was typed
    assert re.fullmatch(r"(?:\\[!-/:-@\[-`{-~]|[^!-/:-@\[-`{-~])*", out)  # every special character escaped


def test_short_is_one_bounded_line_of_valid_unicode():
    assert short("x" * 999_000) == "x" * (NAME - 1) + "…"
    assert short("two\nlines\r\tand\x1b[31m codes") == "two lines and [31m codes"
    assert short("bad \ud800 name") == "bad ? name"
    short("bad \ud800 name").encode("utf-8")  # no lone surrogate left to crash the page
    assert short(12) == "12" and short(None) == "None"
    assert len(message("y" * 10_000)) < 2 * 400


def test_code_spans_cannot_be_closed_early():
    assert code("a`b") == "`a'b`" and code("layer 1: Tanh → ReLU") == "`layer 1: Tanh → ReLU`"


@given(st.text(max_size=300))
def test_any_text_reads_back_as_its_short_form(text):
    out = plain(text, 1000)
    out.encode("utf-8")
    assert shown(out) == short(text, 1000) and "\n" not in out


def test_bare_addresses_do_not_become_links():
    out = plain("http://x.org/a www.x.org me@x.org", 200)
    assert "http\\:\u2060" in out and "www\u2060\\." in out and "me\u2060\\@" in out
    assert shown(out) == "http://x.org/a www.x.org me@x.org"
