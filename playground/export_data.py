"""The data part of an exported script: the registry's generator for a dataset, copied with what it uses.

Nothing here knows a dataset by name. `DATASETS[name].make` is read as code: a module-level generator, or
a closure made by a factory in its module (`_points(_circle, True)`); the definitions it uses from that
module (helpers, constants, the `Samples` class, imports) are found by walking names in the module's
syntax tree and copied in the module's order. So a new dataset exports as soon as it is registered, and
the script makes the very same samples as the app, or fails loudly (a missing package, data outside the
registry) instead of training on something else.
"""

from __future__ import annotations

import ast
import functools
import importlib
import importlib.metadata
import inspect
import sys
from dataclasses import dataclass, field
from types import FunctionType

from .registry import PlaygroundError

PROVIDED = {"numpy", "torch", "math", "argparse", "os", "__future__"}  # what the script imports anyway


@dataclass
class DataCode:
    """Source for the script: import lines, definitions, the `make_data = …` line, extra packages."""

    imports: list[str] = field(default_factory=list)
    definitions: list[str] = field(default_factory=list)
    make: str = ""
    packages: list[str] = field(default_factory=list)  # pip names beyond torch and numpy (e.g. scikit-learn)


@functools.cache
def _module(name: str) -> tuple[list[str], dict[str, ast.stmt]]:
    """A module's source lines and its top-level statements by the name each binds."""
    source = inspect.getsource(importlib.import_module(name))
    defs: dict[str, ast.stmt] = {}
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defs[node.name] = node
        elif isinstance(node, ast.Assign):
            defs.update({t.id: node for t in node.targets if isinstance(t, ast.Name)})
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            defs[node.target.id] = node
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defs.update({(a.asname or a.name).split(".")[0]: node for a in node.names})
    return source.splitlines(), defs


def _kept_decorators(node: ast.stmt) -> list[ast.expr]:
    """Decorators to copy: all but registration (`@register(…)` adds to a registry the script does not have)."""
    def name(d):
        d = d.func if isinstance(d, ast.Call) else d
        return d.id if isinstance(d, ast.Name) else d.attr if isinstance(d, ast.Attribute) else ""
    return [d for d in getattr(node, "decorator_list", []) if name(d) != "register"]


def _free_names(node: ast.stmt) -> set[str]:
    """Names a definition reads and does not bind itself (its parameters, locals and inner definitions)."""
    parts = [node] if not isinstance(node, (ast.FunctionDef, ast.ClassDef)) else [
        *_kept_decorators(node), *(node.bases if isinstance(node, ast.ClassDef) else []),
        *(node.args.defaults + node.args.kw_defaults if isinstance(node, ast.FunctionDef) else []), *node.body,
        *([node.args] if isinstance(node, ast.FunctionDef) else [])]
    loads, binds = set(), set()
    for part in parts:
        for n in ast.walk(part) if part is not None else ():
            if isinstance(n, ast.Name):
                (loads if isinstance(n.ctx, ast.Load) else binds).add(n.id)
            elif isinstance(n, ast.arg):
                binds.add(n.arg)
            elif isinstance(n, (ast.FunctionDef, ast.ClassDef)):
                binds.add(n.name)
            elif isinstance(n, (ast.Import, ast.ImportFrom)):
                binds.update((a.asname or a.name).split(".")[0] for a in n.names)
    return loads - binds


def _import_line(node: ast.Import | ast.ImportFrom, names: set[str], module: str) -> str:
    """The import statement binding `names`, narrowed to them; relative imports cannot leave the package."""
    if isinstance(node, ast.ImportFrom):
        if node.level:
            raise PlaygroundError(f"the data code uses {', '.join(sorted(names))} from {module}'s own package, "
                                  "which an exported script cannot copy")
        aliases = [a for a in node.names if (a.asname or a.name) in names]
        return f"from {node.module} import " + ", ".join(
            a.name + (f" as {a.asname}" if a.asname else "") for a in aliases)
    return "\n".join(f"import {a.name}" + (f" as {a.asname}" if a.asname else "") for a in node.names
                     if (a.asname or a.name).split(".")[0] in names)


def _local_imports(nodes: list[ast.stmt]) -> set[str]:
    """Top-level packages imported inside the copied functions (`import sklearn.datasets` → sklearn)."""
    found = set()
    for node in nodes:
        for n in ast.walk(node):
            if isinstance(n, ast.Import):
                found.update(a.name.split(".")[0] for a in n.names)
            elif isinstance(n, ast.ImportFrom) and not n.level and n.module:
                found.add(n.module.split(".")[0])
    return found


def _pip_name(package: str) -> str:
    """The name to `pip install` for an importable package (sklearn → scikit-learn)."""
    return (importlib.metadata.packages_distributions().get(package) or [package])[0]


def _literal(value) -> str:
    """A closure value as source: plain data only (anything else is not something a script can rebuild)."""
    if value is None or isinstance(value, (bool, int, float, str)) or (
            isinstance(value, (tuple, list)) and all(isinstance(v, (bool, int, float, str)) for v in value)):
        return repr(value)
    raise PlaygroundError(f"the data code captures a {type(value).__name__}, which export cannot write out")


def _make_expression(make: FunctionType, module: str, defs: dict) -> tuple[str, list[str]]:
    """`make` as an expression over the module's names (`_digits`, `_points(_circle, True)`), and those names."""
    if make.__name__ in defs and make.__qualname__ == make.__name__:
        return make.__name__, [make.__name__]
    factory_name = make.__qualname__.split(".<locals>.")[0]
    factory = getattr(sys.modules[module], factory_name, None)
    if ".<locals>." not in make.__qualname__ or factory_name not in defs or not callable(factory):
        raise PlaygroundError(f"the data generator {make.__qualname__} is not a module-level function or the "
                              "product of one, so export cannot copy it")
    cells = dict(zip(make.__code__.co_freevars, (c.cell_contents for c in make.__closure__ or ()), strict=True))
    args, names = [], [factory_name]
    for p in inspect.signature(factory).parameters.values():
        if p.name not in cells:
            continue
        value = cells.pop(p.name)
        if isinstance(value, FunctionType) and getattr(sys.modules[module], value.__name__, None) is value:
            text = value.__name__
            names.append(value.__name__)
        else:
            text = _literal(value)
        if p.default is inspect.Parameter.empty:
            args.append(text)
        elif value != p.default:
            args.append(f"{p.name}={text}")
    if cells:
        raise PlaygroundError(f"the data generator {make.__qualname__} uses {', '.join(cells)} of its factory, "
                              "which are not its arguments; export cannot rebuild it")
    return f"{factory_name}({', '.join(args)})", names


def data_code(make: FunctionType) -> DataCode:
    """The source an exported script needs to call `make` as `make_data(n, noise, rng, **options)`."""
    module = make.__module__
    lines, defs = _module(module)
    expression, wanted = _make_expression(make, module, defs)
    needed: dict[str, ast.stmt] = {}
    imports: dict[int, tuple[ast.stmt, set[str]]] = {}
    todo = list(wanted)
    while todo:
        name = todo.pop()
        node = defs.get(name)
        if node is None or name in needed:
            continue  # a builtin, or already copied
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.setdefault(id(node), (node, set()))[1].add(name)
            continue
        needed[name] = node
        todo.extend(_free_names(node))
    nodes = sorted({id(n): n for n in needed.values()}.values(), key=lambda n: n.lineno)
    code = DataCode(make=f"make_data = {expression}  # {module}'s generator, as its registry entry makes it")
    for node, names in sorted(imports.values(), key=lambda t: t[0].lineno):
        top = (node.module or "") if isinstance(node, ast.ImportFrom) else node.names[0].name
        if top.split(".")[0] not in PROVIDED or isinstance(node, ast.ImportFrom) and node.level:
            code.imports.append(_import_line(node, names, module))
    for node in nodes:  # registration decorators dropped; the `def`/`class` line and body as written
        decorators = ["@" + ast.unparse(d) for d in _kept_decorators(node)]
        code.definitions.append("\n".join(decorators + lines[node.lineno - 1:node.end_lineno]))
    code.packages = sorted({_pip_name(p) for p in _local_imports(nodes)
                            if p not in PROVIDED and p not in sys.stdlib_module_names})
    return code
