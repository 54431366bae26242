"""Driving on grid maps: walls, a car and a goal; the expert's move follows a shortest path (breadth-first).

Every sample is its own random map, so the validation maps are maps the net has never seen.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import numpy as np

MOVES = ["up", "down", "left", "right"]
STEPS = [(-1, 0), (1, 0), (0, -1), (0, 1)]


def distances(walls: np.ndarray, goal: tuple[int, int]) -> np.ndarray:
    """Steps from every cell to `goal` avoiding walls (-1 where it cannot be reached)."""
    h, w = walls.shape
    dist = np.full((h, w), -1, np.int64)
    dist[goal] = 0
    queue = deque([goal])
    while queue:
        r, c = queue.popleft()
        for dr, dc in STEPS:
            rr, cc = r + dr, c + dc
            if 0 <= rr < h and 0 <= cc < w and not walls[rr, cc] and dist[rr, cc] < 0:
                dist[rr, cc] = dist[r, c] + 1
                queue.append((rr, cc))
    return dist


def step(walls: np.ndarray, car: tuple[int, int], move: int) -> tuple[int, int]:
    """Where the car ends up: a move into a wall or off the map leaves it in place."""
    r, c = car[0] + STEPS[move][0], car[1] + STEPS[move][1]
    h, w = walls.shape
    return (r, c) if 0 <= r < h and 0 <= c < w and not walls[r, c] else car


def expert(walls: np.ndarray, car: tuple[int, int], dist: np.ndarray) -> int:
    """The first move (in MOVES order) that brings the car one step closer to the goal."""
    for m in range(4):
        nxt = step(walls, car, m)
        if nxt != car and dist[nxt] == dist[car] - 1:
            return m
    raise ValueError("the car is at the goal or cannot reach it")


def encode(walls: np.ndarray, car: tuple[int, int], goal: tuple[int, int]) -> np.ndarray:
    """A state as 3 planes: walls, the car, the goal."""
    x = np.zeros((3, *walls.shape), np.float32)
    x[0], x[1][car], x[2][goal] = walls, 1, 1
    return x


def random_map(rng: np.random.Generator, size: int, density: float) -> tuple:
    """Walls, car and goal with the goal reachable from the car (drawn again until it is)."""
    while True:
        walls = rng.random((size, size)) < density
        free = np.argwhere(~walls)
        if len(free) < 2:
            continue
        car, goal = (tuple(int(v) for v in free[i]) for i in rng.choice(len(free), 2, replace=False))
        dist = distances(walls, goal)
        if dist[car] > 0:
            return walls, car, goal, dist


def driving_states(n: int, noise: float, rng: np.random.Generator, size: int, density: float) -> tuple:
    """`n` states, each on its own map: planes (n, 3, size, size) and the expert's move."""
    x = np.zeros((n, 3, size, size), np.float32)
    y = np.zeros(n, np.int64)
    for i in range(n):
        walls, car, goal, dist = random_map(rng, size, density)
        x[i], y[i] = encode(walls, car, goal), expert(walls, car, dist)
    flip = rng.random(n) < noise  # a careless expert now and then
    y[flip] = rng.integers(0, 4, int(flip.sum()))
    return x, y, {}, {"class_names": MOVES, "n_classes": 4}


def drive(policy: Callable[[np.ndarray], np.ndarray], state: np.ndarray, slack: float = 2.0) -> list:
    """Follow `policy` (states → move scores; its best move that is not into a wall) from an encoded state;
    the cells visited, ending at the goal when it gets there within `slack` × the shortest path."""
    walls = state[0] > 0.5
    car = tuple(int(v) for v in np.argwhere(state[1] > 0.5)[0])
    goal = tuple(int(v) for v in np.argwhere(state[2] > 0.5)[0])
    budget = int(np.ceil(distances(walls, goal)[car] * slack))
    path = [car]
    for _ in range(budget):
        scores = policy(encode(walls, car, goal)[None])[0].astype(float)
        scores[[step(walls, car, m) == car for m in range(4)]] = -np.inf  # the car never drives into a wall
        car = step(walls, car, int(np.argmax(scores)))
        path.append(car)
        if car == goal:
            break
    return path


def success_rate(policy: Callable[[np.ndarray], np.ndarray], states: np.ndarray) -> float:
    """Share of states from which the policy drives to the goal within twice the shortest path."""
    hits = 0
    for s in states:
        goal = tuple(int(v) for v in np.argwhere(s[2] > 0.5)[0])
        hits += drive(policy, s)[-1] == goal
    return hits / max(1, len(states))
