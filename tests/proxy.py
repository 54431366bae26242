"""A reverse proxy for browser tests: Debian's nginx, started on a free loopback port with its own files.

It forwards what Streamlit itself serves (pages, static files, the `/_stcore/stream` websocket) and answers
every `/api/` path with its own 404, as a proxy that knows only Streamlit's paths does. `allow_api()` then
forwards `/api/` too (a configuration reload, connections kept), as when such a proxy is fixed.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from browser import free_port

CONF = """
{user}
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 512; }}
http {{
  access_log {dir}/access.log;
  client_body_temp_path {dir}/body; proxy_temp_path {dir}/proxy; fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi; scgi_temp_path {dir}/scgi;
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  server {{
    listen 127.0.0.1:{port};
    {api}
    location / {{
      proxy_pass {upstream};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $http_host;
      proxy_read_timeout 1h;
      proxy_buffering off;
    }}
  }}
}}
"""
BLOCK_API = "location /api/ { return 404; }"


def nginx_path() -> str:
    """Debian's nginx, or skip (fail under CI) when it is missing."""
    path = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("nginx is not installed; CI must run the proxy test (apt-get install nginx)")
        pytest.skip("nginx is not installed (apt-get install -y nginx)")
    return path


class Proxy:
    """A running nginx in front of `upstream`; `url` is where the browser goes."""

    def __init__(self, exe: str, upstream: str, folder: Path) -> None:
        self.exe, self.upstream, self.dir = exe, upstream, folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.conf = folder / "nginx.conf"

    def write(self, block_api: bool) -> None:
        # a master running as root hands requests to workers as `nobody` unless told otherwise
        user = f"user {getpass.getuser()};" if os.geteuid() == 0 else ""
        self.conf.write_text(CONF.format(user=user, dir=self.dir, port=self.port, upstream=self.upstream,
                                         api=BLOCK_API if block_api else ""))

    def command(self, *args: str) -> list[str]:
        return [self.exe, "-p", str(self.dir), "-c", str(self.conf), "-e", str(self.dir / "error.log"), *args]

    def api_answer(self) -> str:
        """Who answers an /api/ path: 'proxy' (its own 404 page) or 'app' (the app's JSON 404)."""
        try:
            urllib.request.urlopen(f"{self.url}/api/jobs/none", timeout=5)
        except urllib.error.HTTPError as e:
            return "app" if e.headers.get("content-type", "").startswith("application/json") else "proxy"
        return "app"

    def allow_api(self, timeout: float = 30) -> None:
        """Forward /api/ too, from now on (nginx reloads its configuration; open connections stay)."""
        self.write(block_api=False)
        subprocess.run(self.command("-s", "reload"), check=True, capture_output=True, timeout=30)
        deadline = time.time() + timeout
        while self.api_answer() != "app":
            assert time.time() < deadline, "nginx did not take the new configuration"
            time.sleep(0.2)


@contextmanager
def nginx_proxy(upstream: str):
    """nginx on a free port in front of `upstream`, blocking /api/; stopped afterwards."""
    exe = nginx_path()
    with tempfile.TemporaryDirectory(prefix="nginx-") as folder:
        proxy = Proxy(exe, upstream, Path(folder))
        proxy.write(block_api=True)
        proc = subprocess.Popen(proxy.command("-g", "daemon off;"), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, start_new_session=True)
        try:
            deadline = time.time() + 30
            while True:
                try:
                    urllib.request.urlopen(f"{proxy.url}/_stcore/health", timeout=2)
                    break
                except OSError:
                    pass
                if proc.poll() is not None:
                    raise RuntimeError(f"nginx did not start: {proc.stderr.read().decode()}")
                assert time.time() < deadline, "nginx did not start"
                time.sleep(0.1)
            assert proxy.api_answer() == "proxy"
            yield proxy
        finally:
            os.killpg(proc.pid, signal.SIGTERM)  # nginx's master and its worker
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
