"""AppTest of the detection application's view: a run trained through the real worker pool, the picture with
its true and predicted boxes, the table of each shape's IoU, and the image picker."""

from __future__ import annotations

import json

import pytest
from test_page_applications import open_app, trained

from playground import data
from playground.spec import from_dict

pytestmark = pytest.mark.slow  # worker processes start and train


@pytest.fixture(scope="module")
def pool(app_pool):
    return app_pool


def test_detection_boxes_iou_table_and_picker(pool):
    job = trained(pool, "detect-shapes", 2, n_samples=400)
    counts = (data.load(from_dict(job.spec).data).extras_val["classes"] >= 0).sum(1).tolist()  # per image
    at = open_app("detect-shapes", job)
    fig = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if "detect-boxes" in c.proto.id)
    names = [t.get("name") for t in fig["data"]]
    assert "true box (solid)" in names and "the net's box (dashed)" in names
    shapes = fig["layout"]["shapes"]
    solid = [s for s in shapes if s["type"] == "rect" and s["line"]["dash"] == "solid"]
    assert solid and all(a["text"].split(": ")[1] in ("circle", "square", "triangle")
                         for a in fig["layout"]["annotations"][:len(solid)])
    table = at.dataframe[0].value
    assert list(table.columns) == ["shape", "the net's box", "IoU", "found"] and len(table) == len(solid) == counts[0]
    assert ((table["IoU"] >= 0) & (table["IoU"] <= 1)).all()
    other = next(i for i, k in enumerate(counts) if k != counts[0])  # an image with another number of shapes
    at.number_input(key="apps-detect-sample").set_value(other + 1).run()
    assert not at.exception and f"This image holds **{counts[other]}**" in " ".join(m.value for m in at.markdown)
    assert len(at.dataframe[0].value) == counts[other]
    at.button(key="apps-measure").click().run()  # the application's figures, measured on the run
    assert {"Mean IoU", "Accuracy", "Extra boxes per image"} <= {m.label for m in at.metric}
