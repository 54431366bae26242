"""The text alternatives of Inspect's and Explain's pictures: the sentence and the table behind them."""

from __future__ import annotations

import numpy as np

from ui.views.described import MAX_ROWS, summary, table


def test_the_sentence_names_the_range_the_largest_value_and_its_sign_in_words():
    said = summary(np.array([[0.1, -0.5], [0.2, 0.3]]), "Saliency attribution")
    assert said.startswith("Saliency attribution: 4 values from −0.5 to 0.3")
    assert "row 1, column 2 (−0.5, negative)" in said and "75 % are positive" in said


def test_named_values_are_named_and_feature_maps_have_map_row_column():
    assert "c (2, positive)" in summary(np.array([0.1, -0.5, 2.0]), "Outputs", ["a", "b", "c"])
    v = np.zeros((3, 4, 5))
    v[2, 1, 4] = -7
    assert "map 3, row 2, column 5 (−7, negative)" in summary(v, "3 feature maps")


def test_the_table_holds_every_value_with_its_position_up_to_a_bound():
    v = np.arange(24, dtype=float).reshape(2, 3, 4)
    t = table(v)
    assert list(t.columns) == ["map", "row", "column", "value"] and len(t) == 24
    assert t.iloc[-1].tolist() == [2, 3, 4, 23.0]
    assert table(np.array([1.0, 2.0]), ["x", "y"]).to_dict("list") == {"name": ["x", "y"], "value": [1.0, 2.0]}
    assert len(table(np.zeros(MAX_ROWS + 10))) == MAX_ROWS


def test_nothing_to_describe_says_so():
    assert summary(np.array([]), "Outputs") == "Outputs: no values."
    assert summary(np.array([np.nan]), "Outputs") == "Outputs: no values."
