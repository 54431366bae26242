"""The class board's storage, on SQLite and on PostgreSQL: what it keeps, who may change what, its caps,
its migrations, and a class of 30 submitting at once."""

from __future__ import annotations

import json
import threading

import pytest
from databases import empty_postgres
from sqlalchemy import inspect, select, text

from playground import presets
from playground.classroom import Board, BoardError, board, checks, engine, ranked, ranking
from playground.classroom.board import NOT_YOURS, REFUSED, Submission
from playground.classroom.ranking import higher_is_better, main_metric
from playground.classroom.schema import VERSION, classes, migrate, students, submissions
from playground.spec import SpecError


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'classes.db'}"
    pg = request.getfixturevalue("postgres_url")
    empty_postgres(pg)
    return pg


@pytest.fixture
def b(url):
    """A board on an empty database."""
    bd = Board(engine(url))
    yield bd
    bd.engine.dispose()


def spec(name: str = "Spiral") -> dict:
    d = presets.get("spiral-mlp").to_dict()
    d["name"] = name
    return d


def curve(n: int = 5, acc: float = 0.9) -> list[dict]:
    return [{"epoch": i, "train_loss": 1 / i, "val_loss": 1.1 / i, "val_accuracy": acc * i / n}
            for i in range(1, n + 1)]


def submit(b: Board, key: str, run: str, acc: float = 0.9, **kw) -> Submission:
    c = curve(acc=acc)
    return b.submit(key, run, spec(kw.pop("name", "Spiral")), c[-1], c, **kw)


def test_a_class_keeps_what_its_students_submit(b):
    cls, teacher = b.start_class("Intro to deep learning, Tuesday")
    assert checks.code(cls.code) == cls.code and len(cls.code) == checks.CODE_LENGTH
    ada, _, ada_key = b.join(cls.code.lower(), "Ada")  # typed in lower case, as students do
    bob, _, bob_key = b.join(f" {cls.code[:3]}-{cls.code[3:]} ", "Bob")
    s1 = submit(b, ada_key, "run-a", acc=0.8)
    s2 = submit(b, bob_key, "run-b", acc=0.95, title="Bob's deeper net")
    got = b.submissions(cls.id)
    assert [s.id for s in got] == [s1.id, s2.id]
    assert got[0].student == "Ada" and got[1].title == "Bob's deeper net" and got[0].spec == spec()
    assert got[0].metrics["val_accuracy"] == pytest.approx(0.8) and got[0].epochs == 5
    assert [p["epoch"] for p in got[1].curve] == [1, 2, 3, 4, 5]
    assert [(r, s.student) for r, s in ranked(got, "val_accuracy")] == [(1, "Bob"), (2, "Ada")]
    assert b.teacher(teacher) == b.class_info(cls.id)
    assert b.seat(ada_key) == ada and b.seat(bob_key) == bob
    assert [s.id for s in b.mine(ada_key)] == [s1.id]


def test_keys_are_long_random_and_only_their_hashes_are_stored(b, url):
    cls, teacher = b.start_class("Keys")
    _, _, student = b.join(cls.code, "Ada")
    for key in (teacher, student):
        public, secret = checks.split_key(key)
        assert len(secret) * 6 >= 128 and len(public) >= 8
    assert b.start_class("Keys again")[1] != teacher
    with b.engine.connect() as conn:
        stored = json.dumps([list(map(str, r)) for t in (classes, students) for r in conn.execute(select(t))])
    for key in (teacher, student):
        assert checks.split_key(key)[1] not in stored  # the secret half is nowhere in the database
        assert checks.digest(checks.split_key(key)[1]) in stored


def test_a_wrong_teacher_key_is_refused(b):
    cls, teacher = b.start_class("Ours")
    other, other_teacher = b.start_class("Theirs")
    _, _, student = b.join(cls.code, "Ada")
    sub = submit(b, student, "run-1")
    public, secret = checks.split_key(teacher)
    wrong = [f"{public}.{secret[:-1]}{'A' if secret[-1] != 'A' else 'B'}", student, "", None, "x" * 5000,
             f"{public}.", teacher + "x"]
    for key in wrong:
        assert b.teacher(key) is None
        for act in (lambda k: b.set_metric(k, "val_loss"), lambda k: b.present(k, sub.id),
                    lambda k: b.remove(k, sub.id), lambda k: b.set_open(k, False), lambda k: b.end_class(k),
                    lambda k: b.set_lesson(k, "Optimizers race", "val_loss")):
            with pytest.raises(BoardError, match=REFUSED):
                act(key)
    with pytest.raises(BoardError, match="not on this class's board"):
        b.remove(other_teacher, sub.id)  # another class's teacher key opens only that class
    with pytest.raises(BoardError, match="not on this class's board"):
        b.present(other_teacher, sub.id)
    assert b.class_info(cls.id).open and [s.id for s in b.submissions(cls.id)] == [sub.id]
    b.present(teacher, sub.id)
    b.set_metric(teacher, "val_loss")
    assert (b.class_info(cls.id).presented, b.class_info(cls.id).metric) == (sub.id, "val_loss")
    b.remove(teacher, sub.id)
    assert b.submissions(cls.id) == [] and b.class_info(other.id) is not None


def test_the_presenter_key_opens_the_presenter_view_only(b):
    cls, teacher = b.start_class("Ours")
    viewer = b.viewer_key(teacher)
    assert b.viewer(viewer) == cls and b.viewer_key(teacher) == viewer  # the same key each time
    assert b.teacher(viewer) is None and b.viewer(teacher) is None  # neither opens the other's door
    assert checks.split_key(viewer)[1] != checks.split_key(teacher)[1]
    for act in (lambda: b.set_metric(viewer, "val_loss"), lambda: b.end_class(viewer)):
        with pytest.raises(BoardError, match=REFUSED):
            act()
    assert b.viewer_key(viewer) is None and b.viewer_key("x") is None
    other, other_teacher = b.start_class("Theirs")
    assert b.viewer(b.viewer_key(other_teacher)) == other


def test_a_student_changes_and_deletes_only_their_own_submissions(b):
    cls, teacher = b.start_class("Ours")
    _, _, ada = b.join(cls.code, "Ada")
    _, _, bob = b.join(cls.code, "Bob")
    theirs = submit(b, bob, "run-b", acc=0.7)
    for act in (lambda: b.rename(ada, theirs.id, "mine now"), lambda: b.delete(ada, theirs.id),
                lambda: b.replace(ada, theirs.id, "run-x", spec("Other"), {"val_accuracy": 1.0}, []),
                lambda: b.delete(teacher, theirs.id)):  # a teacher's key is not a student's
        with pytest.raises(BoardError):
            act()
    with pytest.raises(BoardError, match=NOT_YOURS):
        b.delete(ada, theirs.id)
    assert b.submissions(cls.id) == [theirs]
    mine = submit(b, ada, "run-a")
    b.rename(ada, mine.id, "  My  tanh net\n")
    b.replace(ada, mine.id, "run-a2", spec("Replaced"), {"val_accuracy": 0.99}, curve(3))
    got = b.mine(ada)[0]
    assert (got.title, got.spec["name"], got.metrics, got.epochs) == ("My tanh net", "Replaced",
                                                                       {"val_accuracy": 0.99}, 3)
    b.delete(ada, mine.id)
    assert b.mine(ada) == [] and b.submissions(cls.id) == [theirs]


def test_a_wrong_join_code_is_refused_and_rate_limited(b, monkeypatch):
    monkeypatch.setattr(board, "JOIN_FAILS", 3)
    cls, _ = b.start_class("Ours")
    wrong = next(c for c in iter(checks.new_code, None) if c != cls.code)
    for typed in (wrong, "no such code", ""):
        with pytest.raises(BoardError, match="no class has that code"):
            b.join(typed, "Eve", address="203.0.113.9")
    with pytest.raises(BoardError, match="too many wrong codes"):  # now even the right code waits
        b.join(cls.code, "Eve", address="203.0.113.9")
    with pytest.raises(BoardError, match="name"):  # a bad name is no guess at a code: it is not counted
        b.join(cls.code, "", address="198.51.100.1")
    b.join(cls.code, "Ada", address="198.51.100.1")  # another address is not held up
    with b.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM attempts")).all()
    assert rows and "203.0.113.9" not in json.dumps([list(map(str, r)) for r in rows])  # stored hashed


def test_names_are_one_clean_line_of_at_most_60_characters(b):
    with pytest.raises(BoardError, match="limit is 60"):
        b.start_class("x" * 61)
    for empty in ("", "   ", "\n\t", None, 42):
        with pytest.raises(BoardError):
            b.start_class(empty)
    cls, _ = b.start_class("A\x00class\u2028with\x1b[31m codes")
    assert cls.name == "A class with [31m codes"
    b.join(cls.code, "Ada Lovelace")
    with pytest.raises(BoardError, match="already called"):
        b.join(cls.code, " ada lovelace ")
    _, _, key = b.join(cls.code, "<b>Bob</b> \ud800")  # markup is kept as text; a lone surrogate replaced
    assert b.seat(key).name == "<b>Bob</b> ?"
    with pytest.raises(BoardError, match="title"):
        submit(b, key, "r", title="t" * 61)


def test_submissions_students_and_classes_are_capped(b, monkeypatch):
    monkeypatch.setattr(board, "PER_STUDENT", 2)
    monkeypatch.setattr(board, "PER_CLASS", 3)
    monkeypatch.setattr(board, "STUDENTS_PER_CLASS", 2)
    monkeypatch.setattr(board, "CLASSES_PER_HOST", 2)
    cls, _ = b.start_class("One", address="192.0.2.1")
    b.start_class("Two", address="192.0.2.1")
    with pytest.raises(BoardError, match="at most 2 classes a day"):
        b.start_class("Three", address="192.0.2.1")
    _, _, ada = b.join(cls.code, "Ada")
    _, _, bob = b.join(cls.code, "Bob")
    with pytest.raises(BoardError, match="full"):
        b.join(cls.code, "Cy")
    submit(b, ada, "1")
    submit(b, ada, "2")
    with pytest.raises(BoardError, match="you have 2 submissions"):
        submit(b, ada, "3")
    submit(b, bob, "1")
    with pytest.raises(BoardError, match="this class has 3 submissions"):
        submit(b, bob, "2")
    monkeypatch.setattr(board, "MAX_CLASSES", 2)
    with pytest.raises(BoardError, match="at most 2 classes"):
        b.start_class("Four", address="192.0.2.2")


def test_a_closed_class_takes_no_one_new(b):
    cls, teacher = b.start_class("Ours")
    _, _, ada = b.join(cls.code, "Ada")
    b.set_open(teacher, False)
    with pytest.raises(BoardError, match="closed"):
        b.join(cls.code, "Bob")
    with pytest.raises(BoardError, match="closed"):
        submit(b, ada, "late")


def test_specs_metrics_and_curves_are_checked(b):
    cls, _ = b.start_class("Ours")
    _, _, ada = b.join(cls.code, "Ada")
    with pytest.raises(SpecError):
        b.submit(ada, "r", {"data": {"name": "spiral"}, "model": {"layers": [{"type": "Linear"}] * 300}}, {}, [])
    with pytest.raises(SpecError):
        b.submit(ada, "r", "not a spec", {}, [])
    csv = spec()
    csv["data"] = {"name": "csv", "upload": "u" * 32}
    with pytest.raises(BoardError, match="your own file"):
        b.submit(ada, "r", csv, {}, [])
    for bad in ({"val_loss": float("nan")}, {"val loss": 1.0}, {f"m{i}": 1.0 for i in range(20)}, [1.0]):
        with pytest.raises(BoardError):
            b.submit(ada, "r", spec(), bad, [])
    long = [{"epoch": i, "val_loss": 1 / i} for i in range(1, 1001)]
    final = {"epoch": 1000, "val_loss": 0.001, "device": "cpu", "lr": 0.01, "seconds": 3.2, "steps": 9}
    sub = b.submit(ada, "r", spec(), final, [{**p, "lr": 0.01} for p in long])
    assert len(sub.curve) <= checks.CURVE_POINTS and sub.curve[-1]["epoch"] == 1000 and sub.epochs == 1000
    assert sub.metrics == {"val_loss": 0.001}  # the device's name, the epoch and the bookkeeping are not ranked
    assert set(sub.curve[0]) == {"epoch", "val_loss"}


def test_the_same_run_submitted_twice_is_one_submission(b):
    cls, _ = b.start_class("Ours")
    _, _, ada = b.join(cls.code, "Ada")
    assert submit(b, ada, "run-1").id == submit(b, ada, "run-1").id
    assert len(b.submissions(cls.id)) == 1


def test_ending_a_class_deletes_its_students_and_submissions(b):
    cls, teacher = b.start_class("Ours")
    _, _, ada = b.join(cls.code, "Ada")
    submit(b, ada, "r")
    b.end_class(teacher)
    assert b.class_info(cls.id) is None and b.seat(ada) is None and b.teacher(teacher) is None
    with b.engine.connect() as conn:
        assert conn.execute(select(submissions)).all() == [] and conn.execute(select(students)).all() == []


def test_a_lesson_sets_the_metric_the_board_ranks_by(b):
    cls, teacher = b.start_class("Ours")
    assert b.class_info(cls.id).lesson is None
    b.set_lesson(teacher, "  Optimizers\nrace ", "val_accuracy")  # a title is one clean line, as every name
    got = b.class_info(cls.id)
    assert (got.lesson, got.metric) == ("Optimizers race", "val_accuracy")
    b.set_metric(teacher, "val_loss")  # the teacher may still rank by another metric
    assert (b.class_info(cls.id).lesson, b.class_info(cls.id).metric) == ("Optimizers race", "val_loss")
    with pytest.raises(BoardError, match="lesson is 61 characters"):
        b.set_lesson(teacher, "x" * 61, "val_loss")
    with pytest.raises(BoardError, match="not a short identifier"):
        b.set_lesson(teacher, "Optimizers race", "val loss; drop")
    b.set_lesson(teacher, None, None)
    assert (b.class_info(cls.id).lesson, b.class_info(cls.id).metric) == (None, None)


@pytest.mark.parametrize("name", presets.names())
def test_a_setups_metric_is_accuracy_for_a_classifier_iou_for_a_segmenter_and_loss_otherwise(name):
    from playground.data import info
    spec = presets.get(name)
    kind = info(spec.data).task if spec.train.task is None else spec.train.task  # what the data or spec asks
    expected = {"binary": "val_accuracy", "multiclass": "val_accuracy", "segmentation": "val_mean_iou",
                "detection": "val_box_iou", "translate": "val_exact_match"}
    assert ranking.setup_metric(spec) == expected.get(kind, "val_loss"), kind
    assert ranking.setup_metric(spec.to_dict()) == ranking.setup_metric(spec)


def test_an_old_database_is_migrated_with_its_rows(url):
    e = engine(url)
    assert migrate(e, upto=1) == 1  # the database an app of the first schema made
    assert "metric" not in {c["name"] for c in inspect(e).get_columns("classes")}
    with e.begin() as conn:
        conn.execute(text("INSERT INTO classes (code, name, teacher_id, teacher_hash, created, open) "
                          "VALUES ('ABCDEF', 'Old class', 'teacher00001', :h, 1.0, :t)"),
                     {"h": checks.digest("s" * 32), "t": True})
    bd = Board(e)  # a new app starts on it
    with e.connect() as conn:
        assert conn.execute(text("SELECT version FROM schema_version")).scalar() == VERSION
    key = "teacher00001." + "s" * 32
    old = bd.teacher(key)
    assert old is not None and (old.name, old.code, old.metric, old.presented, old.lesson) == (
        "Old class", "ABCDEF", None, None, None)
    bd.set_metric(key, "val_loss")
    assert bd.class_info(old.id).metric == "val_loss"
    bd.set_lesson(key, "Optimizers race", "val_accuracy")  # a column the last step added
    assert (bd.class_info(old.id).lesson, bd.class_info(old.id).metric) == ("Optimizers race", "val_accuracy")
    assert bd.viewer(bd.viewer_key(key)) == bd.class_info(old.id)  # its presenter key is made when first asked
    assert migrate(e) == VERSION  # migrating again changes nothing
    e.dispose()


def test_a_database_of_a_newer_app_is_refused(url):
    e = engine(url)
    migrate(e)
    with e.begin() as conn:
        conn.execute(text("UPDATE schema_version SET version = :v"), {"v": VERSION + 1})
    with pytest.raises(Exception, match="newer app"):
        Board(e)
    e.dispose()


def test_thirty_students_submitting_at_once_lose_nothing_and_duplicate_nothing(b):
    cls, teacher = b.start_class("Thirty")
    n, runs = 30, 2
    start, errors, keys = threading.Barrier(n), [], {}

    def student(i: int) -> None:
        try:
            start.wait()
            _, _, key = b.join(cls.code, f"Student {i:02d}")
            keys[i] = key
            for r in range(runs):
                submit(b, key, f"run-{r}", acc=i / 100)
                submit(b, key, f"run-{r}", acc=i / 100)  # a double click
        except Exception as e:  # noqa: BLE001 -- reported below, with the thread's number
            errors.append((i, repr(e)))

    threads = [threading.Thread(target=student, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    got = b.submissions(cls.id)
    assert len(got) == n * runs
    assert sorted((s.student, s.title, s.spec["name"]) for s in got) == sorted(
        (f"Student {i:02d}", "Spiral", "Spiral") for i in range(n) for _ in range(runs))
    for i, key in keys.items():
        mine = b.mine(key)
        assert len(mine) == runs and [s.metrics["val_accuracy"] for s in mine] == pytest.approx([i / 100] * runs)
    assert [r for r, _ in ranked(got, "val_accuracy")][:4] == [1, 1, 3, 3]  # two runs a student: ties


def test_the_sqlite_file_is_made_private_on_first_use(tmp_path, monkeypatch):
    folder = tmp_path / "data" / "playground"
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(folder))
    monkeypatch.delenv("PLAYGROUND_DB_URL", raising=False)
    bd = Board(engine())
    bd.start_class("Private")
    assert (folder / "classes.db").is_file()
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    for f in folder.iterdir():  # the database and its WAL files
        assert oct(f.stat().st_mode & 0o777) == "0o600", f.name
    bd.engine.dispose()


def test_a_postgresql_url_uses_psycopg_3(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_DB_URL", "postgresql://u:secret@db.invalid/x")
    e = engine()
    assert e.dialect.driver == "psycopg" and e.dialect.name == "postgresql"
    assert "secret" not in repr(e)


# ---- ranking (no database) ------------------------------------------------------------------------------

def _sub(i: int, **metrics) -> Submission:
    return Submission(i, 1, i, f"s{i}", f"t{i}", {}, metrics, [], 1, float(i), float(i))


def test_the_ranking_follows_the_metric_and_its_direction():
    subs = [_sub(1, val_accuracy=0.8, val_loss=0.5), _sub(2, val_accuracy=0.9, val_loss=0.6),
            _sub(3, val_loss=0.4), _sub(4, val_accuracy=0.9, val_loss=0.3)]
    assert [(r, s.id) for r, s in ranked(subs, "val_accuracy")] == [(1, 2), (1, 4), (3, 1), (None, 3)]
    assert [(r, s.id) for r, s in ranked(subs, "val_loss")] == [(1, 4), (2, 3), (3, 1), (4, 2)]
    assert higher_is_better("val_accuracy") and not higher_is_better("val_loss")
    assert not higher_is_better("test_mse") and higher_is_better("val_r2")
    assert main_metric(subs) == "val_accuracy" and main_metric(subs[2:3]) == "val_loss"
    assert main_metric(subs, "train_loss") == "train_loss" and main_metric([]) == "val_loss"


def test_codes_are_read_as_typed_and_come_from_an_unambiguous_alphabet():
    assert not set("01OIL") & set(checks.CODE_ALPHABET)
    assert checks.code("abc-def") == "ABCDEF"
    assert checks.code(" hjk 234 ") == "HJK234" and checks.code("HJK23") is None and checks.code(7) is None
    assert checks.code("HJK23O") is None  # O is not in the alphabet
    assert len({checks.new_code() for _ in range(200)}) == 200


def test_the_engine_reads_its_url_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_DB_URL", f"sqlite:///{tmp_path / 'x.db'}")
    e = engine()
    assert e.url.database == str(tmp_path / "x.db")
    e.dispose()
