"""Markets: the net's forecast of each next day's price beside the truth and "tomorrow = today", with the
error ratio; the user picks the series kind (a random walk, or regimes with trends) and trains again."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from playground import appviews
from playground.appdata.markets import KINDS
from ui import keys, state
from ui.components.live_chart import PALETTE
from ui.views.model_source import Loaded

KIND = keys.APPS("series")
NAMES = {"regimes": "Trends that persist (regimes)", "random_walk": "A pure random walk"}


def _set_kind() -> None:
    kind = state.widget(KIND)
    if kind in KINDS:
        state.edit(lambda spec: spec["data"].update(kind=kind))


def settings() -> None:
    """The series kind, bound to the setup's data (changing it asks for a new run)."""
    kind = state.get().spec["data"].get("kind", "regimes")
    st.radio("Series", list(KINDS), format_func=NAMES.get, horizontal=True, on_change=_set_kind,
             key=state.bind(KIND, kind), help="A random walk's next change cannot be forecast; trends can. "
             "Changing it starts over: press Train again.")


def view(m: Loaded) -> None:
    """Forecast vs truth vs the naive forecast on days the net never saw, and the error ratio."""
    f = appviews.market_forecast(m.model, m.spec.data)
    a, b, c = st.columns(3)
    a.metric("Net's error", f"{f['net_error']:.3g}", help="Mean squared error of the forecast change (in %²)")
    b.metric("'Tomorrow = today' error", f"{f['naive_error']:.3g}")
    c.metric("Error ratio (net / naive)", f"{f['ratio']:.2f}", delta=f"{f['ratio'] - 1:+.2f}", delta_color="inverse",
             help="Below 1: the net beats the naive forecast")
    fig = go.Figure([
        go.Scatter(x=f["day"], y=f["truth"], mode="lines", name="true price", line={"color": "#000000"}),
        go.Scatter(x=f["day"], y=f["naive"], mode="lines", name="naive: tomorrow = today",
                   line={"color": PALETTE["val"], "dash": "dot"}),
        go.Scatter(x=f["day"], y=f["net"], mode="lines", name="the net's forecast", line={"color": PALETTE["train"]})])
    fig.update_layout(title=f"Next-day forecasts on {len(f['day'])} days the net never saw<br><sup>"
                      f"{NAMES.get(f['kind'], '')}</sup>", xaxis_title="day",
                      yaxis_title="price (start = 1)", height=380, legend={"orientation": "h", "y": -0.22, "x": 0},
                      margin={"l": 60, "r": 10, "t": 50, "b": 50})
    st.plotly_chart(fig, width="stretch", key=keys.APPS("forecast"))
    st.caption("Each day's forecast starts from the true price of the day before. On a random walk no model "
               "beats 'tomorrow = today' (a ratio near or above 1 is the honest result); on trending series a "
               "net can.")
