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
from contextlib import contextmanager
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


def pss_mb(pids: list[int]) -> float:
    """Proportional set size of these processes (MB, /proc/PID/smaps_rollup): shared pages (torch's libraries,
    Ray's object store) counted once across them, unlike RSS."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def process_group(pgid: int) -> list[int]:
    """The live processes of a process group (a `ray start --head --block` started in a session of its own)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return pids


RAY_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",  # every Ray address on 127.0.0.1, not the machine's IP
           "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token"}


def ray_env() -> None:
    """Set, in this process and its children, what Ray reads at import: loopback addresses, no usage statistics,
    token authentication with a fresh token (so no token file is written to ~/.ray)."""
    import secrets
    os.environ.update(RAY_ENV)
    os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(32))


@contextmanager
def ray_head(num_cpus: int | None = None, timeout: float = 120.0):
    """`ray start --head` on 127.0.0.1 with token authentication (a fresh token, in RAY_AUTH_TOKEN of this
    process, for its clients) and a Ray Client server; yields (`ray://` address, process group id). The whole
    group is killed afterwards. Needs `pip install -e '.[ray]'`."""
    import signal
    import socket
    import subprocess
    import tempfile

    def free() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]
    ray_env()
    client, tmp = free(), Path(tempfile.mkdtemp(prefix="playground-ray-"))
    cmd = [str(Path(sys.executable).with_name("ray")), "start", "--head", "--block", "--node-ip-address",
           "127.0.0.1", "--port", str(free()), "--ray-client-server-port", str(client), "--runtime-env-agent-port",
           str(free()), "--num-cpus", str(num_cpus or os.cpu_count()), "--include-dashboard", "false",
           "--disable-usage-stats", "--temp-dir", str(tmp)]
    proc = subprocess.Popen(cmd, stdout=open(tmp / "head.log", "w"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        t0 = time.time()
        while True:
            try:
                with socket.create_connection(("127.0.0.1", client), 0.2):
                    break
            except OSError:
                if proc.poll() is not None or time.time() - t0 > timeout:
                    raise RuntimeError(f"ray start --head did not start; see {tmp / 'head.log'}") from None
                time.sleep(0.2)
        yield f"ray://127.0.0.1:{client}", proc.pid
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            t0 = time.time()
            while process_group(proc.pid) and time.time() - t0 < 5:
                time.sleep(0.1)
        proc.wait(10)
