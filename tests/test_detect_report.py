"""ui/views/detect_report.py: boxes drawn where they are, the net's dashed, and the report drawn by its kind."""

from __future__ import annotations

import numpy as np

from ui.views import detect_report, report_views


def test_a_solid_and_a_dashed_rectangle_where_the_box_is():
    rgb = np.full((40, 40, 3), 255, np.uint8)
    detect_report.rectangle(rgb, [0.25, 0.25, 0.75, 0.75], detect_report.TRUE, dashed=False, width=1)
    top = (rgb[10, 10:31] == detect_report.TRUE).all(-1)
    assert top.all() and (rgb[30, 10:31] == detect_report.TRUE).all() and (rgb[10:31, 10] == detect_report.TRUE).all()
    assert (rgb[20, 20] == 255).all() and (rgb[9, 10:31] == 255).all()  # inside and outside untouched
    rgb = np.full((40, 40, 3), 255, np.uint8)
    detect_report.rectangle(rgb, [0.25, 0.25, 0.75, 0.75], detect_report.NET, dashed=True, width=1)
    edge = (rgb[10, 10:31] == detect_report.NET).all(-1)
    assert 0.3 < edge.mean() < 0.7  # on and off in turn


def test_tiles_draw_both_kinds_of_box_on_each_image():
    r = {"images": np.zeros((2, 16, 16), np.float32),
         "boxes": [{"true": [{"box": [0.1, 0.1, 0.5, 0.5]}], "pred": [{"box": [0.5, 0.5, 0.9, 0.9]}]},
                   {"true": [], "pred": []}]}
    t = detect_report.tiles(r, target=64)
    assert t.shape == (70, 140, 3)
    first, second = t[:, :70], t[:, 70:]
    assert (first == detect_report.TRUE).all(-1).any() and (first == detect_report.NET).all(-1).any()
    assert not (second == detect_report.TRUE).all(-1).any()
    assert report_views.KINDS["boxes"] is detect_report.report
