"""A CSV on the pages: uploaded in one browser session, carried by an id that no other session can use; a link
that names a server file is refused with a message. (Every AppTest has the same session id, so another browser
session is made by giving the second one its own owner.)"""

from __future__ import annotations

from pathlib import Path

from apptest import shown
from streamlit.testing.v1 import AppTest

from playground.spec import encode, from_dict
from ui import state

APP = str(Path(__file__).resolve().parents[1] / "app.py")
UPLOADER = "Or upload your own CSV (≤ 5 MB)"
CSV = b"height,weight,kind\n1,2,cat\n2,3,dog\n3,1,cat\n4,4,dog\n5,1,cat\n6,5,dog\n"
LAYERS = [{"type": "Linear", "out_features": 2}]


def session(spec: dict | None = None, page: str = "pages/build.py") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if spec is not None:
        at.query_params["s"] = encode(from_dict(spec))
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    parts = [e.value for e in at.error] + [c.value for c in at.caption] + [m.value for m in at.markdown]  # as read
    parts += [w.value for w in at.warning] + [w.value for w in at.info]
    return shown("\n".join(str(p) for p in parts))


def open_data(at: AppTest) -> AppTest:
    """The Build page draws only the open tab: open Data."""
    at.session_state["build-tabs"] = ":material/dataset: Data"
    at.run()
    assert not at.exception, at.exception
    return at


def upload(at: AppTest, raw: bytes = CSV, name: str = "pets.csv") -> dict:
    open_data(at)
    [w for w in at.get("file_uploader") if w.label == UPLOADER][0].set_value((name, raw, "text/csv"))
    at.run()
    assert not at.exception, at.exception
    return at.session_state["pg"].spec


def test_an_upload_is_an_id_that_only_its_own_session_resolves(monkeypatch):
    a = session()
    spec = upload(a)
    data = spec["data"]
    assert set(data) == {"name", "upload", "target"} and len(data["upload"]) == 32  # no path anywhere
    assert "Uploaded CSV (pets.csv)" in texts(a).replace("\\", "")
    other = state.Owner("another browser")
    monkeypatch.setattr(state, "owner", lambda: other)
    b = session(spec)  # the same link, opened in another browser
    shown = texts(open_data(b))
    assert "uploaded in another browser session; upload it again" in shown
    assert "height" not in shown and "cat" not in shown  # nothing of A's data
    train = session(spec, "pages/train.py")
    assert "uploaded in another browser session" in texts(train) and not train.exception


def test_a_link_naming_a_server_file_is_refused_on_every_page(tmp_path):
    private = tmp_path / "private.csv"
    private.write_bytes(b"secret_a,label\n1,alpha\n2,beta\n")
    for path in ("/dev/zero", str(private)):
        spec = {"name": "attack", "data": {"name": "csv", "file": path}, "model": {"layers": LAYERS}}
        for page in ("pages/build.py", "pages/train.py"):
            at = session(spec, page)
            shown = texts(open_data(at) if page.endswith("build.py") else at)
            assert "cannot read files on the server" in shown, (path, page, shown)
            assert "secret_a" not in shown and "alpha" not in shown
