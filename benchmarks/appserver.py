"""The app served for a measurement or a browser test: `streamlit run app.py` on a free port, and Debian's
Chromium with the arguments it needs on a closed network. Used by the benchmarks and by tests/browser.py
(which adds pytest's skip-or-fail around a missing Chromium), so both run from the repository alone.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
READY = "[data-testid='stApp'][data-test-script-state='notRunning']"  # the script has finished its run


OPENED = """(label) => { const d = [...document.querySelectorAll("[data-testid='stExpander'] details")]
    .find((x) => x.querySelector("summary").innerText.includes(label));
    return !!d && d.open && d.style.height === "" && d.getAnimations().length === 0; }"""


def open_expander(page, label: str, timeout: float = 30.0) -> None:
    """Open the expander titled `label` and wait until it has stopped growing. Streamlit animates its height
    for 500 ms and sets a fixed height meanwhile; a click on a control inside it before that ends can land on
    the text above the control instead (A/B's start button in CI: the click hit the caption above it)."""
    page.get_by_text(label).click()
    page.wait_for_function(OPENED, arg=label, timeout=timeout * 1000)


def chromium_path() -> str | None:
    """Debian's Chromium (never a Playwright download), or None when it is not installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def need_chromium() -> str:
    """Debian's Chromium, or exit saying how to install it (a benchmark cannot run without it)."""
    path = chromium_path()
    if path is None:
        raise SystemExit("chromium is not installed (apt-get install -y chromium)")
    return path


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server(env: dict | None = None, timeout: float = 90, log_dir: Path | None = None):
    """`streamlit run app.py` on a free port with one training worker unless `env` says otherwise; yields its
    URL once it answers; kills it and its workers afterwards. Its output goes to `log_dir`/server-PORT.log
    (default: test-artifacts/)."""
    port = free_port()
    log_dir = log_dir or ROOT / "test-artifacts"
    log_dir.mkdir(exist_ok=True)
    log = open(log_dir / f"server-{port}.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "PLAYGROUND_WORKERS": "1", **(env or {})})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while not _healthy(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start; see {log.name}")
            time.sleep(0.3)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        log.close()


def _healthy(url: str) -> bool:
    try:
        return urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200
    except OSError:
        return False
