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


def test_a_confusion_matrix_says_its_accuracy_and_worst_mistake_and_keeps_its_shape():
    from ui.views.described import confusion
    said, t = confusion(np.array([[5, 1], [3, 11]]), ["cat", "dog"])
    assert said == ("Confusion matrix: 20 validation samples, 16 predicted right (80.0 %); the most frequent "
                    "mistake: true dog predicted as cat (3 samples).")
    assert list(t.columns) == ["true class", "predicted cat", "predicted dog"]
    assert t.values.tolist() == [["cat", 5, 1], ["dog", 3, 11]]
    assert "no mistakes" in confusion(np.eye(3, dtype=int) * 4, ["a", "b", "c"])[0]
    # two classes shortened alike stay two columns
    assert list(confusion(np.eye(2, dtype=int), ["x…", "x…"])[1].columns) == [
        "true class", "predicted x… (1)", "predicted x… (2)"]


def test_norms_list_every_layer_at_every_epoch_and_name_the_largest_change():
    from ui.views.described import norms
    rows = [{"epoch": e, "layers": [{"name": "fc1", "weight_norm": 1.0 + e, "grad_norm": 0.1},
                                   {"name": "fc2", "weight_norm": 2.0, "grad_norm": 0.001 * (e + 1)}]}
            for e in range(3)]
    said, t = norms(rows, ["fc1", "fc2"])
    assert len(t) == 6 and list(t.columns) == ["epoch", "layer", "weight norm", "gradient norm"]
    assert t.iloc[-1].tolist() == [2, "fc2", 2.0, 0.003]
    assert "2 layers at 3 epochs (0 to 2)" in said
    assert "changed most: fc1, from 1 to 3" in said
    assert "at epoch 2 run from 0.003 (fc2) to 0.1 (fc1)" in said


def test_a_histogram_lists_each_bin_at_each_epoch():
    from ui.views.described import histogram
    h0 = {"edges": [-1.0, 0.0, 1.0, 2.0], "counts": [2, 3, 0]}
    h1 = {"edges": [-2.0, 0.0, 2.0], "counts": [1, 4]}
    said, t = histogram([(0, h0), (5, h1)], "Weights of fc1")
    assert len(t) == 5 and t.iloc[0].tolist() == [0, -1.0, 0.0, 2]
    assert said == "Weights of fc1 at 2 epochs: at epoch 0 they lie from −1 to 1, at epoch 5 from −2 to 2."


def test_a_loss_landscape_table_is_its_grid_and_its_sentence_names_low_and_high():
    from ui.views.described import landscape, path
    land = {"alphas": np.array([-1.0, 0.0, 1.0]), "betas": np.array([-0.5, 0.5]),
            "loss": np.array([[3.0, 1.0, 2.0], [4.0, 0.5, np.nan]]), "center_loss": 0.7}
    said, t = landscape(land, np.array([[0.9, 0.4], [0.0, 0.0]]), [0, 10])
    assert list(t.columns) == ["β", "α = −1", "α = 0", "α = 1"]
    assert t["β"].tolist() == ["−0.5", "0.5"] and t["α = 0"].tolist() == [1.0, 0.5]  # loss[i, j]: β i, α j
    assert "from 0.5 (at α 0, β 0.5) to 4 (at α −1, β 0.5)" in said
    assert "(loss 0.7)" in said and "starts at epoch 0 at α 0.9, β 0.4 and passes 2 checkpoints" in said
    assert path(np.array([[0.9, 0.4], [0.0, 0.0]]), [0, 10]).values.tolist() == [[0, 0.9, 0.4], [10, 0.0, 0.0]]
