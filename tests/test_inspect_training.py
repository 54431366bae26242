"""ui/views/inspect_training.py: the check of the hand-worked backprop step can fail, and says where."""

from __future__ import annotations

import sys

import pytest
from streamlit.testing.v1 import AppTest


@pytest.fixture(autouse=True)
def _main_module_back():
    """AppTest leaves its script as sys.modules["__main__"]; worker processes started later would run this one
    (a function's wrapper) as their main module. Put back what was there."""
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


def _page():
    from types import SimpleNamespace

    import streamlit as st
    import torch
    from torch import nn

    from playground.backprop import backprop_step
    from ui.views.inspect_training import _check

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 2))
    x, y = torch.randn(1, 2), torch.tensor([1])
    r = backprop_step(model, x, y, "cross_entropy")
    for layer, part, index in st.session_state.get("wrong", []):  # the test feeds it wrong gradients
        r["steps"][layer][part][index] += 0.5
    _check(SimpleNamespace(model=model), x, y, r)


def test_a_wrong_gradient_is_an_error_naming_its_layer():
    at = AppTest.from_function(_page, default_timeout=30).run()
    assert not at.exception and not at.error
    assert "matches PyTorch's autograd" in at.success[0].value
    table = at.dataframe[0].value
    assert list(table["layer"]) == ["layer 1 (Linear)", "layer 3 (Linear)"] and set(table["matches"]) == {"yes"}
    at.session_state["wrong"] = [(2, "grad_bias", 1)]  # a bias gradient: the old check compared weights only
    at.run()
    assert not at.success and len(at.error) == 1
    assert "layer 3 (Linear)" in at.error[0].value and "layer 1 (Linear)" not in at.error[0].value
    table = at.dataframe[0].value
    assert list(table["matches"]) == ["yes", "NO"] and table["largest difference, biases"][1] == "5.0e-01"
    at.session_state["wrong"] = [(0, "grad_weight", (0, 1))]
    at.run()
    assert len(at.error) == 1 and "layer 1 (Linear)" in at.error[0].value
