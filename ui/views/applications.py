"""The Applications page: a card per entry of the applications registry, and an application opened on its
preset with the run's controls, its live curves, its figure against the goal and its own view."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from playground import appcards, presets, tasks
from playground.applications import APPLICATIONS, Application
from playground.data import info as data_info
from playground.registry import PlaygroundError
from playground.spec import from_dict
from ui import keys, state
from ui.text import message, plain
from ui.views import app_driving, app_games, app_markets, app_pictures, app_scores, lessons, model_source, runner
from ui.views.app_chat import view as chat_view
from ui.views.app_detect import view as detect_view  # its own line: the import above is full
from ui.views.app_recommend import view as recommend_view
from ui.views.app_segment import view as segment_view
from ui.views.app_translate import view as translate_view
from ui.views.images import png, upscale
from ui.views.model_source import Loaded

# preset name -> (settings drawn above the controls or None, the view drawn from the trained model)
VIEWS: dict[str, tuple[Callable[[], None] | None, Callable[[Loaded], None]]] = {
    "diagnose-tumours": (None, app_scores.diagnosis),
    "fraud-mlp": (None, app_scores.fraud),
    "stocks-lstm": (app_markets.settings, app_markets.view),
    "tictactoe-value": (app_games.settings, app_games.view),
    "drive-gridworld": (None, app_driving.view),
    "speech-vowels": (None, app_pictures.speech),
    "lesions-cnn": (None, app_pictures.scans),
    "recommend-mf": (None, recommend_view),
    "detect-shapes": (None, detect_view),
    "unet-shapes": (None, segment_view),
    "translate-transformer": (None, translate_view),
    "chat-intents": (None, chat_view),
}
PER_ROW = 3


def cap(text: str) -> str:
    """`text` with its first letter in capitals (an acronym such as AUC stays as it is)."""
    return text[:1].upper() + text[1:]


def opened() -> Application | None:
    """The application open on this page: None when none is, or the setup is no longer its preset's data."""
    s = state.get()
    if s.apps.name not in APPLICATIONS:
        return None
    preset = presets.get(s.apps.name).to_dict()
    return APPLICATIONS.get(s.apps.name) if s.spec.get("data", {}).get("name") == preset["data"]["name"] else None


def open_app(name: str) -> None:
    """Start button: load the application's preset (undoable) and open its view."""
    state.set_spec(presets.get(name).to_dict())
    state.get().apps = state.Applications(name=name)
    lessons.end()


def close() -> None:
    state.get().apps.name = None


@st.cache_data(show_spinner=False, max_entries=64)
def card_picture(name: str) -> tuple[bytes, str] | None:
    """An application's card picture as PNG (twice its drawn size: crisp on wide cards) and its text alternative;
    drawn once per process, the same for everyone."""
    got = appcards.picture(name)
    return None if got is None else (png(upscale(got[0], 2)), got[1])


def cards() -> None:
    """A card per application: a picture of its data, its field, one line, the figure it reaches, and Start.
    The pictures come last, into their places: the cards and their Start buttons show at once, even while a
    fresh server draws the pictures for the first time (the tumours' needs scikit-learn imported, seconds)."""
    st.title("Applications")
    st.markdown("What deep learning is used for, each in miniature: a small but honest model you train here "
                "in under a minute, on data the app makes, with a view made for it.")
    apps, slots = list(APPLICATIONS.items()), {}
    for row in range(0, len(apps), PER_ROW):
        cols = st.columns(PER_ROW)
        for col, (name, app) in zip(cols, apps[row:row + PER_ROW], strict=False):
            with col.container(border=True, height="stretch", vertical_alignment="distribute",
                               key=keys.APPS("card", name)):
                slots[name] = st.empty()
                st.markdown(f"**{plain(cap(app.field))}**")
                st.caption(plain(app.line, 300))
                st.caption(f"Goal: {plain(app.goal_text(), 120)} (preset *{plain(name)}*)")
                st.button("Start", key=keys.APPS("start", name), icon=":material/play_arrow:", width="stretch",
                          on_click=open_app, args=(name,))
    for name, slot in slots.items():
        pic = card_picture(name)
        if pic is not None:
            slot.image(pic[0], alt=pic[1], width="stretch")


def page() -> None:
    """The cards, or the application that is open."""
    app = opened()
    if app is None:
        cards()
        return
    s = state.get()
    st.button("All applications", icon=":material/arrow_back:", key=keys.APPS("back"), on_click=close)
    st.title(cap(app.field))
    st.markdown(f"{plain(app.line, 300)}  \nGoal: **{plain(app.goal_text(), 120)}** on validation data.")
    settings, view = VIEWS.get(app.name, (None, None))
    if settings is not None:
        settings()
    try:
        spec = from_dict(s.spec)
        metric = tasks.chart_metric(tasks.of(spec, data_info(spec.data, state.uploads())))
    except PlaygroundError as e:
        st.error(f"This setup cannot train: {message(e.message)}", icon=":material/error:")
        return
    job = runner.current()
    if job is not None and not runner.same_setup(job.spec, s.spec):
        runner.other_setup(job)
        job = None
    runner.controls(job, keys.APPS("run"))
    if job is not None and job.state == "failed":
        st.error(f"The run failed: {message(job.message)}", icon=":material/error:")
    runner.chart(job, metric, key=keys.APPS("chart"))
    if job is None or job.state == "failed":
        st.info("Press **Train**: the view below draws from the network as it learns.", icon=":material/info:")
        return
    src = model_source.Source(job.id, "", job.spec, job)
    every = model_source.refresh_every(src)

    @st.fragment(run_every=every)
    def live() -> None:
        m = model_source.live_model(src, every)
        if m is None:
            return
        if not src.live:
            figures(app, m)
        if view is not None:
            view(m)
    live()


def figures(app: Application, m: Loaded) -> None:
    """The application's figures measured on the trained model (on request: some play a thousand games or
    drive hundreds of maps), the headline one against its goal."""
    box = state.get().inspect.memos.setdefault("apps", {})
    got = box.get((app.name, m.key))
    if got is None:
        if st.button(f"Measure this run: {app.goal_text()}?", icon=":material/flag:", key=keys.APPS("measure"),
                     help="Measure the application's figures on the trained network, as the README's table does"):
            got = model_source.memo("apps", (app.name, m.key), lambda: app.measure(m.model, m.data))
        else:
            return
    cols = st.columns(len(got))
    for col, (name, value) in zip(cols, got.items(), strict=True):
        col.metric(cap(name), f"{value:.3g}" if abs(value) < 10 else f"{value:,.0f}")
    reached = app.reached(got)
    verdict = "reaches" if reached else "does not reach yet"
    (st.success if reached else st.warning)(f"This run {verdict} the goal, {app.goal_text()}.",
                                            icon=":material/flag:")
