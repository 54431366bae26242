"""The input Inspect and Explain look at: a validation sample, a misclassified one, an uploaded image, a
digit drawn by hand or a typed sentence. The choice is pinned: both pages (and the checkpoints view)
show the same input, and it survives page switches.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch
from PIL import Image, UnidentifiedImageError

from ui import keys, state
from ui.components.draw_canvas import draw_canvas
from ui.components.live_chart import PALETTE
from ui.text import message, plain, short
from ui.views import images
from ui.views.model_source import Loaded, memo

KIND, INDEX, WRONG_KEY = keys.INPUT("kind"), keys.INPUT("index"), keys.INPUT("wrong")  # the picker's widgets
DRAW_KEY, UPLOAD_KEY, TEXT_KEY = keys.INPUT("draw"), keys.INPUT("upload"), keys.INPUT("text")
VAL, WRONG, UPLOAD, DRAW, TYPE = "validation sample", "misclassified sample", "uploaded image", "drawing", "sentence"
MAX_UPLOAD = 5 * 2**20
MAX_SIDE = 4096
MAX_PIXELS = MAX_SIDE * MAX_SIDE  # a phone photo fits; decoded as RGBA it takes 64 MB
WORK_SIDE = 512  # pictures are shrunk to this before any arithmetic (models here see at most 64×64)
Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow's own guard (it refuses twice this when opening), lowered
CHOSEN = "#333333"  # the predicted class's bar


@dataclass
class Input:
    x: torch.Tensor  # (1, *input_shape)
    label: int | None  # the true class, when known
    index: int | None  # its place in the validation split, when it comes from there
    what: str  # "validation sample 12", "your drawing", …
    key: str  # changes with the input: caches key on it


def seed(key: keys.Key, default, valid=None) -> None:
    """Give a widget its pinned value when it has none: widget state does not survive a run (or a page)
    that does not draw the widget. Pair with `on_change=pin, args=(key,)`."""
    pinned = state.get().pinned.values
    if not state.has_widget(key) or (valid is not None and state.widget(key) not in valid):
        v = pinned.get(key, default)
        state.set_widget(key, v if valid is None or v in valid else default)


def pin(key: keys.Key) -> None:
    """Remember a widget's value (an on_change callback)."""
    state.get().pinned.values[key] = state.widget(key)


def val_predictions(m: Loaded) -> dict:
    """The model's outputs ('out') and predicted classes ('pred', classifiers) on the validation split."""
    def run():
        out = m.outputs(m.data.x_val)
        return {"out": out, "pred": m.labels(out).numpy() if m.classify else None}
    return memo("val-predictions", m.key, run)


def kinds(m: Loaded) -> list[str]:
    info = m.info
    out = [VAL] + ([WRONG] if m.classify else [])
    if info.modality == "image" and len(info.input_shape) == 3 and info.input_shape[0] == 1:
        out += [DRAW, UPLOAD]
    if info.tokens and info.vocab:
        out.append(TYPE)
    return out


def is_digits(m: Loaded) -> bool:
    return m.info.name == "digits"


def pick(m: Loaded) -> Input | None:
    """The input widgets (one row); None with a message while there is nothing to show yet."""
    options = kinds(m)
    seed(KIND, DRAW if is_digits(m) and state.get().pinned.drawn else VAL, options)
    n = len(m.data.x_val)
    left, right = st.columns([1, 2.4], vertical_alignment="top")
    kind = left.radio("Input", options, key=KIND, on_change=pin, args=(KIND,),
                      help="Pinned: Inspect, Explain and the checkpoints view all show this input.")
    with right:
        if kind == VAL:
            seed(INDEX, 0)
            state.set_widget(INDEX, min(int(state.widget(INDEX)), n - 1))
            i = int(st.number_input(f"Validation sample (0–{n - 1})", 0, n - 1, key=INDEX, on_change=pin,
                                    args=(INDEX,)))
            return _sample(m, i)
        if kind == WRONG:
            wrong = np.flatnonzero(val_predictions(m)["pred"] != m.data.y_val.numpy())
            if not len(wrong):
                st.success("The model gets every validation sample right: nothing to pick here.")
                return None
            names = m.info.class_names
            seed(WRONG_KEY, int(wrong[0]), set(int(i) for i in wrong))
            pred = val_predictions(m)["pred"]
            i = st.selectbox(f"Misclassified ({len(wrong)} of {n})", [int(i) for i in wrong], key=WRONG_KEY,
                             on_change=pin, args=(WRONG_KEY,),
                             format_func=lambda i: f"#{i}: true {short(names[int(m.data.y_val[i])], 30)}, "
                                                   f"predicted {short(names[int(pred[i])], 30)}")
            return _sample(m, int(i))
        if kind == DRAW:
            return _drawn(m)
        if kind == UPLOAD:
            return _uploaded(m)
        return _typed(m)


def _sample(m: Loaded, i: int) -> Input:
    label = int(m.data.y_val[i]) if m.classify else None
    return Input(m.data.x_val[i:i + 1], label, i, f"validation sample {i}", f"val{i}")


def _digest(a: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(a).tobytes()).hexdigest()[:12]


def _drawn(m: Loaded) -> Input | None:
    c, h, w = m.info.input_shape
    pinned = state.get().pinned
    fresh = not state.has_widget(DRAW_KEY)
    px, cleared = draw_canvas(h, w, key=DRAW_KEY, pixels=pinned.drawn if fresh else None,
                              fit=is_digits(m), hint="Draw with the mouse or a finger; each stroke updates.")
    if px is not None:
        pinned.drawn = px
    elif cleared:
        pinned.drawn = None
    px = pinned.drawn
    if px is None:
        st.caption("Draw a digit in the box: the model sees the grey squares.")
        return None
    x = np.asarray(px, np.float32).reshape(1, c, h, w)
    return Input(torch.from_numpy(x), None, None, "your drawing", f"draw{_digest(x)}")


def image_from_bytes(data: bytes, shape: tuple[int, int, int], fit: bool = False) -> np.ndarray:
    """An uploaded PNG/JPG as the dataset's grey image (C, H, W) in [0, 1], ink high; ValueError if not one.

    The pixel count is read from the header and checked before anything is decoded (a 194 kB PNG can hold
    13,000×13,000 pixels: 2.4 GB decoded); a JPEG is decoded at a reduced scale, and every picture is
    shrunk to at most WORK_SIDE pixels a side before it becomes an array.
    Light paper with dark ink is inverted; `fit` crops to the ink and centres it, as the digits were made.
    """
    if len(data) > MAX_UPLOAD:
        raise ValueError(f"the file is {len(data) / 2**20:.1f} MB; upload an image under {MAX_UPLOAD // 2**20} MB")
    not_an_image = ValueError("the file is not an image (no PNG or JPG picture could be read from it); "
                              "upload a .png or .jpg")
    try:
        img = Image.open(io.BytesIO(data), formats=["PNG", "JPEG"])  # reads the header only
    except Image.DecompressionBombError:
        raise ValueError(f"the image has more than {MAX_PIXELS:,} pixels; upload a smaller picture") from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise not_an_image from None
    w0, h0 = img.size
    if w0 * h0 > MAX_PIXELS:
        raise ValueError(f"the image is {w0:,}×{h0:,} pixels; the limit is {MAX_PIXELS:,} pixels "
                         f"(e.g. {MAX_SIDE:,}×{MAX_SIDE:,}): upload a smaller picture")
    try:
        img.draft("L", (WORK_SIDE, WORK_SIDE))  # JPEG: decode at 1/2, 1/4 or 1/8 scale when that is enough
        img.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.BOX)  # decodes, then shrinks
        if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:  # transparent: onto white paper
            img = Image.alpha_composite(Image.new("RGBA", img.size, "white"), img.convert("RGBA"))
    except (OSError, ValueError, Image.DecompressionBombError):
        raise not_an_image from None
    a = np.asarray(img.convert("L"), dtype=np.float32) / 255.0
    if a.mean() > 0.5:  # dark ink on light paper: the datasets draw ink as high values
        a = 1.0 - a
    c, h, w = shape
    if fit and (a > 0.25).any():
        rows, cols = np.flatnonzero((a > 0.25).any(1)), np.flatnonzero((a > 0.25).any(0))
        a = a[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        side = max(a.shape[0] * w / h, a.shape[1])  # pad to the picture's aspect, ink centred
        pad_w, pad_h = int(round(side - a.shape[1])), int(round(side * h / w - a.shape[0]))
        a = np.pad(a, ((max(0, pad_h) // 2, max(0, pad_h) - max(0, pad_h) // 2),
                       (max(0, pad_w) // 2, max(0, pad_w) - max(0, pad_w) // 2)))
    small = Image.fromarray(np.rint(a * 255).astype(np.uint8)).resize((w, h), Image.Resampling.BOX)
    x = np.asarray(small, dtype=np.float32) / 255.0
    if x.max() > 0:
        x = x / x.max()
    return np.repeat(x[None], c, 0)


def _uploaded(m: Loaded) -> Input | None:
    shape = tuple(m.info.input_shape)
    pinned = state.get().pinned
    f = st.file_uploader(f"A PNG or JPG (made grey and resized to {shape[2]}×{shape[1]})", type=["png", "jpg", "jpeg"],
                         key=UPLOAD_KEY)
    if f is not None and pinned.upload_name != (f.name, f.size):
        pinned.upload_name = (f.name, f.size)
        try:
            pinned.upload, pinned.upload_error = image_from_bytes(f.getvalue(), shape, fit=is_digits(m)), None
        except ValueError as e:
            pinned.upload, pinned.upload_error = None, str(e)
    if f is not None and pinned.upload_error:
        st.error(f"That upload cannot be used: {message(pinned.upload_error)}.", icon=":material/broken_image:")
        return None
    if pinned.upload is None:
        st.caption("Upload a picture: dark ink on light paper works best.")
        return None
    x = pinned.upload[None]
    return Input(torch.from_numpy(x), None, None, "your image", f"upload{_digest(x)}")


def tokens_of(text: str, vocab: list[str], seq_len: int) -> tuple[np.ndarray, list[str]]:
    """A typed sentence as token ids (left-padded like the data, last `seq_len` words) and unknown words."""
    ids = {w: i for i, w in enumerate(vocab)}
    unk = ids.get("<unk>", 1)
    words = re.findall(r"[a-z0-9']+", text.lower())[-seq_len:]
    x = np.zeros(seq_len, np.int64)
    if words:
        x[seq_len - len(words):] = [ids.get(w, unk) for w in words]
    return x, [w for w in words if w not in ids]


def _typed(m: Loaded) -> Input | None:
    seed(TEXT_KEY, "the acting was not good")
    text = st.text_input("Your sentence", key=TEXT_KEY, max_chars=300, on_change=pin, args=(TEXT_KEY,))
    seq_len = m.info.input_shape[0]
    x, unknown = tokens_of(text, m.info.vocab, seq_len)
    if not (x > 0).any():
        st.caption("Type a few words.")
        return None
    if unknown:
        st.caption(f"Not in the model's vocabulary (read as {plain('<unk>')}): {plain(', '.join(unknown[:10]), 200)}")
    return Input(torch.from_numpy(x[None]), None, None, "your sentence", f"text{_digest(x)}")


# ---- showing the input and the prediction -------------------------------------------------------------

def tokens(m: Loaded, x: torch.Tensor) -> list[str]:
    """The words of a token input (one sample), padding included; ids of named fields without a vocabulary
    (a recommender's user and item) read as "user 3", "item 7"."""
    vocab = m.info.vocab
    if not vocab and m.info.field_ids:
        name = {c: f for f, (a, b) in m.info.fields.items() for c in range(a, b)}
        return [f"{name.get(c, 'id')} {int(i)}" for c, i in enumerate(x.reshape(-1))]
    return [vocab[int(i)] if 0 <= int(i) < len(vocab) else "?" for i in x.reshape(-1)]


def show(m: Loaded, inp: Input, target: int = images.TILE) -> None:
    """The input as the model sees it: a grey picture, the words, or the feature values."""
    info = m.info
    if info.modality == "image":
        x = inp.x[0].numpy()
        st.image(images.picture(x[0] if x.shape[0] == 1 else x.mean(0), target=target),
                 caption=f"{inp.what} ({x.shape[-1]}×{x.shape[-2]})", alt=f"the input picture: {short(inp.what)}")
    elif info.tokens:
        words = [w for w in tokens(m, inp.x) if w != "<pad>"]
        st.markdown(f"**{plain(inp.what)}:** " + plain(" ".join(words), 400))
    else:
        x = inp.x.reshape(-1).numpy()
        names = [short(f, 40) for f in info.feature_names] if len(info.feature_names) == len(x) else \
            [f"x{i + 1}" for i in range(len(x))]
        st.dataframe({"feature": names, "value": [float(v) for v in x]}, hide_index=True,
                     height=min(250, 36 + 35 * len(x)))
        st.caption(inp.what)


def prediction(m: Loaded, inp: Input, key: keys.Key) -> None:
    """What the model says for the input: the class and its probability (with the truth), or the value."""
    with torch.no_grad():
        out = m.model(inp.x)
    if out.dim() == 4:  # a picture out (reconstruction, segmentation)
        st.image(images.picture(out[0].mean(0).numpy(), target=150), caption="the model's output",
                 alt="the picture the model outputs")
        return
    if not m.classify:
        vals = out.reshape(-1)[:6].tolist()
        st.markdown("**Output:** " + ", ".join(f"{v:.4g}" for v in vals) + (" …" if out.numel() > 6 else ""))
        return
    p = m.probabilities(out)[0].numpy()
    names = [short(n, 40) for n in m.info.class_names] or [str(i) for i in range(len(p))]
    k = int(p.argmax())
    truth = "" if inp.label is None else (" ✓ correct" if inp.label == k else f" ✗ true: {plain(names[inp.label])}")
    st.markdown(f"**Predicted: {plain(names[k])}** ({p[k]:.0%}){truth}")
    colors = [CHOSEN if i == k else PALETTE["other"] for i in range(len(p))]  # no hue: classes may be colours
    fig = go.Figure(go.Bar(x=names, y=p, marker_color=colors,
                           hovertemplate="%{x}: %{y:.1%}<extra></extra>"))
    fig.update_layout(height=170, margin={"l": 40, "r": 10, "t": 10, "b": 30}, yaxis={"range": [0, 1],
                      "title": "probability", "tickformat": ".0%"}, xaxis={"title": None, "type": "category"})
    st.plotly_chart(fig, width="stretch", key=key, config={"displayModeBar": False})
