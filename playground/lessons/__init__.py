"""Lessons as data: one JSON file a lesson in `course/` (its text, where it opens, what to try and notice,
and its claim with the experiment that checks it), validated by `schema.Lesson` when the course loads.

    from playground import lessons
    lessons.course()                      # every lesson, in course order
    lessons.run_here(lessons.get("learning-rate"), seed=3)   # {"claim", "measured", "holds", ...}
"""

from __future__ import annotations

import functools
import json
from importlib import resources

from pydantic import ValidationError

from ..registry import PlaygroundError, suggest
from .experiment import Check, run_here, variant_spec, verdict  # noqa: F401 (the package's interface)
from .schema import Lesson


@functools.cache  # shipped files do not change while the process runs
def course() -> tuple[Lesson, ...]:
    """Every lesson, in course order; a file that does not fit the schema raises PlaygroundError naming it."""
    root = resources.files("playground.lessons") / "course"
    out = []
    for p in sorted(root.iterdir(), key=lambda p: p.name):
        if not p.name.endswith(".json"):
            continue
        name = p.name[:-5]
        try:
            out.append(Lesson.model_validate({**json.loads(p.read_text()), "name": name}))
        except (ValidationError, ValueError) as e:
            raise PlaygroundError(f"lesson {name}: {e}") from None
    orders = [lesson.order for lesson in out]
    if len(set(orders)) != len(orders):
        raise PlaygroundError("two lessons share an order number")
    return tuple(sorted(out, key=lambda lesson: lesson.order))


def names() -> list[str]:
    """Every lesson's name, in course order."""
    return [lesson.name for lesson in course()]


def get(name: str) -> Lesson:
    """The lesson called `name`; an unknown name raises PlaygroundError with a suggestion."""
    for lesson in course():
        if lesson.name == name:
            return lesson
    raise PlaygroundError(f"unknown lesson '{name}'{suggest(name, names())}")


def opening_spec(lesson: Lesson) -> dict:
    """The setup a lesson opens: its preset, else its `opens` variant (default: the first) for seed 0."""
    if lesson.preset:
        from .. import presets
        return presets.get(lesson.preset).to_dict()
    return variant_spec(lesson, lesson.opens or next(iter(lesson.experiment.variants)), 0)
