"""What every page needs for WCAG 2.1 AA beyond Streamlit's defaults: readable faded text, a focus ring on
everything that takes focus, and animations that respect `prefers-reduced-motion`. Drawn once per run."""

from __future__ import annotations

import streamlit as st

MUTED = "#5c5e66"  # captions and other secondary text: 6.5:1 on white, 5.8:1 on the grey panels (≥ 4.5:1)
DISABLED = "#6b6c73"  # a disabled widget's label: still readable (5.2:1), still lighter than body text
FOCUS = "#0072B2"  # the theme's primary colour (Okabe–Ito blue): 5.2:1 against white, as a 2 px ring

_CSS = f"""<style>
/* Streamlit draws captions at 60 % opacity and disabled labels in a faded ink (3.9:1 and 2.3:1 on white). */
[data-testid='stCaptionContainer'] {{ opacity: 1; }}
[data-testid='stCaptionContainer'], [data-testid='stCaptionContainer'] p {{ color: {MUTED}; }}
label[data-testid='stWidgetLabel'][disabled], label[data-testid='stWidgetLabel'][disabled] p {{ color: {DISABLED}; }}
/* A visible focus ring wherever the keyboard is (WCAG 2.4.7), also on controls that hide theirs. */
:focus-visible {{ outline: 2px solid {FOCUS} !important; outline-offset: 2px; }}
[data-baseweb='slider'] [role='slider']:focus-visible {{ box-shadow: 0 0 0 3px {FOCUS}; }}
/* Motion: animations that are not the training itself slow to a stop for those who ask (WCAG 2.3.3). */
@media (prefers-reduced-motion: reduce) {{
  *, *::before, *::after {{ animation-duration: 0.01ms !important; animation-iteration-count: 1 !important;
                            transition-duration: 0.01ms !important; scroll-behavior: auto !important; }}
}}
</style>"""


def styles() -> None:
    """Add the page-wide accessibility styles (a style element only: it takes no space on the page)."""
    st.html(_CSS)
