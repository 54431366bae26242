"""The Build page's model editor: the palette, the layer stack (blocks as nested groups), the layer settings.

Every change goes through `param_widgets.apply` (undo, URL) inside a widget callback or at the top of the page
run (the components' events), so a page run always draws the spec after the change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import streamlit as st

from playground import blocks, edit
from playground.build import Row, partial_rows, shape_str
from playground.data import DataInfo, check_size
from playground.layers import CATEGORIES, LAYERS
from playground.registry import PlaygroundError
from playground.spec import BLOCKS, from_dict
from playground.train import validate
from ui import keys, state
from ui.components.palette import palette as palette_component
from ui.components.sortable import pending_event, sortable
from ui.text import MESSAGE, plain, short
from ui.views import layer_tree as tree
from ui.views.param_widgets import apply, param_widget

INSERT = keys.BUILD("insert")  # where a new layer goes (kept as Session.build.insert_at too)
INSERT_AT = {"after": "after the selected layer", "end": "at the end", "start": "at the start"}


@dataclass
class Check:
    """What the builder says about the current spec: the data's info, per-layer rows, and the first error."""

    info: DataInfo | None = None
    rows: list[Row] = field(default_factory=list)  # rows of the layers that built (all of them when valid)
    error: PlaygroundError | None = None
    data_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.data_error is None


def check(spec: dict) -> Check:
    """Validate `spec` (never raises): shapes and parameters of every layer that builds, and what is wrong."""
    out = Check()
    try:
        parsed = from_dict(spec)
    except PlaygroundError as e:
        out.error = e
        return out
    try:
        out.info = check_size(parsed.data, state.uploads()).info  # shapes, and a dataset within the cap
    except PlaygroundError as e:
        out.data_error = e.message
        return out
    except Exception as e:  # a dataset that fails in an unforeseen way must not take the page down
        out.data_error = f"data ({parsed.data.name}): could not be loaded ({type(e).__name__}: {e})"
        return out
    try:
        out.rows = validate(parsed, out.info).rows
        return out
    except PlaygroundError as e:
        out.error = e
    except Exception as e:
        out.error = PlaygroundError(f"this setup cannot be built ({type(e).__name__}: {e})")
    try:  # every layer that builds before the culprit (all of them when the head or the training is wrong)
        out.rows = partial_rows(parsed, out.info)
    except Exception:  # a partial table is a courtesy; the error above is what counts
        out.rows = []
    return out


# ---- applying edits ----------------------------------------------------------------------------

def _selected(spec: dict) -> blocks.Path | None:
    return tree.selected_path(spec)


def _addable(name) -> bool:
    return isinstance(name, str) and (name in LAYERS or name in BLOCKS)


def handle_events(key: str = keys.BUILD("stack"), palette_key: str = keys.BUILD("palette")) -> None:
    """Apply what the stack and the palette components sent since the last run: a drag-and-drop move (along a
    list, into a block or a branch, out of one), a row click, Alt+arrow, a layer dropped from the palette
    (inserted there), a palette click (added as the Insert choice says)."""
    s = state.get()
    added = pending_event(palette_key, None)  # a click on a chip: any revision (two quick clicks add two)
    if added is not None and added.get("kind") == "add" and _addable(added.get("type")):
        _add(added["type"])
    ev = pending_event(key, s.edits)
    if ev is None:
        return
    try:
        kind = ev.get("kind")
        if kind == "select":
            path = blocks.as_path(ev["path"] if "path" in ev else int(ev["index"]))
            if blocks.exists(s.spec, path):
                s.selected = tree.as_selection(path)
        elif kind == "move":
            new, path = edit.move_to(s.spec, ev["src"], ev["dst"])
            if new != s.spec:
                apply(new, select=path)
        elif kind == "nudge" and ev.get("delta") in (-1, 1):
            new, path = edit.nudge(s.spec, ev["path"], ev["delta"])
            if new != s.spec:
                apply(new, select=path)
        elif kind == "order":  # a top-level reorder (the stack before blocks sent these)
            order = [int(i) for i in ev["order"]]
            moved = ev.get("moved", s.selected)
            apply(edit.reorder(s.spec, order), select=order.index(moved) if moved in order else "keep")
        elif kind == "insert" and _addable(ev.get("type")):
            at = blocks.as_path(ev["at"])
            if len(at) == 1:
                at = (max(0, min(at[0], len(s.spec["model"]["layers"]))),)
            _insert(s.spec, at, ev["type"])
    except (PlaygroundError, TypeError, ValueError, KeyError, IndexError, AttributeError):
        pass  # a stale or malformed event: the rows are redrawn from the spec anyway


def _insert(spec: dict, at: blocks.Path, type_name: str) -> None:
    """A new layer (or a block that builds where it lands) at slot `at`, selected."""
    shape = tree.block_shape_at(spec, at, check(spec).info) if type_name in BLOCKS else None
    new = edit.insert_layer(spec, at, edit.new_layer(type_name, shape))
    nodes, i = blocks.locate(new["model"]["layers"], at)
    apply(new, select=(*at[:-1], max(0, min(i, len(nodes) - 1))))


# ---- palette -----------------------------------------------------------------------------------

def _add(type_name: str) -> None:
    spec = state.get().spec
    n, sel = len(spec["model"]["layers"]), _selected(spec)
    where = state.get().build.insert_at
    at = (0,) if where == "start" else (n,) if where == "end" or sel is None else (*sel[:-1], sel[-1] + 1)
    _insert(spec, at, type_name)


def palette() -> None:
    """Every layer type of the registry, grouped by category, to click or drag; the description is the tooltip."""
    st.markdown("**Add a layer** · click or drag")
    # the choice is kept outside the widget too, so it survives the Model tab being closed
    st.selectbox("Insert", list(INSERT_AT), format_func=INSERT_AT.get, key=INSERT,
                 index=list(INSERT_AT).index(state.get().build.insert_at),
                 help="Where a new layer goes. It starts with the registry's defaults and is selected.",
                 on_change=_insert_at)
    palette_component(palette_groups())
    st.button("Dropout after hidden layers", key=keys.BUILD("dropout"), type="tertiary", icon=":material/blur_on:",
              help="Insert Dropout(p=0.5) after every hidden activation (where there is none yet).",
              on_click=lambda: apply(edit.add_dropout(state.get().spec)))


def _insert_at() -> None:
    state.get().build.insert_at = state.widget(INSERT)


def palette_groups() -> list[dict]:
    """The blocks, then the registry's layer types by category, in the registry's order, with their descriptions."""
    return [{"name": "Blocks", "items": [{"name": k, "label": label, "help": text}
                                         for k, (label, text) in tree.BLOCK_CHIPS.items()]}] + [
        {"name": cat.capitalize(), "items": [{"name": k.name, "help": k.description} for k in kinds]}
        for cat in CATEGORIES if (kinds := [k for k in LAYERS.entries.values() if k.category == cat])]


# ---- the stack ---------------------------------------------------------------------------------

def _row_error(err: PlaygroundError) -> str:
    return re.sub(r"^layer [\d.]+ \([^)]*\): ", "", err.message)


def stack(result: Check) -> None:
    """The layer rows (drag to move, into and out of blocks; click to select) with shapes, parameters and the
    error on its row; blocks hold their layers, indented."""
    s = state.get()
    items = tree.items(s.spec, result.rows, _selected(s.spec), result.error, lambda e: short(_row_error(e), 400))
    total = f"{sum(r.params for r in result.rows if len(r.path) == 1):,} parameters" if result.ok else ""
    sortable(items, s.edits, shape_str(result.info.input_shape) if result.info else "", total,
             top=len(s.spec["model"]["layers"]))


def _move(delta: int) -> None:
    spec = state.get().spec
    new, path = edit.nudge(spec, _selected(spec), delta)
    apply(new, select=path)


def _duplicate() -> None:
    spec, p = state.get().spec, _selected(state.get().spec)
    apply(edit.duplicate(spec, p), select=(*p[:-1], p[-1] + 1))


def _delete() -> None:
    spec, p = state.get().spec, _selected(state.get().spec)
    new = edit.delete(spec, p)
    nodes, i = blocks.locate(new["model"]["layers"], p)
    after = (*p[:-1], min(i, len(nodes) - 1)) if nodes else blocks.parent(spec, p)  # the next one, or its block
    apply(new, select=after)


def _can_move(spec: dict, path: blocks.Path | None, delta: int) -> bool:
    """Up (down) moves along the list, or out of the block at its first (last) layer; not past the model's ends."""
    if path is None:
        return False
    nodes, i = blocks.locate(spec["model"]["layers"], path)
    return 0 <= i + delta < len(nodes) or blocks.parent(spec, path) is not None


def stack_buttons() -> None:
    """Move up / down / duplicate / delete the selected layer: the keyboard and touch path."""
    spec = state.get().spec
    sel = _selected(spec)
    row = st.container(horizontal=True, gap="xsmall")  # one row in the narrow column of a 1024-pixel screen
    none = sel is None
    row.button("Up", key=keys.BUILD("up"), icon=":material/arrow_upward:", disabled=not _can_move(spec, sel, -1),
               on_click=_move, args=(-1,), help="Move the selected layer up (out of its block at the top)")
    row.button("Down", key=keys.BUILD("down"), icon=":material/arrow_downward:", disabled=not _can_move(spec, sel, 1),
               on_click=_move, args=(1,), help="Move the selected layer down (out of its block at the bottom)")
    row.button("Duplicate", key=keys.BUILD("dup"), icon=":material/content_copy:", disabled=none, on_click=_duplicate)
    row.button("Delete", key=keys.BUILD("del"), icon=":material/delete:", disabled=none, on_click=_delete)


def _fix(fix: dict) -> None:
    spec = state.get().spec
    at = fix.get("at") if fix.get("action") != "delete" else None  # a deleted layer cannot stay selected
    new = edit.apply_fix(spec, fix)
    try:
        path = blocks.as_path(at) if at is not None else None
    except PlaygroundError:
        path = None
    apply(new, select=path if path and blocks.exists(new, path) else "keep")


def _select_layer(path: blocks.Path) -> None:
    state.get().selected = tree.as_selection(path)


TABS_OF = {"train": "the Training tab", "data": "the Data tab"}  # where a non-layer field is changed


def error_box(result: Check) -> None:
    """The builder's error, naming the layer, with a button for each obvious repair; without one, where to
    change it (the layer's settings, or the tab of the field)."""
    err = result.error
    if err is None:
        return
    st.error(plain(err.message, MESSAGE), icon=":material/error:")
    spec = state.get().spec
    for k, fix in enumerate(err.fixes):
        st.button(plain(edit.describe_fix(spec, fix), MESSAGE),
                  key=keys.BUILD("fix", k + 1) if k else keys.BUILD("fix"), type="primary" if k == 0 else "secondary",
                  icon=":material/build:", on_click=_fix, args=(fix,),
                  help="Apply this repair (Undo takes it back)")
    if err.fixes:
        return
    if err.at is not None and blocks.exists(spec, err.at):
        name = plain(tree.name(spec, err.at))
        if _selected(spec) == err.at:
            st.caption(f"Change {name} under Configure, on the right, as the message says, or delete it.")
        else:
            st.button(f"Select {name} to change it", key=keys.BUILD("fix-select"), icon=":material/ads_click:",
                      on_click=_select_layer, args=(err.at,))
    elif (err.path or "").split(".")[0] in TABS_OF:
        st.caption(f"Change {plain(err.path)} on {TABS_OF[err.path.split('.')[0]]}.")


# ---- configure the selected layer ---------------------------------------------------------------

def _select(key: str) -> None:
    state.get().selected = state.widget(key)


def configure() -> None:
    """Pick a layer and edit its options with widgets generated from the registry (inferred sizes excluded)."""
    s = state.get()
    paths, sel = tree.every(s.spec), _selected(s.spec)
    st.markdown("**Configure**")
    if not paths:
        st.caption("Add a layer from the palette.")
        return
    options = [tree.as_selection(p) for p in paths]
    key = keys.BUILD("sel", s.edits, blocks.label(sel) if sel else None)
    st.selectbox("Layer", options, index=paths.index(sel) if sel else None, key=key, on_change=_select, args=(key,),
                 format_func=lambda o: short(tree.name(s.spec, blocks.as_path(o))[6:].replace(" (", " · ", 1)[:-1]),
                 placeholder="Select a layer…")
    if sel is None:
        st.caption("Select a layer here or click it in the stack.")
        return
    layer, where = blocks.node_at(s.spec, sel), tree.name(s.spec, sel)
    if layer.get("type") in BLOCKS:
        tree.configure_block(s.spec, sel, param_widget, apply)
        return
    field = blocks.field_path(s.spec, sel)
    kind = LAYERS.entries.get(layer.get("type"))
    if kind is None:
        st.error(f"{plain(where)}: unknown layer type; delete it and add one from the palette.",
                 icon=":material/error:")
        return
    st.caption(kind.description)
    for p in kind.params:
        param_widget(p, layer.get(p.name), (*field, p.name), where)
    if not kind.params:
        st.caption("This layer has no options.")
    if kind.inferred:
        st.caption("Inferred from its input (never asked): " + ", ".join(kind.inferred))
    known = {p.name for p in kind.params} | set(kind.inferred) | {"type"}
    for k in [k for k in layer if k not in known]:
        st.warning(f"{plain(where)} has an unknown option '{plain(k)}'.", icon=":material/warning:")
        st.button(f"Remove {plain(k)}", key=keys.BUILD("unset", s.edits, k),
                  on_click=lambda k=k: apply(edit.unset_param(state.get().spec, sel, k)))


def select_guard() -> None:
    """Keep the selection inside the stack after undo, redo or an import."""
    s = state.get()
    n = len(s.spec.get("model", {}).get("layers", []))
    if s.selected is not None and _selected(s.spec) is None:
        s.selected = n - 1 if n else None


def status(result: Check) -> None:
    """One line under the title: does it build, and how big is it."""
    if result.data_error:
        st.markdown(f":red-badge[:material/error: Data] {plain(result.data_error, MESSAGE)}")
    elif result.error is not None:
        st.markdown(f":red-badge[:material/error: Does not build] {plain(result.error.message, MESSAGE)}")
    else:
        top = [r for r in result.rows if len(r.path) == 1]
        n = sum(r.type not in BLOCKS for r in result.rows)
        inner = len(result.rows) - len(top)
        st.markdown(f":green-badge[:material/check: Builds] {n} layers" + (f" ({inner} inside blocks)" if inner else "")
                    + f" · {sum(r.params for r in top):,} parameters · input {shape_str(result.info.input_shape)} → "
                    f"output {shape_str(top[-1].output_shape)}")

