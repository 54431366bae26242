"""The Build page's layers as a tree: layers and blocks by path, the selection, the stack component's items, and
the settings of a block (a Residual's projection; a Parallel's merge and branches).

A path is a tuple of 0-based indices (playground/blocks.py). The session keeps the selection as it always has
for a top-level layer (its index) and as a tuple inside a block, so nothing else needs to know about paths.
"""

from __future__ import annotations

import streamlit as st

from playground import blocks, edit
from playground.blocks import Path
from playground.build import Row, partial_rows, shape_str
from playground.data import DataInfo
from playground.registry import Param, PlaygroundError
from playground.spec import BLOCKS, from_dict
from ui import keys, state
from ui.text import short

# The palette's "Blocks" group: the block types, their chip labels and tooltips (the registry lists layers only).
BLOCK_CHIPS = {
    "Residual": ("Residual block", "Adds its input to what its layers make (output = input + layers(input)), as "
                                   "in a ResNet. Drag layers into it; turn on projection when they change the shape."),
    "Parallel": ("Parallel branches", "Every branch reads the same input and their outputs are merged (concat, add "
                                      "or multiply); an empty branch passes the input on, as a U-Net's skip does."),
}
PROJECTION = Param("projection", "bool", False, help="A learned 1×1 Conv2d (images) or Linear (vectors) on the skip, "
                   "so that the input can be added when the block's layers change its shape.")
MERGE = Param("merge", "choice", "concat", choices=("concat", "add", "multiply"),
              help="concat joins the branches' channels (images) or features; add and multiply need equal shapes.")


def as_selection(path: Path | None):
    """How the session keeps a selected path: the index of a top-level layer, else the path itself."""
    if not path:
        return None
    return path[0] if len(path) == 1 else tuple(path)


def selected_path(spec: dict) -> Path | None:
    """The selected layer's path, or None when nothing (or nothing that exists any more) is selected."""
    sel = state.get().selected
    try:
        path = blocks.as_path(sel) if sel is not None else None
    except PlaygroundError:
        return None
    return path if blocks.exists(spec, path) else None


def name(spec: dict, path: Path) -> str:
    """'layer 2.1 (Conv2d)'."""
    node = blocks.node_at(spec, path)
    return f"layer {blocks.label(path)} ({node.get('type', '?') if isinstance(node, dict) else '?'})"


def every(spec: dict) -> list[Path]:
    """The path of every layer and block, in the stack's order."""
    return [p for p, _ in blocks.walk(spec.get("model", {}).get("layers", []))]


def block_shape_at(spec: dict, path: Path, info: DataInfo | None) -> tuple[int, ...] | None:
    """The per-sample shape a new block inserted at slot `path` gets (None where it is not known), so that its
    layers build where it lands."""
    if info is None:
        return None
    try:
        rows = partial_rows(from_dict(spec), info)
    except PlaygroundError:
        return None
    return blocks.input_shape_at(spec, path, {r.path: r.output_shape for r in rows}, tuple(info.input_shape))


# ---- the stack component's items ------------------------------------------------------------------

def items(spec: dict, rows: list[Row], selected: Path | None, error: PlaygroundError | None,
          message) -> list[dict]:
    """One item per layer and block (with a heading per branch, and a drop place in an empty block), each with the
    slots a drop before or after it means. `message(err)` is the text shown on the row of the error."""
    by_path = {r.path: r for r in rows}
    out: list[dict] = []

    def walk(nodes: list, prefix: Path, depth: int) -> None:
        for k, node in enumerate(nodes):
            p = (*prefix, k)
            kind = node.get("type") if isinstance(node, dict) else None
            block = kind if kind in BLOCKS else None
            row = by_path.get(p)
            nxt = [*prefix, k + 1]
            out.append({"kind": "row", "path": list(p), "label": blocks.label(p), "depth": depth, "block": block,
                        "type": short(str(kind or "?")), "args": short(edit.key_args(node), 200)
                        if isinstance(node, dict) else "", "shape": shape_str(row.output_shape) if row else "—",
                        "params": f"{row.params:,}" if row else "", "selected": p == selected,
                        "error": message(error) if error is not None and error.at == p else None,
                        "before": list(p), "after": nxt, "skip": nxt})
            if block == "Residual":
                inner = node.get("layers") if isinstance(node.get("layers"), list) else []
                out[-1]["after"] = [*p, 0]
                if not inner:
                    out.append(_slot(p, (*p, 0), depth + 1, "no layers: the input is added to itself · drop layers "
                                                            "here"))
                walk(inner, p, depth + 1)
            elif block == "Parallel":
                branches = node.get("branches") if isinstance(node.get("branches"), list) else []
                out[-1]["after"] = [*p, 0, 0]
                for b, branch in enumerate(branches):
                    branch = branch if isinstance(branch, list) else []
                    text = f"branch {b + 1}" + ("" if branch else " · the input as it is (drop layers here)")
                    out.append({**_slot(p, (*p, b, 0), depth + 1, text), "kind": "branch",
                                "label": blocks.label((*p, b))})
                    walk(branch, (*p, b), depth + 1)

    walk(spec.get("model", {}).get("layers", []), (), 0)
    return out


def _slot(block: Path, slot: Path, depth: int, text: str) -> dict:
    return {"kind": "slot", "label": blocks.label(block) + ".0", "depth": depth, "text": text,
            "before": list(slot), "after": list(slot)}


# ---- the settings of a block --------------------------------------------------------------------

def configure_block(spec: dict, path: Path, param_widget, apply) -> None:
    """A block's own settings: a Residual's projection; a Parallel's merge and its branches (add, remove)."""
    node = blocks.node_at(spec, path)
    kind, where = node.get("type"), name(spec, path)
    st.caption(BLOCK_CHIPS[kind][1])
    field = blocks.field_path(spec, path)
    if kind == "Residual":
        param_widget(PROJECTION, node.get("projection"), (*field, "projection"), where)
        n = len(node.get("layers") or [])
        st.caption(f"{n} layer{'s' * (n != 1)} inside. Drag layers onto its rows to put them in, or out of it to "
                   "take them out.")
        return
    param_widget(MERGE, node.get("merge"), (*field, "merge"), where)
    branches = node.get("branches") or []
    st.caption(f"{len(branches)} branch{'es' * (len(branches) != 1)}: " + ", ".join(
        f"{b + 1}: {len(br) if isinstance(br, list) else 0} layer{'s' * (len(br) != 1 if isinstance(br, list) else 1)}"
        for b, br in enumerate(branches)))
    row = st.container(horizontal=True, gap="xsmall")
    row.button("Add branch", key=keys.BUILD("branch-add"), icon=":material/add:",
               help="A new empty branch: the input as it is, until layers are dropped into it",
               on_click=lambda: apply(edit.add_branch(state.get().spec, path)))
    if len(branches) > 1:
        last = len(branches) - 1
        row.button(f"Remove branch {last + 1}", key=keys.BUILD("branch-remove"), icon=":material/remove:",
                   help="Remove the last branch and its layers (Undo brings it back)",
                   on_click=lambda: apply(edit.remove_branch(state.get().spec, path, last)))
