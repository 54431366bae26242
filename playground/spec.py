"""The spec: one JSON document (data, model, training) that the UI edits, the URL carries and the CLI runs."""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import zlib
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError

from .registry import PlaygroundError

VERSION = 2  # 2: blocks (Residual, Parallel) inside model.layers
MAX_URL_CHARS = 6000  # browsers and proxies start refusing URLs around 8 KB
# Bounds on what a stranger's spec may hold, checked before anything parses it further. The largest real
# specs (presets, lessons) hold a few dozen layers and short texts: these leave room to grow. Blocks nest:
# each Parallel level costs 3 levels of JSON (branches, a branch, a layer), a Residual 2, so MAX_DEPTH lets
# MAX_BLOCK_DEPTH blocks nest with room for a layer's own lists ([3, 3]) at the bottom.
MAX_TEXT = 1_000_000  # characters of JSON text (a link's spec decompresses to at most this too)
MAX_BLOCK_DEPTH = 8  # blocks inside blocks (a 4-level U-Net nests 4)
MAX_DEPTH = 32  # nesting of objects and arrays (3 + 3 × MAX_BLOCK_DEPTH + a layer's own list, and spare)
MAX_ITEMS = 256  # entries of one object or array (layers included)
MAX_LAYERS = 512  # layers and blocks in a whole model, at every depth
MAX_VALUES = 20_000  # values in the whole spec
MAX_CHARS = {"name": 200, "description": 5000}  # characters of the top-level texts
MAX_STRING = 500  # characters of any other text: keys, types, option values
MAX_INT = 2**53  # the largest integer a browser's JSON holds exactly


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


class ResidualSpec(BaseModel):
    """`{"type": "Residual", "layers": [...]}`: output = input + layers(input). `projection` puts a learned
    1×1 Conv2d (images) or Linear (vectors) on the skip, for a body that changes the shape."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["Residual"]
    layers: list[Node] = Field(default_factory=list)
    projection: bool = False


class ParallelSpec(BaseModel):
    """`{"type": "Parallel", "branches": [[...], [...]], "merge": ...}`: every branch reads the same input (an
    empty branch is the input itself); their outputs are concatenated (channels of an image, features of a
    vector), added or multiplied."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["Parallel"]
    branches: list[list[Node]] = Field(default_factory=lambda: [[], []])
    merge: Literal["concat", "add", "multiply"] = "concat"


BLOCKS = {"Residual": ResidualSpec, "Parallel": ParallelSpec}  # layer types that hold layers
_TAGS = {"layer", *BLOCKS}  # pydantic's names for the kinds of a layer entry (in error locations)


def _kind(v: Any) -> str:
    t = v.get("type") if isinstance(v, dict) else getattr(v, "type", None)
    return t if isinstance(t, str) and t in BLOCKS else "layer"


# One entry of a layer list: a block (by its type) or a plain layer (any other type, checked by the builder).
Node = Annotated[Union[Annotated[LayerSpec, Tag("layer")], Annotated[ResidualSpec, Tag("Residual")],  # noqa: UP007
                       Annotated[ParallelSpec, Tag("Parallel")]], Discriminator(_kind)]
ResidualSpec.model_rebuild()
ParallelSpec.model_rebuild()


class ModelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    layers: list[Node] = Field(default_factory=list)


class OptimizerSpec(_Open):
    """`type` is a torch.optim class; `lr`, `weight_decay` and the class's own options."""

    type: str = "Adam"
    lr: float = Field(0.01, gt=0, le=10)
    weight_decay: float = Field(0.0, ge=0, le=1)


class SchedulerSpec(_Open):
    """A learning-rate schedule stepped once an epoch: `type` and its options."""

    type: str


class GanSpec(BaseModel):
    """A GAN's own settings (task `generate`): noise size, discriminator steps per generator step, the loss."""

    model_config = ConfigDict(extra="forbid")
    noise: int = Field(16, ge=1, le=256, description="Numbers of noise the generator reads per sample.")
    d_steps: int = Field(1, ge=1, le=10, description="Discriminator steps per generator step.")
    loss: str = Field("bce", description="bce (non-saturating) or wgan-gp (Wasserstein with gradient penalty).")
    gp_weight: float = Field(10.0, ge=0, le=1000, description="Weight of WGAN-GP's gradient penalty.")
    steps_per_epoch: int = Field(100, ge=1, le=10000, description="Generator steps an epoch (a GAN has no pass "
                                                                   "over the data to count).")


class TrainSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    task: str | None = Field(None, description="The kind of learning (tasks.py); default: the dataset's.")
    loss: str = "cross_entropy"
    optimizer: OptimizerSpec = Field(default_factory=OptimizerSpec)
    d_optimizer: OptimizerSpec | None = Field(None, description="A GAN's discriminator's optimizer "
                                                                "(default: the same as the generator's).")
    gan: GanSpec | None = None
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
    discriminator: ModelSpec | None = None  # a GAN's second network (task generate); `model` is its generator
    train: TrainSpec = Field(default_factory=TrainSpec)

    def to_dict(self) -> dict:
        """Plain JSON-ready dict, options inline as in the contract."""
        return self.model_dump(mode="json", exclude_none=True)

    def to_json(self, indent: int | None = 2) -> str:
        """JSON text."""
        return json.dumps(self.to_dict(), indent=indent)


def _to_2(d: dict) -> dict:
    """Version 1 → 2: blocks are new; a version-1 layer list is a version-2 layer list as it is."""
    return {**d, "version": 2}


# Each entry upgrades a spec dict from version k to k + 1; version 1 is the first.
MIGRATIONS: dict[int, Any] = {1: _to_2}


def _path(loc: tuple) -> str:
    out = ""
    for k, part in enumerate(loc):
        if isinstance(part, str) and part in _TAGS and k and isinstance(loc[k - 1], int):
            continue  # pydantic's name for the kind of a layer entry, not a field
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _layer_loc(loc: tuple) -> tuple[int, ...] | None:
    """The layer path (0-based, block by block, as build.py counts) of a pydantic error location, or None."""
    if loc[:2] != ("model", "layers") or len(loc) < 3 or not isinstance(loc[2], int):
        return None
    path, rest = [loc[2]], [p for p in loc[3:] if not (isinstance(p, str) and p in _TAGS)]
    while rest:
        if len(rest) >= 2 and rest[0] == "layers" and isinstance(rest[1], int):
            path.append(rest[1])
            rest = rest[2:]
        elif len(rest) >= 3 and rest[0] == "branches" and isinstance(rest[1], int) and isinstance(rest[2], int):
            path += [rest[1], rest[2]]
            rest = rest[3:]
        else:
            break
    return tuple(path)


def _short(value: Any, limit: int = 60) -> str:
    """`repr` of a value a user gave, cut to `limit` characters (messages stay readable)."""
    text = repr(value) if not isinstance(value, (dict, list)) or len(value) < 20 else f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_bounds(d: Any) -> None:
    """Refuse a structure that is too deep, too long, or holds invalid Unicode, naming where.

    Walks with an explicit stack (never recursion), so a document nested 100,000 deep is refused, not a crash.
    """
    stack: list[tuple[Any, tuple, int]] = [(d, (), 0)]
    values = 0
    while stack:
        v, loc, depth = stack.pop()
        values += 1
        where = _path(loc) or "the spec"
        if values > MAX_VALUES:
            raise SpecError(f"the spec holds more than {MAX_VALUES:,} values; is it a spec?")
        if isinstance(v, (dict, list)):
            if depth >= MAX_DEPTH:  # named by its field (and layer), not by a path 12 levels long
                top = _path(loc[:3] if loc[:2] == ("model", "layers") else loc[:1])
                raise SpecError(f"{top}: nested more than {MAX_DEPTH} levels deep; a spec never is", path=top)
            if len(v) > MAX_ITEMS:
                raise SpecError(f"{where}: has {len(v):,} entries; the limit is {MAX_ITEMS}", path=_path(loc) or None)
            items = v.items() if isinstance(v, dict) else enumerate(v)
            for k, x in items:
                if isinstance(k, str):
                    _check_text(k, loc, f"{where}: the key {_short(k[:40])}", MAX_STRING)
                stack.append((x, loc + (k,), depth + 1))
        elif isinstance(v, str):
            limit = MAX_CHARS.get(loc[0], MAX_STRING) if len(loc) == 1 else MAX_STRING
            _check_text(v, loc, where, limit)
        elif isinstance(v, float) and not math.isfinite(v):
            raise SpecError(f"{where}: must be a finite number, got {v}", path=_path(loc) or None)
        elif isinstance(v, int) and not isinstance(v, bool) and abs(v) > MAX_INT:
            raise SpecError(f"{where}: the number {_short(v, 30)} is too large (the limit is 2^53, what JSON "
                            "holds exactly)", path=_path(loc) or None)


def _check_text(text: str, loc: tuple, where: str, limit: int) -> None:
    if len(text) > limit:
        raise SpecError(f"{where}: {len(text):,} characters long; the limit is {limit:,}", path=_path(loc) or None)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        bad = text[e.start:e.end].encode("utf-8", "backslashreplace").decode()
        raise SpecError(f"{where}: holds invalid Unicode ({bad} at character {e.start + 1}, half of a pair "
                        "that is not there); retype it", path=_path(loc) or None) from None


def nesting(text: str, limit: int = MAX_DEPTH) -> int:
    """How deep the arrays and objects of JSON `text` nest, counting no further than `limit` + 1.

    A linear scan that visits only brackets, quotes and backslashes: deep nesting is refused before a
    parser (recursive ones included) ever sees it.
    """
    depth = top = 0
    in_string, skip = False, -1
    for m in _SPECIAL.finditer(text):
        i, c = m.start(), m.group()
        if i == skip:
            continue
        if in_string:
            if c == "\\":
                skip = i + 1  # the escaped character
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
            if depth > top:
                top = depth
                if top > limit:
                    break
        elif c in "]}":
            depth -= 1
    return top


_SPECIAL = re.compile(r'[\[\]{}"\\]')


def _json(text: str, what: str = "the spec") -> Any:
    """JSON text to Python values, refusing over-long or over-deep text before the parser sees it."""
    if len(text) > MAX_TEXT:
        raise SpecError(f"{what} is {len(text):,} characters long; the limit is {MAX_TEXT:,}")
    if nesting(text) > MAX_DEPTH:
        raise SpecError(f"{what} nests arrays or objects more than {MAX_DEPTH} levels deep; a spec never does")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise SpecError(f"not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except (ValueError, RecursionError) as e:  # e.g. an integer of more than 4,300 digits
        raise SpecError(f"{what} is not usable JSON ({str(e)[:80]})") from None


def from_dict(d: Any) -> Spec:
    """Parse and migrate a spec dict; errors name the JSON field path."""
    if not isinstance(d, dict):
        raise SpecError(f"a spec must be a JSON object, got {type(d).__name__}")
    check_bounds(d)
    version = d.get("version", VERSION)
    if not isinstance(version, int) or version < 1:
        raise SpecError(f"version: must be a positive integer, got {_short(version)}", path="version")
    if version > VERSION:
        raise SpecError(f"version: this spec is version {version}, newer than this playground "
                        f"(which reads up to {VERSION}); upgrade playground", path="version")
    while version < VERSION:
        d = MIGRATIONS[version](d)
        version += 1
    check_blocks(d)
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
            msg = f"{msg}, got {_short(err.get('input'))}"
        raise SpecError(f"{path}: {msg}", path=path, at=_layer_loc(err["loc"])) from None


NETWORKS = ("model", "discriminator")  # the top-level fields that hold a layer list


def check_blocks(d: dict) -> None:
    """Refuse blocks nested deeper than MAX_BLOCK_DEPTH, and more than MAX_LAYERS layers in a network, naming
    where (an explicit stack: no recursion). Anything else odd is left for the parser to name."""
    for net in NETWORKS:
        layers = d.get(net, {}).get("layers") if isinstance(d.get(net), dict) else None
        if not isinstance(layers, list):
            continue
        stack: list[tuple[list, str, int]] = [(layers, f"{net}.layers", 0)]
        count = 0
        while stack:
            nodes, where, depth = stack.pop()
            count += len(nodes)
            if count > MAX_LAYERS:
                raise SpecError(f"{net}.layers: more than {MAX_LAYERS} layers in all (blocks and the layers inside "
                                "them count); use fewer", path=f"{net}.layers")
            for k, node in enumerate(nodes):
                kind = node.get("type") if isinstance(node, dict) else None
                if not isinstance(kind, str) or kind not in BLOCKS:
                    continue
                here = f"{where}[{k}]"
                if depth >= MAX_BLOCK_DEPTH:
                    raise SpecError(f"{here}: blocks nest more than {MAX_BLOCK_DEPTH} deep here (the limit); take "
                                    "some layers out of their blocks", path=here)
                inner = node.get("layers") if kind == "Residual" else node.get("branches")
                if kind == "Residual" and isinstance(inner, list):
                    stack.append((inner, f"{here}.layers", depth + 1))
                elif isinstance(inner, list):
                    stack += [(b, f"{here}.branches[{j}]", depth + 1) for j, b in enumerate(inner)
                              if isinstance(b, list)]


def from_json(text: str) -> Spec:
    """Parse JSON text into a spec, naming the line of a syntax error."""
    if not isinstance(text, str):
        raise SpecError(f"a spec is JSON text, got {type(text).__name__}")
    return from_dict(_json(text))


def load(path: str | Path) -> Spec:
    """Read a spec file (a regular file of at most MAX_TEXT bytes)."""
    from .uploads import read_file
    raw = read_file(path, MAX_TEXT * 4, what="spec file", error=SpecError)
    try:
        return from_json(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise SpecError(f"cannot read {path}: it is not UTF-8 text") from None


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
    damaged = SpecError("the link's spec is damaged (it could not be decoded); was it cut off when copied?")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        data = zlib.decompressobj().decompress(raw, MAX_TEXT).decode("utf-8")
    except (binascii.Error, ValueError, zlib.error):  # UnicodeDecodeError is a ValueError
        raise damaged from None
    try:
        d = _json(data, "the link's spec")
    except SpecError as e:
        if e.message.startswith("not valid JSON"):
            raise damaged from None
        raise
    return from_dict(d)
