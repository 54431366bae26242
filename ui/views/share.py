"""Sharing: a 'Copy link' button. The address bar always carries the setup (?s=…), so the link is the page's."""

from __future__ import annotations

import streamlit as st

from ui import keys

_HTML = """<button class="share" type="button" title="Copy a link that opens this exact setup">
<svg class="icon" aria-hidden="true" viewBox="0 0 24 24" width="16" height="16"><path fill="currentColor"
 d="M3.9 12a3.1 3.1 0 0 1 3.1-3.1h4V7H7a5 5 0 0 0 0 10h4v-1.9H7A3.1 3.1 0 0 1 3.9 12M8 13h8v-2H8zm9-6h-4v1.9h4a3.1
 3.1 0 0 1 0 6.2h-4V17h4a5 5 0 0 0 0-10"/></svg><span class="label">Copy link</span></button>"""

_CSS = """
.share { font: 14px "Source Sans Pro", sans-serif; display: inline-flex; gap: 6px; align-items: center;
  padding: 6px 12px; border: 1px solid var(--st-border-color, #d6d6d9); border-radius: 8px; cursor: pointer;
  background: var(--st-background-color, #fff); color: var(--st-text-color, #31333f);
  position: fixed; top: 12px; right: 64px; z-index: 999991; }  /* in the top bar, left of Streamlit's menu */
/* below the top bar where the page links need its whole width (a projector's 1024 px) */
@media (max-width: 1279px) { .share { top: 64px; right: 24px; } }
.share:hover { border-color: var(--st-primary-color, #0072B2); color: var(--st-primary-color, #0072B2); }
"""

_JS = r"""
export default function ({ parentElement, data, setTriggerValue }) {
  const button = parentElement.querySelector("button.share");
  const label = parentElement.querySelector(".label");
  button.onclick = async () => {
    const link = new URL(window.top.location.href);
    for (const key of (data && data.drop) || []) link.searchParams.delete(key);  // one person's own keys
    const url = link.toString();
    let ok = false;
    try { await navigator.clipboard.writeText(url); ok = true; } catch (e) {
      // no clipboard permission (plain http on another host): fall back to a selected text field
      const t = document.createElement("textarea"); t.value = url; document.body.appendChild(t); t.select();
      try { ok = document.execCommand("copy"); } catch (e2) { ok = false; }
      t.remove();
    }
    button.dataset.copied = ok ? url : "";
    label.textContent = ok ? "Link copied" : "Copy failed: use the address bar";
    setTriggerValue("copied", ok);
    setTimeout(() => { label.textContent = "Copy link"; }, 2500);
  };
}
"""

_button = st.components.v2.component("playground.share", html=_HTML, css=_CSS, js=_JS)


def share_button(drop: tuple[str, ...] = ()) -> None:
    """The 'Copy link' button: copies the address bar, which carries the whole setup, less the URL keys in
    `drop` (a student's or a teacher's own key on a class board never goes into a shared link)."""
    _button(key=keys.SHARE("link"), data={"drop": list(drop)}, on_copied_change=lambda: None)
