"""Arrays as pictures: colour maps, PNG encoding, grids of maps, attribution overlays and colour bars.

Big grids go to the browser as images, not Plotly heatmaps (see the shared README: images redraw ~5×
faster). Colours are colour-blind safe: blue for positive, orange for negative, white for zero (the 2-D
playground's colours); one blue hue from light to dark for magnitudes; inputs in grey, ink dark.
"""

from __future__ import annotations

import html
import io

import numpy as np
from PIL import Image

NEG, MID, POS = (245, 147, 34), (247, 247, 247), (8, 119, 189)  # orange, near-white, blue
DARK = (8, 48, 107)
DIVERGING = "diverging"  # signed values: orange − … white 0 … blue +
SEQUENTIAL = "sequential"  # magnitudes: white 0 … dark blue
TILE = 192  # target side of one picture in pixels


def _ramp(stops: list[tuple[float, tuple[int, int, int]]]) -> np.ndarray:
    """(256, 3) uint8 colour table through the given (position, colour) stops."""
    t = np.linspace(0, 1, 256)
    pos = [p for p, _ in stops]
    return np.stack([np.interp(t, pos, [c[k] for _, c in stops]) for k in range(3)], 1).round().astype(np.uint8)


LUTS = {DIVERGING: _ramp([(0, NEG), (0.5, MID), (1, POS)]),
        SEQUENTIAL: _ramp([(0, (255, 255, 255)), (0.55, POS), (1, DARK)])}


def plotly_scale(cmap: str) -> list:
    """The same colours as a Plotly colorscale, for the few small figures drawn with Plotly."""
    lut = LUTS[cmap]
    return [[i / 8, f"rgb{tuple(int(c) for c in lut[min(255, i * 32)])}"] for i in range(9)]


def limits(a: np.ndarray, cmap: str) -> tuple[float, float]:
    """(lo, hi) of a colour scale for `a`: symmetric around 0 for diverging maps; never an empty range."""
    a = np.nan_to_num(np.asarray(a, dtype=np.float32))
    m = float(np.abs(a).max()) if a.size else 0.0
    m = m if m > 0 else 1.0
    return (-m, m) if cmap == DIVERGING else (0.0, m)


def colorize(a: np.ndarray, cmap: str, lo: float | None = None, hi: float | None = None) -> np.ndarray:
    """(…, ) values → (…, 3) uint8 colours on the scale lo … hi (default: `limits`)."""
    if lo is None or hi is None:
        lo, hi = limits(a, cmap)
    t = (np.nan_to_num(np.asarray(a, dtype=np.float32)) - lo) / max(hi - lo, 1e-12)
    return LUTS[cmap][np.clip(np.rint(t * 255), 0, 255).astype(np.int64)]


def grey(a: np.ndarray, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
    """(H, W) input values → (H, W, 3) grey, high values dark (ink on paper)."""
    t = np.clip((np.nan_to_num(np.asarray(a, dtype=np.float32)) - lo) / max(hi - lo, 1e-12), 0, 1)
    v = np.rint(255 - t * 221).astype(np.uint8)  # 1 → #222, not pure black
    return np.repeat(v[..., None], 3, -1)


def scale_for(h: int, w: int, target: int = TILE) -> int:
    """The integer zoom that makes an h×w picture about `target` pixels on its longer side."""
    return max(1, target // max(h, w, 1))


def upscale(rgb: np.ndarray, s: int) -> np.ndarray:
    """Nearest-neighbour zoom by an integer factor: every value stays a crisp square."""
    return rgb if s == 1 else np.repeat(np.repeat(rgb, s, 0), s, 1)


def png(rgb: np.ndarray) -> bytes:
    """(H, W, 3) uint8 → PNG bytes."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buf, format="PNG")
    return buf.getvalue()


def picture(a: np.ndarray, cmap: str | None = None, lo: float | None = None, hi: float | None = None,
            target: int = TILE) -> bytes:
    """One (H, W) array as a zoomed PNG: grey (an input) when cmap is None, else coloured."""
    rgb = grey(a) if cmap is None else colorize(a, cmap, lo, hi)
    return png(upscale(rgb, scale_for(*a.shape[:2], target)))


def grid(maps: np.ndarray, cmap: str = DIVERGING, lo: float | None = None, hi: float | None = None,
         cols: int = 8, tile: int = 72, pad: int = 3) -> bytes:
    """(N, H, W) maps as one PNG of tiles, left to right then top to bottom, on one shared colour scale."""
    n, h, w = maps.shape
    if lo is None or hi is None:
        lo, hi = limits(maps, cmap)
    s = scale_for(h, w, tile)
    cols = max(1, min(cols, n))
    rows = -(-n // cols)
    th, tw = h * s, w * s
    out = np.full((rows * (th + pad) + pad, cols * (tw + pad) + pad, 3), 205, np.uint8)  # grey gutters
    for i in range(n):
        r, c = divmod(i, cols)
        y, x = pad + r * (th + pad), pad + c * (tw + pad)
        out[y:y + th, x:x + tw] = upscale(colorize(maps[i], cmap, lo, hi), s)
    return png(out)


def grey_rows(rows: list[np.ndarray], tile: int = 40, pad: int = 3) -> bytes:
    """Rows of (N, H, W) inputs as one PNG of grey tiles (row r, column i), e.g. inputs above their outputs."""
    n, h, w = rows[0].shape
    s = scale_for(h, w, tile)
    th, tw = h * s, w * s
    out = np.full((len(rows) * (th + pad) + pad, n * (tw + pad) + pad, 3), 205, np.uint8)  # grey gutters
    for r, maps in enumerate(rows):
        for i, a in enumerate(maps):
            y, x = pad + r * (th + pad), pad + i * (tw + pad)
            out[y:y + th, x:x + tw] = upscale(grey(a), s)
    return png(out)


def overlay(x: np.ndarray, attr: np.ndarray, cmap: str, lo: float | None = None, hi: float | None = None,
            target: int = TILE) -> bytes:
    """The input (H, W) in light grey with the attribution (H, W) on top, opaque where it is strong."""
    if lo is None or hi is None:
        lo, hi = limits(attr, cmap)
    a = np.nan_to_num(np.asarray(attr, dtype=np.float32))
    base = 255 - (255 - grey(x).astype(np.float32)) * 0.6  # the input stays readable under the colours
    strength = np.clip(np.abs(a) / max(abs(hi), abs(lo), 1e-12), 0, 1) ** 0.8 * 0.9
    rgb = base * (1 - strength[..., None]) + colorize(a, cmap, lo, hi).astype(np.float32) * strength[..., None]
    return png(upscale(np.rint(rgb).astype(np.uint8), scale_for(*a.shape, target)))


def _fmt(v: float) -> str:
    return "0" if v == 0 else f"{v:.3g}" if 1e-3 <= abs(v) < 1e4 else f"{v:.1e}"


def colorbar(cmap: str, lo: float, hi: float, label: str, width: int = TILE) -> str:
    """A labelled colour bar as HTML (numbers and escaped text only), to sit under a picture."""
    lut = LUTS[cmap]
    stops = ", ".join(f"rgb({','.join(str(int(c)) for c in lut[i])}) {i / 2.55:.0f}%" for i in (0, 64, 128, 192, 255))
    ticks = [_fmt(lo), "0", _fmt(hi)] if cmap == DIVERGING else [_fmt(lo), "", _fmt(hi)]
    spans = "".join(f"<span>{html.escape(t)}</span>" for t in ticks)
    return (f'<div class="pg-cbar" style="width:{width}px;max-width:100%;font-size:12px;line-height:1.2;'
            f'margin:2px 0 6px">'
            f'<div style="height:10px;border:1px solid #bbb;border-radius:2px;background:linear-gradient(to right, '
            f'{stops})"></div>'
            f'<div style="display:flex;justify-content:space-between;opacity:.8">{spans}</div>'
            f'<div style="text-align:center;opacity:.8">{html.escape(label)}</div></div>')
