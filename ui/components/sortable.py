"""The layer stack as a drag-and-drop list: a components-v2 element (inline HTML/CSS/JS, no iframe, no npm).

Rows are dragged with the mouse anywhere on the row, or by the ⠿ handle with a finger or pen (pointer
events, so touch works too). A click (or Enter) selects a row; Alt+↑/↓ moves the focused row. A layer
dragged from the palette (ui/components/palette.py) is inserted where it is dropped. Each action comes back
as one `event` value: `{"kind": "order", "order": [old indices in new order], "moved": i}`,
`{"kind": "select", "index": i}` or `{"kind": "insert", "type": name, "at": i}`, with `rev` (the spec
revision the rows were drawn from) and a nonce `n` so that the same action twice still counts. User text
is put in with textContent only.
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
.head, .input, li.row { display: grid; grid-template-columns: 18px 24px minmax(0, 1fr) 92px 64px;
                        column-gap: 6px; align-items: center; }
.head { font-size: 12px; opacity: .65; padding: 0 8px 2px; }
.head span:last-child, .params { text-align: right; }
.input { padding: 4px 8px; opacity: .8; }
.input .name { font-style: italic; }
ol.rows { list-style: none; margin: 0; padding: 0; }
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
li.row.drop-before { box-shadow: 0 -3px 0 var(--st-primary-color, #0072B2); }
ol.rows.drop-end { box-shadow: 0 3px 0 var(--st-primary-color, #0072B2); }
.stack.drop-over { outline: 1px dashed var(--st-primary-color, #0072B2); outline-offset: 4px; }
.handle { color: rgba(128,128,128,.9); cursor: grab; touch-action: none; font-size: 16px; line-height: 1; }
.num, .shape, .params { font-variant-numeric: tabular-nums; }
.num { opacity: .7; }
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
  // Streamlit calls this again with the same DOM whenever `data` changes: rebuild the rows, and
  // (re)assign handlers as properties so they never pile up. A drag in progress lives on the list, not
  // in this call: a rerun that lands mid-drag waits until the drop instead of pulling the rows away.
  if (list.__drag) list.__stale = true; else render();

  function cell(cls, text) {
    const s = document.createElement("span"); s.className = cls; s.textContent = text; return s;
  }
  function render() {
    list.__stale = false;
    list.__rev = data.rev;  // the revision these rows show: an action on them names it
    list.replaceChildren();
    if (!data.items.length) {
      const li = document.createElement("li"); li.className = "empty";
      li.textContent = "No layers yet: add one from the palette."; list.appendChild(li);
    }
    data.items.forEach((it, i) => {
      const li = document.createElement("li");
      li.className = "row" + (it.selected ? " selected" : "") + (it.error ? " error" : "");
      li.dataset.index = String(i); li.dataset.type = it.type; li.dataset.args = it.args; li.tabIndex = 0;
      li.setAttribute("role", "option"); li.setAttribute("aria-selected", it.selected ? "true" : "false");
      const label = cell("label", "");
      label.append(cell("type", it.type), cell("args", it.args || ""));
      label.title = it.args ? `${it.type}(${it.args})` : it.type;
      li.append(cell("handle", "⠿"), cell("num", String(i + 1)), label, cell("shape", it.shape),
                cell("params", it.params));
      if (it.error) li.appendChild(cell("msg", it.error));
      list.appendChild(li);
    });
    if (list.__focus != null && list.children[list.__focus]) list.children[list.__focus].focus();
    list.__focus = null;
  }
  function send(ev) { setStateValue("event", { ...ev, rev: list.__rev, n: `${Date.now()}-${Math.random()}` }); }
  function order() { return [...list.querySelectorAll("li.row")].map((li) => +li.dataset.index); }

  list.onpointerdown = (e) => {
    const li = e.target.closest("li.row");
    if (!li || (e.pointerType === "mouse" && e.button !== 0)) return;
    if (e.pointerType !== "mouse" && !e.target.closest(".handle")) return;  // a finger on the row scrolls
    e.preventDefault();
    li.focus();
    list.__drag = { li, id: e.pointerId, y0: e.clientY, moved: false, before: order().join() };
    list.setPointerCapture(e.pointerId);
  };
  list.onpointermove = (e) => {
    const drag = list.__drag;
    if (!drag || e.pointerId !== drag.id) return;
    if (!drag.moved && Math.abs(e.clientY - drag.y0) < 5) return;
    drag.moved = true; drag.li.classList.add("dragging");
    const others = [...list.querySelectorAll("li.row")].filter((li) => li !== drag.li);
    const next = others.find((li) => {
      const r = li.getBoundingClientRect(); return e.clientY < r.top + r.height / 2;
    });
    if ((next || null) !== drag.li.nextElementSibling) list.insertBefore(drag.li, next || null);
  };
  list.onpointerup = (e) => {
    const d = list.__drag;
    if (!d || e.pointerId !== d.id) return;
    list.__drag = null;
    d.li.classList.remove("dragging");
    const now = order();
    if (!d.moved) send({ kind: "select", index: +d.li.dataset.index });
    else if (now.join() !== d.before) send({ kind: "order", order: now, moved: +d.li.dataset.index });
    // the rows changed under the drag: show them as they are now (the app ignores an action on old rows)
    if (list.__stale) render();
  };
  list.onpointercancel = () => { list.__drag = null; render(); };

  // A layer type dragged from the palette: show where it would go, insert it there on the drop.
  const stack = root.querySelector(".stack");
  const fromPalette = (e) => [...(e.dataTransfer ? e.dataTransfer.types : [])].includes(data.mime);
  function dropIndex(y) {
    const rows = [...list.querySelectorAll("li.row")];
    const i = rows.findIndex((li) => { const r = li.getBoundingClientRect(); return y < r.top + r.height / 2; });
    return i < 0 ? rows.length : i;
  }
  function unmark() {
    stack.classList.remove("drop-over"); list.classList.remove("drop-end");
    list.querySelectorAll(".drop-before").forEach((li) => li.classList.remove("drop-before"));
  }
  stack.ondragover = (e) => {
    if (!fromPalette(e)) return;
    e.preventDefault(); e.dataTransfer.dropEffect = "copy";
    const i = dropIndex(e.clientY), rows = list.querySelectorAll("li.row");
    unmark(); stack.classList.add("drop-over");
    if (rows[i]) rows[i].classList.add("drop-before"); else list.classList.add("drop-end");
  };
  stack.ondragleave = (e) => { if (!stack.contains(e.relatedTarget)) unmark(); };
  stack.ondrop = (e) => {
    if (!fromPalette(e)) return;
    e.preventDefault();
    const type = e.dataTransfer.getData(data.mime), at = dropIndex(e.clientY);
    unmark();
    if (type) send({ kind: "insert", type, at });
  };
  list.onkeydown = (e) => {
    const li = e.target.closest("li.row");
    if (!li) return;
    const rows = [...list.querySelectorAll("li.row")], pos = rows.indexOf(li), i = +li.dataset.index;
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault(); list.__focus = pos; send({ kind: "select", index: i });
    } else if ((e.key === "ArrowUp" || e.key === "ArrowDown") && e.altKey) {
      e.preventDefault();
      const to = pos + (e.key === "ArrowUp" ? -1 : 1);
      if (to < 0 || to >= rows.length) return;
      const now = order(); now.splice(pos, 1); now.splice(to, 0, i);
      list.__focus = to; send({ kind: "order", order: now, moved: i });
    } else if (e.key === "ArrowUp" || e.key === "ArrowDown") {
      e.preventDefault();
      const to = rows[pos + (e.key === "ArrowUp" ? -1 : 1)];
      if (to) to.focus();
    }
  };
}
"""

_component = st.components.v2.component("playground.sortable", html=_HTML, css=_CSS, js=_JS)


def sortable(items: list[dict], rev: int, input_shape: str = "", total: str = "", key: str = keys.BUILD("stack")):
    """Draw the layer rows; returns the latest event (or None). `items`: type, args, shape, params, selected, error."""
    data = {"items": items, "rev": rev, "input": input_shape, "total": total, "mime": DRAG_TYPE}
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
