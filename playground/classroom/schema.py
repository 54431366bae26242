"""The board's tables and the ordered steps that make and migrate them.

`schema_version` holds one row: the number of steps applied. `migrate` applies the missing steps in order,
in one transaction that first takes a lock (PostgreSQL: an advisory lock; SQLite: BEGIN IMMEDIATE), so two
app processes starting at once never apply a step twice. A step is written once and never changed: a
database made by an older version of the app is brought forward by the steps it lacks, its rows kept.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    inspect,
    select,
    text,
)

from .db import transaction

NAME = 60  # characters of a class's, a student's or a submission's name
METRIC = 40  # characters of a metric's name

metadata = MetaData()

classes = Table(
    "classes", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(8), nullable=False, unique=True),  # the join code students type
    Column("name", String(NAME), nullable=False),
    Column("teacher_id", String(16), nullable=False, unique=True),  # public half of the teacher's key
    Column("teacher_hash", String(64), nullable=False),  # sha256 of its secret half
    Column("created", Float, nullable=False),
    Column("open", Boolean, nullable=False, default=True),  # accepts joins and submissions
    Column("metric", String(METRIC)),  # the metric the board ranks by (None: the submissions' main metric)
    Column("presented", Integer),  # the submission on the projector (no foreign key: it may be deleted)
    Column("viewer_hash", String(64)),  # sha256 of the presenter view's secret (derived from the teacher's)
    Column("lesson", String(NAME)),  # the lesson the class is on (its title; None: none chosen)
)

students = Table(
    "students", metadata,
    Column("id", Integer, primary_key=True),
    Column("class_id", Integer, ForeignKey("classes.id", ondelete="CASCADE"), nullable=False),
    Column("public_id", String(16), nullable=False, unique=True),  # public half of the student's key
    Column("secret_hash", String(64), nullable=False),
    Column("name", String(NAME), nullable=False),
    Column("folded", String(NAME), nullable=False),  # the name case-folded: one per class
    Column("created", Float, nullable=False),
    UniqueConstraint("class_id", "folded", name="students_name_once"),
)

submissions = Table(
    "submissions", metadata,
    Column("id", Integer, primary_key=True),
    Column("class_id", Integer, ForeignKey("classes.id", ondelete="CASCADE"), nullable=False),
    Column("student_id", Integer, ForeignKey("students.id", ondelete="CASCADE"), nullable=False),
    Column("run", String(64), nullable=False),  # the run it came from: submitting it twice makes one row
    Column("title", String(NAME), nullable=False),
    Column("spec", Text, nullable=False),  # JSON
    Column("metrics", Text, nullable=False),  # JSON: the final epoch's numbers
    Column("curve", Text, nullable=False),  # JSON: per-epoch numbers, thinned
    Column("epochs", Integer, nullable=False),
    Column("created", Float, nullable=False),
    Column("updated", Float, nullable=False),
    UniqueConstraint("student_id", "run", name="submissions_run_once"),
    Index("submissions_by_class", "class_id"),
)

attempts = Table(  # what the rate limits count: failed joins, classes started (by a hashed client address)
    "attempts", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("who", String(64), nullable=False),
    Column("at", Float, nullable=False),
    Index("attempts_by_who", "kind", "who", "at"),
)

schema_version = Table("schema_version", metadata, Column("version", Integer, nullable=False))


# ---- the steps -------------------------------------------------------------------------------------

def _step1(conn: Connection) -> None:
    """Classes, students, submissions and the rate limits' attempts (as first released: written out here,
    never derived from the tables above, which later steps change)."""
    m = MetaData()
    Table("classes", m,
          Column("id", Integer, primary_key=True),
          Column("code", String(8), nullable=False, unique=True),
          Column("name", String(NAME), nullable=False),
          Column("teacher_id", String(16), nullable=False, unique=True),
          Column("teacher_hash", String(64), nullable=False),
          Column("created", Float, nullable=False),
          Column("open", Boolean, nullable=False))
    Table("students", m,
          Column("id", Integer, primary_key=True),
          Column("class_id", Integer, ForeignKey("classes.id", ondelete="CASCADE"), nullable=False),
          Column("public_id", String(16), nullable=False, unique=True),
          Column("secret_hash", String(64), nullable=False),
          Column("name", String(NAME), nullable=False),
          Column("folded", String(NAME), nullable=False),
          Column("created", Float, nullable=False),
          UniqueConstraint("class_id", "folded", name="students_name_once"))
    Table("submissions", m,
          Column("id", Integer, primary_key=True),
          Column("class_id", Integer, ForeignKey("classes.id", ondelete="CASCADE"), nullable=False),
          Column("student_id", Integer, ForeignKey("students.id", ondelete="CASCADE"), nullable=False),
          Column("run", String(64), nullable=False),
          Column("title", String(NAME), nullable=False),
          Column("spec", Text, nullable=False),
          Column("metrics", Text, nullable=False),
          Column("curve", Text, nullable=False),
          Column("epochs", Integer, nullable=False),
          Column("created", Float, nullable=False),
          Column("updated", Float, nullable=False),
          UniqueConstraint("student_id", "run", name="submissions_run_once"),
          Index("submissions_by_class", "class_id"))
    Table("attempts", m,
          Column("id", Integer, primary_key=True),
          Column("kind", String(16), nullable=False),
          Column("who", String(64), nullable=False),
          Column("at", Float, nullable=False),
          Index("attempts_by_who", "kind", "who", "at"))
    m.create_all(conn)


def _step2(conn: Connection) -> None:
    """The teacher's ranking metric and the submission on the projector."""
    conn.execute(text(f"ALTER TABLE classes ADD COLUMN metric VARCHAR({METRIC})"))
    conn.execute(text("ALTER TABLE classes ADD COLUMN presented INTEGER"))


def _step3(conn: Connection) -> None:
    """The presenter view's own key: a projected address bar shows it, never the teacher key."""
    conn.execute(text("ALTER TABLE classes ADD COLUMN viewer_hash VARCHAR(64)"))


def _step4(conn: Connection) -> None:
    """The lesson the class is on: the board ranks by its metric, the presenter view opens at it."""
    conn.execute(text(f"ALTER TABLE classes ADD COLUMN lesson VARCHAR({NAME})"))


STEPS: list[Callable[[Connection], None]] = [_step1, _step2, _step3, _step4]
VERSION = len(STEPS)
LOCK = 7_310_221  # PostgreSQL advisory lock number of the board's migrations


def version(conn: Connection) -> int:
    """The number of steps applied to this database (0: a new one)."""
    if not inspect(conn).has_table("schema_version"):
        return 0
    return conn.execute(select(schema_version.c.version)).scalar() or 0


def migrate(e: Engine, upto: int = VERSION) -> int:
    """Apply the steps this database lacks, up to `upto` (tests stop early to make an old database); the
    version it has now."""
    with transaction(e, write=True) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:n)"), {"n": LOCK})
        have = version(conn)
        if have > VERSION:
            from ..registry import PlaygroundError
            raise PlaygroundError(f"the class database is of a newer app (schema {have}; this app knows "
                                  f"{VERSION}): update the app")
        if have == 0:
            schema_version.create(conn, checkfirst=True)
            conn.execute(schema_version.insert().values(version=0))
        for n in range(have, upto):
            STEPS[n](conn)
            conn.execute(schema_version.update().values(version=n + 1))
        return max(have, upto)
