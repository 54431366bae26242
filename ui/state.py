"""The one state object of a browser session, created in one place, and its link in the URL."""

from __future__ import annotations

import copy
import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass, field

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from playground import edit as edits
from playground import presets
from playground import uploads as upload_store
from playground.jobs import Job
from playground.spec import SpecError, decode, encode, from_dict
from ui import keys, server
from ui.components.browser_key import remember_browser
from ui.server import access, owners
from ui.text import message

KEY = "pg"  # where the Session lives in st.session_state; every other key there is a widget's (ui/keys.py)
DEFAULT_PRESET = "spiral-mlp"
URL_KEY = "s"
VIEW_KEY = "view"  # the 2-D Playground's view options in the link, beside the spec: ?s=…&view=test,discrete
VIEW_FLAGS = {"test": "show_test", "discrete": "discretize"}  # link word -> Playground2D field
HISTORY = 50  # undo steps kept
COOKIE = "playground_browser"  # this browser's secret (never in a link): a reload finds its runs through it
SEAT, TEACH, PRESENTER, LOCK = "seat", "teach", "presenter", "lock"  # URL keys: a student's, a teacher's and a
# presenter view's key on a class board; a read-only setup
PRIVATE = (SEAT, TEACH, PRESENTER)  # keys of one person's own address: Copy link leaves them out
_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")  # what secrets.token_urlsafe(32) makes
_UNSEEN = object()  # bind: no value shown yet


@dataclass
class Playground2D:
    """The 2-D Playground's run and view options (its settings are the spec's)."""

    job_id: str | None = None  # its run (a reload takes it back: _take_over)
    show_test: bool = False
    discretize: bool = False
    converted_at: int | None = None  # Session.edits right after "Start from a 2-D setup" (offers a way back)

    @classmethod
    def from_link(cls, text: str | None) -> Playground2D:
        """The view options of a link's `view` value (a stranger's text: known words only, the rest ignored)."""
        words = set(str(text or "")[:100].split(","))
        return cls(**{name: True for word, name in VIEW_FLAGS.items() if word in words})

    def link(self) -> str:
        """The view options as the link's `view` value ('' when none is on)."""
        return ",".join(word for word, name in VIEW_FLAGS.items() if getattr(self, name))


@dataclass
class Pinned:
    """The input Inspect and Explain look at, kept across pages (a widget's state does not survive a page run
    that does not draw it): the picker's widget values, a drawing, an uploaded picture."""

    values: dict[str, object] = field(default_factory=dict)  # widget key -> the value it last had
    drawn: list[float] | None = None  # the drawing's pixels
    upload: object = None  # the uploaded picture, as the model sees it (a numpy array)
    upload_name: tuple[str, int] | None = None  # (file name, size) of the upload read into `upload`
    upload_error: str | None = None  # why that upload cannot be used


@dataclass(eq=False)
class Inspection:
    """What Inspect and Explain keep between script runs: what is kept of finished runs, the model rebuilt for
    the run shown, and results worth not computing twice (all bounded by the modules that fill them)."""

    kept: dict[str, dict] = field(default_factory=dict)  # run id -> final weights, checkpoints, stats (run_store)
    model: dict = field(default_factory=dict)  # the rebuilt model of the run shown (model_source.load)
    live_checkpoints: dict = field(default_factory=dict)  # a live run's checkpoints at its latest epoch
    memos: dict[str, dict] = field(default_factory=dict)  # bucket -> key -> result (model_source.memo)
    landscapes: dict = field(default_factory=dict)  # loss landscapes and optimizer races computed (inspect_time)
    source: tuple[str | None, str | None] = (None, None)  # the run picked, and the current run when it was


@dataclass
class Building:
    """What the Build page keeps besides the spec and its widgets."""

    insert_at: str = "after"  # where a new layer goes (the Insert choice, kept while the Model tab is closed)
    field_errors: dict[str, str] = field(default_factory=dict)  # widget key -> why its input was not applied
    messages: list[tuple[str, str]] = field(default_factory=list)  # (level, text) a callback left, shown once

    def notice(self, level: str, text: str) -> None:
        """Leave a message for the page to show once (a callback cannot draw)."""
        self.messages.append((level, text))

    def take_messages(self) -> list[tuple[str, str]]:
        """The messages left since they were last shown, which are then gone."""
        out, self.messages = self.messages, []
        return out


@dataclass
class Applications:
    """The Applications page: the application open (a preset's name), and what its view is playing."""

    name: str | None = None  # None: the cards
    board: tuple = (0,) * 9  # tic-tac-toe: the game in the browser (0 empty, 1 X, 2 O)
    net_plays: int = 2  # tic-tac-toe: the net is O (2) or X (1)
    walls: tuple = ()  # driving: the map the user edits (rows of 0/1); () until first drawn
    car: tuple[int, int] = (0, 0)
    goal: tuple[int, int] = (0, 0)
    steps: int = 0  # driving: how many steps of the drive are shown
    chat: list = field(default_factory=list)  # chatbot: the user's latest requests (app_chat.KEPT at most)


@dataclass
class Session:
    """Everything one browser session keeps besides its widgets' values: the spec (the single source of truth),
    its runs and what each page remembers. Every field has a default; `start` creates it, once per session."""

    spec: dict = field(default_factory=lambda: default_spec())
    history: list[dict] = field(default_factory=list)  # undo stack of earlier specs
    future: list[dict] = field(default_factory=list)  # redo stack
    selected: int | tuple[int, ...] | None = None  # layer being configured on Build (a path inside blocks)
    job_id: str | None = None  # the current run
    runs: list[dict] = field(default_factory=list)  # finished runs kept for comparison (runner.record_finished)
    ab: dict | None = None  # the A/B pair being compared: {"a": job id, "b": job id, "changes": [...]}
    notices: list[tuple[str, str]] = field(default_factory=list)  # (level, text) shown once
    edits: int = 0  # bumped on every spec change
    bound: dict[str, object] = field(default_factory=dict)  # widget key -> the spec value it last showed (bind)
    browser: str = ""  # this browser's secret (its cookie's value, or a new one the cookie is given)
    browser_known: bool = False  # the cookie came with this session: it needs no setting
    owner_id: str | None = None  # the owner id this session's runs carry (kept when the connection drops)
    gan_job: str | None = None  # the GAN lab's run (kept here: a reload takes it over like the others)
    slow_live: bool = False  # streams fail here (a proxy blocks the app's routes): live views poll instead
    lesson: str | None = None  # the started lesson's name (playground.lessons), shown on the page it opens
    checks: dict = field(default_factory=dict)  # lesson name -> its latest "Check the claim" (lessons.Check)
    run_message: tuple[str, str] | None = None  # (level, text) of a run the Train button could not start
    ended: set[str] = field(default_factory=set)  # runs whose end a polled chart has redrawn the page for
    seen_events: dict[str, object] = field(default_factory=dict)  # component key -> its newest event handled
    build: Building = field(default_factory=Building)
    pg2d: Playground2D = field(default_factory=Playground2D)
    pinned: Pinned = field(default_factory=Pinned)
    inspect: Inspection = field(default_factory=Inspection)
    apps: Applications = field(default_factory=Applications)
    seat: str | None = None  # this student's key on a class board (also in their own URL, so a reload keeps it)
    teach: str | None = None  # this teacher's key of their class (the same)
    presenter: str | None = None  # a presenter view's key: it opens that view only (a projected address shows it)
    locked: bool = False  # the link opened the setup read-only (Build shows it with "Make my own copy")
    slide: int = 0  # the lesson the presenter view shows (index into ui.views.lessons.LESSONS)
    slide_lesson: str | None = None  # the class's lesson the presenter view last moved to (it follows changes)


class Owner:
    """Names one browser session's runs. Released with the session (tab closed, reload, connection lost), its
    runs wait a grace period for a session of the same browser to take them over, then stop."""

    def __init__(self, browser: str, prefer: str | None = None) -> None:
        # the secret itself is kept nowhere else; no secret (a session without state): nothing to take over
        self.browser = hashlib.sha256(browser.encode()).hexdigest() if browser else ""
        taken = owners.claim(self.browser, prefer)
        self.id = taken or uuid.uuid4().hex
        self.took_over = taken is not None
        ctx = get_script_run_ctx()
        self.session_id = ctx.session_id if ctx is not None else None

    def release(self) -> None:
        """The session ended: its unfinished runs stop unless its browser comes back within the grace period."""
        owners.leave(self.id, self.browser, self.connected)

    def connected(self) -> bool:
        """Whether this Streamlit session is connected again (a dropped connection that came back)."""
        return self.session_id is not None and Runtime.exists() and Runtime.instance().is_active_session(
            self.session_id)


@st.cache_resource(scope="session", on_release=lambda owner: owner.release(), show_spinner=False)
def owner() -> Owner:
    """This browser session's owner (a new one after a dropped connection, which takes the old id back)."""
    s = st.session_state.get(KEY)
    return Owner(getattr(s, "browser", ""), prefer=getattr(s, "owner_id", None))


def job_key(job: Job | None) -> str:
    """The key that opens `job`'s routes, for this session's own components; '' for anyone else's job."""
    if job is None or job.owner != owner().id:
        return ""
    return access.job_key(job.id)


def _browser_secret() -> tuple[str, bool]:
    """This browser's secret from its cookie, or a new one; and whether it came from the cookie."""
    value = st.context.cookies.get(COOKIE)
    if isinstance(value, str) and _SECRET.fullmatch(value):
        return value, True
    return secrets.token_urlsafe(32), False


def remember() -> None:
    """Give a browser that came without it its secret, in a cookie (never in the link). Draws nothing."""
    s = get()
    if not s.browser_known:
        remember_browser(COOKIE, s.browser, server.base_path())


def _take_over(s: Session, owner_id: str) -> None:
    """A reload: show the runs of the session this one took over from (its latest of each kind)."""
    if not server.started():
        return
    jobs = server.pool().jobs(owner_id)
    lab = [j for j in jobs if {"gan2d", "gan_images"} & set(j.wanted_views)]  # the GAN lab's
    train = [j for j in jobs if j.group is None and not {"grid2d", "lesson"} & set(j.wanted_views) and j not in lab]
    grid = [j for j in jobs if "grid2d" in j.wanted_views]
    grouped = [j for j in jobs if j.group is not None]  # oldest first: the last group is the latest A/B pair
    pair = [j for j in grouped if j.group == grouped[-1].group] if grouped else []
    if s.job_id is None and train:
        s.job_id = train[-1].id
    if s.pg2d.job_id is None and grid:
        s.pg2d.job_id = grid[-1].id
    if s.gan_job is None and lab:
        s.gan_job = lab[-1].id
    if s.ab is None and len(pair) == 2:
        s.ab = {"a": pair[0].id, "b": pair[1].id, "changes": edits.diff(pair[0].spec, pair[1].spec)}


def uploads() -> upload_store.OwnerUploads:
    """This session's uploads: what a spec's `data.upload` id may resolve to here (its own, nobody else's)."""
    return upload_store.store().access(owner().id)


def default_spec() -> dict:
    """The spec a new visitor starts with."""
    return presets.get(DEFAULT_PRESET).to_dict()


def start() -> Session:
    """Once per script run, before the page (ui/main.py): this session's state, created on its first run from
    the link (?s=…, ?view=…) when there is one, and its runs found again after a reload (a new owner)."""
    s = st.session_state.get(KEY)
    if s is None:
        s = Session()
        text = st.query_params.get(URL_KEY)
        if text:
            try:
                s.spec = decode(text).to_dict()
            except SpecError as e:
                s.notices.append(("error", f"This link's setup could not be opened: {e.message}. "
                                           "Showing the default setup instead."))
        s.pg2d = Playground2D.from_link(st.query_params.get(VIEW_KEY))
        s.browser, s.browser_known = _browser_secret()
        s.seat, s.teach, s.presenter = _class_key(SEAT), _class_key(TEACH), _class_key(PRESENTER)
        s.locked = st.query_params.get(LOCK) == "1"
        st.session_state[KEY] = s
    o = owner()
    if o.id != s.owner_id:  # a new session, or one whose connection dropped and came back
        s.owner_id = o.id
        if o.took_over:
            _take_over(s, o.id)
    return s


def get() -> Session:
    """This session's state, made by `start` at the top of every script run (ui/main.py). Reads only: a caller
    that runs before `start` is a mistake, told as one, not a session quietly made here."""
    s = st.session_state.get(KEY)
    if not isinstance(s, Session):
        raise RuntimeError("ui.state.get() ran before ui.state.start(): the session's state is made in ui/main.py")
    return s


def _widget_key(key: str) -> str:
    """`key`, checked to be a widget key built in ui/keys.py (the Session's own key, or a stray string, is not)."""
    if keys.namespace(key) is None:
        raise KeyError(f"{key!r} is not a widget key of ui/keys.py")
    return key


def widget(key: str, default=None):
    """The value of the widget `key` (Streamlit keeps it under that key), or `default` while it has none."""
    return st.session_state.get(_widget_key(key), default)


def has_widget(key: str) -> bool:
    """Whether the widget `key` has a value in this session (one drawn in an earlier run, or one set)."""
    return _widget_key(key) in st.session_state


def set_widget(key: str, value) -> None:
    """Set the widget `key`'s value: in a callback, or before the widget is drawn in this script run."""
    st.session_state[_widget_key(key)] = value


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
    """Keep ?s=… equal to the current spec, so the address bar is always a shareable link; and this person's
    class keys and the read-only flag in it while they hold them (a reload keeps them)."""
    text = link_text()
    if text and st.query_params.get(URL_KEY) != text:
        st.query_params[URL_KEY] = text
    s = get()
    for key, value in ((SEAT, s.seat), (TEACH, s.teach), (PRESENTER, s.presenter),
                       (LOCK, "1" if s.locked else None)):
        if value and st.query_params.get(key) != value:
            st.query_params[key] = value
        elif not value and key in st.query_params:
            del st.query_params[key]


def _class_key(name: str) -> str | None:
    """A class key from the URL when it is shaped like one (what it opens is the board's to say)."""
    value = st.query_params.get(name)
    if not value:  # most pages carry none: the board (and SQLAlchemy) load only for a class's links
        return None
    from playground.classroom.checks import split_key
    return value if split_key(value) else None


def sync_view() -> None:
    """Keep ?view=… equal to the 2-D Playground's view options, so that Copy link carries them too."""
    text = get().pg2d.link()
    if text and st.query_params.get(VIEW_KEY) != text:
        st.query_params[VIEW_KEY] = text
    elif not text and VIEW_KEY in st.query_params:
        del st.query_params[VIEW_KEY]


def bind(key: str, value) -> str:
    """`key` for a widget that shows `value`, a spec value. The widget's state is set to `value` when the
    spec value changed since the widget last showed it (undo, a link, another widget) and the widget does not
    already hold it; otherwise it is left alone, so a change the user just made is read, not overwritten. The
    key never changes, so the widget keeps its identity and keyboard focus while it is edited. Create the
    widget without a `value`/`index`/`default`: its state is the value."""
    s = get()
    if key not in st.session_state or (s.bound.get(key, _UNSEEN) != value and st.session_state[key] != value):
        st.session_state[key] = value  # (only when needed: a write resets the widget in the browser)
    s.bound[key] = value
    return key


def show_notices() -> None:
    """Show (once) what happened behind the user's back: a refused link, a finished run, …"""
    s = get()
    for level, text in s.notices:
        getattr(st, level)(message(text))  # a refused link's message quotes the link's text
    s.notices.clear()
