"""Gives this browser its secret in a cookie, which later sessions of the same browser read back (ui/state.py).

The app's own routes may be blocked by a proxy, so the cookie is set by the page itself: a components-v2
script with nothing to draw. The cookie is SameSite=Strict, Secure over https, scoped to the app's path,
and lives until the browser closes; no link ever carries its value.
"""

from __future__ import annotations

import streamlit as st

from ui import keys

_JS = """
export default function ({ data }) {
  const base = (data.base || "").replace(/^\\/+|\\/+$/g, "");
  const secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = `${data.name}=${data.value}; Path=/${base}; SameSite=Strict${secure}`;
}
"""

_component = st.components.v2.component("playground.browser_key", html="<span hidden></span>", js=_JS)


def remember_browser(name: str, value: str, base: str = "") -> None:
    """Set cookie `name` to `value` (URL-safe characters only) for the app's path `base`."""
    _component(data={"name": name, "value": value, "base": base}, key=keys.BROWSER("key"), height="content",
               width="content")
