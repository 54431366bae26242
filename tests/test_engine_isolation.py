"""The engine (playground/) never imports streamlit: checked in the sources and in a fresh interpreter."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import playground

ENGINE = Path(playground.__file__).parent
UI_PACKAGES = ("streamlit",)


def sources() -> list[Path]:
    return sorted(ENGINE.rglob("*.py"))


def imported_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in (
                "import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
            names.add(str(node.args[0].value))
    return names


def test_the_engine_has_sources():
    names = {p.name for p in sources()}
    assert {"spec.py", "layers.py", "build.py", "data.py", "train.py", "jobs.py", "probe.py"} <= names


def test_no_engine_source_imports_streamlit():
    offenders = {str(p.relative_to(ENGINE)): sorted(n for n in imported_names(p) if n.split(".")[0] == "streamlit")
                 for p in sources()}
    assert not {k: v for k, v in offenders.items() if v}


def test_importing_every_engine_module_loads_no_ui_package():
    modules = ["playground"] + [f"playground.{m.name}" for m in pkgutil.iter_modules([str(ENGINE)])
                                if m.name != "__main__"]
    code = ("import importlib, sys\n"
            f"for m in {modules!r}:\n"
            "    importlib.import_module(m)\n"
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {UI_PACKAGES!r}))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", result.stdout


def test_public_api_is_exported():
    for name in playground.__all__:
        assert hasattr(playground, name), name
