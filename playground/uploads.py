"""Data a user supplies (a CSV today): where it is kept, who may read it, and reading files safely.

A spec never names a file on the server. In the app, an uploaded file is kept here under an opaque,
unguessable id (192 random bits) bound to the browser session that uploaded it; the spec carries only
`{"upload": id}`, and only that session can turn the id back into data. A link or import that carries
someone else's id (or one that has expired) gets a message asking to upload the file again, never its data.

Who reads what is an `Access`:
- `Access()` (the default, for anything from a link, an import or a page) refuses both uploads and paths;
- `OwnerUploads(store, owner)`: the app's view for one browser session, its own uploads only;
- `Resolved({id: (bytes, name)})`: what a worker process gets, the bytes the app resolved for the job's
  owner when it started the job (the spec itself still carries only the id);
- `LocalFiles()`: the command line on the user's own machine, which may read a path the user gives.
`using(access)` makes one the default for a block (the CLI wraps each command in `LocalFiles`).

Files are read with their type and size checked first (`fstat` of the opened file: regular files only,
never a device or a pipe) and a bounded read. Uploads are stored 0600 in a 0700 folder made per process,
within a byte budget; the least recently used go first.
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import hashlib
import hmac
import os
import re
import secrets
import shutil
import stat
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .registry import PlaygroundError
from .tabular import MAX_BYTES, CSVError

ANOTHER_SESSION = ("this setup uses a CSV that was uploaded in another browser session; upload it again "
                   "(on the Build page, Data tab)")
NO_SERVER_FILES = ("data.file: a setup opened in the app cannot read files on the server; upload the CSV "
                   "on the Build page (Data tab) instead")
STORE_BYTES = 200 * 2**20  # all uploads of this process together; the least recently used go first
PER_OWNER = 4  # uploads one browser session keeps (its older ones go first)
MAX_UPLOADS = 2000  # uploads kept in all
_ID = re.compile(r"[A-Za-z0-9_-]{32}")


class UploadError(PlaygroundError):
    """A file cannot be read or an upload cannot be used; the message says what to do instead."""


def read_file(path: str | Path, max_bytes: int, what: str = "file", error: type[PlaygroundError] = UploadError,
              where: str | None = None) -> bytes:
    """The bytes of a regular file of at most `max_bytes`, checked before reading; `error` otherwise.

    The file is opened without blocking (a named pipe cannot hang us) and checked with `fstat` on the
    opened descriptor, so what is checked is what is read; the read itself stops past `max_bytes`.
    """
    prefix = f"{where}: " if where else ""
    name = str(path)[:200]
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except (OSError, ValueError) as e:  # ValueError: a NUL in the path
        reason = e.strerror if isinstance(e, OSError) and e.strerror else "it cannot be opened"
        raise error(f"{prefix}cannot read {what} '{name}': {reason.lower()}", path=where) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise error(f"{prefix}'{name}' is not a regular file; give the path of a {what}", path=where)
        if st.st_size > max_bytes:
            raise error(f"{prefix}the {what} '{name}' is {_mb(st.st_size)}; the limit is {_mb(max_bytes)}",
                        path=where)
        chunks, total = [], 0
        while total <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > max_bytes:  # it grew while we read
            raise error(f"{prefix}the {what} '{name}' is over {_mb(max_bytes)}", path=where)
        return b"".join(chunks)
    except OSError as e:
        raise error(f"{prefix}cannot read {what} '{name}': {(e.strerror or str(e)).lower()}", path=where) from None
    finally:
        os.close(fd)


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n:,} bytes"


# ---- who may read what ---------------------------------------------------------------------------

class Access:
    """Where a dataset that reads the user's own file gets it. This default refuses both ways."""

    key = "none"  # tells cached datasets of different accesses apart

    def upload(self, upload_id: str) -> tuple[bytes, str]:
        """(bytes, display name) of an upload, or UploadError."""
        raise UploadError(ANOTHER_SESSION, path="data.upload")

    def file(self, path: str) -> tuple[bytes, str]:
        """(bytes, display name) of a file the user names, or UploadError."""
        raise UploadError(NO_SERVER_FILES, path="data.file")


class OwnerUploads(Access):
    """One browser session's uploads in a store: its own ids resolve, every other id is refused."""

    def __init__(self, store: Store, owner: str) -> None:
        self.store, self.owner = store, owner
        self.key = "owner:" + hashlib.sha256(owner.encode()).hexdigest()[:32]

    def upload(self, upload_id: str) -> tuple[bytes, str]:
        return self.store.read(upload_id, self.owner), self.store.name(upload_id, self.owner)

    def resolve(self, upload_ids: list[str]) -> Resolved:
        """The bytes of these uploads, for a worker process (which has no store)."""
        return Resolved({i: self.upload(i) for i in upload_ids})


class Resolved(Access):
    """Uploads already read by the app for one job's owner: what a worker process trains on."""

    def __init__(self, files: dict[str, tuple[bytes, str]] | None = None) -> None:
        self.files = dict(files or {})
        self.key = "resolved:" + ",".join(sorted(self.files))

    def upload(self, upload_id: str) -> tuple[bytes, str]:
        if upload_id not in self.files:
            raise UploadError(ANOTHER_SESSION, path="data.upload")
        return self.files[upload_id]


class LocalFiles(Access):
    """The command line on the user's own machine: paths the user gives are read (with the checks of
    `read_file`); upload ids mean nothing here."""

    key = "local"

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes

    def upload(self, upload_id: str) -> tuple[bytes, str]:
        raise UploadError("data.upload: an upload id works only in the app, in the browser session that "
                          "uploaded the file; on the command line give the CSV's path as data.file", path="data.upload")

    def file(self, path: str) -> tuple[bytes, str]:
        return read_file(path, self.max_bytes, "CSV file", where="data.file"), Path(path).name


_ACCESS: contextvars.ContextVar[Access | None] = contextvars.ContextVar("playground_access", default=None)
_REFUSE = Access()


def current() -> Access:
    """The access in effect (the refusing default unless a `using` block says otherwise)."""
    return _ACCESS.get() or _REFUSE


@contextlib.contextmanager
def using(access: Access) -> Iterator[Access]:
    """Make `access` the default within this block, in this thread only."""
    token = _ACCESS.set(access)
    try:
        yield access
    finally:
        _ACCESS.reset(token)


def user_file(data: dict, access: Access | None = None) -> tuple[bytes, str]:
    """(bytes, name) of the file a dataset's options name: an upload id (which resolves only through its
    owner's access) or, on the command line, a path."""
    access = access or current()
    upload, path = data.get("upload"), data.get("file")
    if upload is not None and path is not None:
        raise CSVError("data: give either upload or file, not both", path="data")
    if upload is not None:
        return access.upload(upload)
    if path is not None:
        return access.file(path)
    raise CSVError("data: a CSV dataset needs a file: upload one on the Build page (Data tab), or on the command "
                   "line give its path as data.file", path="data")


# ---- the store -----------------------------------------------------------------------------------

@dataclass
class _Entry:
    owner: str
    path: Path
    size: int
    name: str  # the file's name as uploaded, for display


class Store:
    """Uploaded files of this process: 0600 files in a 0700 folder, each under an id only its owner can use."""

    def __init__(self, root: str | Path | None = None, max_bytes: int = STORE_BYTES, per_owner: int = PER_OWNER,
                 max_uploads: int = MAX_UPLOADS, max_file: int = MAX_BYTES) -> None:
        self._root = Path(root) if root is not None else None
        self.max_bytes, self.per_owner, self.max_uploads, self.max_file = max_bytes, per_owner, max_uploads, max_file
        self._entries: OrderedDict[str, _Entry] = OrderedDict()  # least recently used first
        self._lock = threading.Lock()

    @property
    def root(self) -> Path:
        """The folder, made on first use: a fresh private one per process unless one was given."""
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="playground-uploads-"))  # mode 0700
            atexit.register(shutil.rmtree, self._root, True)
        self._root.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self._root, 0o700)
        return self._root

    def put(self, raw: bytes, owner: str, name: str = "") -> str:
        """Keep `raw` for `owner`; returns the id that stands for it in specs."""
        if not owner:
            raise UploadError("an upload needs the browser session it belongs to")
        if len(raw) > self.max_file:
            raise UploadError(f"the file is {_mb(len(raw))}; the limit is {_mb(self.max_file)}")
        upload_id = secrets.token_urlsafe(24)  # 192 random bits, 32 characters
        path = self.root / f"{secrets.token_hex(16)}.upload"  # not derived from the id
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(raw)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        with self._lock:
            self._entries[upload_id] = _Entry(owner, path, len(raw), str(name)[:100])
            self._prune(owner)
        return upload_id

    def read(self, upload_id: str, owner: str) -> bytes:
        """The bytes of `owner`'s upload `upload_id`; UploadError for anyone else's, an unknown or an expired id."""
        entry = self._entry(upload_id, owner)
        try:
            return read_file(entry.path, self.max_file, "upload")
        except UploadError:  # removed under us (pruned a moment ago, or the folder was cleaned)
            raise UploadError(ANOTHER_SESSION, path="data.upload") from None

    def name(self, upload_id: str, owner: str) -> str:
        """The uploaded file's own name (for captions)."""
        return self._entry(upload_id, owner).name

    def access(self, owner: str) -> OwnerUploads:
        """The view of this store for one browser session."""
        return OwnerUploads(self, owner)

    def forget(self, owner: str) -> None:
        """Delete every upload of `owner` (its browser session ended)."""
        with self._lock:
            for upload_id in [i for i, e in self._entries.items() if e.owner == owner]:
                self._drop(upload_id)

    def total_bytes(self) -> int:
        """Bytes kept in all."""
        with self._lock:
            return sum(e.size for e in self._entries.values())

    def _entry(self, upload_id: str, owner: str) -> _Entry:
        with self._lock:
            entry = self._entries.get(upload_id) if isinstance(upload_id, str) and _ID.fullmatch(upload_id) else None
            if entry is None or not owner or not hmac.compare_digest(entry.owner.encode(), str(owner).encode()):
                raise UploadError(ANOTHER_SESSION, path="data.upload")
            self._entries.move_to_end(upload_id)  # in use: the last to be pruned
            return entry

    def _prune(self, owner: str) -> None:
        # Under the lock: the owner's oldest beyond its share, then the least recently used of all.
        mine = [i for i, e in self._entries.items() if e.owner == owner]
        for upload_id in mine[: max(0, len(mine) - self.per_owner)]:
            self._drop(upload_id)
        total = sum(e.size for e in self._entries.values())
        while self._entries and (total > self.max_bytes or len(self._entries) > self.max_uploads):
            upload_id = next(iter(self._entries))
            total -= self._entries[upload_id].size
            self._drop(upload_id)

    def _drop(self, upload_id: str) -> None:
        entry = self._entries.pop(upload_id)
        entry.path.unlink(missing_ok=True)


_STORE: Store | None = None
_STORE_LOCK = threading.Lock()


def store() -> Store:
    """This process's upload store (the app's sessions share it; each reads only its own uploads)."""
    global _STORE
    with _STORE_LOCK:
        if _STORE is None:
            _STORE = Store()
        return _STORE
