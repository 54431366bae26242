"""The docs keep up with the code: the contract names every layer type, the README every engine module, and the
torch range is one range."""

from __future__ import annotations

import re

import pytest
from helpers import ROOT

from playground.layers import LAYERS

tomllib = pytest.importorskip("tomllib")  # Python 3.11+


def test_the_contract_documents_every_layer_type():
    """docs/CONTRACT.md names every layer of the registry: in the contract's list or among this build's extensions."""
    text = (ROOT / "docs" / "CONTRACT.md").read_text()
    listed = text.split("Layer types every build accepts:")[1].split("\n")[0]
    extensions = text.split("## Extensions in this build")[1]
    for name in LAYERS.names():
        assert re.search(rf"\b{name}\b", listed) or f"`{name}`" in extensions, f"{name} is not in docs/CONTRACT.md"


def test_the_readme_lists_every_engine_module():
    built = (ROOT / "README.md").read_text().split("## How it is built")[1].split("```")[1]
    for path in sorted((ROOT / "playground").glob("*.py")):
        if path.stem not in ("__init__", "__main__"):
            assert re.search(rf"\b{path.name}", built), f"README's 'How it is built' does not mention {path.name}"


def requirement(lines: list[str], name: str) -> str:
    found = [re.sub(r"\s|#.*", "", x) for x in lines if re.match(rf"\s*{name}\b", x)]
    assert len(found) == 1, found
    return found[0]


def test_torch_is_one_range_everywhere():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = requirement(project["dependencies"], "torch")
    pinned = requirement((ROOT / "requirements.txt").read_text().splitlines(), "torch")
    assert declared == pinned == "torch>=2.4,<3"  # 2.4: fused Adam on the CPU; the range 2.13 satisfies


def test_the_license_is_an_spdx_string():
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"] == "MIT"
