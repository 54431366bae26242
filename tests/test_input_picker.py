"""input_picker.image_from_bytes: pictures are checked from their header before anything is decoded."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile

from ui.views import input_picker
from ui.views.input_picker import MAX_PIXELS, image_from_bytes


def png_header_only_cheap(width: int, height: int) -> bytes:
    """A valid 1-bit grey PNG of width×height pixels, all black, built row by row (never held decoded)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    z = zlib.compressobj(9)
    row = b"\0" * (1 + (width + 7) // 8)  # filter byte, then the packed bits
    body = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", body) + chunk(b"IEND", b""))


@pytest.fixture
def no_decoding(monkeypatch):
    """Any decode of pixel data fails the test: a refusal must come from the header alone."""
    def refuse(self):
        raise AssertionError("pixel data was decoded")
    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


def test_a_13000_square_png_is_refused_from_its_header(no_decoding):
    data = png_header_only_cheap(13_000, 13_000)  # the attack: ~200 kB on disk, 169 M pixels
    assert len(data) < 300_000
    with pytest.raises(ValueError, match="pixels"):
        image_from_bytes(data, (1, 8, 8))


def test_a_picture_just_over_the_pixel_limit_is_refused_without_decoding(no_decoding):
    side = int(MAX_PIXELS ** 0.5) + 1  # past our limit, below Pillow's own (twice it)
    with pytest.raises(ValueError, match=f"{side:,}×{side:,} pixels; the limit is"):
        image_from_bytes(png_header_only_cheap(side, side), (1, 8, 8))


def test_pillow_limit_is_lowered_to_what_the_app_needs():
    assert Image.MAX_IMAGE_PIXELS == MAX_PIXELS <= 4096 * 4096


def test_a_large_allowed_picture_is_shrunk_before_it_becomes_an_array(monkeypatch):
    seen = []
    real = np.asarray

    def spy(a, *args, **kwargs):
        out = real(a, *args, **kwargs)
        seen.append(out.shape)
        return out
    monkeypatch.setattr(input_picker.np, "asarray", spy)
    img = Image.new("L", (3000, 2000), 255)
    img.paste(0, (1000, 500, 2000, 1500))  # a dark square on white paper
    buf = io.BytesIO()
    img.save(buf, "JPEG")
    x = image_from_bytes(buf.getvalue(), (1, 8, 8))
    assert x.shape == (1, 8, 8) and x.max() == pytest.approx(1.0)
    assert max(max(s[:2]) for s in seen if len(s) >= 2) <= input_picker.WORK_SIDE
    assert x[0, 4, 4] > 0.9 and x[0, 0, 0] < 0.1  # ink high in the middle, paper low at the corner


def test_other_formats_are_refused():
    buf = io.BytesIO()
    Image.new("L", (16, 16)).save(buf, "BMP")
    with pytest.raises(ValueError, match="not an image"):
        image_from_bytes(buf.getvalue(), (1, 8, 8))
