"""Blocks in a spec dict: layer paths (where a layer is, inside blocks), walking every layer, and new blocks.

A path is a tuple of 0-based indices, block by block, a Parallel's branch one step: (2,) is the top-level
layer 3, (2, 1) the 2nd layer of a Residual at 3, (2, 0, 1) the 2nd layer of branch 1 of a Parallel at 3.
Users read it 1-based: "layer 3.1.2". A path names a slot in a layer list; an insert at a path puts the new
layer there (an index equal to the list's length appends).
"""

from __future__ import annotations

from collections.abc import Iterator

from .registry import PlaygroundError
from .spec import BLOCKS

Path = tuple[int, ...]


def as_path(at) -> Path:
    """A fix's or an event's `at` (an index, or a list of indices) as a path."""
    if isinstance(at, bool):
        raise PlaygroundError(f"not a layer path: {at!r}")
    if isinstance(at, int):
        return (at,)
    if isinstance(at, (list, tuple)) and at and all(isinstance(i, int) and not isinstance(i, bool) for i in at):
        return tuple(at)
    raise PlaygroundError(f"not a layer path: {at!r}")


def label(path: Path) -> str:
    """'3.1.2', as users count."""
    return ".".join(str(i + 1) for i in path)


def top_layers(spec: dict) -> list:
    """The model's layer list (created when missing)."""
    return spec.setdefault("model", {}).setdefault("layers", [])


def _inner(node: dict, path: Path, k: int) -> tuple[list, int]:
    """The list a path continues into at `node` (path[k] is node's index), and the next path position."""
    kind = node.get("type") if isinstance(node, dict) else None
    if kind == "Residual" and isinstance(node.get("layers", []), list):
        return node.get("layers", []), k + 1
    if kind == "Parallel" and isinstance(node.get("branches", []), list):
        branches = node.get("branches", [])
        b = path[k + 1]
        if not 0 <= b < len(branches) or not isinstance(branches[b], list):
            raise PlaygroundError(f"layer {label(path[:k + 1])} (Parallel) has no branch {b + 1}")
        return branches[b], k + 2
    raise PlaygroundError(f"layer {label(path[:k + 1])} is not a block, so nothing is inside it")


def locate(layers: list, path: Path) -> tuple[list, int]:
    """The layer list holding slot `path`, and the slot's index in it (not checked against the list's length)."""
    nodes, k = layers, 0
    while k < len(path) - 1:
        i = path[k]
        if not 0 <= i < len(nodes):
            raise PlaygroundError(f"there is no layer {label(path[:k + 1])}")
        nodes, k = _inner(nodes[i], path, k)
    if k != len(path) - 1:
        raise PlaygroundError(f"layer {label(path)} names a branch, not a layer in it")
    return nodes, path[-1]


def node_at(spec: dict, path: Path) -> dict:
    """The layer (or block) dict at `path`; PlaygroundError when there is none."""
    nodes, i = locate(top_layers(spec), path)
    if not 0 <= i < len(nodes):
        raise PlaygroundError(f"there is no layer {label(path)} (its list has {len(nodes)})")
    return nodes[i]


def exists(spec: dict, path: Path | None) -> bool:
    """Is there a layer at `path`?"""
    if not path:
        return False
    try:
        node_at(spec, path)
        return True
    except (PlaygroundError, TypeError, AttributeError):
        return False


def field_path(spec: dict, path: Path) -> tuple:
    """The JSON field path of the layer at `path`: ("model", "layers", 2, "branches", 0, 1)."""
    out: list = ["model", "layers"]
    nodes, k = top_layers(spec), 0
    while k < len(path) - 1:
        node = nodes[path[k]]
        out.append(path[k])
        nodes, nxt = _inner(node, path, k)
        out += ["layers"] if nxt == k + 1 else ["branches", path[k + 1]]
        k = nxt
    return (*out, path[-1])


def walk(layers: list, prefix: Path = ()) -> Iterator[tuple[Path, dict]]:
    """(path, layer dict) of every layer and block, a block before the layers inside it (the stack's order)."""
    for i, node in enumerate(layers):
        path = (*prefix, i)
        yield path, node
        if not isinstance(node, dict):
            continue
        if node.get("type") == "Residual" and isinstance(node.get("layers"), list):
            yield from walk(node["layers"], path)
        elif node.get("type") == "Parallel" and isinstance(node.get("branches"), list):
            for b, branch in enumerate(node["branches"]):
                if isinstance(branch, list):
                    yield from walk(branch, (*path, b))


def parent(spec: dict, path: Path) -> Path | None:
    """The path of the block holding the layer at `path` (None at the top level)."""
    # a Residual's layer is one step below it; a Parallel branch's, two (the branch, then the index)
    for up, kind in ((path[:-1], "Residual"), (path[:-2], "Parallel")):
        if up and exists(spec, up) and node_at(spec, up).get("type") == kind:
            return up
    return None


def is_inside(path: Path, block: Path) -> bool:
    """Is `path` the block at `block` or anywhere inside it?"""
    return path[:len(block)] == block


# ---- new blocks ----------------------------------------------------------------------------------------

def new_block(kind: str, shape: tuple[int, ...] | None = None) -> dict:
    """A block that builds where it is added, for an input of per-sample `shape` (None: not known).

    Residual: Conv2d-ReLU-Conv2d keeping an image's shape (3×3, padding 1, as many channels as it gets), or
    Linear-ReLU-Linear keeping a vector's. Parallel: a U-Net level on an image (the input beside a branch
    that pools, convolves and upsamples back; concatenated), or the input beside a Linear-ReLU on vectors."""
    if kind not in BLOCKS:
        raise PlaygroundError(f"unknown block {kind!r} (blocks: {', '.join(BLOCKS)})")
    image = shape is not None and len(shape) == 3
    if kind == "Residual":
        if image:
            conv = {"type": "Conv2d", "out_channels": shape[0], "kernel_size": 3, "padding": 1}
            return {"type": "Residual", "layers": [dict(conv), {"type": "ReLU"}, dict(conv)]}
        width = shape[-1] if shape else 8
        lin = {"type": "Linear", "out_features": width}
        return {"type": "Residual", "layers": [dict(lin), {"type": "ReLU"}, dict(lin)]}
    if image:
        c, h, w = shape
        conv = {"type": "Conv2d", "out_channels": min(512, 2 * c), "kernel_size": 3, "padding": 1}
        if h % 2 == 0 and w % 2 == 0 and h > 1 and w > 1:
            inner = [{"type": "MaxPool2d", "kernel_size": 2}, conv, {"type": "ReLU"},
                     {"type": "Upsample", "scale_factor": 2}]
        else:
            inner = [conv, {"type": "ReLU"}]
        return {"type": "Parallel", "branches": [[], inner], "merge": "concat"}
    width = shape[-1] if shape else 8
    return {"type": "Parallel", "branches": [[], [{"type": "Linear", "out_features": width}, {"type": "ReLU"}]],
            "merge": "concat"}


def input_shape_at(spec: dict, path: Path, shapes: dict[Path, tuple[int, ...]],
                   input_shape: tuple[int, ...] | None) -> tuple[int, ...] | None:
    """The per-sample shape a layer inserted at `path` would get, from the output shapes of the layers that
    build (`shapes`: path -> shape, e.g. a Summary's rows); None when it is not known."""
    while True:
        if path[-1] > 0:
            return shapes.get((*path[:-1], path[-1] - 1))
        up = parent(spec, path) if len(path) > 1 else None
        if up is None:
            return input_shape if len(path) == 1 else None
        path = up  # the first layer of a block's list gets what the block gets

