"""Every error the builder reports offers the obvious one-click repair, or says plainly what to change.

One case per place that raises (playground/build.py, playground/layers.py): the error's fixes, applied with
playground.edit.apply_fix, each move the setup on (it builds, or the next error is a different one), and
an error without a fix ends with an instruction.
"""

from __future__ import annotations

import re

import pytest

from playground.data import load_cached
from playground.edit import apply_fix, describe_fix
from playground.registry import PlaygroundError
from playground.spec import from_dict
from playground.train import validate

L = lambda type, **kw: {"type": type, **kw}  # noqa: E731 - one layer of a spec, briefly
INSTRUCTION = re.compile(r"; (add|use|set|remove|delete|replace|choose|change|end with|fill|upload)\b")

# name: (data, layers, loss or None, the fixes offered as (action, what) — [] where none is obvious)
CASES = {
    "no layers": ("spiral", [], None, [("insert", "Linear")]),
    "misspelt type": ("spiral", [L("Linaer")], None, [("replace", "Linear")]),
    "unknown type": ("spiral", [L("Zzzz")], None, [("delete", None)]),
    "unknown option": ("spiral", [L("Linear", out_features=2, colour="red")], None, [("unset", "colour")]),
    "out of range": ("spiral", [L("Linear", out_features=0)], None, [("set", "out_features")]),
    "wrong kind": ("spiral", [L("Linear", out_features=2, bias="yes")], None, [("unset", "bias")]),
    "inferred size disagrees": ("spiral", [L("Linear", in_features=5, out_features=2)], None,
                                [("unset", "in_features")]),
    "token ids into Linear": ("sentiment", [L("Linear")], None, [("insert", "Embedding")]),
    "Conv2d on flat pixels": ("digits", [L("Flatten"), L("Conv2d")], None, [("insert", "Unflatten")]),
    "Conv2d on a sequence": ("sine", [L("Conv2d")], None, [("insert", "Unflatten"), ("data", "digits")]),
    "Conv2d on 2-D points": ("spiral", [L("Conv2d"), L("Flatten"), L("Linear", out_features=2)], None,
                             [("replace", "Linear"), ("data", "digits")]),
    "ConvTranspose2d on points": ("spiral", [L("ConvTranspose2d")], None, [("replace", "Linear"), ("data", "digits")]),
    "MaxPool2d on points": ("spiral", [L("MaxPool2d")], None, [("delete", None), ("data", "digits")]),
    "AdaptiveAvgPool2d on points": ("spiral", [L("AdaptiveAvgPool2d")], None, [("delete", None), ("data", "digits")]),
    "Upsample on points": ("spiral", [L("Upsample")], None, [("delete", None), ("data", "digits")]),
    "BatchNorm2d on points": ("spiral", [L("BatchNorm2d")], None, [("replace", "BatchNorm1d"), ("data", "digits")]),
    "LSTM on points": ("spiral", [L("LSTM")], None, [("insert", "Unflatten"), ("data", "sine")]),
    "LSTM on images": ("digits", [L("LSTM")], None, [("insert", "Flatten"), ("data", "sine")]),
    "Conv2d kernel too large": ("digits", [L("Conv2d", kernel_size=9)], None, [("set", "kernel_size")]),
    "Conv1d kernel too large": ("sine", [L("Conv1d", kernel_size=3)], None, [("set", "kernel_size")]),
    "output_padding not below stride": ("digits", [L("ConvTranspose2d", output_padding=1)], None,
                                        [("set", "output_padding")]),
    "ConvTranspose2d padding too large": ("digits", [L("ConvTranspose2d", padding=20)], None, [("set", "padding")]),
    "pool padding over half the window": ("digits", [L("MaxPool2d", padding=2)], None, [("set", "padding")]),
    "pool window too large": ("digits", [L("AvgPool2d", kernel_size=9)], None, [("set", "kernel_size")]),
    "BatchNorm1d on images": ("digits", [L("BatchNorm1d")], None, [("replace", "BatchNorm2d")]),
    "Embedding on features": ("spiral", [L("Embedding")], None, [("delete", None), ("data", "sentiment")]),
    "heads do not divide": ("sentiment", [L("Embedding", embedding_dim=6), L("MultiheadAttention", num_heads=4)], None,
                            [("set", "num_heads")]),
    "nhead does not divide": ("sentiment", [L("Embedding", embedding_dim=6), L("TransformerEncoderLayer", nhead=4)],
                              None, [("set", "nhead")]),
    "Softmax dim out of range": ("spiral", [L("Linear", out_features=2), L("Softmax", dim=3)], None, [("set", "dim")]),
    "Flatten dims do not fit": ("spiral", [L("Flatten", start_dim=3)], None, [("replace", "Flatten")]),
    "Unflatten dim missing": ("spiral", [L("Unflatten", dim=3, unflattened_size=[2])], None, [("set", "dim")]),
    "Unflatten into a square image": ("digits", [L("Flatten"), L("Unflatten", unflattened_size=[2, 2])], None,
                                      [("set", "unflattened_size")]),
    "Unflatten into sizes that do not fit": ("spiral", [L("Unflatten")], None, []),
    "head: wrong out_features": ("spiral", [L("Linear", out_features=3)], None, [("set", "out_features")]),
    "head: no Linear": ("iris", [L("BatchNorm1d")], None, [("insert", "Linear")]),
    "head: image output": ("digits", [L("Conv2d")], None, [("insert", "Flatten")]),
    "head: flat output for an image target": ({"name": "digits", "target": "input"},
                                              [L("Flatten"), L("Linear", out_features=64)], "mse",
                                              [("insert", "Unflatten")]),
    "head: output of another size": ({"name": "digits", "target": "input"},
                                     [L("Flatten"), L("Linear", out_features=10)], "mse", []),
    "loss does not suit the data": ("plane", [L("Linear", out_features=1)], "cross_entropy", [("set_path", "mse")]),
    "no parameters": ("spiral", [L("ReLU")], None, [("insert", "Linear")]),
}


def spec_of(data, layers, loss) -> dict:
    return {"data": {"name": data} if isinstance(data, str) else data, "model": {"layers": layers},
            "train": {"loss": loss or "cross_entropy"}}


def error_of(spec: dict) -> PlaygroundError | None:
    try:
        parsed = from_dict(spec)
        validate(parsed, load_cached(parsed.data).info)
    except PlaygroundError as e:
        return e
    return None


def _what(fix: dict):
    if fix["action"] in ("insert", "replace"):
        return fix["layer"]["type"]
    return {"set": fix.get("key"), "unset": fix.get("key"), "data": fix.get("name"),
            "set_path": fix.get("value")}.get(fix["action"])


@pytest.mark.parametrize("case", list(CASES))
def test_every_builder_error_has_a_fix_or_an_instruction(case):
    data, layers, loss, expected = CASES[case]
    spec = spec_of(data, layers, loss)
    err = error_of(spec)
    assert err is not None, case
    assert [(f["action"], _what(f)) for f in err.fixes] == expected, err.message
    if not err.fixes:
        assert INSTRUCTION.search(err.message), f"no fix and no plain instruction: {err.message}"
    for fix in err.fixes:
        label = describe_fix(spec, fix)
        assert label and label != "Apply the suggested fix"
        fixed = apply_fix(spec, fix)
        after = error_of(fixed)
        assert after is None or (after.message, after.layer) != (err.message, err.layer), (label, after.message)


def test_the_conv2d_on_points_fix_reads_as_the_issue_asks():
    spec = spec_of("spiral", [L("Conv2d", out_channels=8), L("Flatten"), L("Linear", out_features=2)], None)
    err = error_of(spec)
    assert err.layer == 0 and "replace it with Linear(out_features=8), or choose an image dataset" in err.message
    assert [describe_fix(spec, f) for f in err.fixes] == ["Replace layer 1 (Conv2d) with Linear(out_features=8)",
                                                          "Use the digits dataset (image)"]
    assert error_of(apply_fix(spec, err.fixes[0])) is None  # Linear(8), Flatten, Linear(2) builds
    on_digits = apply_fix(spec, err.fixes[1])
    assert on_digits["data"] == {"name": "digits"} and error_of(on_digits).message.endswith("set out_features=10 on "
                                                                                              "layer 3")
