"""Helpers shared by the live-training benchmarks (first_point, streaming, classroom).

Process lookup and CPU accounting come from playground2d.py; this adds memory, the load average, and
the in-page probes that read the Train page's live chart (`canvas.chart` in a components-v2 shadow root).
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]
if str(ROOT / "benchmarks") not in sys.path:  # last: a script here must never shadow a module
    sys.path.append(str(ROOT / "benchmarks"))

from playground2d import cpu_seconds, processes  # noqa: E402,F401  (re-exported)


def load() -> str:
    """The 1-minute load average, for printing beside every figure (teammates share the host)."""
    return f"load {os.getloadavg()[0]:.2f}"


def rss_mb(pids: list[int]) -> float:
    """Resident memory of these processes (MB, /proc/PID/status VmRSS)."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def get_json(url: str, timeout: float = 5.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())


def pct(xs: list[float], q: float) -> float:
    """The q-th percentile (nearest rank), NaN for no data."""
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, int(round(q / 100 * (len(s) - 1)))))]


# The live chart's canvas and its state (`canvas.__lc`: es, url, metrics, updates), from the page's main world.
FIND_CHART = """() => {
    for (const el of document.querySelectorAll('*')) {
        const c = el.shadowRoot && el.shadowRoot.querySelector('canvas.chart');
        if (c) return c;
    }
    return null; }"""

CHART_INFO = """() => {
    let c = null;
    for (const el of document.querySelectorAll('*')) {
        c = el.shadowRoot && el.shadowRoot.querySelector('canvas.chart');
        if (c) break;
    }
    if (!c) return null;
    const s = c.__lc || {};
    return {points: +c.dataset.points, updates: +c.dataset.updates, state: c.dataset.state, url: s.url || null}; }"""


def job_id_of(url: str | None) -> str | None:
    """The job id in a chart's stream URL (…/api/jobs/<id>/stream)."""
    if not url or "/api/jobs/" not in url:
        return None
    return url.split("/api/jobs/", 1)[1].split("/", 1)[0]


def wait_until(fn, timeout: float, step: float = 0.05, what: str = "condition"):
    """Poll `fn()` until it returns something truthy; raise after `timeout` seconds."""
    t0 = time.time()
    while True:
        v = fn()
        if v:
            return v
        if time.time() - t0 > timeout:
            raise TimeoutError(f"{what} not reached within {timeout:.0f} s")
        time.sleep(step)
