"""Several shapes per image, each with its class and its box: the detection application's data.

An image holds 1 … `max_shapes` shapes (circle, square, triangle, as in the `shapes` set) that do not touch,
and no two centres in one cell of a `grid` × `grid` partition of the image: each shape is the job of the cell
its box's centre falls in (the YOLO way), so the target is one row of numbers per cell —

    [object?, centre x in the cell, centre y in the cell, width, height, one-hot class …]

with the centre as a fraction of the cell and the width and height as fractions of the image. The boxes
themselves (x0, y0, x1, y1 as fractions of the image) and the classes ride along as extras, padded with
class −1, for the views and the scores (detection.py).
"""

from __future__ import annotations

import numpy as np

SHAPES = ["circle", "square", "triangle"]  # the `shapes` set's classes, in its order
FIELDS = ["object", "x", "y", "w", "h"]  # the first channels of a cell's target; the classes follow
TRIES = 60  # placements tried for each shape before an image settles for fewer (a full image)


def shape_mask(kind: int, cx: float, cy: float, r: float, size: int) -> np.ndarray:
    """A (size, size) 0/1 mask of shape `kind` (SHAPES) centred near (cx, cy) with radius `r` in pixels."""
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    if kind == 0:
        return (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
    if kind == 1:
        return (abs(xx - cx) <= r * 0.85) & (abs(yy - cy) <= r * 0.85)
    top, base = cy - r, cy + r * 0.7  # an upward triangle inside the circle of radius r
    half = (yy - top) / (base - top) * r
    return (yy >= top) & (yy <= base) & (abs(xx - cx) <= half)


def box_of(mask: np.ndarray) -> np.ndarray:
    """The tight box (x0, y0, x1, y1) of a mask's pixels, as fractions of the image side."""
    size = mask.shape[-1]
    rows, cols = np.nonzero(mask)
    return np.array([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1], np.float32) / size


def encode(boxes: np.ndarray, classes: np.ndarray, grid: int, n_classes: int = len(SHAPES)) -> np.ndarray:
    """The (5 + n_classes, grid, grid) target of one image from its boxes (k, 4) and classes (k,) (−1: none)."""
    t = np.zeros((len(FIELDS) + n_classes, grid, grid), np.float32)
    for (x0, y0, x1, y1), c in zip(boxes, classes, strict=True):
        if c < 0:
            continue
        cx, cy = (x0 + x1) / 2 * grid, (y0 + y1) / 2 * grid  # in cells
        col, row = min(int(cx), grid - 1), min(int(cy), grid - 1)
        t[:5, row, col] = [1.0, cx - col, cy - row, x1 - x0, y1 - y0]
        t[5 + c, row, col] = 1.0
    return t


def shape_boxes(n: int, noise: float, rng: np.random.Generator, size: int, grid: int,
                max_shapes: int) -> tuple:
    """`n` single-channel `size`² images with 1 … `max_shapes` shapes each (fewer where no place is left),
    their grid targets, and extras "boxes" (n, max_shapes, 4), "classes" (n, max_shapes) and "mask"."""
    x = np.zeros((n, 1, size, size), np.float32)
    masks = np.zeros((n, 1, size, size), np.float32)
    boxes = np.zeros((n, max_shapes, 4), np.float32)
    classes = np.full((n, max_shapes), -1, np.int64)
    y = np.zeros((n, len(FIELDS) + len(SHAPES), grid, grid), np.float32)
    for i in range(n):
        want = int(rng.integers(1, max_shapes + 1))
        taken: set[tuple[int, int]] = set()
        k = 0
        for _ in range(want * TRIES):
            if k == want:
                break
            kind = int(rng.integers(len(SHAPES)))
            r = rng.uniform(0.10, 0.17) * size
            cx, cy = rng.uniform(r + 0.5, size - r - 0.5, 2)
            m = shape_mask(kind, cx, cy, r, size)
            if not m.any():
                continue
            b = box_of(m)
            cell = (min(int((b[1] + b[3]) / 2 * grid), grid - 1), min(int((b[0] + b[2]) / 2 * grid), grid - 1))
            gap = 1.0 / size  # a pixel between any two boxes: shapes never touch
            if cell in taken or any(b[0] < o[2] + gap and o[0] < b[2] + gap and b[1] < o[3] + gap
                                    and o[1] < b[3] + gap for o in boxes[i, :k]):
                continue
            taken.add(cell)
            boxes[i, k], classes[i, k] = b, kind
            x[i, 0][m] = rng.uniform(0.6, 1.0)
            masks[i, 0][m] = 1.0
            k += 1
        y[i] = encode(boxes[i], classes[i], grid)
    x = np.clip(x + rng.normal(0, 1, x.shape) * noise, 0, 1).astype(np.float32)
    info = {"class_names": list(SHAPES)}
    return x, y, {"boxes": boxes, "classes": classes, "mask": masks}, info
