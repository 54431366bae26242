"""AppTest of the recommendation application: a run trained through the real worker pool, then the view: a
user's top ten beside the hidden truth, another user picked, the item map and its table; and the two towers on
the Build page."""

from __future__ import annotations

import pytest
from test_page_applications import open_app, titles, trained

from playground import recommend


def table(at, column: str):
    """The view's table that has this column."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


@pytest.mark.slow  # a worker process starts and trains
def test_top_ten_for_a_chosen_user_and_the_item_map(app_pool):
    at = open_app("recommend-mf", trained(app_pool, "recommend-mf", 3))
    assert "The learned item vectors<br><sup>8-D" in titles(at) and not at.exception
    top = table(at, "truly best")
    assert len(top) == recommend.K and list(top.columns[-3:]) == ["predicted", "true", "truly best"]
    assert "Top 10 for user 0" in " ".join(m.value for m in at.markdown)
    first = top["item"].tolist()
    at.number_input(key="apps-user").set_value(7).run()
    assert not at.exception and "Top 10 for user 7" in " ".join(m.value for m in at.markdown)
    assert table(at, "truly best")["item"].tolist() != first
    assert len(at.dataframe) == 1  # the map's table waits for its toggle
    at.toggle(key="apps-item-map-table").set_value(True).run()
    rows = table(at, "axis 1")
    assert list(rows.columns) == ["item", "genre", "axis 1", "axis 2", "user 7's top 10"] and len(rows) <= 300
    assert set(rows[rows["user 7's top 10"]]["item"]) == set(table(at, "truly best")["item"])  # ringed on the map
    assert any("nearer their own genre's centre" in c.value for c in at.caption)


def test_the_build_page_shows_the_two_towers():
    from test_page_build import open_build, rows

    from playground import presets
    at = open_build(presets.get("recommend-mf").to_dict())
    shown_rows = {r["label"]: r for r in rows(at) if r["kind"] == "row"}
    assert (shown_rows["1"]["type"], shown_rows["1"]["shape"]) == ("Parallel", "(N, 8)")
    assert [(shown_rows[k]["type"], shown_rows[k]["params"]) for k in ("1.1.2", "1.2.2")] == [
        ("Embedding", "1,600"), ("Embedding", "2,400")]  # 200 users and 300 items, 8 numbers each
    assert shown_rows["1.2.1"]["type"] == "Select" and not at.exception
