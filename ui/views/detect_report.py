"""A detector's end-of-run report on the Train page: validation images with the true boxes (solid orange) and
the net's (dashed blue) drawn over them, and the split's figures (detection.report makes it)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from ui import keys
from ui.views import images

TRUE, NET = (230, 159, 0), (0, 114, 178)  # Okabe–Ito orange, blue (the Applications view's colours)
DASH = 4  # pixels on, then off, along a dashed edge


def rectangle(rgb: np.ndarray, box: list[float], color: tuple, dashed: bool, width: int = 2) -> None:
    """Draw a box (x0, y0, x1, y1 fractions of the picture) as an outline `width` pixels thick, in place."""
    h, w = rgb.shape[:2]
    x0, x1 = (int(np.clip(round(v * w), 0, w - 1)) for v in (box[0], box[2]))
    y0, y1 = (int(np.clip(round(v * h), 0, h - 1)) for v in (box[1], box[3]))
    on_x = (np.arange(x0, x1 + 1) // DASH) % 2 == 0 if dashed else np.ones(x1 - x0 + 1, bool)
    on_y = (np.arange(y0, y1 + 1) // DASH) % 2 == 0 if dashed else np.ones(y1 - y0 + 1, bool)
    for t in range(width):
        for y in (min(y0 + t, h - 1), max(y1 - t, 0)):
            rgb[y, x0:x1 + 1][on_x] = color
        for x in (min(x0 + t, w - 1), max(x1 - t, 0)):
            rgb[y0:y1 + 1, x][on_y] = color


def tiles(r: dict, target: int = 120) -> np.ndarray:
    """The report's images in a row, each zoomed with its true and predicted boxes drawn."""
    out = []
    for img, b in zip(r["images"], r["boxes"], strict=True):
        rgb = images.upscale(images.grey(img), images.scale_for(*img.shape, target=target)).copy()
        for t in b["true"]:
            rectangle(rgb, t["box"], TRUE, dashed=False)
        for p in b["pred"]:
            rectangle(rgb, p["box"], NET, dashed=True)
        out.append(np.pad(rgb, ((3, 3), (3, 3), (0, 0)), constant_values=255))
    return np.concatenate(out, 1)


def report(r: dict, key: str) -> None:
    """The figures and the row of images with their boxes."""
    with st.container(key=keys.RUN("boxes", key)):
        st.markdown(f"**Detected boxes** (validation: mean IoU {r['mean IoU']:.3f}, accuracy {r['accuracy']:.1%}, "
                    f"{r['extra boxes per image']:.2f} extra boxes per image)")
        st.image(images.png(tiles(r)), caption="Solid orange: the true boxes; dashed blue: the network's.",
                 alt="validation images with the true boxes in solid orange and the network's in dashed blue")
