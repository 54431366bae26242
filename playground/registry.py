"""String-keyed registries and typed parameters: what a user can pick, and with which options."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class PlaygroundError(ValueError):
    """An error in what the user asked for, with a message meant for them.

    `path` is the JSON field path (`model.layers[2].kernel_size`), `layer` the 0-based index of the top-level
    layer where one applies and `at` the whole layer path inside blocks (0-based, block by block, a Parallel's
    branch one step: (2, 0, 1) is "layer 3.1.2"; `(layer,)` for a top-level layer). `fix` is an optional
    one-click repair for the UI (playground.edit.apply_fix): `{"action": "insert", "at": i, "layer": {...}}`,
    `{"action": "set", "at": i, "key": k, "value": v}`, … (`at` an index, or a path as a list inside blocks);
    `alternatives` are other repairs of the same error (e.g. "or choose an image dataset").
    """

    def __init__(self, message: str, path: str | None = None, layer: int | None = None,
                 fix: dict | None = None, alternatives: list[dict] | None = None,
                 at: tuple[int, ...] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.layer = layer if layer is not None or not at else at[0]
        self.at = tuple(at) if at else ((layer,) if isinstance(layer, int) else None)
        self.fix = fix
        self.alternatives = alternatives or []

    @property
    def fixes(self) -> list[dict]:
        """Every repair offered, the first the most likely."""
        return ([self.fix] if self.fix else []) + self.alternatives


def suggest(word: str, options: list[str]) -> str:
    """A ' Did you mean …?' suffix for a misspelt key, or ''."""
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not close:
        lower = {o.lower(): o for o in options}
        if word.lower() in lower:
            close = [lower[word.lower()]]
    return f"; did you mean '{close[0]}'?" if close else ""


@dataclass(frozen=True)
class Param:
    """One user-settable option: its kind, default and allowed range; widgets are generated from it."""

    name: str
    kind: str  # int | float | bool | choice | str | size (int or [h, w]) | ints (list of ints) | strs | points
    default: Any
    min: float | None = None
    max: float | None = None
    choices: tuple = ()
    help: str = ""
    optional: bool = False  # None is allowed (and means "not set")

    def check(self, value: Any, where: str) -> Any:
        """Return `value` coerced to this parameter's kind, or raise PlaygroundError naming `where`."""
        if value is None and (self.optional or self.default is None):
            return None
        bad = f"{where}: {self.name} "
        k = self.kind
        if k == "bool":
            if not isinstance(value, bool):
                raise PlaygroundError(bad + f"must be true or false, got {value!r}")
            return value
        if k == "int":
            return self._number(_as_int(value, bad), bad)
        if k == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise PlaygroundError(bad + f"must be a number, got {value!r}")
            if value != value or value in (float("inf"), float("-inf")):
                raise PlaygroundError(bad + f"must be a finite number, got {value!r}")
            return self._number(float(value), bad)
        if k == "choice":
            if value not in self.choices:
                opts = ", ".join(repr(c) for c in self.choices)
                raise PlaygroundError(bad + f"must be one of {opts}, got {value!r}")
            return value
        if k == "size":
            if isinstance(value, (list, tuple)):
                if len(value) != 2:
                    raise PlaygroundError(bad + f"must be an integer or a pair [h, w], got {value!r}")
                return [self._number(_as_int(v, bad), bad) for v in value]
            return self._number(_as_int(value, bad), bad)
        if k == "ints":
            if not isinstance(value, (list, tuple)) or not value:
                raise PlaygroundError(bad + f"must be a list of integers, got {value!r}")
            return [self._number(_as_int(v, bad), bad) for v in value]
        if k == "str":
            if not isinstance(value, str) or len(value) > 500:
                raise PlaygroundError(bad + f"must be a short text, got {value!r}")
            return value
        if k == "strs":
            if not isinstance(value, (list, tuple)) or not value or not all(isinstance(v, str) for v in value):
                raise PlaygroundError(bad + f"must be a list of names, got {value!r}")
            unknown = [v for v in value if self.choices and v not in self.choices]
            if unknown:
                raise PlaygroundError(bad + f"has unknown entries {unknown}; choose from {list(self.choices)}")
            return list(value)
        if k == "points":  # [[x, y], …]: at most `max` points, each coordinate within ±`min`
            return self._points(value, bad)
        raise AssertionError(f"unknown parameter kind {k}")

    def _points(self, value: Any, bad: str) -> list[list[float]]:
        if not isinstance(value, (list, tuple)) or not value:
            raise PlaygroundError(bad + "must be a list of [x, y] points")
        if self.max is not None and len(value) > self.max:
            raise PlaygroundError(bad + f"holds {len(value):,} points; at most {_fmt(self.max)}")
        out = []
        for i, p in enumerate(value):
            if (not isinstance(p, (list, tuple)) or len(p) != 2
                    or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in p)):
                raise PlaygroundError(bad + f"point {i + 1} must be [x, y], two numbers; got {str(p)[:40]}")
            if not all(abs(v) <= self.min for v in p):  # NaN fails this too
                raise PlaygroundError(bad + f"point {i + 1} is {[round(float(v), 3) for v in p]}; both "
                                      f"coordinates must be within ±{_fmt(self.min)}")
            out.append([float(p[0]), float(p[1])])
        return out

    def _number(self, v: float, bad: str) -> Any:
        if self.min is not None and v < self.min:
            raise PlaygroundError(bad + f"must be ≥ {_fmt(self.min)}, got {_fmt(v)}")
        if self.max is not None and v > self.max:
            raise PlaygroundError(bad + f"must be ≤ {_fmt(self.max)}, got {_fmt(v)}")
        return v

    def describe(self) -> dict:
        """A plain-dict view for UIs and docs."""
        return {"name": self.name, "kind": self.kind, "default": self.default, "min": self.min,
                "max": self.max, "choices": list(self.choices), "help": self.help}


def _as_int(value: Any, bad: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
        raise PlaygroundError(bad + f"must be an integer, got {value!r}")
    return int(value)


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def check_options(params: tuple[Param, ...], given: dict, where: str,
                  reserved: tuple[str, ...] = ()) -> dict:
    """Validate `given` against `params`: unknown keys are refused with a suggestion, defaults filled in."""
    names = [p.name for p in params]
    for key in given:
        if key not in names and key not in reserved:
            raise PlaygroundError(f"{where}: unknown option '{key}'{suggest(key, names)}"
                                  + ("" if suggest(key, names) else f" (options: {', '.join(names) or 'none'})"))
    out = {}
    for p in params:
        out[p.name] = p.check(given[p.name], where) if p.name in given else p.default
    return out


@dataclass
class Registry(Generic[T]):
    """A string-keyed table filled by a `register` decorator; unknown keys get a 'did you mean'."""

    what: str
    entries: dict[str, T] = field(default_factory=dict)

    def add(self, name: str, entry: T) -> T:
        """Add an entry under `name` (names are unique)."""
        assert name not in self.entries, f"{self.what} {name} registered twice"
        self.entries[name] = entry
        return entry

    def get(self, name: str, where: str = "") -> T:
        """The entry called `name`, or a PlaygroundError listing what exists."""
        if name not in self.entries:
            hint = suggest(str(name), list(self.entries))
            prefix = f"{where}: " if where else ""
            raise PlaygroundError(f"{prefix}unknown {self.what} '{name}'{hint}"
                                  + ("" if hint else f" (known: {', '.join(self.entries)})"))
        return self.entries[name]

    def __contains__(self, name: object) -> bool:
        return name in self.entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def items(self):
        """(name, entry) pairs in registration order."""
        return self.entries.items()

    def names(self) -> list[str]:
        """All keys, in registration order."""
        return list(self.entries)


Factory = Callable[..., Any]
