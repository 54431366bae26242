"""Tic-tac-toe against the value net: the board as buttons, each empty square showing the value the net sees
for the player to move if they take it; the net plays X or O."""

from __future__ import annotations

import streamlit as st

from playground import appviews
from playground.appdata import tictactoe
from ui import keys, state
from ui.views.model_source import Loaded

MARKS = {0: "", 1: "X", 2: "O"}
WORDS = {1: "a win for you", 0: "a draw", -1: "a loss for you"}
SIDE = keys.APPS("net-side")


def _new_game() -> None:
    state.get().apps.board = (0,) * 9


def _set_side() -> None:
    side = state.widget(SIDE)
    if side in (1, 2):
        state.get().apps.net_plays = side
        _new_game()


def _play(cell: int) -> None:
    a = state.get().apps
    if not tictactoe.over(a.board) and a.board[cell] == 0 and tictactoe.to_move(a.board) != a.net_plays:
        a.board = tictactoe.play(a.board, cell)


def settings() -> None:
    """Which side the net plays, and a new game."""
    a = state.get().apps
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    left.radio("The net plays", [1, 2], format_func=lambda p: f"{MARKS[p]} ({'first' if p == 1 else 'second'})",
               horizontal=True, key=state.bind(SIDE, a.net_plays), on_change=_set_side)
    right.button("New game", icon=":material/refresh:", key=keys.APPS("new-game"), on_click=_new_game,
                 width="stretch")


def outcome(board: tuple, net: int) -> str:
    """The game's result in words, or whose turn it is."""
    w = tictactoe.winner(board)
    if w:
        return "The net wins." if w == net else "You win!"
    if tictactoe.over(board):
        return "A draw."
    return "The net is thinking…" if tictactoe.to_move(board) == net else f"Your move: you play {MARKS[3 - net]}."


def view(m: Loaded) -> None:
    """The game: the net moves when it is its turn; the user clicks an empty square on theirs."""
    a = state.get().apps
    if not tictactoe.over(a.board) and tictactoe.to_move(a.board) == a.net_plays:
        a.board = tictactoe.play(a.board, appviews.net_move(m.model, a.board))
    yours = not tictactoe.over(a.board) and tictactoe.to_move(a.board) != a.net_plays
    values = appviews.net_move_values(m.model, a.board) if yours else {}
    left, right = st.columns([1, 1.4])
    with left:
        st.markdown(f"**{outcome(a.board, a.net_plays)}**")
        for row in range(3):
            for col, cell in zip(st.columns(3, gap="small"), range(3 * row, 3 * row + 3), strict=True):
                mark = MARKS[a.board[cell]]
                label = mark or (f"{round(values[cell], 2) + 0:+.2f}" if cell in values else "·")  # no "-0.00"
                # a mark stays enabled (drawn dark, readable); clicking it does nothing
                col.button(label, key=keys.APPS("cell", cell), on_click=_play, args=(cell,), width="stretch",
                           disabled=not mark and not yours, type="primary" if mark else "secondary")
    right.markdown("Each empty square shows how the net rates taking it **for you**, the player to move: "
                   "+1 a certain win, 0 a draw, −1 a loss with best play on both sides. It is the value "
                   "the net sees, not the truth: where it is wrong, it can be beaten.")
    if values:
        best = max(values, key=values.get)
        truth = -tictactoe.value(tictactoe.play(a.board, best))
        right.caption(f"The net's favourite move for you is square {best + 1} (rows from the top, left to right); "
                      f"with best play it leads to {WORDS[truth]}.")
