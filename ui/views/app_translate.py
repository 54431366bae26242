"""Translation: the user types a date in words and gets its ISO form, with the attention of each answer
character over the words drawn as an alignment grid (one per encoder layer)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from playground import language
from playground.appdata import language as lang
from ui import keys, state
from ui.text import plain, short
from ui.views.model_source import Loaded

SENTENCE = keys.APPS("sentence")
LAYER = keys.APPS("attention-layer")
EXAMPLE = "the twenty first of march nineteen ninety nine"
TYPED = 200  # characters a user may type (the tokenizer reads at most lang.MAX_CHARS)


def alignment_figure(grid: np.ndarray, words: list[str], characters: list[str], layer: int) -> go.Figure:
    """Rows: the answer's characters (slots); columns: the words; each cell the attention weight (0 … 1)."""
    rows, cols = list(range(len(characters))), list(range(len(words)))
    fig = go.Figure(go.Heatmap(z=grid, x=cols, y=rows, colorscale="Cividis", zmin=0,
                               zmax=max(0.05, float(grid.max())),  # the largest weight brightest: rows rarely reach 1
                               colorbar={"title": "attention"}, text=np.round(grid, 2), texttemplate="%{text:.2f}",
                               hovertemplate="slot %{y}, word %{x}: %{z:.2f}<extra></extra>"))
    # words and characters repeat ("twenty", "-"): numbered axes, labelled with ticktext
    fig.update_layout(title=f"Where each character of the answer looked<br><sup>encoder layer {layer}, "
                      "attention averaged over its heads; a row's weights on the words (the rest went to the "
                      "other slots)</sup>", xaxis={"title": "word read", "tickvals": cols,
                                                  "ticktext": [short(w, 14) for w in words]},
                      yaxis={"title": "answer character", "tickvals": rows, "autorange": "reversed",
                             "ticktext": [f"{i + 1}: {c}" for i, c in enumerate(characters)]},
                      height=460, margin={"l": 90, "r": 10, "t": 70, "b": 60})
    return fig


def view(m: Loaded) -> None:
    """A sentence box, its translation with each character's confidence, and the alignment grid."""
    if not state.has_widget(SENTENCE):
        state.set_widget(SENTENCE, EXAMPLE)
    text = st.text_input("Type a date in words", key=SENTENCE, max_chars=TYPED,
                         help="Day, month and year in words, as in 'march the fifth two thousand and four' or "
                              "'the first of may nineteen oh eight' (years 1900 to 2099).")
    t = language.translate(m.model, text or "")
    if not t["words"]:
        st.info("Type a date in words above.", icon=":material/edit:")
        return
    left, right = st.columns([1, 2])
    left.metric("Translation", t["answer"] or "–", help="The character with the highest probability in each of "
                "the ten answer slots")
    k = int(np.argmin(t["confidence"]))
    left.caption(f"Least sure: '{t['characters'][k]}' in slot {k + 1}, probability {t['confidence'][k]:.3f}")
    notes = []
    if t["unknown"]:
        notes.append(f"Unknown to the net (read as <unk>): {', '.join(short(w, 20) for w in t['unknown'][:8])}.")
    if t["cut"]:
        notes.append(f"Only the first {lang.SENTENCE} words are read; {t['cut']} more were left out.")
    with right:
        st.markdown("**Words the net read**")
        st.text(short(" ".join(t["words"]), 300))
        for n in notes:
            st.warning(plain(n, 300), icon=":material/warning:")
    if not t["attention"]:
        st.caption("This network has no Transformer encoder layer, so there is no attention to draw.")
        return
    layers = len(t["attention"])
    if state.widget(LAYER) not in range(1, layers + 1):
        state.set_widget(LAYER, 1)  # the first layer reads the words themselves: the alignment is there
    layer = st.radio("Attention of encoder layer", list(range(1, layers + 1)), horizontal=True, key=LAYER,
                     help="The first layer reads the words themselves; later layers read what earlier ones made "
                          "of them.")
    st.plotly_chart(alignment_figure(t["attention"][layer - 1], t["words"], t["characters"], layer),
                    width="stretch", key=keys.APPS("alignment"))
    st.caption("Each row is one character of the ISO date; bright cells are the words it read. In the first "
               "layer each digit reads mostly the words of its own part of the date (the year's digits the year, "
               "the month's the month), wherever they stand in the sentence: the README gives the share measured "
               "on held-out sentences. Nobody told the net which words go with which digits; it learned the "
               "alignment from examples.")
