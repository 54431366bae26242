"""Recommendation: pick a user and see the ten items the net recommends them, each beside its hidden true
rating; and the learned item vectors on a 2-D map (their two principal axes), coloured and shaped by each
item's hidden genre, with a table alternative."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from playground import recommend
from ui import keys
from ui.views.model_source import Loaded

# Okabe–Ito, colour-blind safe; with a marker shape per genre as the second cue
COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
SYMBOLS = ["circle", "square", "diamond", "triangle-up", "x", "cross", "star", "triangle-down", "pentagon",
           "hexagon", "circle-open", "square-open", "diamond-open", "triangle-up-open", "star-open", "hourglass"]
USER = keys.APPS("user")


def view(m: Loaded) -> None:
    """A user's top ten beside the truth, and the item map."""
    if not recommend.has_fields(m.data):
        st.info("This view needs the ratings data (user and item ids with hidden tastes).", icon=":material/info:")
        return
    n_users, _ = recommend.counts(m.data)
    left, right = st.columns([1, 1], gap="medium")
    with left:
        user = st.number_input(f"User (0 to {n_users - 1})", 0, n_users - 1, 0, 1, key=USER,
                               help="Whose recommendations to show: the ten items the net scores highest "
                               "among those this user has not rated in training.")
        r = recommend.recommendations(m.model, m.data, int(user))
        top(r, int(user))
    with right:
        item_map(recommend.item_map(m.model, m.data), r["item"], int(user))


def top(r: dict, user: int) -> None:
    """The recommended items as a table: predicted and hidden true rating, genre, and whether each is among
    the user's truly best ten."""
    k = len(r["item"])
    st.markdown(f"**Top {k} for user {user}** (rated {r['rated']} items in training)")
    col = st.column_config
    st.dataframe(pd.DataFrame({
        "item": r["item"], "genre": [g + 1 for g in r["genre"]],
        "predicted": [round(v, 2) for v in r["predicted"]], "true": [round(v, 2) for v in r["true"]],
        "truly best": ["yes" if b else "no" for b in r["in_best"]]}, index=range(1, k + 1)),
        key=keys.APPS("top"), height=36 + 35 * k, column_config={  # widths in pixels: it fits a projector's half
            "_index": col.NumberColumn(help="Rank", width=40), "item": col.NumberColumn(width=50),
            "genre": col.NumberColumn(help="The item's hidden genre", width=55),
            "predicted": col.NumberColumn(help="The net's predicted rating (1 to 5)", width=75),
            "true": col.NumberColumn(help="The hidden true rating, without noise: the net never saw it", width=50),
            "truly best": col.TextColumn(help=f"Among the {recommend.K} items this user truly likes most, of "
                                              "those not rated in training", width=85)})
    st.caption(f"{r['hits']} of these {k} are among the {len(r['best'])} items this user truly likes most "
               f"(of those not rated in training): this user's recall@{recommend.K} is {r['hits'] / max(k, 1):.0%}. "
               "True ratings come from the hidden tastes the data was made from; the net never saw them.")


def item_map(im: dict | None, picks: list[int], user: int) -> None:
    """The item vectors on their two principal axes, a genre per colour and shape, the user's top items ringed,
    and a table toggle."""
    if im is None:
        st.info("This model has no item table to map: the map reads the Embedding that follows a Select of the "
                "item field.", icon=":material/info:")
        return
    xy, genre, share = im["xy"], im["genre"], im["share"]
    fig = go.Figure()
    for g in sorted(set(genre.tolist()) - {-1}):
        at = genre == g
        fig.add_trace(go.Scatter(
            x=xy[at, 0], y=xy[at, 1], mode="markers", name=f"genre {g + 1}",
            marker={"color": COLOURS[g % len(COLOURS)], "symbol": SYMBOLS[g % len(SYMBOLS)], "size": 8,
                    "line": {"width": 0.5, "color": "#FFFFFF"}},
            hovertemplate=f"item %{{customdata}} · genre {g + 1}<extra></extra>", customdata=at.nonzero()[0]))
    fig.add_trace(go.Scatter(x=xy[picks, 0], y=xy[picks, 1], mode="markers", name=f"user {user}'s top {len(picks)}",
                             marker={"color": "#000000", "symbol": "circle-open", "size": 16, "line": {"width": 2}},
                             hovertemplate="item %{customdata}: recommended<extra></extra>", customdata=picks))
    fig.update_layout(title=f"The learned item vectors<br><sup>{im['dim']}-D, seen from their two main axes; colour "
                      "and shape: each item's hidden genre</sup>",
                      xaxis_title=f"principal axis 1 ({share[0]:.0%} of the variance)",
                      yaxis_title=f"principal axis 2 ({share[1]:.0%})", height=460,
                      legend={"orientation": "h", "yanchor": "top", "y": -0.3, "x": 0},
                      margin={"l": 60, "r": 10, "t": 60, "b": 100})
    st.plotly_chart(fig, width="stretch", key=keys.APPS("item-map"))
    sep = im["separation"]
    st.caption(f"{sep:.0%} of the items lie nearer their own genre's centre than any other genre's on this map "
               f"(mixed at random: about {1 / max(1, len(set(genre.tolist()) - {-1})):.0%}). Items liked by the "
               "same users end up near each other.")
    if st.toggle("Show as table", key=keys.APPS("item-map", "table")):
        seen = genre >= 0
        st.dataframe(pd.DataFrame({"item": seen.nonzero()[0], "genre": genre[seen] + 1,
                                   "axis 1": xy[seen, 0].round(3), "axis 2": xy[seen, 1].round(3),
                                   f"user {user}'s top {len(picks)}": np.isin(seen.nonzero()[0], picks)}),
                     hide_index=True, height=240, key=keys.APPS("item-map", "rows"))
