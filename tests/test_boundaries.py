"""Where code may live: which UI modules touch torch (only to hand tensors to the engine), and no import cycles
(an import hidden inside a function to dodge a cycle is still one)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("playground", "ui")

# UI modules that import torch, and why. They hold tensors only to pass them to the engine (a model's input
# or output, a no_grad block around the engine's model); tensor math belongs in playground/. A new UI module
# that imports torch fails here: move the computation into the engine instead, or add it here with a reason.
TORCH_IN_UI = {
    "ui.views.model_source": "types of the Loaded model's inputs and outputs",
    "ui.views.input_picker": "wraps a drawn, uploaded or typed input as the model's input tensor",
    "ui.views.explain_views": "runs the engine's model under no_grad for the predicted class",
    "ui.views.inspect_training": "the step-by-step backprop view's autograd cross-check",
}

# Cycles other work removes (the data<->tabular cycle with CSV as a dataset entry; the routes and the grid
# stream): listed so that this test guards every other cycle meanwhile. Do not add to it.
KNOWN_CYCLES = [{"playground.data", "playground.tabular"}, {"ui.server", "ui.server.grid_stream"}]


def modules() -> dict[str, Path]:
    """Module name -> file, for the engine and the UI."""
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Our modules that `name` imports anywhere in its file (inside functions too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}  # `from pkg import module`
    return {m for m in found if m in known and m != name}


def cycles() -> list[set[str]]:
    """The strongly connected groups of more than one module in the import graph (Tarjan)."""
    known = modules()
    graph = {n: imports(n, p, known) for n, p in known.items()}
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                on.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(group)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def torch_users(folder: str) -> set[str]:
    users = set()
    for path in sorted((ROOT / folder).rglob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
        if "torch" in names:
            users.add(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return users


def test_only_the_listed_ui_modules_import_torch():
    assert torch_users("ui") == set(TORCH_IN_UI)


def test_pages_and_the_app_do_not_import_torch():
    assert torch_users("pages") == set()
    assert "torch" not in (ROOT / "app.py").read_text()


def test_the_graph_is_read_from_imports_inside_functions_too(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from ui.views.model_source import Loaded\n    from . import runs\n")
    known = {"ui.views.model_source": f, "playground.runs": f, "playground.m": f}
    assert imports("playground.m", f, known) == {"ui.views.model_source", "playground.runs"}


def test_no_import_cycles():
    found = [c for c in cycles() if not any(c <= k for k in KNOWN_CYCLES)]
    assert not found, f"import cycles: {found}"
