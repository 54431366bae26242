"""Chatbot: the user types requests; the net picks each one's intent and fills its slots, and shows how much
each word of the latest request weighed in the intent (Integrated Gradients)."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from playground import language
from playground.appdata import language as lang
from ui import keys, state
from ui.text import plain, short
from ui.views.model_source import Loaded

BOX = keys.APPS("chat-box")
KEPT = 4  # requests kept in the conversation (each is read again by the current network on every rerun)
TYPED = 200  # characters a user may type
POSITIVE, NEGATIVE = "#0072B2", "#D55E00"  # Okabe–Ito blue and vermilion
WORDS = {"book_table": "book a table", "get_weather": "know the weather", "set_alarm": "set an alarm",
         "find_flight": "find a flight", "greet": "say hello"}
EXAMPLE = "book a table for four at half past seven"


def _send() -> None:
    text = state.widget(BOX)
    if isinstance(text, str) and text.strip():
        a = state.get().apps
        a.chat = [*a.chat, text[:TYPED]][-KEPT:]


def _clear() -> None:
    state.get().apps.chat = []


def attributions_figure(words: list[str], values, intent: str) -> go.Figure:
    """Each word's attribution to the intent: blue for it, vermilion against."""
    xs = list(range(len(words)))
    fig = go.Figure(go.Bar(x=xs, y=values, marker_color=[POSITIVE if v >= 0 else NEGATIVE for v in values],
                           hovertemplate="%{y:.3f}<extra></extra>"))
    # words repeat: numbered positions labelled with the words (the tokenizer keeps only letters, digits, ')
    fig.update_layout(title=f"How much each word weighed in '{intent}'<br><sup>Integrated Gradients through "
                      "the Embedding, from an all-padding baseline; blue for the intent, vermilion against</sup>",
                      xaxis={"title": "word", "tickvals": xs, "ticktext": [short(w, 14) for w in words]},
                      yaxis_title="attribution", height=320, margin={"l": 60, "r": 10, "t": 70, "b": 50})
    return fig


def _answer(r: dict) -> str:
    """The bot's reply in words (Markdown; the user's words escaped)."""
    want = WORDS.get(r["intent"], r["intent"])
    p = r["probabilities"][r["intent"]]
    slots = "; ".join(f"{s['slot']}: **{plain(s['words'], 60)}**" for s in r["slots"])
    return f"You want to **{want}** ({p:.0%} sure)." + (f" I heard {slots}." if slots else " I heard no details.")


def view(m: Loaded) -> None:
    """The conversation so far, each request answered by the current network; the latest one's details."""
    a = state.get().apps
    if not a.chat:
        a.chat = [EXAMPLE]
    replies = [language.reply(m.model, text) for text in a.chat]
    left, right = st.columns([1, 1])
    with left, st.container(height=380, key=keys.APPS("conversation")):
        for text, r in zip(a.chat, replies, strict=True):
            with st.chat_message("user"):
                st.text(short(text, TYPED))
            with st.chat_message("assistant"):
                st.markdown(_answer(r))
    with left:
        st.chat_input("Ask for a table, the weather, an alarm or a flight", key=BOX, max_chars=TYPED,
                      on_submit=_send)
        st.button("Clear the conversation", icon=":material/delete:", key=keys.APPS("chat-clear"), on_click=_clear)
    last = replies[-1]
    with right:
        st.markdown("**The latest request, word by word**")
        if last["words"]:
            st.dataframe({"word": last["words"], "slot tag": last["tags"]}, hide_index=True, width="stretch",
                         key=keys.APPS("chat-tags"))
        notes = []
        if last["unknown"]:
            notes.append(f"Unknown to the net (read as <unk>): {', '.join(last['unknown'][:8])}.")
        if last["cut"]:
            notes.append(f"Only the first {lang.UTTERANCE} words are read; {last['cut']} more were left out.")
        for n in notes:
            st.warning(plain(n, 300), icon=":material/warning:")
    if last["words"]:
        st.plotly_chart(attributions_figure(last["words"], last["attributions"], last["intent"]), width="stretch",
                        key=keys.APPS("chat-attributions"))
        st.caption("Tags: B- begins a slot, I- continues it, O is no slot. The intent is read under a <cls> token "
                   "put before the words; its attributions say which words moved that score away from an "
                   "empty request.")
