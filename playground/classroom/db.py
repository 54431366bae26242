"""Where the class board lives: a SQLAlchemy engine on SQLite (default) or PostgreSQL (PLAYGROUND_DB_URL).

SQLite: a file `classes.db` in the app's data folder (PLAYGROUND_DATA_DIR, else a per-user folder), made on
first use with the folder 0700 and the file 0600 (its WAL files take the file's mode). pysqlite's own
transaction handling is switched off and every transaction says BEGIN itself, BEGIN IMMEDIATE for writes:
a write transaction that reads first (count, then insert) then holds the write lock from its start, so two
of them wait for each other (busy timeout) instead of failing on the upgrade.
PostgreSQL: `postgresql+psycopg://…` (psycopg 3); writes lock the rows they count (`FOR UPDATE`).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError

from ..registry import PlaygroundError

FILE = "classes.db"
BUSY_S = 30  # seconds an SQLite write waits for another one to finish
RETRIES = 5  # tries of a transaction that lost a lock race (a deadlock, a busy database)
T = TypeVar("T")


def data_dir() -> Path:
    """The app's data folder: PLAYGROUND_DATA_DIR, else the per-user data folder of this system."""
    given = os.environ.get("PLAYGROUND_DATA_DIR")
    if given:
        return Path(given).expanduser()
    home = Path.home()
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", home / "AppData" / "Local")) / "playground"
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "playground"
    return Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share") / "playground"


def sqlite_file(folder: Path | None = None) -> Path:
    """The SQLite file, with its folder (0700) and itself (0600) made on first use."""
    folder = folder or data_dir()
    if not folder.is_dir():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)  # mkdir's mode is filtered by the umask
    path = folder / FILE
    if not path.exists():  # made here, so SQLite never makes it with the umask's wider mode
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        os.chmod(path, 0o600)
    return path


def url() -> str:
    """PLAYGROUND_DB_URL, else the SQLite file in the data folder."""
    return os.environ.get("PLAYGROUND_DB_URL") or f"sqlite:///{sqlite_file()}"


def engine(address: str | None = None) -> Engine:
    """An engine for `address` (default: `url()`), set up for this board's transactions."""
    address = address or url()
    if address.startswith("postgresql://"):
        address = "postgresql+psycopg://" + address[len("postgresql://"):]  # psycopg 3, not psycopg2
    if address.startswith("sqlite"):
        e = create_engine(address, connect_args={"timeout": BUSY_S, "check_same_thread": False})
        _sqlite_transactions(e)
        return e
    try:
        return create_engine(address, pool_pre_ping=True, pool_size=5, max_overflow=10)
    except Exception as err:  # a malformed URL or a missing driver: say which, without the password
        raise PlaygroundError(f"PLAYGROUND_DB_URL cannot be used: {type(err).__name__}") from None


def _sqlite_transactions(e: Engine) -> None:
    @event.listens_for(e, "connect")
    def connect(dbapi, _record) -> None:
        dbapi.isolation_level = None  # pysqlite emits no BEGIN of its own: the "begin" hook does
        cur = dbapi.cursor()
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA journal_mode = WAL")  # readers never wait for a writer
        cur.close()

    @event.listens_for(e, "begin")
    def begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")


@contextmanager
def transaction(e: Engine, write: bool = False) -> Iterator[Connection]:
    """One transaction: committed when the block ends, rolled back when it raises."""
    with e.connect() as conn:
        if write:
            conn = conn.execution_options(write=True)
        with conn.begin():
            yield conn


def retried(e: Engine, fn: Callable[[Connection], T], write: bool = True) -> T:
    """`fn(conn)` in a transaction, tried again when it lost a race for a lock (SQLite busy past its timeout,
    a PostgreSQL deadlock or serialization failure); any other error goes up at once."""
    for attempt in range(RETRIES):
        try:
            with transaction(e, write) as conn:
                return fn(conn)
        except (OperationalError, DBAPIError) as err:
            if attempt == RETRIES - 1 or not _lost_race(err):
                raise
            time.sleep(0.05 * 2 ** attempt)
    raise AssertionError("unreachable")


def _lost_race(err: DBAPIError) -> bool:
    code = getattr(err.orig, "sqlstate", None)  # psycopg: 40P01 deadlock, 40001 serialization failure
    return code in ("40P01", "40001") or "database is locked" in str(err.orig)
