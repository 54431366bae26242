"""uploads.py: a spec never names a server file; an upload resolves for its own session only; files are read
with their type and size checked first; the store keeps 0600 files in a 0700 folder within a byte budget."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from playground import data
from playground.data import load, load_cached, sketch
from playground.registry import PlaygroundError
from playground.spec import DataSpec, decode, encode, from_dict
from playground.uploads import (
    ANOTHER_SESSION,
    Access,
    LocalFiles,
    Resolved,
    Store,
    UploadError,
    current,
    read_file,
    using,
)

CSV = b"height,weight,kind\n1,2,cat\n2,3,dog\n3,1,cat\n4,4,dog\n5,2,cat\n6,5,dog\n"
SECRET = b"secret_a,secret_b,label\n11,12,alpha\n13,14,beta\n15,16,alpha\n17,18,beta\n"


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "uploads")


def csv_spec(**data_opts) -> dict:
    return {"name": "t", "data": {"name": "csv", **data_opts},
            "model": {"layers": [{"type": "Linear", "out_features": 2}]}}


# ---- a spec never names a server path --------------------------------------------------------------

def test_a_link_naming_dev_zero_is_refused_without_reading_it(monkeypatch):
    # the attack: {"name": "csv", "file": "/dev/zero"} grew the server to 4.3 GB
    opened = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda p, *a, **k: opened.append(p) or real_open(p, *a, **k))
    spec = decode(encode(from_dict(csv_spec(file="/dev/zero"))))
    for read in (sketch, load, load_cached, data.info):
        with pytest.raises(UploadError, match="cannot read files on the server") as e:
            read(spec.data)
        assert e.value.path == "data.file"
    assert opened == []  # nothing was even opened


def test_a_link_naming_a_server_csv_shows_nothing_of_it(tmp_path):
    secret = tmp_path / "private.csv"
    secret.write_bytes(SECRET)
    spec = from_dict(csv_spec(file=str(secret), target="nope"))
    with pytest.raises(PlaygroundError) as e:
        load(spec.data)
    text = e.value.message
    assert "secret_a" not in text and "alpha" not in text and "upload the CSV" in text


def test_an_upload_resolves_for_its_owner_only(store):
    upload = store.put(CSV, "owner-a", "pets.csv")
    mine, theirs = store.access("owner-a"), store.access("owner-b")
    spec = from_dict(csv_spec(upload=upload, target="kind"))
    ds = load(spec.data, mine)
    assert ds.info.class_names == ["cat", "dog"] and "pets.csv" in ds.info.description
    for read in (load, load_cached, sketch):
        with pytest.raises(UploadError) as e:
            read(spec.data, theirs)
        assert e.value.message == ANOTHER_SESSION and "cat" not in e.value.message
    load_cached(spec.data, mine)  # cached for its owner…
    with pytest.raises(UploadError, match="another browser session"):
        load_cached(spec.data, theirs)  # …and never handed to anyone else from the cache
    with pytest.raises(UploadError, match="another browser session"):
        load(spec.data)  # no access at all: the default refuses


@pytest.mark.parametrize("upload", ["", "x", "A" * 32, "../../etc/passwd", "A" * 400])
def test_unknown_or_malformed_ids_get_the_same_message(store, upload):
    store.put(CSV, "owner-a")
    with pytest.raises(UploadError) as e:
        store.read(upload, "owner-a")
    assert e.value.message == ANOTHER_SESSION


def test_ids_are_long_random_and_not_the_file_name(store):
    ids = {store.put(CSV, "owner-a") for _ in range(3)}
    assert len(ids) == 3 and all(len(i) == 32 for i in ids)  # 24 random bytes: 192 bits
    names = {p.name for p in store.root.iterdir()}
    assert not any(i in n for i in ids for n in names)


def test_files_are_0600_in_a_0700_folder(tmp_path):
    os.umask(0o022)
    for s in (Store(tmp_path / "given"), Store()):  # a folder given, and the per-process default
        s.put(CSV, "owner-a")
        assert stat.S_IMODE(s.root.stat().st_mode) == 0o700
        assert [stat.S_IMODE(p.stat().st_mode) for p in s.root.iterdir()] == [0o600]


def test_the_store_keeps_a_byte_budget_least_recently_used_first(tmp_path):
    s = Store(tmp_path / "u", max_bytes=3 * len(CSV), per_owner=10)
    ids = [s.put(CSV, f"owner-{i}") for i in range(3)]
    s.read(ids[0], "owner-0")  # used again: now the most recent
    s.put(CSV, "owner-3")
    assert s.total_bytes() <= 3 * len(CSV)
    s.read(ids[0], "owner-0")
    with pytest.raises(UploadError, match="upload it again"):
        s.read(ids[1], "owner-1")  # the least recently used went
    assert len(list(s.root.iterdir())) == 3


def test_a_session_keeps_a_few_uploads_and_forgets_them_when_it_ends(store):
    ids = [store.put(CSV, "owner-a") for _ in range(store.per_owner + 2)]
    other = store.put(CSV, "owner-b")
    with pytest.raises(UploadError):
        store.read(ids[0], "owner-a")
    assert store.read(ids[-1], "owner-a") == CSV
    store.forget("owner-a")
    with pytest.raises(UploadError):
        store.read(ids[-1], "owner-a")
    assert store.read(other, "owner-b") == CSV and len(list(store.root.iterdir())) == 1


def test_an_upload_over_the_limit_or_without_an_owner_is_refused(store):
    with pytest.raises(UploadError, match="limit"):
        store.put(b"x" * (store.max_file + 1), "owner-a")
    with pytest.raises(UploadError, match="browser session"):
        store.put(CSV, "")


def test_a_worker_resolves_only_what_the_app_resolved_for_the_owner(store):
    upload = store.put(CSV, "owner-a", "pets.csv")
    spec = from_dict(csv_spec(upload=upload))
    resolved = store.access("owner-a").resolve([upload])
    assert load(spec.data, Resolved(resolved.files)).info.n_classes == 2
    with pytest.raises(UploadError, match="another browser session"):
        load_cached(spec.data, Resolved({}))
    with pytest.raises(UploadError, match="another browser session"):
        store.access("owner-b").resolve([upload])


# ---- reading a file the user names (the command line) ---------------------------------------------

def test_read_file_refuses_devices_pipes_folders_and_links_to_them(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "zero.csv"
    link.symlink_to("/dev/zero")
    for path in ("/dev/zero", fifo, tmp_path, link):
        with pytest.raises(UploadError, match="not a regular file"):
            read_file(path, 1000)  # the pipe has no writer: opened without blocking, refused at once
    with pytest.raises(UploadError, match="no such file"):
        read_file(tmp_path / "missing.csv", 1000)


def test_read_file_checks_the_size_before_reading(tmp_path, monkeypatch):
    big = tmp_path / "big.csv"
    big.write_bytes(b"1,2\n" * 1000)
    reads = []
    real = os.read
    monkeypatch.setattr(os, "read", lambda fd, n: reads.append(n) or real(fd, n))
    with pytest.raises(UploadError, match="4,000 bytes; the limit is 100 bytes"):
        read_file(big, 100)
    assert reads == []
    assert read_file(big, 4000) == b"1,2\n" * 1000


def test_the_command_line_reads_a_path_with_the_same_checks(tmp_path):
    p = tmp_path / "pets.csv"
    p.write_bytes(CSV)
    with using(LocalFiles()):
        assert load(DataSpec(name="csv", file=str(p))).info.n_classes == 2
        with pytest.raises(UploadError, match="not a regular file"):
            load(DataSpec(name="csv", file="/dev/zero"))
        with pytest.raises(UploadError, match="only in the app"):
            load(DataSpec(name="csv", upload="A" * 32))
    assert type(current()) is Access  # the block ended: back to refusing


def test_using_is_per_thread():
    seen = []
    with using(LocalFiles()):
        t = threading.Thread(target=lambda: seen.append(type(current())))
        t.start()
        t.join()
    assert seen == [Access]  # a thread started inside the block does not inherit the command line's access
