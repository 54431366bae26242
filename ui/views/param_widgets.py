"""Widgets made from registry Params (a layer's or the training's options), and `apply`, the one way an edit on
the Build page becomes the spec (one undo step, the URL, the selection).

Every change goes through `state.set_spec` inside a widget callback, so a page run always draws the spec after
the change. Widgets keep one key and take their values from the spec through `state.bind`, so undo shows the
restored values and a widget being edited keeps its keyboard focus.
"""

from __future__ import annotations

import json
import math
import re

import streamlit as st

from playground import blocks, edit
from playground.registry import Param, PlaygroundError
from ui import keys, state
from ui.text import MESSAGE, plain
from ui.views.layer_tree import as_selection


def apply(new: dict, select: int | tuple | None | str = "keep") -> None:
    """Make `new` the spec (one undo step), optionally selecting a layer (an index, or a path inside blocks);
    clears stale input errors."""
    state.set_spec(new)
    if select != "keep":
        state.get().selected = as_selection(blocks.as_path(select)) if select is not None else None
    state.get().build.field_errors = {}


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
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], (list, tuple)):
        return json.dumps(value)  # points: [[x, y], …]
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
    if p.kind == "points":
        try:
            return json.loads(text)
        except ValueError:
            raise PlaygroundError(f"{p.name}: write the points as [[x, y], …]") from None
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
    text = not fits or p.kind in ("str", "size", "ints", "points") or (p.kind == "strs" and not p.choices)
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
