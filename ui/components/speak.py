"""What the canvas components share to speak to screen readers: speak.js (a calm polite live region and a
"Show as table" toggle) and its CSS. Each component prepends them to its own JS and CSS."""

from __future__ import annotations

from pathlib import Path

JS = (Path(__file__).parent / "speak.js").read_text()

CSS = """
.sr { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden;
      clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
details.table { margin-top: 4px; font-size: 13px; }
details.table summary { cursor: pointer; color: var(--st-primary-color, #0072B2); width: max-content; }
details.table summary:focus-visible, [tabindex]:focus-visible {
  outline: 2px solid var(--st-primary-color, #0072B2); outline-offset: 2px; }
details.table .tbl { max-height: 260px; overflow: auto; }
details.table table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin-top: 4px; }
details.table caption { text-align: left; padding: 2px 0 4px; }
details.table th, details.table td { padding: 2px 10px; border-bottom: 1px solid rgba(128,128,128,.3);
                                     text-align: right; }
details.table th { position: sticky; top: 0; background: var(--st-background-color, #fff); }
"""
