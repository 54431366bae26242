"""Tic-tac-toe: every legal position, its exact minimax value, and games against a random player.

A board is a tuple of 9 cells (0 empty, 1 X, 2 O); X moves first. Values are from the view of the player
to move: 1 win, 0 draw, -1 loss with best play on both sides.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np

LINES = [(0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6)]
OUTCOMES = ["loss", "draw", "win"]  # class k is value k - 1


def winner(board: tuple) -> int:
    """1 or 2 for the player with three in a line, else 0."""
    for a, b, c in LINES:
        if board[a] and board[a] == board[b] == board[c]:
            return board[a]
    return 0


def to_move(board: tuple) -> int:
    """The player whose turn it is (X when the counts are equal)."""
    return 1 if board.count(1) == board.count(2) else 2


def over(board: tuple) -> bool:
    """True when someone has won or the board is full."""
    return bool(winner(board)) or 0 not in board


def play(board: tuple, cell: int) -> tuple:
    """The board after the player to move takes `cell`."""
    b = list(board)
    b[cell] = to_move(board)
    return tuple(b)


@cache
def value(board: tuple) -> int:
    """Minimax value for the player to move (a finished game: -1 if the previous player won, else 0)."""
    if winner(board):
        return -1
    if 0 not in board:
        return 0
    return max(-value(play(board, c)) for c in range(9) if board[c] == 0)


def positions() -> list[tuple]:
    """Every legal position reachable from the empty board (5,478), in a fixed order."""
    seen, order, stack = set(), [], [(0,) * 9]
    while stack:
        b = stack.pop()
        if b in seen:
            continue
        seen.add(b)
        order.append(b)
        if not over(b):
            stack.extend(play(b, c) for c in range(8, -1, -1) if b[c] == 0)
    return order


def encode(boards) -> np.ndarray:
    """Boards as (n, 2, 3, 3): plane 0 the mover's marks, plane 1 the opponent's (so one net plays both)."""
    b = np.asarray(boards, np.int64).reshape(-1, 9)
    mover = np.where((b == 1).sum(1) == (b == 2).sum(1), 1, 2)[:, None]
    return np.stack([b == mover, (b != mover) & (b != 0)], 1).reshape(-1, 2, 3, 3).astype(np.float32)


def positions_with_values(n: int, noise: float, rng: np.random.Generator) -> tuple:
    """`n` of the legal positions (all of them at most once, shuffled) with their value as a class."""
    allpos = positions()
    pick = rng.permutation(len(allpos))[:n]
    boards = [allpos[i] for i in pick]
    y = np.array([value(b) + 1 for b in boards], np.int64)
    flip = rng.random(len(y)) < noise  # label noise: a share of wrong values
    y[flip] = rng.integers(0, 3, int(flip.sum()))
    info = {"class_names": OUTCOMES, "n_classes": 3}
    return encode(boards), y, {"board": np.asarray(boards, np.int64)}, info


def best_move(board: tuple, score: Callable[[np.ndarray], np.ndarray]) -> int:
    """The empty cell whose resulting position `score` rates worst for the opponent (lowest value)."""
    cells = [c for c in range(9) if board[c] == 0]
    return cells[int(np.argmin(score(encode([play(board, c) for c in cells]))))]


def versus_random(score: Callable[[np.ndarray], np.ndarray], games: int, seed: int) -> dict:
    """The net plays X (first) against a uniformly random O: counts of wins, draws and losses."""
    rng = np.random.default_rng(seed)
    tally = {"win": 0, "draw": 0, "loss": 0}
    for _ in range(games):
        b = (0,) * 9
        while not over(b):
            if to_move(b) == 1:
                b = play(b, best_move(b, score))
            else:
                b = play(b, int(rng.choice([c for c in range(9) if b[c] == 0])))
        w = winner(b)
        tally["win" if w == 1 else "loss" if w == 2 else "draw"] += 1
    return tally
