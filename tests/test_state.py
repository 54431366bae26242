"""ui/state.py: the one module touching st.session_state; its getters read only; widget keys come from ui/keys.py."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest
from helpers import ROOT
from streamlit.testing.v1 import AppTest

from ui import keys, state

OWNERS = {"ui/state.py"}  # the only module that may touch st.session_state (ui/keys.py only names the keys)


def sources() -> list[Path]:
    """Every Python file of the UI: app.py, pages/ and ui/."""
    return [ROOT / "app.py", *sorted((ROOT / "pages").rglob("*.py")), *sorted((ROOT / "ui").rglob("*.py"))]


def session_state_uses(source: str) -> list[int]:
    """The lines of `source` that touch Streamlit's session state: `x.session_state`, a bare `session_state`, or
    an import of it (however it is spelt, e.g. `from streamlit import session_state as ss`)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr == "session_state":
            lines.append(node.lineno)
        elif isinstance(node, ast.Name) and node.id == "session_state":
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and any(a.name == "session_state" for a in node.names):
            lines.append(node.lineno)
    return sorted(lines)


def literal_widget_keys(source: str) -> list[int]:
    """The lines of `source` that give a call `key=` as a string literal or an f-string of its own."""
    return sorted(kw.value.lineno for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call)
                  for kw in node.keywords if kw.arg == "key"
                  and (isinstance(kw.value, ast.JoinedStr)
                       or isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str)))


@pytest.mark.parametrize("snippet", [
    "import streamlit as st\nx = st.session_state.get('k')",
    "import streamlit as st\nst.session_state['k'] = 1",
    "from streamlit import session_state as ss\nss['k'] = 1",
    "import streamlit\nif 'k' in streamlit.session_state: pass",
])
def test_the_scan_finds_every_spelling(snippet):
    assert session_state_uses(snippet)


def test_only_the_state_module_touches_session_state():
    found = {f"{path.relative_to(ROOT)}:{line}" for path in sources()
             for line in session_state_uses(path.read_text(encoding="utf-8"))
             if str(path.relative_to(ROOT)) not in OWNERS}
    assert not found, f"st.session_state outside ui/state.py (use state.get() or state.widget()): {sorted(found)}"
    assert session_state_uses((ROOT / "ui/state.py").read_text(encoding="utf-8"))  # the owner is scanned too


def test_widget_keys_are_built_in_ui_keys():
    assert literal_widget_keys('st.button("Go", key="go")') and literal_widget_keys('st.text_input("x", key=f"a{i}")')
    found = {f"{path.relative_to(ROOT)}:{line}" for path in sources()
             for line in literal_widget_keys(path.read_text(encoding="utf-8"))}
    assert not found, f"widget keys written by hand (build them from ui/keys.py): {sorted(found)}"


@pytest.mark.parametrize("key", [state.KEY, "preset", "buildx-name", ""])
def test_widget_access_refuses_a_key_not_built_in_ui_keys(key):
    for call in (lambda: state.widget(key), lambda: state.has_widget(key), lambda: state.set_widget(key, 1)):
        with pytest.raises(KeyError, match="not a widget key"):
            call()


def test_every_namespace_is_its_own():
    assert keys.BUILD("insert") == "build-insert" and keys.namespace(keys.BUILD("insert")) is keys.BUILD
    assert keys.namespace(keys.PG2D("lr")) is keys.PG2D and keys.namespace(state.KEY) is None  # "pg" ≠ "pg2d"
    assert len(set(keys.NAMESPACES)) == len(keys.NAMESPACES)


@pytest.fixture(autouse=True)
def _main_module_back():
    """AppTest leaves its script as sys.modules["__main__"]; worker processes started later would run this one
    (a function's wrapper) as their main module. Put back what was there."""
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


def _getters_page():
    """A script run that calls the getters and fails (an exception AppTest reports) if one of them writes."""
    import copy
    import dataclasses
    from types import SimpleNamespace

    import streamlit as st

    from ui import keys, server, state
    from ui.views import runner

    def snapshot():
        s = st.session_state.get(state.KEY)
        return (sorted(st.session_state.keys()),
                copy.deepcopy(dataclasses.asdict(s)) if s is not None else None)

    before = snapshot()
    try:  # no session yet: get() says so instead of making one
        state.get()
        raise AssertionError("state.get() returned a session that start() never made")
    except RuntimeError:
        pass
    assert snapshot() == before, "state.get() wrote before start()"

    s = state.start()
    assert state.get() is s and state.start() is s  # start() makes the session once
    finished = SimpleNamespace(id="j1", finished=True, state="done", metrics=[{"epoch": 1}], spec=s.spec)
    s.job_id = finished.id
    real_pool = server.pool
    server.pool = lambda: SimpleNamespace(get=lambda job_id: finished if job_id == finished.id else None)
    try:
        before = snapshot()
        assert runner.current() is finished  # a finished run, read: not recorded among the finished runs
        state.get()
        state.link_text()
        state.widget(keys.BUILD("name"))
        state.has_widget(keys.BUILD("name"))
        assert snapshot() == before, "a getter wrote to the session"
    finally:
        server.pool = real_pool
    s.selected = 1  # the snapshot does see a write (the check above can fail)
    assert snapshot() != before
    st.text("getters read only")


def test_getters_do_not_write():
    at = AppTest.from_function(_getters_page, default_timeout=30).run()
    assert not at.exception, at.exception
    assert [t.value for t in at.text] == ["getters read only"]
    assert at.session_state[state.KEY].runs == []  # runner.current() recorded nothing
