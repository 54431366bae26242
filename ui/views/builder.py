"""The Build page's model editor: the palette, the layer stack, the layer settings, and widgets made from Params.

Every change goes through `state.set_spec` (undo, URL) inside a widget callback, so a page run always draws
the spec after the change. Widgets keep one key and take their values from the spec through `state.bind`, so
undo shows the restored values and a widget being edited keeps its keyboard focus.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

import streamlit as st

from playground import edit
from playground.build import Row, shape_str, summarize
from playground.data import DataInfo, check_size
from playground.layers import CATEGORIES, LAYERS
from playground.registry import Param, PlaygroundError
from playground.spec import from_dict
from playground.train import validate
from ui import keys, state
from ui.components.palette import palette as palette_component
from ui.components.sortable import pending_event, sortable
from ui.text import MESSAGE, plain, short

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
    layers = spec.get("model", {}).get("layers", [])
    # all layers (when only the head or the training is wrong), else those before the culprit
    for keep in (len(layers), out.error.layer):
        if not keep:
            continue
        try:
            out.rows = summarize(from_dict(dict(spec, model={"layers": layers[:keep]})), out.info, False).rows
            break
        except Exception:  # a partial table is a courtesy; the error above is what counts
            continue
    return out


# ---- applying edits ----------------------------------------------------------------------------

def apply(new: dict, select: int | None | str = "keep") -> None:
    """Make `new` the spec (one undo step), optionally selecting a layer; clears stale input errors."""
    state.set_spec(new)
    if select != "keep":
        state.get().selected = select
    state.get().build.field_errors = {}


def _selected(spec: dict) -> int | None:
    sel, n = state.get().selected, len(spec["model"]["layers"])
    return sel if sel is not None and 0 <= sel < n else None


def handle_events(key: str = keys.BUILD("stack"), palette_key: str = keys.BUILD("palette")) -> None:
    """Apply what the stack and the palette components sent since the last run: a drag-and-drop reorder, a row
    click, a layer dropped from the palette (inserted there), a palette click (added as the Insert choice says)."""
    s = state.get()
    added = pending_event(palette_key, None)  # a click on a chip: any revision (two quick clicks add two)
    if added is not None and added.get("kind") == "add" and added.get("type") in LAYERS:
        _add(added["type"])
    ev = pending_event(key, s.edits)
    if ev is None:
        return
    try:
        if ev.get("kind") == "select" and 0 <= int(ev.get("index", -1)) < len(s.spec["model"]["layers"]):
            s.selected = int(ev["index"])
        elif ev.get("kind") == "order":
            order = [int(i) for i in ev["order"]]
            moved = ev.get("moved", s.selected)
            apply(edit.reorder(s.spec, order), select=order.index(moved) if moved in order else s.selected)
        elif ev.get("kind") == "insert" and ev.get("type") in LAYERS:
            at = max(0, min(int(ev["at"]), len(s.spec["model"]["layers"])))
            apply(edit.insert_layer(s.spec, at, edit.new_layer(ev["type"])), select=at)
    except (PlaygroundError, TypeError, ValueError, KeyError):
        pass  # a stale or malformed event: the rows are redrawn from the spec anyway


# ---- widgets generated from Params ---------------------------------------------------------------

def _num(v):
    return None if v is None else (int(v) if float(v).is_integer() else float(v))


def param_help(p: Param) -> str:
    """The tooltip: the registry's help, the range and the default."""
    parts = [p.help] if p.help else []
    if p.min is not None or p.max is not None:
        lo = "" if p.min is None else f"{_num(p.min):g}"
        hi = "" if p.max is None else f"{_num(p.max):g}"
        parts.append(f"Range {lo}…{hi}.")
    if p.default is not None:
        parts.append(f"Default {_text(p.default)}.")
    elif p.optional:
        parts.append("Leave empty for the default.")
    return " ".join(parts)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def parse_text(p: Param, text: str):
    """A text field's value for Param `p` (size: '3' or '3, 5'; ints: '1, 8, 8'); '' is None."""
    text = text.strip()
    if not text:
        return None
    if p.kind == "str":
        return text
    if p.kind == "strs":
        return [t for t in re.split(r"[\s,\[\]'\"]+", text) if t]
    parts = [t for t in re.split(r"[\s,x×\[\]()]+", text) if t]
    try:
        nums = [int(t) for t in parts]
    except ValueError:
        raise PlaygroundError(f"{p.name}: '{text}' is not a whole number"
                              + (" or a pair like 3, 5" if p.kind == "size" else "")) from None
    if p.kind == "size":
        return nums[0] if len(nums) == 1 else nums
    if p.kind in ("ints", "int"):
        return nums if p.kind == "ints" else nums[0]
    try:
        return json.loads(text)
    except ValueError:
        return text


def _slider(p: Param, value) -> bool:
    # sliders for short ranges on a 0.01 grid (dropout p, noise); typed fields for the rest (lr, beta2)
    if p.min is None or p.max is None or p.max - p.min > 1 or value is None:
        return False
    return all(abs(v * 100 - round(v * 100)) < 1e-9 for v in (p.min, p.max, value))


def _step(value) -> float:
    v = abs(value) if value else 0.1
    return max(1e-6, 10 ** (math.floor(math.log10(v)) - 1))


def _on_change(p: Param, key: str, path: tuple, where: str, text: bool) -> None:
    raw = state.widget(key)
    errors = state.get().build.field_errors
    try:
        value = parse_text(p, raw or "") if text else raw
        if value is None and not (p.optional or p.default is None):
            raise PlaygroundError(f"{where}: {p.name} needs a value")
        value = p.check(value, where)
    except PlaygroundError as e:
        errors[key] = e.message
        return
    apply(edit.set_path(state.get().spec, path, value))


def _widget_value(kind: str, shown):
    """What a widget of `kind` holds for the spec value `shown`."""
    if kind == "text":
        return _text(shown)
    if kind == "bool":
        return bool(shown)
    if kind == "strs":
        return list(shown or [])
    if kind in ("int", "slider", "float") and shown is not None:
        return int(shown) if kind == "int" else float(shown)
    return shown


def param_widget(p: Param, value, path: tuple, where: str, label: str | None = None,
                 slider: bool | None = None) -> None:
    """A labelled widget for `p` showing `value`; a change is checked with `p.check` and written at `path`."""
    label = label or p.name
    shown = value if value is not None or p.optional else p.default
    try:  # a value the widget cannot show (out of range, wrong type: an imported file) gets a text field
        fits = shown is None or p.check(shown, where) == shown
    except PlaygroundError:
        fits = False
    text = not fits or p.kind in ("str", "size", "ints") or (p.kind == "strs" and not p.choices)
    kind = ("text" if text else p.kind if p.kind in ("bool", "choice", "strs", "int")
            else "slider" if (slider if slider is not None else _slider(p, shown)) else "float")
    # a stable key (the widget keeps keyboard focus while it is edited), one per kind of widget at a path
    key = keys.BUILD("p", kind, *path)
    state.bind(key, _widget_value(kind, shown))
    kw = {"key": key, "help": param_help(p), "on_change": _on_change, "args": (p, key, path, where, text)}
    if kind == "text":
        st.text_input(label, placeholder="default" if p.optional else "", **kw)
        if not fits:
            try:
                p.check(shown, where)
            except PlaygroundError as e:
                st.error(plain(e.message, MESSAGE), icon=":material/error:")
    elif kind == "bool":
        st.checkbox(label, **kw)
    elif kind == "choice":
        st.selectbox(label, list(p.choices), **kw)
    elif kind == "strs":
        st.multiselect(label, list(p.choices), **kw)
    elif kind == "int":
        st.number_input(label, min_value=None if p.min is None else int(p.min),
                        max_value=None if p.max is None else int(p.max), step=1, **kw)
    elif kind == "slider":
        st.slider(label, float(p.min), float(p.max), step=0.01, **kw)
    else:
        st.number_input(label, min_value=None if p.min is None else float(p.min),
                        max_value=None if p.max is None else float(p.max), step=_step(shown or p.default),
                        format="%g", placeholder="off" if p.optional else None, **kw)
    message = state.get().build.field_errors.get(key)
    if message:
        st.error(plain(message, MESSAGE), icon=":material/error:")


# ---- palette -----------------------------------------------------------------------------------

def _add(type_name: str) -> None:
    spec = state.get().spec
    n, sel = len(spec["model"]["layers"]), _selected(spec)
    where = state.get().build.insert_at
    at = 0 if where == "start" else n if where == "end" or sel is None else sel + 1
    apply(edit.insert_layer(spec, at, edit.new_layer(type_name)), select=at)


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
    """The registry's layer types by category, in the registry's order, with their descriptions."""
    return [{"name": cat.capitalize(), "items": [{"name": k.name, "help": k.description} for k in kinds]}
            for cat in CATEGORIES if (kinds := [k for k in LAYERS.entries.values() if k.category == cat])]


# ---- the stack ---------------------------------------------------------------------------------

def _row_error(err: PlaygroundError, i: int) -> str:
    return re.sub(rf"^layer {i + 1} \([^)]*\): ", "", err.message)


def stack(result: Check) -> None:
    """The layer rows (drag to reorder, click to select) with shapes, parameters and the error on its row."""
    s = state.get()
    layers, sel = s.spec["model"]["layers"], _selected(s.spec)
    err = result.error
    items = []
    for i, layer in enumerate(layers):
        row = result.rows[i] if i < len(result.rows) else None
        items.append({"type": short(layer.get("type", "?")), "args": short(edit.key_args(layer), 200),
                      "shape": shape_str(row.output_shape) if row else "—",
                      "params": f"{row.params:,}" if row else "", "selected": i == sel,
                      "error": short(_row_error(err, i), 400) if err is not None and err.layer == i else None})
    total = f"{sum(r.params for r in result.rows):,} parameters" if result.ok else ""
    sortable(items, s.edits, shape_str(result.info.input_shape) if result.info else "", total)


def _move(delta: int) -> None:
    spec, i = state.get().spec, _selected(state.get().spec)
    apply(edit.move_layer(spec, i, i + delta), select=i + delta)


def _duplicate() -> None:
    spec, i = state.get().spec, _selected(state.get().spec)
    apply(edit.duplicate(spec, i), select=i + 1)


def _delete() -> None:
    spec, i = state.get().spec, _selected(state.get().spec)
    n = len(spec["model"]["layers"]) - 1
    apply(edit.delete(spec, i), select=min(i, n - 1) if n else None)


def stack_buttons() -> None:
    """Move up / down / duplicate / delete the selected layer: the keyboard and touch path."""
    spec = state.get().spec
    sel, n = _selected(spec), len(spec["model"]["layers"])
    row = st.container(horizontal=True, gap="xsmall")  # one row in the narrow column of a 1024-pixel screen
    none = sel is None
    row.button("Up", key=keys.BUILD("up"), icon=":material/arrow_upward:", disabled=none or sel == 0,
               on_click=_move, args=(-1,), help="Move the selected layer up")
    row.button("Down", key=keys.BUILD("down"), icon=":material/arrow_downward:", disabled=none or sel == n - 1,
               on_click=_move, args=(1,), help="Move the selected layer down")
    row.button("Duplicate", key=keys.BUILD("dup"), icon=":material/content_copy:", disabled=none, on_click=_duplicate)
    row.button("Delete", key=keys.BUILD("del"), icon=":material/delete:", disabled=none, on_click=_delete)


def _fix(fix: dict) -> None:
    spec = state.get().spec
    at = fix.get("at") if fix.get("action") != "delete" else None  # a deleted layer cannot stay selected
    apply(edit.apply_fix(spec, fix), select=at if isinstance(at, int) else "keep")


def _select_layer(i: int) -> None:
    state.get().selected = i


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
    layers = spec.get("model", {}).get("layers", [])
    if err.layer is not None and 0 <= err.layer < len(layers):
        name = plain(f"layer {err.layer + 1} ({layers[err.layer].get('type', '?')})")
        if _selected(spec) == err.layer:
            st.caption(f"Change {name} under Configure, on the right, as the message says, or delete it.")
        else:
            st.button(f"Select {name} to change it", key=keys.BUILD("fix-select"), icon=":material/ads_click:",
                      on_click=_select_layer, args=(err.layer,))
    elif (err.path or "").split(".")[0] in TABS_OF:
        st.caption(f"Change {plain(err.path)} on {TABS_OF[err.path.split('.')[0]]}.")


# ---- configure the selected layer ---------------------------------------------------------------

def _select(key: str) -> None:
    state.get().selected = state.widget(key)


def configure() -> None:
    """Pick a layer and edit its options with widgets generated from the registry (inferred sizes excluded)."""
    s = state.get()
    layers, sel = s.spec["model"]["layers"], _selected(s.spec)
    st.markdown("**Configure**")
    if not layers:
        st.caption("Add a layer from the palette.")
        return
    key = keys.BUILD("sel", s.edits, sel)
    st.selectbox("Layer", list(range(len(layers))), index=sel, key=key, on_change=_select, args=(key,),
                 format_func=lambda i: f"{i + 1} · {short(layers[i].get('type', '?'))}", placeholder="Select a layer…")
    if sel is None:
        st.caption("Select a layer here or click it in the stack.")
        return
    layer, where = layers[sel], f"layer {sel + 1} ({layers[sel].get('type')})"
    kind = LAYERS.entries.get(layer.get("type"))
    if kind is None:
        st.error(f"{plain(where)}: unknown layer type; delete it and add one from the palette.",
                 icon=":material/error:")
        return
    st.caption(kind.description)
    for p in kind.params:
        param_widget(p, layer.get(p.name), ("model", "layers", sel, p.name), where)
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
    if s.selected is not None and not 0 <= s.selected < n:
        s.selected = n - 1 if n else None


def status(result: Check) -> None:
    """One line under the title: does it build, and how big is it."""
    if result.data_error:
        st.markdown(f":red-badge[:material/error: Data] {plain(result.data_error, MESSAGE)}")
    elif result.error is not None:
        st.markdown(f":red-badge[:material/error: Does not build] {plain(result.error.message, MESSAGE)}")
    else:
        total = sum(r.params for r in result.rows)
        st.markdown(f":green-badge[:material/check: Builds] {len(result.rows)} layers · {total:,} parameters · "
                    f"input {shape_str(result.info.input_shape)} → output {shape_str(result.rows[-1].output_shape)}")

