"""Driving: a map the user edits (walls, the car, the goal) and the car driven on it by the net, step by step,
with the net's probability of each move."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from playground import appviews
from playground.data import options
from ui import keys, state
from ui.components.live_chart import PALETTE
from ui.views.model_source import Loaded

TOOL = keys.APPS("map-tool")
TOOLS = {"wall": "Wall (add or remove)", "car": "Car", "goal": "Goal"}
STEP = keys.APPS("drive-step")
CELL = {"wall": "■", "car": "🚗", "goal": "🏁", "free": "·"}


def _walls() -> np.ndarray:
    return np.array(state.get().apps.walls, bool)


def _start_map(m: Loaded) -> None:
    """The first validation map (one the net never saw), unless the user's map fits this data."""
    a = state.get().apps
    size = int(options(m.spec.data)["size"])
    if len(a.walls) == size:
        return
    s = m.data.x_val[0].numpy() > 0.5
    a.walls = tuple(tuple(int(v) for v in row) for row in s[0])
    a.car = tuple(int(v) for v in np.argwhere(s[1])[0])
    a.goal = tuple(int(v) for v in np.argwhere(s[2])[0])
    state.set_widget(STEP, 0)


def _click(r: int, c: int) -> None:
    """Apply the chosen tool to a cell: toggle a wall, or put the car or the goal there (clearing a wall)."""
    a, tool = state.get().apps, state.widget(TOOL, "wall")
    walls = [list(row) for row in a.walls]
    if tool == "wall":
        if (r, c) not in (a.car, a.goal):
            walls[r][c] = 1 - walls[r][c]
    elif (r, c) != (a.goal if tool == "car" else a.car):
        walls[r][c] = 0
        if tool == "car":
            a.car = (r, c)
        else:
            a.goal = (r, c)
    a.walls = tuple(tuple(row) for row in walls)
    state.set_widget(STEP, 0)


def editor() -> None:
    """The map as a grid of buttons: a click applies the chosen tool."""
    a = state.get().apps
    st.radio("Click a square to place", list(TOOLS), format_func=TOOLS.get, horizontal=True, key=TOOL)
    for r, row in enumerate(a.walls):
        with st.container(horizontal=True, gap=None, key=keys.APPS("map-row", r)):
            for c, wall in enumerate(row):
                what = "car" if (r, c) == a.car else "goal" if (r, c) == a.goal else "wall" if wall else "free"
                st.button(CELL[what], key=keys.APPS("map", r, c), on_click=_click, args=(r, c), width="stretch",
                          type="primary" if what == "wall" else "secondary")


def drive_figure(walls: np.ndarray, path: list, goal: tuple, k: int) -> go.Figure:
    """The map with the drive up to step `k`: walls dark, the path drawn, the car where it is then."""
    ys, xs = [p[0] for p in path[:k + 1]], [p[1] for p in path[:k + 1]]
    fig = go.Figure([
        go.Heatmap(z=walls.astype(int), colorscale=[[0, "#FFFFFF"], [1, "#555555"]], showscale=False,
                   xgap=1, ygap=1, hoverinfo="skip"),
        go.Scatter(x=xs, y=ys, mode="lines", name="path so far", line={"color": PALETTE["train"], "width": 4}),
        go.Scatter(x=[goal[1]], y=[goal[0]], mode="markers", name="goal",
                   marker={"color": PALETTE["val"], "size": 18, "symbol": "star"}),
        go.Scatter(x=[xs[-1]], y=[ys[-1]], mode="markers", name="car",
                   marker={"color": "#D55E00", "size": 16, "symbol": "square"})])
    fig.update_layout(title=f"The drive, step {k} of {len(path) - 1}", yaxis_autorange="reversed",
                      xaxis={"visible": False, "scaleanchor": "y"}, yaxis={"visible": False}, height=380,
                      margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend={"orientation": "h", "y": -0.02, "x": 0})
    return fig


def probabilities_figure(p: np.ndarray) -> go.Figure:
    """The net's probability of each move at one step."""
    fig = go.Figure(go.Bar(x=appviews.MOVES, y=p, marker_color=PALETTE["train"], text=[f"{v:.0%}" for v in p],
                           textposition="outside"))
    fig.update_layout(title="The net's move probabilities here", yaxis_range=[0, 1.15], yaxis_title="probability",
                      xaxis_title="move", height=260, margin={"l": 60, "r": 10, "t": 40, "b": 40})
    return fig


def view(m: Loaded) -> None:
    """Edit the map on the left; the net's drive on it on the right, one step at a time."""
    _start_map(m)
    a = state.get().apps
    walls = _walls()
    left, right = st.columns([1, 1.2])
    with left:
        editor()
    d = appviews.drive(m.model, walls, a.car, a.goal)
    with right:
        if d["shortest"] < 0:
            st.warning("The goal cannot be reached on this map: remove a wall.", icon=":material/block:")
        n = len(d["probs"])
        k = 0
        if n:
            if not isinstance(state.widget(STEP), int) or state.widget(STEP) > n:  # a new map, or a shorter drive
                state.set_widget(STEP, 0)
            k = st.slider("Step", 0, n, key=STEP, help="Move through the drive one step at a time")
        st.plotly_chart(drive_figure(walls, d["path"], a.goal, k), width="stretch", key=keys.APPS("drive"))
        if k < n:
            st.plotly_chart(probabilities_figure(d["probs"][k]), width="stretch", key=keys.APPS("moves"))
        verdict = (f"The car reached the goal in {n} moves (shortest: {d['shortest']})." if d["arrived"] else
                   f"The car did not reach the goal within {n} moves.")
        st.caption(verdict)
