"""The one state object of a browser session, created in one place, and its link in the URL."""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field

import streamlit as st

from playground import presets
from playground import uploads as upload_store
from playground.spec import SpecError, decode, encode, from_dict
from ui import server

DEFAULT_PRESET = "spiral-mlp"
URL_KEY = "s"
HISTORY = 50  # undo steps kept


@dataclass
class Session:
    """Everything one browser session has built: the spec (the single source of truth) and its runs."""

    spec: dict
    history: list[dict] = field(default_factory=list)  # undo stack of earlier specs
    future: list[dict] = field(default_factory=list)  # redo stack
    selected: int | None = None  # layer being configured on Build
    job_id: str | None = None  # the current run
    runs: list[dict] = field(default_factory=list)  # finished runs kept for comparison
    ab: dict | None = None  # the A/B pair being compared: {"a": job id, "b": job id, "changes": [...]}
    notices: list[tuple[str, str]] = field(default_factory=list)  # (level, text) shown once
    edits: int = 0  # bumped on every spec change; widget keys include it so widgets follow undo


class Owner:
    """Ties jobs to one browser session: when Streamlit releases the session, its jobs stop."""

    def __init__(self) -> None:
        self.id = uuid.uuid4().hex

    def release(self) -> None:
        """Stop every unfinished job of this session, and delete its uploads."""
        for job in server.pool().jobs(self.id):
            if not job.finished:
                job.stop()
        upload_store.store().forget(self.id)


@st.cache_resource(scope="session", on_release=lambda owner: owner.release(), show_spinner=False)
def owner() -> Owner:
    """This browser session's owner id (its jobs stop when the session ends)."""
    return Owner()


def uploads() -> upload_store.OwnerUploads:
    """This session's uploads: what a spec's `data.upload` id may resolve to here (its own, nobody else's)."""
    return upload_store.store().access(owner().id)


def default_spec() -> dict:
    """The spec a new visitor starts with."""
    return presets.get(DEFAULT_PRESET).to_dict()


def get() -> Session:
    """This session's state; on first use, restored from the link (?s=…) when there is one."""
    if "pg" not in st.session_state:
        s = Session(spec=default_spec())
        text = st.query_params.get(URL_KEY)
        if text:
            try:
                s.spec = decode(text).to_dict()
            except SpecError as e:
                s.notices.append(("error", f"This link's setup could not be opened: {e.message}. "
                                           "Showing the default setup instead."))
        st.session_state.pg = s
    return st.session_state.pg


def set_spec(new: dict, record: bool = True) -> None:
    """Replace the spec (recording the old one for undo) and update the link."""
    s = get()
    if new == s.spec:
        return
    if record:
        s.history = (s.history + [copy.deepcopy(s.spec)])[-HISTORY:]
        s.future.clear()
    s.spec = copy.deepcopy(new)
    s.edits += 1
    sync_url()


def edit(fn) -> None:
    """Apply `fn(spec_copy)` (which mutates the copy) as one undoable edit."""
    new = copy.deepcopy(get().spec)
    fn(new)
    set_spec(new)


def undo() -> None:
    _travel(get().history, get().future)


def redo() -> None:
    _travel(get().future, get().history)


def _travel(source: list, dest: list) -> None:
    """Undo or redo: the newest spec of `source` becomes current; the current one goes onto `dest`."""
    s = get()
    if source:
        dest.append(copy.deepcopy(s.spec))
        s.spec = source.pop()
        s.edits += 1
        sync_url()


def link_text() -> str | None:
    """The spec as URL text, or None while it is not a valid spec (the URL then keeps the last valid one)."""
    try:
        return encode(from_dict(get().spec))
    except SpecError:
        return None


def sync_url() -> None:
    """Keep ?s=… equal to the current spec, so the address bar is always a shareable link."""
    text = link_text()
    if text and st.query_params.get(URL_KEY) != text:
        st.query_params[URL_KEY] = text


def show_notices() -> None:
    """Show (once) what happened behind the user's back: a refused link, a finished run, …"""
    s = get()
    for level, text in s.notices:
        getattr(st, level)(text)
    s.notices.clear()
