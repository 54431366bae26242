"""The layer palette: every layer type as a chip to click (adds it) or drag onto the layer stack (inserts it
where it is dropped). A components-v2 element (inline HTML/CSS/JS, no iframe, no npm).

A click (or Enter, Space) comes back as `{"kind": "add", "type": name, "n": nonce}`. A drag carries the
type under the MIME type DRAG_TYPE; the stack component (ui/components/sortable.py) takes the drop and sends
the insert itself, since only it knows where its rows are. Chips wrap, so no name is ever cut short.
"""

from __future__ import annotations

import streamlit as st

from ui import keys

DRAG_TYPE = "application/x-playground-layer"

_HTML = '<div class="palette" data-testid="layer-palette"></div>'

_CSS = """
.palette { font-family: var(--st-font, "Source Sans Pro", sans-serif); color: var(--st-text-color, #31333f); }
.cat { font-size: 13px; color: #5c5e66; margin: 10px 0 4px; }  /* 6.5:1: an opacity of .65 was 4.47:1 */
.cat:first-child { margin-top: 0; }
.chips { display: flex; flex-wrap: wrap; gap: 6px; }
button.chip { font: inherit; font-size: 14px; line-height: 1.2; padding: 5px 10px; cursor: grab;
  border: 1px solid var(--st-border-color, rgba(49,51,63,.2)); border-radius: var(--st-base-radius, 8px);
  background: var(--st-background-color, #fff); color: inherit; white-space: nowrap; }
button.chip:hover { border-color: var(--st-primary-color, #0072B2); color: var(--st-primary-color, #0072B2); }
button.chip:focus-visible { outline: 2px solid var(--st-primary-color, #0072B2); outline-offset: 1px; }
button.chip:active { cursor: grabbing; }
"""

_JS = r"""
export default function ({ parentElement, data, setStateValue }) {
  const root = parentElement.querySelector(".palette");
  const MIME = data.mime;
  root.replaceChildren();
  for (const group of data.groups) {
    const head = document.createElement("div");
    head.className = "cat"; head.textContent = group.name; root.appendChild(head);
    const box = document.createElement("div"); box.className = "chips";
    for (const it of group.items) {
      const b = document.createElement("button");
      b.type = "button"; b.className = "chip"; b.textContent = it.label || it.name; b.title = it.help;
      b.dataset.type = it.name; b.draggable = true;
      b.onclick = () => setStateValue("event", { kind: "add", type: it.name, n: `${Date.now()}-${Math.random()}` });
      b.ondragstart = (e) => {
        e.dataTransfer.setData(MIME, it.name);
        e.dataTransfer.setData("text/plain", it.name);
        e.dataTransfer.effectAllowed = "copy";
      };
      box.appendChild(b);
    }
    root.appendChild(box);
  }
}
"""

_component = st.components.v2.component("playground.palette", html=_HTML, css=_CSS, js=_JS)


def palette(groups: list[dict], key: str = keys.BUILD("palette")) -> None:
    """Draw the chips. `groups`: [{"name": category, "items": [{"name": type, "help": tooltip, "label": shown name
    (optional; the type's own name otherwise)}]}]."""
    _component(data={"groups": groups, "mime": DRAG_TYPE}, key=key, default={"event": None}, on_event_change=_ignore)


def _ignore() -> None:
    """The state callback components v2 needs for a default; events are read at the top of the page run."""
