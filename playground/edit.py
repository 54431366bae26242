"""Pure edits of a spec dict: insert, move, duplicate and delete layers, set options, apply a builder's fix.

Every function returns a new dict and leaves its argument alone, so the UI can keep the old one for undo.
"""

from __future__ import annotations

import copy

from .data import DATASETS
from .layers import LAYERS, activations
from .registry import PlaygroundError
from .train import optimizer_options


def _layers(spec: dict) -> list[dict]:
    return spec.setdefault("model", {}).setdefault("layers", [])


def _check_index(spec: dict, i: int) -> None:
    n = len(spec.get("model", {}).get("layers", []))
    if not isinstance(i, int) or not 0 <= i < n:
        raise PlaygroundError(f"there is no layer {i + 1 if isinstance(i, int) else i!r} (the model has {n})")


def new_layer(type_name: str) -> dict:
    """A layer dict with the registry's defaults for its options (unset optional ones left out)."""
    kind = LAYERS.get(type_name)
    return {"type": type_name, **{p.name: copy.deepcopy(p.default) for p in kind.params if p.default is not None}}


def insert_layer(spec: dict, at: int, layer: dict) -> dict:
    """`layer` inserted before index `at` (clamped to 0 … len, so a large `at` appends)."""
    out = copy.deepcopy(spec)
    layers = _layers(out)
    layers.insert(max(0, min(int(at), len(layers))), copy.deepcopy(layer))
    return out


def move_layer(spec: dict, src: int, dst: int) -> dict:
    """The layer at `src` moved to index `dst` (clamped), the others keeping their order."""
    _check_index(spec, src)
    out = copy.deepcopy(spec)
    layers = _layers(out)
    layer = layers.pop(src)
    layers.insert(max(0, min(dst, len(layers))), layer)
    return out


def reorder(spec: dict, order: list[int]) -> dict:
    """Layers rearranged so that new position k holds old layer `order[k]` (a drag-and-drop result)."""
    n = len(spec.get("model", {}).get("layers", []))
    if sorted(order) != list(range(n)):
        raise PlaygroundError(f"a new layer order must list each of the {n} layers once, got {order}")
    out = copy.deepcopy(spec)
    old = _layers(out)
    out["model"]["layers"] = [old[i] for i in order]
    return out


def duplicate(spec: dict, i: int) -> dict:
    """A copy of layer `i` inserted right after it."""
    _check_index(spec, i)
    return insert_layer(spec, i + 1, spec["model"]["layers"][i])


def delete(spec: dict, i: int) -> dict:
    """Layer `i` removed."""
    _check_index(spec, i)
    out = copy.deepcopy(spec)
    del _layers(out)[i]
    return out


def set_param(spec: dict, i: int, key: str, value) -> dict:
    """Option `key` of layer `i` set to `value` (None removes it, restoring the default)."""
    _check_index(spec, i)
    if key == "type":
        raise PlaygroundError("a layer's type cannot be set as an option; insert a new layer instead")
    out = copy.deepcopy(spec)
    layer = _layers(out)[i]
    if value is None:
        layer.pop(key, None)
    else:
        layer[key] = copy.deepcopy(value)
    return out


def unset_param(spec: dict, i: int, key: str) -> dict:
    """Option `key` removed from layer `i`."""
    return set_param(spec, i, key, None)


def apply_fix(spec: dict, fix: dict) -> dict:
    """A builder error's one-click repair applied: `{"action": "insert" | "replace" | "set" | "unset" | "delete",
    "at": i, …}` on layer i, `{"action": "set_path", "path": [...], "value": v}` on any field, or
    `{"action": "data", "name": dataset}` (a dataset that suits the layers, keeping its seed and split)."""
    action, at = fix.get("action"), fix.get("at")
    if action == "set_path":
        return set_path(spec, tuple(fix["path"]), fix["value"])
    if action == "data":
        keep = {k: v for k, v in spec.get("data", {}).items() if k in ("seed", "val_fraction")}
        return set_path(spec, ("data",), {"name": fix["name"], **keep})
    if not isinstance(at, int):
        raise PlaygroundError(f"this fix names no layer: {fix}")
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
    args = ", ".join(f"{k}={v}" for k, v in layer.items() if k != "type")
    return f"{layer['type']}({args})" if args else layer["type"]


def describe_fix(spec: dict, fix: dict) -> str:
    """What a fix does, in words for its button: 'Insert Flatten before layer 2 (Linear)'."""
    action, at = fix.get("action"), fix.get("at", 0)
    if action == "set_path":
        return f"Set {'.'.join(map(str, fix['path']))} = {fix['value']}"
    if action == "data":
        kind = DATASETS.entries.get(fix["name"])
        return f"Use the {fix['name']} dataset" + (f" ({kind.modality})" if kind else "")
    layers = spec.get("model", {}).get("layers", [])
    where = f"layer {at + 1} ({layers[at].get('type')})" if 0 <= at < len(layers) else f"layer {at + 1}"
    if action == "insert":
        what = _layer_text(fix["layer"])
        return f"Insert {what} before {where}" if at < len(layers) else f"Add {what} at the end"
    if action == "replace":
        return f"Replace {where} with {_layer_text(fix['layer'])}"
    if action == "delete":
        return f"Delete {where}"
    if action == "set":
        return f"Set {fix['key']} = {fix['value']} on {where}"
    if action == "unset":
        return f"Remove {fix['key']} from {where}"
    return "Apply the suggested fix"


def add_dropout(spec: dict, p: float = 0.5) -> dict:
    """Dropout(p) after each hidden activation (not after the output layer, not where one already is)."""
    out = copy.deepcopy(spec)
    layers, new = _layers(out), []
    for k, layer in enumerate(layers):
        new.append(layer)
        kind = LAYERS.entries.get(layer.get("type"))
        hidden = k < len(layers) - 1 and kind is not None and kind.category == "activation"
        if hidden and layers[k + 1].get("type") != "Dropout":
            new.append({"type": "Dropout", "p": p})
    out["model"]["layers"] = new
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
        for layer in _layers(b):
            if layer.get("type") in kinds:
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
    """A layer's telling options for a one-line view: its first option and any that differ from the default."""
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
    """What differs between two specs, one line per change ('layer 2: Tanh → ReLU', 'train.optimizer.lr: …')."""
    out: list[str] = []
    la, lb = _layers(a), _layers(b)
    for i in range(max(len(la), len(lb))):
        x, y = (la[i] if i < len(la) else None), (lb[i] if i < len(lb) else None)
        if x == y:
            continue
        if x is None or y is None:
            layer = x or y
            out.append(f"layer {i + 1} {'added' if x is None else 'removed'}: {layer['type']}"
                       + (f"({key_args(layer)})" if key_args(layer) else ""))
        elif x.get("type") != y.get("type"):
            out.append(f"layer {i + 1}: {x['type']} → {y['type']}")
        else:
            for k in sorted(set(x) | set(y)):
                if x.get(k) != y.get(k):
                    out.append(f"layer {i + 1} ({x['type']}): {k} {_short(x.get(k))} → {_short(y.get(k))}")
    _diff_fields({k: v for k, v in a.items() if k not in ("model", "name", "description")},
                 {k: v for k, v in b.items() if k not in ("model", "name", "description")}, "", out)
    return out


def _diff_fields(x, y, path: str, out: list[str]) -> None:
    if isinstance(x, dict) and isinstance(y, dict):
        for k in sorted(set(x) | set(y)):
            _diff_fields(x.get(k), y.get(k), f"{path}.{k}" if path else k, out)
    elif x != y:
        out.append(f"{path}: {_short(x)} → {_short(y)}")
