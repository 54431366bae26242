"""Ray clusters for tests: one started in this process (`ray.init`), or a head node started with `ray start --head`
on 127.0.0.1 and reached through Ray Client, stopped afterwards with nothing left running.

Import this module before anything imports ray: it sets the environment Ray reads once. Token authentication
is on with a random token for this test run (the head node and the client share it; nothing is written to
~/.ray), every Ray process binds the loopback address, and usage statistics stay off. Under CI=true a
missing ray fails the run instead of skipping.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

os.environ.setdefault("RAY_AUTH_MODE", "token")
os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(32))
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # every address is 127.0.0.1, not the machine's network IP
os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
os.environ.setdefault("RAY_CLIENT_RECONNECT_GRACE_PERIOD", "3")  # a lost head node shows in seconds, not 30
os.environ.setdefault("RAY_CLIENT_INITIAL_CONNECTION_TIMEOUT_S", "1")  # and so does one that is not there
os.environ.setdefault("RAY_CLIENT_MAX_CONNECTION_TIMEOUT_S", "2")


def need_ray():
    """The ray module; skip without it (fail under CI=true, where the test extras install it)."""
    try:
        import ray
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("ray is not installed; CI must run the Ray backend tests (pip install -e '.[test]')")
        pytest.skip("ray is not installed (pip install -e '.[ray]')")
    return ray


@contextlib.contextmanager
def in_process(num_cpus: int = 2):
    """A Ray cluster started by this process (ray.init), shut down afterwards."""
    ray = need_ray()
    ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def head_node(tmp: Path, num_cpus: int = 2, num_gpus: int = 0, timeout: float = 120.0):
    """`ray start --head` on 127.0.0.1 with a Ray Client server on a free port; yields its `ray://` address and the
    process (`num_gpus` GPUs are declared, not needed: a test can see shares handed out on a machine without one).
    It runs in its own process group (--block), which is killed afterwards: nothing is left running."""
    need_ray()
    client = free_port()
    ray_cli = str(Path(sys.executable).with_name("ray"))
    cmd = [ray_cli, "start", "--head", "--block", "--node-ip-address", "127.0.0.1", "--port", str(free_port()),
           "--ray-client-server-port", str(client), "--runtime-env-agent-port", str(free_port()),
           "--num-cpus", str(num_cpus), "--num-gpus", str(num_gpus), "--include-dashboard", "false",
           "--disable-usage-stats", "--temp-dir", str(tmp)]
    log = open(tmp / "head.log", "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while not _listening(client):
            assert proc.poll() is None, f"ray start --head exited: {(tmp / 'head.log').read_text()[-2000:]}"
            assert time.monotonic() < deadline, "the Ray head node did not start in time"
            time.sleep(0.2)
        yield f"ray://127.0.0.1:{client}", proc
    finally:
        stop(proc)
        log.close()


def stop(proc: subprocess.Popen) -> None:
    """End a head node and every process it started (its process group)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # whatever outlived the TERM
    proc.wait(10)
    deadline = time.monotonic() + 10
    while _group_alive(proc.pid):  # a killed process is gone once its parent has reaped it
        assert time.monotonic() < deadline, "a Ray process outlived its head node"
        time.sleep(0.1)


def _group_alive(pgid: int) -> bool:
    """Whether any process other than a zombie is left in the process group."""
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), 0.2):
            return True
    except OSError:
        return False
