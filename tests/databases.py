"""The databases the class board's tests run on: SQLite in a temporary folder, and a real PostgreSQL.

PostgreSQL comes from PLAYGROUND_TEST_PG_URL (.ci/run starts Debian's server and sets it). Without it, a
throwaway cluster is made with the installed server's initdb and pg_ctl in a temporary folder (as the
`postgres` user when running as root: the server refuses to run as root), listening on a Unix socket
there only, and removed at the end. Where neither can be had, the PostgreSQL tests skip, except under
CI=true, where they fail.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ENV = "PLAYGROUND_TEST_PG_URL"


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


@contextlib.contextmanager
def postgres():
    """A PostgreSQL URL for the tests (SQLAlchemy form, psycopg 3); skips (fails under CI) without one."""
    url = os.environ.get(ENV)
    if url:
        yield url
        return
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if not initdb or not pg_ctl or (os.geteuid() == 0 and shutil.which("runuser") is None):
        _missing("no PostgreSQL server here (apt-get install postgresql, or set PLAYGROUND_TEST_PG_URL)")
    root = Path(tempfile.mkdtemp(prefix="pgtest-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data, port = root / "data", 54_000 + os.getpid() % 1000
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE, "check": True, "timeout": 120}
    try:
        subprocess.run(_as_server_user([initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync",
                                        "-E", "UTF8"]), **quiet)
        subprocess.run(_as_server_user([pg_ctl, "-D", str(data), "-w", "-l", str(root / "log"), "-o",
                                        f"-c listen_addresses='' -k {root} -p {port} -F", "start"]), **quiet)
    except subprocess.CalledProcessError as e:
        shutil.rmtree(root, ignore_errors=True)
        _missing(f"a throwaway PostgreSQL could not start: {e.stderr.decode()[-300:]}")
    try:
        yield f"postgresql+psycopg://postgres@/postgres?host={root}&port={port}"
    finally:
        subprocess.run(_as_server_user([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def _missing(why: str) -> None:
    """No PostgreSQL to test on: a skip, but a failure under CI=true (the storage tests must run on both)."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{why}; under CI the class board's storage tests must run on PostgreSQL too")
    pytest.skip(why)


def empty_postgres(url: str) -> None:
    """Drop everything in the test database's public schema (each test starts from an empty database)."""
    from sqlalchemy import create_engine, text
    e = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with e.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    e.dispose()
