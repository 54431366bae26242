"""A small picture for each application's card, drawn from the application's own generated data (its preset's
dataset and options, a fixed seed): tumours by two measurements, scans, payments, price series, vowels'
spectrograms, a tic-tac-toe position, a map with the expert's route. Each is an RGB array of SIZE with a text
alternative; numpy only (no plotting library, nothing downloaded). An application without an entry here shows
its card without a picture: adding one is one entry in PICTURES.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import presets
from .appdata import gridworld, markets, tictactoe
from .data import DATASETS, Samples, options

H, W = 120, 240  # pixels: a wide strip across the top of a card
WHITE, INK, RULE = (255, 255, 255), (34, 34, 34), (200, 200, 200)
BLUE, ORANGE, VERMILION, SKY = (0, 114, 178), (230, 159, 0), (213, 94, 0), (86, 180, 233)  # Okabe–Ito
SEED = 0


@dataclass(frozen=True)
class Picture:
    draw: Callable[[], np.ndarray]  # () -> (H, W, 3) uint8
    alt: str  # what the picture shows, for a screen reader


PICTURES: dict[str, Picture] = {}


def picture(name: str) -> tuple[np.ndarray, str] | None:
    """Application `name`'s card picture, (H, W, 3) uint8, and its text alternative; None where it has none."""
    p = PICTURES.get(name)
    return None if p is None else (p.draw(), p.alt)


def samples(name: str, n: int) -> Samples:
    """`n` samples of application `name`'s dataset, generated with its preset's options (seed SEED)."""
    spec = presets.get(name).data
    opts = {k: v for k, v in options(spec).items() if k not in ("n_samples", "val_fraction", "seed", "target")}
    noise = opts.pop("noise")
    return DATASETS.get(spec.name).make(n, noise, np.random.default_rng(SEED), **opts)


# ---- drawing on a numpy canvas -------------------------------------------------------------------

def canvas() -> np.ndarray:
    return np.full((H, W, 3), WHITE, np.uint8)


def dots(img: np.ndarray, x: np.ndarray, y: np.ndarray, r: float, color: tuple) -> None:
    """Filled discs of radius `r` pixels at (x, y) (pixels; y down)."""
    k = int(np.ceil(r))
    oy, ox = np.mgrid[-k:k + 1, -k:k + 1]
    inside = ox ** 2 + oy ** 2 <= r * r + 0.5
    for cx, cy in zip(np.rint(x).astype(int), np.rint(y).astype(int), strict=True):
        yy, xx = cy + oy[inside], cx + ox[inside]
        ok = (yy >= 0) & (yy < img.shape[0]) & (xx >= 0) & (xx < img.shape[1])
        img[yy[ok], xx[ok]] = color


def line(img: np.ndarray, x: np.ndarray, y: np.ndarray, width: float, color: tuple) -> None:
    """A polyline through (x, y), `width` pixels thick."""
    xs, ys = [x[:1]], [y[:1]]
    for (x0, y0, x1, y1) in zip(x[:-1], y[:-1], x[1:], y[1:], strict=True):
        n = int(max(abs(x1 - x0), abs(y1 - y0)) * 2) + 1
        t = np.linspace(0, 1, n + 1)[1:]
        xs.append(x0 + (x1 - x0) * t)
        ys.append(y0 + (y1 - y0) * t)
    dots(img, np.concatenate(xs), np.concatenate(ys), width / 2, color)


def fit(v: np.ndarray, lo: float, hi: float, flip: bool = False) -> np.ndarray:
    """Values rescaled to the pixel range lo … hi (hi … lo with `flip`: up is larger, as on a chart)."""
    v = np.asarray(v, float)
    t = (v - v.min()) / max(float(v.max() - v.min()), 1e-12)
    return hi - t * (hi - lo) if flip else lo + t * (hi - lo)


def resize(a: np.ndarray, h: int, w: int) -> np.ndarray:
    """Nearest-neighbour resize of the first two axes."""
    return a[(np.arange(h) * a.shape[0] // h)][:, (np.arange(w) * a.shape[1] // w)]


def shade(v: np.ndarray) -> np.ndarray:
    """Values in [0, 1] → white … Okabe–Ito blue … dark blue (magnitudes, as Explain draws them)."""
    stops = np.array([WHITE, BLUE, (8, 48, 107)], float)
    t = np.clip(v, 0, 1)[..., None] * 2
    lower = stops[0] + (stops[1] - stops[0]) * np.clip(t, 0, 1)
    return np.where(t <= 1, lower, stops[1] + (stops[2] - stops[1]) * (t - 1)).round().astype(np.uint8)


def axes(img: np.ndarray, left: int = 8, bottom: int = H - 8) -> None:
    """Two thin rules: the x axis along the bottom, the y axis up the left."""
    img[bottom, left:W - 6] = RULE
    img[6:bottom + 1, left] = RULE


# ---- the pictures --------------------------------------------------------------------------------

def _scatter(x: np.ndarray, y: np.ndarray, hit: np.ndarray, r_miss: float, r_hit: float) -> np.ndarray:
    """Two measurements against each other: the common class blue, the one looked for vermilion on top."""
    img = canvas()
    axes(img)
    px, py = fit(x, 14, W - 10), fit(y, 8, H - 14, flip=True)
    dots(img, px[~hit], py[~hit], r_miss, BLUE)
    dots(img, px[hit], py[hit], r_hit, VERMILION)
    return img


def tumours() -> np.ndarray:
    s = samples("diagnose-tumours", 569)
    names = s.info["feature_names"]
    a, b = names.index("worst radius"), names.index("worst concave points")
    return _scatter(s.x[:, a], s.x[:, b], s.y == 0, 1.6, 1.6)  # class 0: malignant


def payments() -> np.ndarray:
    s = samples("fraud-mlp", 2000)
    names = s.info["feature_names"]
    a, b = names.index("amount / usual"), names.index("km from home")
    symlog = lambda v: np.sign(v) * np.log1p(np.abs(v))  # noqa: E731  (noise makes a few values negative)
    return _scatter(symlog(s.x[:, a]), symlog(s.x[:, b]), s.y == 1, 1.0, 2.6)


def scans() -> np.ndarray:
    s = samples("lesions-cnn", 2)  # one healthy, one with a lesion (the labels alternate)
    img = canvas()
    side = 100
    for k, left in enumerate((W // 2 - side - 6, W // 2 + 6)):
        v = np.clip(resize(s.x[k, 0], side, side), 0, 1)
        img[10:10 + side, left:left + side] = np.rint(255 - v * 221).astype(np.uint8)[..., None]  # as the view
    return img


def prices() -> np.ndarray:
    rng = np.random.default_rng(SEED)
    trend, walk = (markets.series(W - 16, rng, kind, 0.0) for kind in ("regimes", "random_walk"))
    img = canvas()
    axes(img)
    both = np.r_[trend, walk]
    scale = lambda v: H - 14 - (v - both.min()) / max(float(np.ptp(both)), 1e-12) * (H - 22)  # noqa: E731
    x = np.arange(W - 16) + 10.0
    line(img, x, scale(walk), 1.6, ORANGE)
    line(img, x, scale(trend), 2.0, BLUE)
    return img


def vowels() -> np.ndarray:
    s = samples("speech-vowels", 5)  # the five vowels in turn
    img = canvas()
    tile, gap = 44, 5
    left = (W - 5 * tile - 4 * gap) // 2
    for k in range(5):
        x0 = left + k * (tile + gap)
        img[8:H - 8, x0:x0 + tile] = shade(resize(s.x[k, 0], H - 16, tile))
    return img


def board() -> np.ndarray:
    rng, b = np.random.default_rng(SEED), (0,) * 9
    while sum(c != 0 for c in b) < 5:  # five random legal moves (three crosses, two noughts), no winner yet
        b = tictactoe.play(b, int(rng.choice([c for c in range(9) if b[c] == 0])))
        if tictactoe.winner(b):
            b = (0,) * 9
    img = canvas()
    cell, top = 34, 9
    left = (W - 3 * cell) // 2
    for k in (1, 2):
        img[top + 2:top + 3 * cell - 2, left + k * cell - 1:left + k * cell + 2] = INK
        img[top + k * cell - 1:top + k * cell + 2, left + 2:left + 3 * cell - 2] = INK
    for c, mark in enumerate(b):
        cx, cy = left + (c % 3 + 0.5) * cell, top + (c // 3 + 0.5) * cell
        if mark == 1:  # X
            d = np.array([-1.0, 1.0]) * cell * 0.28
            line(img, cx + d, cy + d, 4, BLUE)
            line(img, cx + d, cy - d, 4, BLUE)
        elif mark == 2:  # O: a ring
            yy, xx = np.mgrid[0:H, 0:W]
            r = np.hypot(xx - cx, yy - cy)
            img[(r >= cell * 0.22) & (r <= cell * 0.34)] = VERMILION
    return img


def drive() -> np.ndarray:
    o = options(presets.get("drive-gridworld").data)
    walls, car, goal, dist = gridworld.random_map(np.random.default_rng(SEED), o["size"], o["density"])
    route = [car]
    while route[-1] != goal:
        route.append(gridworld.step(walls, route[-1], gridworld.expert(walls, route[-1], dist)))
    n = walls.shape[0]
    cell = (H - 8) // n
    top, left = (H - n * cell) // 2, (W - n * cell) // 2
    img = canvas()
    for (r, c), color in [(rc, (64, 64, 64) if walls[rc] else (238, 238, 238)) for rc in np.ndindex(n, n)] + \
            [(rc, SKY) for rc in route[1:-1]] + [(car, BLUE), (goal, VERMILION)]:
        img[top + r * cell + 1:top + (r + 1) * cell, left + c * cell + 1:left + (c + 1) * cell] = color
    return img


def ratings() -> np.ndarray:
    """The first users' ratings of the first items, the items grouped by hidden genre (rules between groups);
    darker is higher, white is not rated."""
    s = samples("recommend-mf", 10000)
    n_users, n_items = s.info["field_ids"]["user"], s.info["field_ids"]["item"]
    known = np.full((n_users, n_items), np.nan)
    known[s.x[:, 0], s.x[:, 1]] = s.y[:, 0]
    genre = np.full(n_items, -1)
    genre[s.x[:, 1]] = s.extras["genre"]
    rows, cols, cell = H // 5, W // 5, 5
    order = np.argsort(genre[:cols], kind="stable")
    grid = known[:rows][:, order]
    img = canvas()
    colours = shade(0.2 + 0.8 * (np.nan_to_num(grid, nan=1.0) - 1) / 4)  # 1 star stays visible, lighter
    colours[np.isnan(grid)] = WHITE
    img[:rows * cell, :cols * cell] = np.repeat(np.repeat(colours, cell, 0), cell, 1)
    for c in np.nonzero(np.diff(genre[:cols][order]))[0]:
        img[:, (c + 1) * cell] = INK
    return img


PICTURES.update({
    "diagnose-tumours": Picture(tumours, "569 tumours by worst radius (across) and worst concave points (up): "
                                "malignant ones in vermilion, benign ones in blue, overlapping where the two "
                                "meet"),
    "lesions-cnn": Picture(scans, "two generated scans of textured tissue: a healthy one on the left, one with "
                           "a faint round lesion on the right"),
    "fraud-mlp": Picture(payments, "2,000 generated card payments by amount over the usual (across) and distance "
                         "from home (up): the 20 frauds in vermilion among the genuine ones in blue"),
    "stocks-lstm": Picture(prices, "two generated price series: one with trends that persist (blue) and a pure "
                           "random walk (orange)"),
    "speech-vowels": Picture(vowels, "spectrograms of the five synthesised vowels a, e, i, o, u side by side: "
                             "time across, pitch up, loudness darker"),
    "tictactoe-value": Picture(board, "a tic-tac-toe position with three blue crosses and two vermilion "
                               "noughts"),
    "recommend-mf": Picture(ratings, "the ratings 24 generated users (down) gave 48 items (across), items grouped "
                            "by hidden genre: darker is a higher rating, white not rated"),
    "drive-gridworld": Picture(drive, "an 8 by 8 map with dark walls, the car in blue, its goal in vermilion and "
                               "the expert's shortest route between them in light blue"),
})


def found_shapes() -> np.ndarray:
    """Two generated images of several shapes, each with its true box in orange (the detection view's)."""
    s = samples("detect-shapes", 2)
    img = canvas()
    side = 100
    for k, left in enumerate((W // 2 - side - 6, W // 2 + 6)):
        v = np.clip(resize(s.x[k, 0], side, side), 0, 1)
        img[10:10 + side, left:left + side] = np.rint(255 - v * 221).astype(np.uint8)[..., None]
        for (x0, y0, x1, y1), c in zip(s.extras["boxes"][k], s.extras["classes"][k], strict=True):
            if c < 0:
                continue
            a, b = left + int(x0 * side), left + min(int(np.ceil(x1 * side)), side - 1)
            t, u = 10 + int(y0 * side), 10 + min(int(np.ceil(y1 * side)), side - 1)
            img[t:t + 2, a:b + 1] = img[u - 1:u + 1, a:b + 1] = ORANGE
            img[t:u + 1, a:a + 2] = img[t:u + 1, b - 1:b + 1] = ORANGE
    return img


PICTURES["detect-shapes"] = Picture(found_shapes, "two generated images of circles, squares and triangles, each "
                                    "shape in an orange box")


def masked_shapes() -> np.ndarray:
    """Two generated shapes, each beside its mask in blue (the segmentation view's)."""
    s = samples("unet-shapes", 2)  # its masks are kept as extras
    img = canvas()
    side = 52
    for k in range(2):
        left = 10 + k * 2 * (side + 8) + (W - 4 * side - 3 * 8 - 20) // 2
        v = np.clip(resize(s.x[k].mean(0), side, side), 0, 1)
        img[34:34 + side, left:left + side] = np.rint(255 - v * 221).astype(np.uint8)[..., None]
        m = resize(s.extras["mask"][k, 0].astype(float), side, side) > 0.5
        tile = np.full((side, side, 3), WHITE, np.uint8)
        tile[m] = BLUE
        img[34:34 + side, left + side + 8:left + 2 * side + 8] = tile
    return img


PICTURES["unet-shapes"] = Picture(masked_shapes, "two generated shapes in grey, each followed by its mask: the "
                                  "pixels of the shape in blue")
