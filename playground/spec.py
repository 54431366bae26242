"""The spec: one JSON document (data, model, training) that the UI edits, the URL carries and the CLI runs."""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .registry import PlaygroundError

VERSION = 1
MAX_URL_CHARS = 6000  # browsers and proxies start refusing URLs around 8 KB


class SpecError(PlaygroundError):
    """The spec itself is malformed: a missing field, a wrong type, an unknown name."""


class _Open(BaseModel):
    """A model whose extra keys are options checked by a registry (layer or dataset options)."""

    model_config = ConfigDict(extra="allow")

    def options(self) -> dict[str, Any]:
        """The extra keys: options for the registry entry this names."""
        return dict(self.__pydantic_extra__ or {})


class DataSpec(_Open):
    """`name` picks a dataset; the other keys are its options (`python -m playground datasets`)."""

    name: str


class LayerSpec(_Open):
    """`type` is a torch.nn class name; the other keys are its keyword arguments."""

    type: str


class ModelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    layers: list[LayerSpec] = Field(default_factory=list)


class OptimizerSpec(_Open):
    """`type` is a torch.optim class; `lr`, `weight_decay` and the class's own options."""

    type: str = "Adam"
    lr: float = Field(0.01, gt=0, le=10)
    weight_decay: float = Field(0.0, ge=0, le=1)


class SchedulerSpec(_Open):
    """A learning-rate schedule stepped once an epoch: `type` and its options."""

    type: str


class TrainSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    loss: str = "cross_entropy"
    optimizer: OptimizerSpec = Field(default_factory=OptimizerSpec)
    batch_size: int = Field(32, ge=1, le=65536)
    epochs: int = Field(20, ge=1, le=100000)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    scheduler: SchedulerSpec | None = None
    init: Literal["default", "xavier", "kaiming", "zeros"] = "default"
    grad_clip: float | None = Field(None, gt=0, description="Clip the gradient norm to this value.")
    l1: float = Field(0.0, ge=0, le=1, description="L1 penalty on weights (TensorFlow Playground's L1).")


class Spec(BaseModel):
    """A whole experiment. `version` lets old saved specs be migrated forward."""

    model_config = ConfigDict(extra="forbid")
    version: int = VERSION
    name: str = "Untitled"
    description: str = ""
    data: DataSpec
    model: ModelSpec = Field(default_factory=ModelSpec)
    train: TrainSpec = Field(default_factory=TrainSpec)

    def to_dict(self) -> dict:
        """Plain JSON-ready dict, options inline as in the contract."""
        return self.model_dump(mode="json", exclude_none=True)

    def to_json(self, indent: int | None = 2) -> str:
        """JSON text."""
        return json.dumps(self.to_dict(), indent=indent)


# Each entry upgrades a spec dict from version k to k + 1; version 1 is the first.
MIGRATIONS: dict[int, Any] = {}


def _path(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def from_dict(d: Any) -> Spec:
    """Parse and migrate a spec dict; errors name the JSON field path."""
    if not isinstance(d, dict):
        raise SpecError(f"a spec must be a JSON object, got {type(d).__name__}")
    version = d.get("version", VERSION)
    if not isinstance(version, int) or version < 1:
        raise SpecError(f"version: must be a positive integer, got {version!r}", path="version")
    if version > VERSION:
        raise SpecError(f"version: this spec is version {version}, newer than this playground "
                        f"(which reads up to {VERSION}); upgrade playground", path="version")
    while version < VERSION:
        d = MIGRATIONS[version](d)
        version += 1
    try:
        return Spec.model_validate(d)
    except ValidationError as e:
        err = e.errors()[0]
        path = _path(err["loc"])
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] == "missing":
            msg = "is required"
        else:
            msg = f"{msg}, got {err.get('input')!r}"
        layer = err["loc"][2] if len(err["loc"]) > 2 and err["loc"][:2] == ("model", "layers") else None
        raise SpecError(f"{path}: {msg}", path=path, layer=layer) from None


def from_json(text: str) -> Spec:
    """Parse JSON text into a spec, naming the line of a syntax error."""
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise SpecError(f"not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    return from_dict(d)


def load(path: str | Path) -> Spec:
    """Read a spec file."""
    p = Path(path)
    try:
        text = p.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise SpecError(f"cannot read {p}: {e}") from None
    return from_json(text)


def encode(spec: Spec) -> str:
    """Compact, URL-safe text for a spec: compressed JSON in base64url without padding."""
    raw = json.dumps(spec.to_dict(), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


def decode(text: str, max_chars: int = MAX_URL_CHARS) -> Spec:
    """Inverse of `encode`; refuses over-long or corrupt text with a SpecError."""
    if not isinstance(text, str) or not text:
        raise SpecError("the link carries no spec")
    if len(text) > max_chars:
        raise SpecError(f"the link's spec is {len(text)} characters long; the limit is {max_chars}")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        data = zlib.decompressobj().decompress(raw, 1_000_000)
        d = json.loads(data)
    except (binascii.Error, ValueError, zlib.error):
        raise SpecError("the link's spec is damaged (it could not be decoded); "
                        "was it cut off when copied?") from None
    return from_dict(d)
