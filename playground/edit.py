"""Pure edits of a spec dict: insert, move, duplicate and delete layers, set options, apply a builder's fix.

Layers are named by an index at the top level, or by a path inside blocks (see blocks.py).

Every function returns a new dict and leaves its argument alone, so the UI can keep the old one for undo.
"""

from __future__ import annotations

import copy

from .blocks import Path, as_path, exists, label, locate, new_block, node_at, parent, top_layers, walk
from .data import DATASETS
from .layers import LAYERS, activations
from .registry import PlaygroundError
from .spec import BLOCKS
from .train import optimizer_options


def _layers(spec: dict) -> list[dict]:
    return top_layers(spec)


def _fill(spec: dict) -> dict:
    """Give every block its list field (an edit may insert into a block written without one)."""
    for _, node in walk(_layers(spec)):
        if isinstance(node, dict) and node.get("type") == "Residual":
            node.setdefault("layers", [])
        elif isinstance(node, dict) and node.get("type") == "Parallel":
            node.setdefault("branches", [[], []])
    return spec


def _check_index(spec: dict, i) -> Path:
    path = as_path(i) if isinstance(i, (int, list, tuple)) and not isinstance(i, bool) else None
    if path is None or not exists(spec, path):
        n = len(spec.get("model", {}).get("layers", []))
        name = label(path) if path else repr(i)
        raise PlaygroundError(f"there is no layer {name} (the model has {n}"
                              + (" at the top level)" if path and len(path) > 1 else ")"))
    return path


def new_layer(type_name: str, shape: tuple[int, ...] | None = None) -> dict:
    """A layer dict with the registry's defaults for its options (unset optional ones left out); a block
    (Residual, Parallel) comes with layers that build for an input of per-sample `shape` (see blocks.new_block)."""
    if type_name in BLOCKS:
        return new_block(type_name, shape)
    kind = LAYERS.get(type_name)
    return {"type": type_name, **{p.name: copy.deepcopy(p.default) for p in kind.params if p.default is not None}}


def insert_layer(spec: dict, at, layer: dict) -> dict:
    """`layer` inserted before `at` (an index, or a path inside blocks; clamped to 0 … len of its list, so a
    large index appends)."""
    out = _fill(copy.deepcopy(spec))
    nodes, i = locate(_layers(out), as_path(at))
    nodes.insert(max(0, min(int(i), len(nodes))), copy.deepcopy(layer))
    return out


def move_layer(spec: dict, src, dst: int) -> dict:
    """The layer at `src` (an index or a path) moved to index `dst` of its own list (clamped), the others keeping
    their order."""
    path = _check_index(spec, src)
    out = copy.deepcopy(spec)
    nodes, i = locate(_layers(out), path)
    layer = nodes.pop(i)
    nodes.insert(max(0, min(dst, len(nodes))), layer)
    return out


def move_to(spec: dict, src, dst) -> tuple[dict, Path]:
    """The layer (or block) at `src` moved to the slot `dst` (a path in `spec` as it is, before the move: into
    another block or branch, out of one, or along its list), and its new path. A block cannot go inside itself."""
    src, dst = _check_index(spec, src), as_path(dst)
    if dst[:len(src)] == src:
        if dst == src or len(dst) == len(src):
            return copy.deepcopy(spec), src
        raise PlaygroundError(f"layer {label(src)} cannot be moved inside itself")
    out = _fill(copy.deepcopy(spec))
    locate(_layers(out), dst)  # the slot exists (checked before anything moves)
    nodes, i = locate(_layers(out), src)
    node = nodes.pop(i)
    k = len(src) - 1  # where dst passes through src's list, a later slot there moved up by one
    if dst[:k] == src[:k] and len(dst) > k and dst[k] > src[k]:
        dst = (*dst[:k], dst[k] - 1, *dst[k + 1:])
    target, j = locate(_layers(out), dst)
    j = max(0, min(j, len(target)))
    target.insert(j, node)
    return out, (*dst[:-1], j)


def nudge(spec: dict, at, delta: int) -> tuple[dict, Path]:
    """The layer at `at` one step up (delta -1) or down (+1) in its list, a block moving as a whole; at the top
    (bottom) of a block it steps out, to just before (after) the block. Returns the spec and the new path."""
    path = _check_index(spec, at)
    nodes, i = locate(_layers(spec), path)
    j = i + delta
    if 0 <= j < len(nodes):
        return move_layer(spec, path, j), (*path[:-1], j)
    up = parent(spec, path)
    if up is None:
        return copy.deepcopy(spec), path  # already at the very top or bottom
    return move_to(spec, path, (*up[:-1], up[-1] + (1 if delta > 0 else 0)))


def reorder(spec: dict, order: list[int]) -> dict:
    """Top-level layers rearranged so that new position k holds old layer `order[k]` (a drag-and-drop result)."""
    n = len(spec.get("model", {}).get("layers", []))
    if sorted(order) != list(range(n)):
        raise PlaygroundError(f"a new layer order must list each of the {n} layers once, got {order}")
    out = copy.deepcopy(spec)
    old = _layers(out)
    out["model"]["layers"] = [old[i] for i in order]
    return out


def duplicate(spec: dict, i) -> dict:
    """A copy of the layer (or block) at `i` inserted right after it."""
    path = _check_index(spec, i)
    return insert_layer(spec, (*path[:-1], path[-1] + 1), node_at(spec, path))


def delete(spec: dict, i) -> dict:
    """The layer (or block, with everything inside it) at `i` removed."""
    path = _check_index(spec, i)
    out = copy.deepcopy(spec)
    nodes, k = locate(_layers(out), path)
    del nodes[k]
    return out


def set_param(spec: dict, i, key: str, value) -> dict:
    """Option `key` of the layer at `i` set to `value` (None removes it, restoring the default)."""
    path = _check_index(spec, i)
    if key == "type":
        raise PlaygroundError("a layer's type cannot be set as an option; insert a new layer instead")
    out = copy.deepcopy(spec)
    layer = node_at(out, path)
    if value is None:
        layer.pop(key, None)
    else:
        layer[key] = copy.deepcopy(value)
    return out


def unset_param(spec: dict, i, key: str) -> dict:
    """Option `key` removed from the layer at `i`."""
    return set_param(spec, i, key, None)


def add_branch(spec: dict, at) -> dict:
    """An empty branch (the input as it is) added to the Parallel block at `at`."""
    path = _check_index(spec, at)
    out = _fill(copy.deepcopy(spec))
    node = node_at(out, path)
    if node.get("type") != "Parallel":
        raise PlaygroundError(f"layer {label(path)} ({node.get('type')}) has no branches")
    node["branches"].append([])
    return out


def remove_branch(spec: dict, at, b: int) -> dict:
    """Branch `b` (0-based, with its layers) removed from the Parallel block at `at`; the last one stays."""
    path = _check_index(spec, at)
    out = _fill(copy.deepcopy(spec))
    node = node_at(out, path)
    branches = node.get("branches") if node.get("type") == "Parallel" else None
    if branches is None or not 0 <= b < len(branches):
        raise PlaygroundError(f"layer {label(path)} has no branch {b + 1}")
    if len(branches) == 1:
        raise PlaygroundError(f"layer {label(path)} (Parallel) needs a branch; delete the block instead")
    del branches[b]
    return out


def apply_fix(spec: dict, fix: dict) -> dict:
    """A builder error's one-click repair applied: `{"action": "insert" | "replace" | "set" | "unset" | "delete",
    "at": i, …}` on the layer at i (an index, or a path inside blocks), `{"action": "set_path", "path": [...],
    "value": v}` on any field, or `{"action": "data", "name": dataset}` (a dataset that suits the layers, keeping
    its seed and split)."""
    action, at = fix.get("action"), fix.get("at")
    if action == "set_path":
        return set_path(spec, tuple(fix["path"]), fix["value"])
    if action == "data":
        keep = {k: v for k, v in spec.get("data", {}).items() if k in ("seed", "val_fraction")}
        return set_path(spec, ("data",), {"name": fix["name"], **keep})
    try:
        at = as_path(at)
    except PlaygroundError:
        raise PlaygroundError(f"this fix names no layer: {fix}") from None
    if action == "insert":
        return insert_layer(spec, at, fix["layer"])
    if action == "replace":
        return insert_layer(delete(spec, at), at, fix["layer"])
    if action == "delete":
        return delete(spec, at)
    if action == "set":
        return set_param(spec, at, fix["key"], fix["value"])
    if action == "unset":
        return unset_param(spec, at, fix["key"])
    raise PlaygroundError(f"unknown fix action {action!r}")


def _layer_text(layer: dict) -> str:
    if layer.get("type") in BLOCKS:
        return f"a {layer['type']} block ({key_args(layer)})"
    args = ", ".join(f"{k}={v}" for k, v in layer.items() if k != "type")
    return f"{layer['type']}({args})" if args else layer["type"]


def _name(spec: dict, path: Path) -> str:
    """'layer 2.1.3 (Conv2d)', or 'layer 4' where there is none."""
    try:
        return f"layer {label(path)} ({node_at(copy.deepcopy(spec), path).get('type')})"
    except PlaygroundError:
        return f"layer {label(path)}"


def describe_fix(spec: dict, fix: dict) -> str:
    """What a fix does, in words for its button: 'Insert Flatten before layer 2 (Linear)'."""
    action = fix.get("action")
    if action == "set_path":
        return f"Set {'.'.join(map(str, fix['path']))} = {fix['value']}"
    if action == "data":
        kind = DATASETS.entries.get(fix["name"])
        return f"Use the {fix['name']} dataset" + (f" ({kind.modality})" if kind else "")
    try:
        path = as_path(fix.get("at", 0))
    except PlaygroundError:
        return "Apply the suggested fix"
    where = _name(spec, path)
    if action == "insert":
        what = _layer_text(fix["layer"])
        if exists(spec, path):
            return f"Insert {what} before {where}"
        up = parent(spec, (*path[:-1], 0)) if len(path) > 1 else None
        if up is None:
            return f"Add {what} at the end"
        branch = f"branch {path[-2] + 1} of " if node_at(spec, up).get("type") == "Parallel" else ""
        return f"Add {what} at the end of {branch}{_name(spec, up)}"
    if action == "replace":
        return f"Replace {where} with {_layer_text(fix['layer'])}"
    if action == "delete":
        return f"Delete {where}"
    if action == "set":
        return f"Set {fix['key']} = {fix['value']} on {where}"
    if action == "unset":
        return f"Remove {fix['key']} from {where}"
    return "Apply the suggested fix"


def _lists(layers: list) -> list[list]:
    """Every layer list: `layers` and the lists inside its blocks, at any depth."""
    out = [layers]
    for _, node in walk(layers):
        if isinstance(node, dict) and node.get("type") == "Residual" and isinstance(node.get("layers"), list):
            out.append(node["layers"])
        elif isinstance(node, dict) and node.get("type") == "Parallel" and isinstance(node.get("branches"), list):
            out += [b for b in node["branches"] if isinstance(b, list)]
    return out


def add_dropout(spec: dict, p: float = 0.5) -> dict:
    """Dropout(p) after each hidden activation, inside blocks too (not after the output layer, not where one
    already is)."""
    out = copy.deepcopy(spec)
    top = _layers(out)
    for layers in _lists(top):
        new = []
        for k, layer in enumerate(layers):
            new.append(layer)
            kind = LAYERS.entries.get(layer.get("type")) if isinstance(layer, dict) else None
            hidden = not (layers is top and k == len(layers) - 1) and kind is not None \
                and kind.category == "activation"
            if hidden and (k + 1 == len(layers) or layers[k + 1].get("type") != "Dropout"):
                new.append({"type": "Dropout", "p": p})
        layers[:] = new
    return out


KNOBS = ("learning rate", "optimizer", "activation", "initialisation", "batch size", "weight decay", "dropout")


def variant(spec: dict, knob: str, value) -> dict:
    """`spec` with one thing changed (an A/B comparison's B): `knob` is one of KNOBS. An optimizer keeps the
    learning rate and weight decay (`value` may be a named variant such as 'SGD+momentum'); an activation
    replaces every per-neuron activation layer (options dropped); dropout goes after each hidden activation."""
    b = copy.deepcopy(spec)
    t = b.setdefault("train", {})
    opt = t.setdefault("optimizer", {})
    if knob == "learning rate":
        opt["lr"] = value
    elif knob == "optimizer":
        kind, options = optimizer_options(value, {})
        t["optimizer"] = {"type": kind, "lr": opt.get("lr", 0.01), "weight_decay": opt.get("weight_decay", 0.0),
                          **options}
    elif knob == "activation":
        LAYERS.get(value, "activation")
        kinds = activations()
        for _, layer in walk(_layers(b)):
            if isinstance(layer, dict) and layer.get("type") in kinds:
                layer.clear()
                layer["type"] = value
    elif knob == "initialisation":
        t["init"] = value
    elif knob == "batch size":
        t["batch_size"] = value
    elif knob == "weight decay":
        opt["weight_decay"] = value
    elif knob == "dropout":
        b = add_dropout(b, value)
    else:
        raise PlaygroundError(f"unknown knob {knob!r}; one of {', '.join(KNOBS)}")
    return b


def key_args(layer: dict) -> str:
    """A layer's telling options for a one-line view: its first option and any that differ from the default;
    what a block holds."""
    if layer.get("type") == "Residual":
        n = len(layer.get("layers") or [])
        return f"{n} layer{'s' * (n != 1)}" + (", projection" if layer.get("projection") else "")
    if layer.get("type") == "Parallel":
        n = len(layer.get("branches") or [])
        return f"{n} branch{'es' * (n != 1)}, {layer.get('merge', 'concat')}"
    kind = LAYERS.entries.get(layer.get("type"))
    if kind is None:
        return ", ".join(f"{k}={v}" for k, v in layer.items() if k != "type")
    shown = []
    for n, p in enumerate(kind.params):
        value = layer.get(p.name, p.default)
        if value is not None and (n == 0 or value != p.default):
            shown.append(f"{p.name}={_short(value)}")
    shown += [f"{k}={_short(v)}" for k, v in layer.items() if k != "type" and k not in {p.name for p in kind.params}]
    return ", ".join(shown)


def _short(v) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(str(x) for x in v) + "]"
    return str(v)


def set_path(spec: dict, path: tuple, value) -> dict:
    """`spec` with the field at `path` (keys and list indices) set to `value`; None removes the field."""
    out = copy.deepcopy(spec)
    node = out
    for part in path[:-1]:
        node = node[part] if isinstance(node, list) else node.setdefault(part, {})
    if value is None:
        if isinstance(node, dict):
            node.pop(path[-1], None)
    else:
        node[path[-1]] = copy.deepcopy(value)
    return out


def diff(a: dict, b: dict) -> list[str]:
    """What differs between two specs, one line per change ('layer 2: Tanh → ReLU', 'layer 3.1 (Conv2d): …',
    'train.optimizer.lr: …')."""
    out: list[str] = []
    _diff_layers(_layers(copy.deepcopy(a)), _layers(copy.deepcopy(b)), (), out)
    _diff_fields({k: v for k, v in a.items() if k not in ("model", "name", "description")},
                 {k: v for k, v in b.items() if k not in ("model", "name", "description")}, "", out)
    return out


def _diff_layers(la: list, lb: list, prefix: Path, out: list[str]) -> None:
    for i in range(max(len(la), len(lb))):
        x, y = (la[i] if i < len(la) else None), (lb[i] if i < len(lb) else None)
        name = f"layer {label((*prefix, i))}"
        if x == y:
            continue
        if x is None or y is None:
            layer = x or y
            out.append(f"{name} {'added' if x is None else 'removed'}: {layer['type']}"
                       + (f"({key_args(layer)})" if key_args(layer) else ""))
        elif x.get("type") != y.get("type"):
            out.append(f"{name}: {x['type']} → {y['type']}")
        else:
            inner = {"layers", "branches"} if x.get("type") in BLOCKS else set()
            for k in sorted((set(x) | set(y)) - inner):
                if x.get(k) != y.get(k):
                    out.append(f"{name} ({x['type']}): {k} {_short(x.get(k))} → {_short(y.get(k))}")
            if x.get("type") == "Residual":
                _diff_layers(x.get("layers") or [], y.get("layers") or [], (*prefix, i), out)
            elif x.get("type") == "Parallel":
                bx, by = x.get("branches") or [], y.get("branches") or []
                for k in range(max(len(bx), len(by))):
                    if k >= len(bx) or k >= len(by):
                        out.append(f"{name} (Parallel): branch {k + 1} {'added' if k >= len(bx) else 'removed'}")
                    else:
                        _diff_layers(bx[k], by[k], (*prefix, i, k), out)


def _diff_fields(x, y, path: str, out: list[str]) -> None:
    if isinstance(x, dict) and isinstance(y, dict):
        for k in sorted(set(x) | set(y)):
            _diff_fields(x.get(k), y.get(k), f"{path}.{k}" if path else k, out)
    elif x != y:
        out.append(f"{path}: {_short(x)} → {_short(y)}")
