"""The layer stack as a drag-and-drop tree: a components-v2 element (inline HTML/CSS/JS, no iframe, no npm).

Blocks (Residual, Parallel) are rows with their layers indented below them, a Parallel's branches under
headings; a block folds and unfolds with its ▾ (kept in the browser). Rows are dragged with the mouse
anywhere on the row, or by the ⠿ handle with a finger or pen (pointer events, so touch works too): a line
shows where the row will land, before or after the row under the pointer, inside a block or out of it. A click
(or Enter) selects a row; Alt+↑/↓ moves the focused row (out of its block at either end). A layer dragged from
the palette (ui/components/palette.py) is inserted where it is dropped. Each item carries its path and the slots
a drop before or after it means (see ui/views/layer_tree.py). Each action comes back as one `event` value:
`{"kind": "move", "src": path, "dst": slot}`, `{"kind": "select", "path": path}`, `{"kind": "nudge", "path":
path, "delta": ±1}` or `{"kind": "insert", "type": name, "at": slot}`, with `rev` (the spec revision the rows
were drawn from) and a nonce `n` so that the same action twice still counts. User text goes in with
textContent only.
"""

from __future__ import annotations

import streamlit as st

from ui import keys, state
from ui.components.palette import DRAG_TYPE

_HTML = """
<div class="stack" data-testid="layer-stack">
  <div class="head"><span></span><span>#</span><span>layer</span><span>output</span><span>params</span></div>
  <div class="input"><span></span><span></span><span class="name">input</span><span class="shape"></span>
    <span></span></div>
  <ol class="rows" role="listbox" aria-label="Layers: drag to reorder, Alt+Up or Alt+Down moves, Enter selects"></ol>
  <div class="total"></div>
</div>
"""

_CSS = """
.stack { font-family: var(--st-font, "Source Sans Pro", sans-serif); font-size: 14px;
         color: var(--st-text-color, #31333f); user-select: none; }
.head, .input, li.row { display: grid; grid-template-columns: 18px auto minmax(0, 1fr) 92px 64px;
                        column-gap: 6px; align-items: center; }
.head { font-size: 12px; color: #5c5e66; padding: 0 8px 2px; }  /* 6.5:1: an opacity of .65 was 4.47:1 */
.head span:last-child, .params { text-align: right; }
.input { padding: 4px 8px; opacity: .8; }
.input .name { font-style: italic; }
ol.rows { list-style: none; margin: 0; padding: 0; }
ol.rows li[hidden] { display: none; }  /* a folded block's layers (the rows' own display would win) */
li.row { padding: 6px 8px; margin: 3px 0; border-radius: var(--st-base-radius, 6px); cursor: grab;
         border: 1px solid var(--st-border-color, rgba(49,51,63,.2));
         background: var(--st-background-color, #fff); touch-action: pan-y; }
li.row:hover { border-color: var(--st-primary-color, #ff4b4b); }
li.row:focus-visible { outline: 2px solid var(--st-primary-color, #ff4b4b); outline-offset: 1px; }
li.row.selected { border: 2px solid var(--st-primary-color, #ff4b4b); padding: 5px 7px;
                  background: var(--st-secondary-background-color, #f0f2f6); }
li.row.error { border-left: 4px solid var(--st-red-color, #d62728); padding-left: 5px;
               background: var(--st-red-background-color, rgba(255,43,43,.09)); }
li.row.dragging { opacity: .85; box-shadow: 0 4px 14px rgba(0,0,0,.25); cursor: grabbing; }
li.drop-before { box-shadow: 0 -3px 0 var(--st-primary-color, #0072B2); }
li.drop-after { box-shadow: 0 3px 0 var(--st-primary-color, #0072B2); }
li.row.block { background: var(--st-secondary-background-color, #f0f2f6); border-style: dashed; }
li.row.block.selected { border-style: solid; }
li.branch, li.slot { font-size: 12.5px; opacity: .75; padding: 2px 8px; margin: 2px 0; }
li.branch { font-weight: 600; border-left: 2px solid var(--st-border-color, rgba(49,51,63,.3)); }
li.slot { font-style: italic; border: 1px dashed var(--st-border-color, rgba(49,51,63,.3));
          border-radius: var(--st-base-radius, 6px); padding: 5px 8px; }
.toggle { display: inline-block; width: 18px; margin-right: 4px; cursor: pointer; font-size: 15px; line-height: 1;
          text-align: center; border-radius: 4px; }
.toggle:hover { background: var(--st-border-color, rgba(49,51,63,.15)); }
ol.rows.drop-end { box-shadow: 0 3px 0 var(--st-primary-color, #0072B2); }
.stack.drop-over { outline: 1px dashed var(--st-primary-color, #0072B2); outline-offset: 4px; }
.handle { color: rgba(128,128,128,.9); cursor: grab; touch-action: none; font-size: 16px; line-height: 1; }
.num, .shape, .params { font-variant-numeric: tabular-nums; }
.num { opacity: .7; min-width: 16px; white-space: nowrap; }
.type { font-weight: 600; }
.type { margin-right: 6px; }
.args { opacity: .7; font-size: 12.5px; display: inline-block; overflow-wrap: anywhere; }
.label { min-width: 0; }  /* arguments wrap below the type in a narrow column: never cut short */
.shape { font-family: var(--st-code-font, monospace); font-size: 12.5px; white-space: nowrap; }
.msg { grid-column: 2 / -1; color: var(--st-red-text-color, #bd4043); font-size: 13px; margin-top: 4px;
       white-space: normal; }
.empty { padding: 14px 8px; opacity: .7; font-style: italic; }
.total { padding: 4px 8px; font-size: 13px; opacity: .8; text-align: right; }
"""

_JS = r"""
export default function ({ parentElement, data, setStateValue }) {
  const root = parentElement;
  const list = root.querySelector("ol.rows");
  root.querySelector(".input .shape").textContent = data.input || "";
  root.querySelector(".total").textContent = data.total || "";
  if (!list.__collapsed) list.__collapsed = new Set();  // labels of folded blocks: kept across redraws

  function cell(cls, text) {
    const s = document.createElement("span"); s.className = cls; s.textContent = text; return s;
  }
  const INDENT = 14;  // pixels per block level
  const stack = root.querySelector(".stack");
  function within(label, block) { return label.startsWith(block + "."); }
  function hidden(label) { for (const b of list.__collapsed) if (within(label, b)) return true; return false; }
  function fold() {  // hide what folded blocks hold; a folded block shows ▸
    for (const li of list.children) {
      if (!li.dataset.label) continue;
      li.hidden = hidden(li.dataset.label);
      const t = li.querySelector(":scope > .label > .toggle");
      if (t) {
        const shut = list.__collapsed.has(li.dataset.label);
        t.textContent = shut ? "▸" : "▾"; t.setAttribute("aria-expanded", shut ? "false" : "true");
      }
    }
  }
  function render() {
    list.__stale = false;
    list.__rev = data.rev;  // the revision these rows show: an action on them names it
    list.replaceChildren();
    if (!data.items.length) {
      const li = document.createElement("li"); li.className = "empty";
      li.textContent = "No layers yet: add one from the palette."; list.appendChild(li);
    }
    let n = 0;
    data.items.forEach((it) => {
      const li = document.createElement("li");
      li.__item = it;
      li.dataset.label = it.label;
      li.style.marginLeft = `${INDENT * it.depth}px`;
      if (it.kind !== "row") {  // a branch's heading, or the place to drop into an empty block
        li.className = it.kind === "branch" ? "branch" : "slot";
        li.textContent = it.text;
        list.appendChild(li);
        return;
      }
      li.className = "row" + (it.block ? " block" : "") + (it.selected ? " selected" : "") + (it.error ? " error" : "");
      li.dataset.index = String(n++); li.dataset.path = it.label; li.dataset.type = it.type;
      li.dataset.args = it.args; li.tabIndex = 0;
      li.setAttribute("role", "option"); li.setAttribute("aria-selected", it.selected ? "true" : "false");
      const label = cell("label", "");
      if (it.block) {
        const t = cell("toggle", "▾"); t.setAttribute("role", "button");
        t.title = "Fold or unfold this block";
        t.onpointerdown = (e) => e.stopPropagation();
        t.onclick = (e) => {
          e.stopPropagation();
          if (list.__collapsed.has(it.label)) list.__collapsed.delete(it.label); else list.__collapsed.add(it.label);
          fold();
        };
        label.append(t);
      }
      label.append(cell("type", it.type), cell("args", it.args || ""));
      label.title = it.args ? `${it.type}(${it.args})` : it.type;
      li.append(cell("handle", "⠿"), cell("num", it.label), label, cell("shape", it.shape), cell("params", it.params));
      if (it.error) li.appendChild(cell("msg", it.error));
      list.appendChild(li);
    });
    fold();
    if (list.__focus != null) {
      const again = list.__focus === "@selected" ? list.querySelector("li.row.selected")
        : list.querySelector(`li.row[data-path="${CSS.escape(list.__focus)}"]`);
      if (again) again.focus();
    }
    list.__focus = null;
  }
  function send(ev) { setStateValue("event", { ...ev, rev: list.__rev, n: `${Date.now()}-${Math.random()}` }); }

  // Where a drop at height y goes: before or after the row under it, as a slot (a path) in the spec.
  function target(y, dragged) {
    const els = [...list.children].filter((li) => li.__item && !li.hidden && li !== dragged
      && !(dragged && within(li.dataset.label, dragged.dataset.label)));
    for (const li of els) {
      const r = li.getBoundingClientRect();
      if (y < r.bottom) {
        const it = li.__item, before = y < r.top + r.height / 2;
        const after = it.block && list.__collapsed.has(it.label) ? it.skip : it.after;
        return { li, before, slot: before ? it.before : after };
      }
    }
    return { li: null, before: false, slot: [data.top] };  // below every row: the end of the model
  }
  function unmark() {
    stack.classList.remove("drop-over"); list.classList.remove("drop-end");
    for (const li of list.querySelectorAll(".drop-before, .drop-after")) {
      li.classList.remove("drop-before", "drop-after");
    }
  }
  function mark(t) {
    unmark();
    if (t.li) t.li.classList.add(t.before ? "drop-before" : "drop-after"); else list.classList.add("drop-end");
  }

  list.onpointerdown = (e) => {
    const li = e.target.closest("li.row");
    if (!li || (e.pointerType === "mouse" && e.button !== 0)) return;
    if (e.pointerType !== "mouse" && !e.target.closest(".handle")) return;  // a finger on the row scrolls
    e.preventDefault();
    li.focus();
    list.__drag = { li, id: e.pointerId, y0: e.clientY, moved: false, slot: null };
    list.setPointerCapture(e.pointerId);
  };
  list.onpointermove = (e) => {
    const drag = list.__drag;
    if (!drag || e.pointerId !== drag.id) return;
    if (!drag.moved && Math.abs(e.clientY - drag.y0) < 5) return;
    drag.moved = true; drag.li.classList.add("dragging");
    const t = target(e.clientY, drag.li);
    drag.slot = t.slot; mark(t);
  };
  list.onpointerup = (e) => {
    const d = list.__drag;
    if (!d || e.pointerId !== d.id) return;
    list.__drag = null;
    d.li.classList.remove("dragging"); unmark();
    if (!d.moved) send({ kind: "select", path: d.li.__item.path });
    else if (d.slot) send({ kind: "move", src: d.li.__item.path, dst: d.slot });
    // the rows changed under the drag: show them as they are now (the app ignores an action on old rows)
    if (list.__stale) render();
  };
  list.onpointercancel = () => { list.__drag = null; unmark(); render(); };

  // A layer type dragged from the palette: show where it would go, insert it there on the drop.
  const fromPalette = (e) => [...(e.dataTransfer ? e.dataTransfer.types : [])].includes(data.mime);
  stack.ondragover = (e) => {
    if (!fromPalette(e)) return;
    e.preventDefault(); e.dataTransfer.dropEffect = "copy";
    mark(target(e.clientY, null)); stack.classList.add("drop-over");
  };
  stack.ondragleave = (e) => { if (!stack.contains(e.relatedTarget)) unmark(); };
  stack.ondrop = (e) => {
    if (!fromPalette(e)) return;
    e.preventDefault();
    const type = e.dataTransfer.getData(data.mime), t = target(e.clientY, null);
    unmark();
    if (type) send({ kind: "insert", type, at: t.slot });
  };
  list.onkeydown = (e) => {
    const li = e.target.closest("li.row");
    if (!li) return;
    const rows = [...list.querySelectorAll("li.row")].filter((r) => !r.hidden), pos = rows.indexOf(li);
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault(); list.__focus = li.dataset.path; send({ kind: "select", path: li.__item.path });
    } else if ((e.key === "ArrowUp" || e.key === "ArrowDown") && e.altKey) {
      e.preventDefault();
      list.__focus = "@selected";  // the moved row is selected once the app redraws: focus follows it
      send({ kind: "nudge", path: li.__item.path, delta: e.key === "ArrowUp" ? -1 : 1 });
    } else if (e.key === "ArrowUp" || e.key === "ArrowDown") {
      e.preventDefault();
      const to = rows[pos + (e.key === "ArrowUp" ? -1 : 1)];
      if (to) to.focus();
    }
  };

  // Streamlit calls this again with the same DOM whenever `data` changes: rebuild the rows, and
  // (re)assign handlers as properties so they never pile up. A drag in progress lives on the list, not
  // in this call: a rerun that lands mid-drag waits until the drop instead of pulling the rows away.
  if (list.__drag) list.__stale = true; else render();
}
"""

_component = st.components.v2.component("playground.sortable", html=_HTML, css=_CSS, js=_JS)


def sortable(items: list[dict], rev: int, input_shape: str = "", total: str = "", top: int = 0,
             key: str = keys.BUILD("stack")):
    """Draw the rows; returns the latest event (or None). `items` (layer_tree.items): kind, path, label, depth,
    block, type, args, shape, params, selected, error, before, after, skip; `top` is the number of top-level
    layers (a drop below every row appends there)."""
    data = {"items": items, "rev": rev, "input": input_shape, "total": total, "top": top, "mime": DRAG_TYPE}
    res = _component(data=data, key=key, default={"event": None}, on_event_change=_ignore)
    return res.event


def pending_event(key: str, rev: int | None) -> dict | None:
    """A component's newest event if it was not handled yet (then marked), and, unless `rev` is None, only if it
    was drawn from spec revision `rev` (an action on rows drawn before an edit would hit the wrong rows)."""
    value = state.widget(key)
    ev = value.get("event") if hasattr(value, "get") else None
    seen = state.get().seen_events
    if not isinstance(ev, dict) or (rev is not None and ev.get("rev") != rev) or ev.get("n") == seen.get(key):
        return None
    seen[key] = ev.get("n")
    return ev


def _ignore() -> None:
    """The state callback components v2 needs for a default; events are read at the top of the page run."""
