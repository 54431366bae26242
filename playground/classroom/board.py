"""A class's board: a teacher starts a class, students join with its code, submit runs, and the board ranks them.

Who may do what is decided by keys, never by names: starting a class gives the teacher a key, joining
gives a student a key (each `public id.secret`, 192 random bits of secret, only its SHA-256 stored). A
student's key opens only that student's submissions; the teacher's key opens the class's controls. A wrong
key gets the same refusal as an unknown one, after the same work (the hash is always compared, in constant
time). Joins that fail (a wrong code) are counted per client address: past JOIN_FAILS in JOIN_WINDOW seconds
the address is refused for a while, so guessing one of 31^6 ≈ 8.9e8 codes stays hopeless (with a thousand
classes open, about 0.25 % a day for an address that fails all the time).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, and_, delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

import playground.classroom.checks as checks  # (not `from . import`: that imports the package, a cycle)

from .checks import BoardError
from .db import retried
from .schema import attempts, classes, migrate, students, submissions

JOIN_FAILS, JOIN_WINDOW = 30, 600.0  # failed joins an address may make in ten minutes (a class behind one NAT)
CLASSES_PER_HOST, CLASS_WINDOW = 10, 86_400.0  # classes one address may start a day
MAX_CLASSES = 1000  # classes this server keeps
STUDENTS_PER_CLASS = 100
PER_STUDENT = 10  # submissions one student keeps
PER_CLASS = 300  # submissions one class keeps
REFUSED = "this key does not open that class; ask the teacher for the class's link again"
NOT_YOURS = "there is no such submission of yours"
CREATE_LOCK = 7_310_222  # PostgreSQL advisory lock taken while a class is started


@dataclass(frozen=True)
class ClassInfo:
    """A class as the board shows it."""

    id: int
    code: str
    name: str
    created: float
    open: bool
    metric: str | None  # chosen by the teacher; None: the submissions' main metric
    presented: int | None  # the submission on the projector
    lesson: str | None = None  # the lesson the class is on (its title)


@dataclass(frozen=True)
class Seat:
    """A student of a class (what their key opens)."""

    id: int
    class_id: int
    name: str


@dataclass(frozen=True)
class Submission:
    """One submitted run: its setup, final numbers and curve."""

    id: int
    class_id: int
    student_id: int
    student: str
    title: str
    spec: dict
    metrics: dict[str, float]
    curve: list[dict[str, float]] = field(repr=False)
    epochs: int = 0
    created: float = 0.0
    updated: float = 0.0
    run: str = ""  # the run it came from (submitting that run again finds this one)


def host_id(address: str | None) -> str:
    """What the rate limits store of a client address: its hash ('' when the address is unknown)."""
    return hashlib.sha256(f"playground-board:{address or ''}".encode()).hexdigest()[:32]


class Board:
    """The class board on one database (see db.py); every method is one short transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        migrate(engine)

    # ---- a teacher's class ----------------------------------------------------------------------------

    def start_class(self, name: object, address: str | None = None) -> tuple[ClassInfo, str]:
        """Start a class called `name`; (the class, the teacher's key)."""
        title = checks.name(name, "class name")
        public, secret, key = checks.new_key()
        who, now = host_id(address), time.time()

        def create(conn: Connection) -> ClassInfo:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:n)"), {"n": CREATE_LOCK})
            if conn.execute(select(func.count()).select_from(classes)).scalar() >= MAX_CLASSES:
                raise BoardError(f"this server keeps at most {MAX_CLASSES} classes and has them all; ask "
                                 "whoever runs it to make room")
            if self._count(conn, "class", who, CLASS_WINDOW) >= CLASSES_PER_HOST:
                raise BoardError(f"at most {CLASSES_PER_HOST} classes a day can be started from one place")
            taken = set(conn.execute(select(classes.c.code)).scalars())
            code = next(c for c in iter(checks.new_code, None) if c not in taken)
            cid = conn.execute(insert(classes).values(
                code=code, name=title, teacher_id=public, teacher_hash=checks.digest(secret), created=now,
                open=True, viewer_hash=checks.digest(checks.viewer_secret(secret)))).inserted_primary_key[0]
            _record(conn, "class", who, now)
            return ClassInfo(cid, code, title, now, True, None, None, None)

        return retried(self.engine, create), key

    def teacher(self, key: object) -> ClassInfo | None:
        """The class `key` is the teacher's key of, or None (a wrong or unknown key alike)."""
        parts = checks.split_key(key)
        with self._read() as conn:
            row = conn.execute(select(classes).where(classes.c.teacher_id == (parts[0] if parts else ""))).first()
        ok = checks.matches(parts[1] if parts else "", row.teacher_hash if row is not None else None)
        return _class(row) if ok else None

    def viewer_key(self, key: object) -> str | None:
        """The presenter view's key of the class of teacher key `key` (None for a wrong key). It opens the
        presenter view only: what a projector shows anyway (the class's name and code, the run on it)."""
        parts = checks.split_key(key)
        with self._read() as conn:
            row = conn.execute(select(classes).where(classes.c.teacher_id == (parts[0] if parts else ""))).first()
        if not checks.matches(parts[1] if parts else "", row.teacher_hash if row is not None else None):
            return None
        secret = checks.viewer_secret(parts[1])
        if row.viewer_hash is None:  # a class started before presenter keys existed
            retried(self.engine, lambda conn: conn.execute(update(classes).where(
                classes.c.id == row.id, classes.c.viewer_hash.is_(None)).values(viewer_hash=checks.digest(secret))))
        return f"{parts[0]}.{secret}"

    def viewer(self, key: object) -> ClassInfo | None:
        """The class `key` is the presenter view's key of, or None."""
        parts = checks.split_key(key)
        with self._read() as conn:
            row = conn.execute(select(classes).where(classes.c.teacher_id == (parts[0] if parts else ""))).first()
        ok = checks.matches(parts[1] if parts else "", row.viewer_hash if row is not None else None)
        return _class(row) if ok else None

    def _teacher(self, conn: Connection, key: object) -> int:
        """The class id `key` opens, with that class's row locked for this transaction; else BoardError."""
        parts = checks.split_key(key)
        row = conn.execute(select(classes).where(classes.c.teacher_id == (parts[0] if parts else ""))
                           .with_for_update()).first()
        if not checks.matches(parts[1] if parts else "", row.teacher_hash if row is not None else None):
            raise BoardError(REFUSED)
        return row.id

    def set_metric(self, key: object, metric: str | None) -> None:
        """The teacher picks the metric the board ranks by (None: the submissions' main metric)."""
        if metric is not None:
            metric = checks.metric_name(metric)
        retried(self.engine, lambda conn: conn.execute(
            update(classes).where(classes.c.id == self._teacher(conn, key)).values(metric=metric)))

    def set_lesson(self, key: object, lesson: object, metric: str | None) -> None:
        """The teacher puts the class on a lesson (its title; None: no lesson); the board then ranks by the
        lesson's `metric` (the teacher may still pick another)."""
        title = checks.name(lesson, "lesson") if lesson is not None else None
        if metric is not None:
            metric = checks.metric_name(metric)
        retried(self.engine, lambda conn: conn.execute(
            update(classes).where(classes.c.id == self._teacher(conn, key)).values(lesson=title, metric=metric)))

    def present(self, key: object, submission_id: int | None) -> None:
        """Put one of the class's submissions on the projector (None: take it off)."""
        def go(conn: Connection) -> None:
            cid = self._teacher(conn, key)
            if submission_id is not None and conn.execute(select(submissions.c.id).where(
                    submissions.c.id == submission_id, submissions.c.class_id == cid)).first() is None:
                raise BoardError("that submission is not on this class's board")
            conn.execute(update(classes).where(classes.c.id == cid).values(presented=submission_id))
        retried(self.engine, go)

    def set_open(self, key: object, is_open: bool) -> None:
        """Open or close the class to joins and submissions (the board stays)."""
        retried(self.engine, lambda conn: conn.execute(
            update(classes).where(classes.c.id == self._teacher(conn, key)).values(open=bool(is_open))))

    def remove(self, key: object, submission_id: int) -> None:
        """The teacher deletes any submission of the class."""
        def go(conn: Connection) -> None:
            cid = self._teacher(conn, key)
            gone = conn.execute(delete(submissions).where(submissions.c.id == submission_id,
                                                          submissions.c.class_id == cid)).rowcount
            if not gone:
                raise BoardError("that submission is not on this class's board")
        retried(self.engine, go)

    def end_class(self, key: object) -> None:
        """Delete the class with its students and submissions (their keys open nothing after)."""
        def go(conn: Connection) -> None:
            cid = self._teacher(conn, key)
            conn.execute(delete(submissions).where(submissions.c.class_id == cid))
            conn.execute(delete(students).where(students.c.class_id == cid))
            conn.execute(delete(classes).where(classes.c.id == cid))
        retried(self.engine, go)

    def class_info(self, class_id: int) -> ClassInfo | None:
        """A class by id (None once it ended)."""
        with self._read() as conn:
            row = conn.execute(select(classes).where(classes.c.id == class_id)).first()
        return _class(row) if row is not None else None

    def submissions(self, class_id: int) -> list[Submission]:
        """Every submission of a class, oldest first."""
        with self._read() as conn:
            return self._subs(conn, submissions.c.class_id == class_id)

    # ---- a student's seat -----------------------------------------------------------------------------

    def join(self, code: object, name: object, address: str | None = None) -> tuple[Seat, ClassInfo, str]:
        """Join the class of `code` as `name`; (the seat, its class, the student's key). A wrong code is
        counted against `address`; too many and every join from there waits."""
        who, now = host_id(address), time.time()
        with self._read() as conn:
            fails = self._count(conn, "join-fail", who, JOIN_WINDOW)
        if fails >= JOIN_FAILS:
            raise BoardError(f"too many wrong codes from here; try again in {JOIN_WINDOW / 60:.0f} minutes")
        wanted = checks.code(code)
        student = checks.name(name, "name")  # a bad name is not a wrong code: it is not counted
        public, secret, key = checks.new_key()

        def go(conn: Connection) -> tuple[Seat, ClassInfo] | None:
            row = conn.execute(select(classes).where(classes.c.code == (wanted or "")).with_for_update()).first()
            if row is None:
                _record(conn, "join-fail", who, now)
                return None
            if not row.open:
                raise BoardError("this class is closed: it takes no new students")
            n = conn.execute(select(func.count()).select_from(students).where(students.c.class_id == row.id))
            if n.scalar() >= STUDENTS_PER_CLASS:
                raise BoardError(f"this class is full ({STUDENTS_PER_CLASS} students)")
            if conn.execute(select(students.c.id).where(students.c.class_id == row.id,
                                                        students.c.folded == checks.fold(student))).first():
                raise BoardError(f"someone in this class is already called {student!r}: add an initial")
            sid = conn.execute(insert(students).values(
                class_id=row.id, public_id=public, secret_hash=checks.digest(secret), name=student,
                folded=checks.fold(student), created=now)).inserted_primary_key[0]
            return Seat(sid, row.id, student), _class(row)

        got = retried(self.engine, go)
        if got is None:
            raise BoardError("no class has that code; check it on the teacher's screen")
        return got[0], got[1], key

    def seat(self, key: object) -> Seat | None:
        """The student `key` belongs to, or None (a wrong or unknown key alike)."""
        parts = checks.split_key(key)
        with self._read() as conn:
            row = conn.execute(select(students).where(students.c.public_id == (parts[0] if parts else ""))).first()
        ok = checks.matches(parts[1] if parts else "", row.secret_hash if row is not None else None)
        return Seat(row.id, row.class_id, row.name) if ok else None

    def _seat(self, conn: Connection, key: object) -> tuple[Seat, object]:
        """The seat `key` opens and its class's row, locked for this transaction; else BoardError."""
        parts = checks.split_key(key)
        row = conn.execute(select(students).where(students.c.public_id == (parts[0] if parts else ""))).first()
        if not checks.matches(parts[1] if parts else "", row.secret_hash if row is not None else None):
            raise BoardError("this student key opens nothing here; join the class again with its code")
        cls = conn.execute(select(classes).where(classes.c.id == row.class_id).with_for_update()).first()
        return Seat(row.id, row.class_id, row.name), cls

    def submit(self, key: object, run: str, spec: object, metrics: object, curve: object,
               title: object = None) -> Submission:
        """Submit a finished run (its id, spec, final metrics and per-epoch curve) as the student of `key`.
        The same run submitted again is the same submission (a double click makes one)."""
        s = checks.spec(spec)
        final, points = checks.metrics(metrics), checks.curve(curve)
        label = checks.name(title if title is not None else s.name, "title")
        run_id = checks.name(run, "run id")
        now = time.time()

        def go(conn: Connection) -> Submission:
            seat, cls = self._seat(conn, key)
            old = conn.execute(select(submissions.c.id).where(submissions.c.student_id == seat.id,
                                                              submissions.c.run == run_id)).scalar()
            if old is not None:
                return self._subs(conn, submissions.c.id == old)[0]
            if not cls.open:
                raise BoardError("this class is closed: it takes no more submissions")
            for where, cap, who in ((submissions.c.student_id == seat.id, PER_STUDENT, "you have"),
                                    (submissions.c.class_id == seat.class_id, PER_CLASS, "this class has")):
                if conn.execute(select(func.count()).select_from(submissions).where(where)).scalar() >= cap:
                    raise BoardError(f"{who} {cap} submissions, the most kept: delete one first")
            try:
                with conn.begin_nested():  # a second click that raced this one: its row stands, use it
                    sid = conn.execute(insert(submissions).values(
                        class_id=seat.class_id, student_id=seat.id, run=run_id, title=label,
                        spec=json.dumps(s.to_dict()), metrics=json.dumps(final), curve=json.dumps(points),
                        epochs=_epochs(points), created=now,
                        updated=now)).inserted_primary_key[0]
            except IntegrityError:
                sid = conn.execute(select(submissions.c.id).where(submissions.c.student_id == seat.id,
                                                                  submissions.c.run == run_id)).scalar_one()
            return self._subs(conn, submissions.c.id == sid)[0]

        return retried(self.engine, go)

    def rename(self, key: object, submission_id: int, title: object) -> None:
        """A student renames one of their own submissions."""
        label = checks.name(title, "title")
        self._own(key, submission_id, {"title": label, "updated": time.time()})

    def replace(self, key: object, submission_id: int, run: str, spec: object, metrics: object,
                curve: object) -> None:
        """A student replaces one of their own submissions with another run (its spec, metrics and curve)."""
        s, final, points = checks.spec(spec), checks.metrics(metrics), checks.curve(curve)
        self._own(key, submission_id, {"run": checks.name(run, "run id"), "spec": json.dumps(s.to_dict()),
                                       "metrics": json.dumps(final), "curve": json.dumps(points),
                                       "epochs": _epochs(points),
                                       "updated": time.time()})

    def delete(self, key: object, submission_id: int) -> None:
        """A student deletes one of their own submissions."""
        self._own(key, submission_id, None)

    def _own(self, key: object, submission_id: int, values: dict | None) -> None:
        def go(conn: Connection) -> None:
            seat, _ = self._seat(conn, key)
            mine = and_(submissions.c.id == submission_id, submissions.c.student_id == seat.id)
            stmt = delete(submissions).where(mine) if values is None else update(submissions).where(mine).values(
                **values)
            try:
                with conn.begin_nested():
                    done = conn.execute(stmt).rowcount
            except IntegrityError:  # replaced with a run that another of their submissions already is
                raise BoardError("that run is already one of your submissions") from None
            if not done:
                raise BoardError(NOT_YOURS)
        retried(self.engine, go)

    def mine(self, key: object) -> list[Submission]:
        """The submissions of the student of `key`, oldest first ([] for a wrong key)."""
        seat = self.seat(key)
        if seat is None:
            return []
        with self._read() as conn:
            return self._subs(conn, submissions.c.student_id == seat.id)

    # ---- shared -----------------------------------------------------------------------------------------

    def _read(self):
        from .db import transaction
        return transaction(self.engine)

    @staticmethod
    def _count(conn: Connection, kind: str, who: str, window: float) -> int:
        since = time.time() - window
        return conn.execute(select(func.count()).select_from(attempts).where(
            attempts.c.kind == kind, attempts.c.who == who, attempts.c.at >= since)).scalar()

    @staticmethod
    def _subs(conn: Connection, where) -> list[Submission]:
        rows = conn.execute(select(submissions, students.c.name.label("student"))
                            .join(students, students.c.id == submissions.c.student_id)
                            .where(where).order_by(submissions.c.id)).all()
        return [Submission(r.id, r.class_id, r.student_id, r.student, r.title, json.loads(r.spec),
                           json.loads(r.metrics), json.loads(r.curve), r.epochs, r.created, r.updated, r.run)
                for r in rows]


def _record(conn: Connection, kind: str, who: str, now: float) -> None:
    """Count one attempt (and forget those older than every window)."""
    conn.execute(delete(attempts).where(attempts.c.at < now - max(JOIN_WINDOW, CLASS_WINDOW)))
    conn.execute(insert(attempts).values(kind=kind, who=who, at=now))


def _epochs(points: list[dict[str, float]]) -> int:
    """Epochs a curve spans: its last epoch number (a thinned curve has fewer points than epochs)."""
    return int(points[-1].get("epoch", len(points))) if points else 0


def _class(row) -> ClassInfo:
    return ClassInfo(row.id, row.code, row.name, row.created, bool(row.open), row.metric, row.presented, row.lesson)
