"""AppTest of the Class page, the Submit box on Train, the presenter view and read-only setups on Build."""

from __future__ import annotations

import json

import pytest
from apptest import shown, trained
from helpers import APP
from streamlit.testing.v1 import AppTest

from playground import presets
from playground.classroom import Board, checks, db
from playground.spec import encode, from_dict
from ui.views import board_store, board_teacher


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    """Every test's board lives in its own SQLite file."""
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PLAYGROUND_DB_URL", raising=False)


def the_board() -> Board:
    return board_store._board(db.url())  # the app's own (cached per database)


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def texts(at: AppTest) -> str:
    kinds = (at.subheader, at.markdown, at.caption, at.info, at.warning, at.error, at.success)
    return shown(" ".join(e.value for kind in kinds for e in kind))


def open_class(**params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    at.switch_page("pages/class_board.py").run()
    assert not at.exception, at.exception
    return at


def start_class(name: str = "Tuesday <b>class</b>") -> AppTest:
    at = open_class()
    at.text_input(key="board-start-name").input(name)
    button(at, "Start the class").click().run()
    assert not at.exception and at.session_state["pg"].teach
    return at


def join(code: str, name: str) -> AppTest:
    at = open_class(join=code.lower())
    assert at.text_input(key="board-join-code").value == code  # the join link filled it in
    at.text_input(key="board-join-name").input(name)
    button(at, "Join").click().run()
    assert not at.exception
    return at


def test_a_teacher_starts_a_class_and_students_join_with_its_code():
    teacher = start_class()
    s = teacher.session_state["pg"]
    cls = the_board().teacher(s.teach)
    assert teacher.query_params["teach"] == s.teach  # in the teacher's own address: a reload keeps it
    assert f"`{cls.code}`" in texts(teacher) and "Tuesday <b>class</b>" in texts(teacher)
    assert "0 submissions from 0 students" in texts(teacher)
    ada = join(cls.code, "Ada")
    seat = the_board().seat(ada.session_state["pg"].seat)
    assert seat.name == "Ada" and ada.query_params["seat"] == ada.session_state["pg"].seat
    assert "join" not in ada.query_params and "You joined as **Ada**" in texts(ada)
    bad = open_class()
    bad.text_input(key="board-join-code").input("ZZZZZZ" if cls.code != "ZZZZZZ" else "YYYYYY")
    bad.text_input(key="board-join-name").input("Eve")
    button(bad, "Join").click().run()
    assert "no class has that code" in texts(bad) and bad.session_state["pg"].seat is None


def test_the_board_ranks_submissions_by_the_chosen_metric():
    teacher = start_class()
    key = teacher.session_state["pg"].teach
    b = the_board()
    cls = b.teacher(key)
    spec = presets.get("gauss-mlp").to_dict()
    for name, acc, loss in (("Ada", 0.7, 0.2), ("Bob", 0.9, 0.4)):
        _, _, k = b.join(cls.code, name)
        c = [{"epoch": 1, "val_accuracy": acc, "val_loss": loss}]
        b.submit(k, f"run-{name}", spec, c[-1], c)
    teacher.run()
    assert "2 submissions from 2 students · highest val_accuracy first" in texts(teacher)
    assert list(teacher.dataframe[0].value["student"]) == ["Bob", "Ada"]
    teacher.selectbox(key="board-metric").select("val_loss").run()
    assert b.teacher(key).metric == "val_loss"
    assert list(teacher.dataframe[0].value["student"]) == ["Ada", "Bob"]
    figure = json.loads(teacher.get("plotly_chart")[0].proto.spec)
    assert [t["name"] for t in figure["data"]] == ["Ada — Gaussian blobs: no hidden layer",
                                                   "Bob — Gaussian blobs: no hidden layer"]  # in rank order
    teacher.selectbox(key="board-pick").select(b.submissions(cls.id)[1].id).run()
    button(teacher, "Show on the projector").click().run()
    assert b.teacher(key).presented == b.submissions(cls.id)[1].id
    button(teacher, "Open as my setup").click().run()
    assert teacher.session_state["pg"].spec == spec  # it is this session's setup now, on Build


def test_the_classes_lesson_ranks_the_board_by_its_metric_and_opens_the_presenter_at_it():
    from playground.classroom import setup_metric
    from playground.lessons import course, opening_spec
    LESSONS = course()
    regression = next(i for i, card in enumerate(LESSONS)  # a lesson whose setup is ranked by val_loss
                      if i and setup_metric(opening_spec(card)) == "val_loss")
    teacher = start_class()
    key = teacher.session_state["pg"].teach
    b = the_board()
    cls = b.teacher(key)
    spec = presets.get("gauss-mlp").to_dict()
    for name, acc, loss in (("Ada", 0.7, 0.2), ("Bob", 0.9, 0.4)):
        _, _, k = b.join(cls.code, name)
        c = [{"epoch": 1, "val_accuracy": acc, "val_loss": loss}]
        b.submit(k, f"run-{name}", spec, c[-1], c)
    teacher.run()
    assert list(teacher.dataframe[0].value["student"]) == ["Bob", "Ada"]  # no lesson: validation accuracy
    assert teacher.selectbox(key="board-lesson").value == board_teacher.NO_LESSON
    teacher.selectbox(key="board-lesson").select(regression).run()
    assert not teacher.exception
    assert (b.teacher(key).lesson, b.teacher(key).metric) == (LESSONS[regression].title, "val_loss")
    assert teacher.selectbox(key="board-metric").value == "val_loss"
    assert "lowest val_loss first (the lesson's metric)" in texts(teacher)
    assert list(teacher.dataframe[0].value["student"]) == ["Ada", "Bob"]
    teacher.switch_page("pages/presenter.py").run()  # the presenter view opens at the class's lesson
    assert f"## {LESSONS[regression].title}" in [m.value for m in teacher.markdown]
    teacher.button(key="presenter-prev").click().run()  # and still moves freely
    assert f"## {LESSONS[regression - 1].title}" in [m.value for m in teacher.markdown]
    b.set_lesson(key, LESSONS[0].title, "val_accuracy")  # the teacher picks another lesson (another tab)
    teacher.run()
    assert f"## {LESSONS[0].title}" in [m.value for m in teacher.markdown]
    teacher.switch_page("pages/class_board.py").run()
    assert teacher.selectbox(key="board-lesson").value == 0
    teacher.selectbox(key="board-lesson").select_index(0).run()  # the first option: "No lesson"
    assert teacher.selectbox(key="board-lesson").value == board_teacher.NO_LESSON
    assert (b.teacher(key).lesson, b.teacher(key).metric) == (None, None)


def test_a_wrong_key_in_the_address_opens_nothing():
    fake = f"{'a' * 12}.{'b' * 32}"
    at = open_class(teach=fake, seat=fake)
    assert "teacher key opens no class" in texts(at) and "student key opens no class" in texts(at)
    assert at.session_state["pg"].teach == fake  # kept until forgotten: a class that ended says so each time
    for b in [b for b in at.button if b.label == "Forget this key"]:
        b.click().run()
    assert "teach" not in at.query_params or at.session_state["pg"].teach is None


@pytest.mark.slow
def test_a_student_submits_a_finished_run_from_train_once(app_pool):
    teacher = start_class()
    cls = the_board().teacher(teacher.session_state["pg"].teach)
    ada = join(cls.code, "Ada")
    job = trained(app_pool, "gauss-mlp", 2)
    s = ada.session_state["pg"]
    s.spec, s.job_id = dict(job.spec), job.id
    ada.switch_page("pages/train.py").run()
    assert not ada.exception
    button(ada, "Submit to the class").click().run()
    assert "Submitted to **Tuesday <b>class</b>**" in texts(ada)
    assert not [b for b in ada.button if b.label == "Submit to the class"]  # once: the box says it is done
    subs = the_board().submissions(cls.id)
    assert len(subs) == 1 and subs[0].run == job.id and subs[0].metrics["val_accuracy"] == job.metrics[-1][
        "val_accuracy"] and [p["epoch"] for p in subs[0].curve] == [1, 2]
    downloads = {d.proto.label for d in ada.get("download_button")}
    assert {"Notebook (.ipynb)", "Weights (.safetensors)"} <= downloads
    ada.switch_page("pages/class_board.py").run()  # the student's own list: rename and delete it
    assert "Ada" in texts(ada) and "2 epochs" in texts(ada)
    sid = subs[0].id
    ada.text_input(key=f"board-title-{sid}").input("My first run")
    ada.button(key=f"board-rename-{sid}").click().run()
    assert the_board().submissions(cls.id)[0].title == "My first run"
    ada.button(key=f"board-del-{sid}").click().run()
    assert the_board().submissions(cls.id) == []


def test_the_presenter_view_shows_one_lesson_the_join_code_and_the_projector():
    teacher = start_class()
    key = teacher.session_state["pg"].teach
    b = the_board()
    cls = b.teacher(key)
    _, _, k = b.join(cls.code, "Ada")
    c = [{"epoch": 1, "val_accuracy": 0.5}, {"epoch": 2, "val_accuracy": 0.875}]
    sub = b.submit(k, "r", presets.get("gauss-mlp").to_dict(), c[-1], c)
    teacher.switch_page("pages/presenter.py").run()
    assert not teacher.exception
    from playground.lessons import course
    LESSONS = course()
    assert f"## {LESSONS[0].title}" in [m.value for m in teacher.markdown]
    assert cls.code in [m.value for m in teacher.markdown] and "class?join=" in texts(teacher)
    assert len(teacher.get("image")) >= 2  # the join QR code, and the shared setup's
    assert "Put a submission on the projector" in texts(teacher)
    b.present(key, sub.id)
    teacher.run()
    assert "Ada — Gaussian blobs" in texts(teacher) and "val_accuracy: **0.875**" in texts(teacher)
    teacher.button(key="presenter-next").click().run()
    assert f"## {LESSONS[1].title}" in [m.value for m in teacher.markdown]
    assert f"## {LESSONS[0].title}" not in [m.value for m in teacher.markdown]  # one lesson at a time
    projector = AppTest.from_file(APP, default_timeout=60)  # a projector's tab, opened by the presenter key
    projector.query_params["presenter"] = b.viewer_key(key)
    projector.run()
    projector.switch_page("pages/presenter.py").run()
    assert not projector.exception and cls.code in [m.value for m in projector.markdown]
    assert "Ada — Gaussian blobs" in texts(projector) and projector.session_state["pg"].teach is None
    projector.switch_page("pages/class_board.py").run()  # the presenter key opens no teacher controls
    assert [b.label for b in projector.button if b.label == "Start the class"]


def test_a_locked_link_opens_the_setup_read_only_until_copied():
    spec = presets.get("digits-cnn").to_dict()
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["s"] = encode(from_dict(spec))
    at.query_params["lock"] = "1"
    at.run()
    at.switch_page("pages/build.py").run()
    assert not at.exception
    assert "was shared read-only" in texts(at) and not at.tabs  # no editors
    assert "Conv2d" in list(at.dataframe[0].value["layer"])
    button(at, "Make my own copy").click().run()
    assert not at.session_state["pg"].locked and "lock" not in at.query_params
    assert at.tabs  # the editors are back
    assert at.session_state["pg"].spec["name"] == spec["name"]


def test_the_class_keys_share_no_name_with_other_url_keys():
    from ui import state
    ours = {*state.PRIVATE, state.LOCK}
    assert len(ours) == 4 and not ours & {state.URL_KEY, state.VIEW_KEY, "join"}


def test_class_keys_never_go_into_a_copied_link():
    from ui import state
    at = start_class()
    share = [e for e in at.get("bidi_component") if "share" in str(e.proto)]
    assert state.PRIVATE == ("seat", "teach", "presenter")
    assert share and '"drop": ["seat", "teach", "presenter"]' in str(share[0].proto).replace('\\"', '"')
    assert checks.split_key(at.session_state["pg"].teach)
