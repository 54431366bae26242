"""What the board accepts: names, metrics, curves and specs checked and bounded; codes, keys and their hashes.

Everything here comes from a browser: a name is one line of at most NAME characters, a metric a short
identifier with a finite number, a curve at most CURVE_POINTS epochs of such numbers, a spec what the spec
module accepts and small enough to travel as a link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import secrets

from ..registry import PlaygroundError
from ..spec import MAX_URL_CHARS, Spec, encode, from_dict
from .schema import METRIC, NAME

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read off a projector and typed without doubt
CODE_LENGTH = 6  # 31^6 ≈ 8.9e8 codes; with failed joins rate-limited, guessing one takes months (see board.py)
CURVE_POINTS = 200  # epochs of a curve kept (evenly thinned, always with the last)
METRICS = 16  # numbers kept per epoch
SECRET_BYTES = 24  # 192 bits of a key's secret half (at least 128 asked)
_METRIC = re.compile(rf"[A-Za-z][A-Za-z0-9_]{{0,{METRIC - 1}}}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_KEY = re.compile(r"([A-Za-z0-9_-]{8,16})\.([A-Za-z0-9_-]{32})")  # public id . secret


class BoardError(PlaygroundError):
    """Something the board refused, with a message for the person who asked."""


def name(text: object, what: str = "name") -> str:
    """`text` as one clean line of 1…NAME characters (control characters become spaces), or BoardError."""
    if not isinstance(text, str):
        raise BoardError(f"the {what} must be text")
    clean = _CONTROL.sub(" ", text.encode("utf-8", "replace").decode("utf-8")).strip()
    clean = re.sub(r"\s{2,}", " ", clean)
    if not clean:
        raise BoardError(f"the {what} is empty")
    if len(clean) > NAME:
        raise BoardError(f"the {what} is {len(clean)} characters long; the limit is {NAME}")
    return clean


def fold(text: str) -> str:
    """A name as compared for sameness: 'Ada' and ' ada ' are one student."""
    return text.casefold()[:NAME]


def code(text: object) -> str | None:
    """A join code as typed (any case, spaces and dashes ignored), or None when it cannot be one."""
    if not isinstance(text, str) or len(text) > 4 * CODE_LENGTH:
        return None
    c = re.sub(r"[\s-]", "", text).upper()
    return c if len(c) == CODE_LENGTH and all(ch in CODE_ALPHABET for ch in c) else None


def new_code() -> str:
    """A fresh random join code."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def new_key() -> tuple[str, str, str]:
    """A fresh key: (public id, secret, key text 'id.secret'); only the secret's hash is stored."""
    public, secret = secrets.token_urlsafe(9), secrets.token_urlsafe(SECRET_BYTES)
    return public, secret, f"{public}.{secret}"


def viewer_secret(teacher_secret: str) -> str:
    """The presenter view's secret, derived from the teacher's (HMAC: it never leads back to the teacher's)."""
    mac = hmac.new(teacher_secret.encode(), b"playground presenter view", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode()[:32]  # 192 bits, shaped like every other secret


def split_key(key: object) -> tuple[str, str] | None:
    """(public id, secret) of a key's text, or None when it is not shaped like one."""
    m = _KEY.fullmatch(key) if isinstance(key, str) else None
    return (m.group(1), m.group(2)) if m else None


def digest(secret: str) -> str:
    """What is stored of a secret: its SHA-256 (a 192-bit random secret needs no slow hash)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def matches(secret: str, stored: str | None) -> bool:
    """Whether `secret` hashes to `stored`, compared in constant time (also when nothing was stored)."""
    return hmac.compare_digest(digest(secret), stored or "0" * 64) and stored is not None


def metric_name(value: object) -> str:
    """A metric's name (`val_accuracy`): a short identifier, or BoardError."""
    if not isinstance(value, str) or not _METRIC.fullmatch(value):
        raise BoardError(f"the metric name {str(value)[:METRIC]!r} is not a short identifier")
    return value


BOOKKEEPING = ("lr", "seconds", "steps")  # numbers of an epoch's line that measure no result: not kept


def metrics(values: object, keep_epoch: bool = False) -> dict[str, float]:
    """A run's final numbers: at most METRICS names like `val_accuracy`, each with a finite number (the
    trainer's bookkeeping, and the epoch number unless `keep_epoch`, left out)."""
    if not isinstance(values, dict):
        raise BoardError("the metrics must be a mapping of names to numbers")
    out = {}
    for k, v in values.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or k in BOOKKEEPING or (
                k == "epoch" and not keep_epoch):
            continue  # texts and flags of a run's metrics (a device name) and its bookkeeping are not ranked
        metric_name(k)
        if not math.isfinite(v):
            raise BoardError(f"the metric {k} is {v}, not a finite number")
        out[k] = float(v)
        if len(out) > METRICS:
            raise BoardError(f"a submission keeps at most {METRICS} metrics")
    return out


def curve(epochs: object) -> list[dict[str, float]]:
    """Per-epoch metrics as checked numbers, thinned evenly to at most CURVE_POINTS (the last always kept)."""
    if not isinstance(epochs, list):
        raise BoardError("the curve must be a list of epochs")
    if len(epochs) > 100_000:
        raise BoardError("the curve has more epochs than any run may train")
    step = max(1, -(-len(epochs) // CURVE_POINTS))
    kept = epochs[::step]
    if epochs and kept[-1] is not epochs[-1]:
        kept = kept[:-1] + [epochs[-1]] if len(kept) >= CURVE_POINTS else kept + [epochs[-1]]
    return [metrics(m, keep_epoch=True) for m in kept]


def spec(value: object) -> Spec:
    """A submitted setup: a valid spec, on data anyone can rebuild (not a user's file), small enough to open
    as a link."""
    s = from_dict(value)
    from ..data import DATASETS
    if DATASETS.get(s.data.name, "data.name").user_file:
        raise BoardError("a setup trained on your own file cannot be submitted: the board keeps setups, not "
                         "files, so nobody else could open it")
    if len(encode(s)) > MAX_URL_CHARS:
        raise BoardError("this setup is too large to submit (it would not fit in a link)")
    return s
