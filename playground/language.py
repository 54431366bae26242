"""Sequence to sequence, one output token per input position (task `translate`): its score, its report, and
the language applications' reading of a trained model: a typed date translated with the attention of each
answer slot over the words, a typed request's intent and slots with each word's share in the intent, and
their figures (exact-match accuracy; intent accuracy and entity-level slot F1).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .appdata import language as lang
from .attribution import attribute
from .probe import _attention

# ---- the task's score and report -------------------------------------------------------------------


def exact_counts(out: torch.Tensor, target: torch.Tensor, loss=None) -> torch.Tensor:
    """(2,) counts: sequences whose every position's largest output is the target token (one-hot targets),
    and sequences."""
    right = (out.argmax(-1) == target.argmax(-1)).flatten(1).all(1)
    return torch.stack([right.sum(), torch.tensor(len(out), device=out.device)])


def exact_match(kept: list[torch.Tensor], labels=None, loss=None) -> float:
    """Share of sequences entirely right, from the counts of an epoch's batches (`exact_counts`)."""
    right, n = torch.stack(kept).sum(0).tolist()
    return right / n if n else float("nan")


OUTPUTS = {"dates": lang.DATE_OUT, "chat": lang.CHAT_OUT}  # output tokens by dataset


def output_tokens(info) -> list[str]:
    """The names of a dataset's output tokens: its own, or its input vocabulary when the outputs are the input
    tokens (reverse)."""
    n = info.target_shape[-1]
    names = OUTPUTS.get(info.name) or (info.vocab if len(info.vocab) == n else [])
    return list(names) if len(names) == n else [str(i) for i in range(n)]


def _text(ids, names: list[str]) -> str:
    return " ".join(names[i] for i in ids if names[i] != lang.PAD)


@torch.no_grad()
def report(trainer, k: int = 8) -> dict:
    """The first `k` validation sequences (input, target and predicted tokens as text), exact-match and
    per-token accuracy over the split."""
    info = trainer.data.info
    out = trainer.predict(trainer.data.x_val)
    pred, true = out.argmax(-1), trainer.data.y_val.argmax(-1)
    names = output_tokens(info)
    vocab = info.vocab or [str(i) for i in range(int(trainer.data.x_val.max()) + 1)]
    rows = [{"input": _text(x.tolist(), vocab), "target": _text(t.tolist(), names),
             "predicted": _text(p.tolist(), names)}
            for x, t, p in zip(trainer.data.x_val[:k], true[:k], pred[:k], strict=True)]
    return {"kind": "sequences", "rows": rows, "exact_match": float((pred == true).all(1).float().mean()),
            "token_accuracy": float((pred == true).float().mean())}


# ---- dates ------------------------------------------------------------------------------------------

def _encoder_layers(model: nn.Module) -> list[int]:
    return [i for i, m in enumerate(model) if isinstance(m, nn.TransformerEncoderLayer)]


@torch.no_grad()
def attention_maps(model: nn.Module, x: torch.Tensor) -> list[np.ndarray]:
    """Each Transformer encoder layer's attention for the inputs `x` (B, T), averaged over heads: a (B, T, T)
    array per layer, row = the position that reads, column = the position read."""
    model.eval()
    device = next(model.parameters()).device
    h, maps = x.to(device), []
    for i, m in enumerate(model):
        if isinstance(m, nn.TransformerEncoderLayer):
            maps.append(_attention(m, h).mean(1).cpu().numpy())
        h = m(h)
        del i
    return maps


def unknown(words: list[str], vocab: list[str]) -> list[str]:
    """The words not in `vocab`, each once, in the order they come."""
    known = set(vocab)
    return list(dict.fromkeys(w for w in words if w not in known))


def _answer(ids: np.ndarray) -> str:
    return "".join(lang.DATE_OUT[i] for i in ids if lang.DATE_OUT[i] != lang.PAD)


@torch.no_grad()
def translate(model: nn.Module, text: str) -> dict:
    """A typed date in words, translated: the words read (<unk> where the model does not know one), how many
    were cut off, the ISO answer, each slot's probability of its character, and each encoder layer's
    attention from the answer slots (rows) to the words (columns), averaged over heads."""
    x, kept, cut = lang.date_input(text)
    model.eval()
    device = next(model.parameters()).device
    out = model(torch.from_numpy(x)[None].to(device))[0].cpu()  # (T, outputs)
    slots = slice(lang.SENTENCE, lang.SENTENCE + lang.ANSWER)
    p = torch.softmax(out[slots], -1)
    ids = p.argmax(-1).numpy()
    n = len(kept)
    maps = attention_maps(model, torch.from_numpy(x)[None]) if _encoder_layers(model) else []
    return {"words": kept, "unknown": unknown(kept, lang.DATE_VOCAB), "cut": cut,
            "answer": _answer(ids), "characters": [lang.DATE_OUT[i] for i in ids],
            "confidence": p.max(-1).values.numpy(),
            "attention": [m[0, slots, :n] for m in maps]}


@torch.no_grad()
def exact_match_accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 1024) -> float:
    """Share of sequences whose every position is predicted right (one-hot targets `y`)."""
    model.eval()
    device = next(model.parameters()).device
    kept = [exact_counts(model(x[i:i + batch].to(device)).cpu(), y[i:i + batch]) for i in range(0, len(x), batch)]
    return exact_match(kept)


def aligned_share(grids: np.ndarray, parts: list[list[str]]) -> float:
    """Of the attention that the answer's digit slots give to the words, the share on the words of their own
    part of the date (the year's digits on the year's words, ...), averaged over slots and sentences.
    `grids` (B, ANSWER, SENTENCE): slot-to-word attention; `parts`: each sentence's word parts (date_parts)."""
    shares = []
    for grid, ps in zip(grids, parts, strict=True):
        ps = np.array(ps)
        for slot, part in enumerate(lang.ANSWER_PARTS):
            on_words = grid[slot, :len(ps)]
            if part in lang.PARTS and on_words.sum() > 0:
                shares.append(on_words[ps == part].sum() / on_words.sum())
    return float(np.mean(shares)) if shares else float("nan")


def dates_figures(model: nn.Module, ds, samples: int = 500) -> dict[str, float]:
    """Exact-match accuracy on the held-out sentences (the whole ISO date right), per character, and the
    first encoder layer's aligned share (`aligned_share`) on the first `samples` of them."""
    with torch.no_grad():
        model.eval()
        device = next(model.parameters()).device
        out = torch.cat([model(ds.x_val[i:i + 1024].to(device)).cpu() for i in range(0, len(ds.x_val), 1024)])
    slots = slice(lang.SENTENCE, lang.SENTENCE + lang.ANSWER)
    right = out[:, slots].argmax(-1) == ds.y_val[:, slots].argmax(-1)
    figures = {"exact match": float(right.all(1).float().mean()), "characters right": float(right.float().mean())}
    if _encoder_layers(model) and "day" in ds.extras_val:
        first = attention_maps(model, ds.x_val[:samples])[0][:, slots, :lang.SENTENCE]
        parts = [lang.date_parts(lang.date_of(int(d)), int(f))
                 for d, f in zip(ds.extras_val["day"][:samples], ds.extras_val["format"][:samples], strict=True)]
        figures["attention on its own part (layer 1)"] = aligned_share(first, parts)
        figures["the same, spread evenly"] = aligned_share(np.ones_like(first), parts)
    return figures


# ---- chat -------------------------------------------------------------------------------------------

N_TAGS = len(lang.TAGS)


def read_outputs(out: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Intents (B,) and tags (B, T-1) from a chat model's outputs (B, T, CHAT_OUT): <cls>'s likeliest intent,
    each word's likeliest tag (each read among its own kind of output)."""
    return out[:, 0, N_TAGS:].argmax(-1).numpy(), out[:, 1:, :N_TAGS].argmax(-1).numpy()


def spans(tags: list[str]) -> set[tuple[int, int, str]]:
    """Entities (start, end exclusive, slot) in BIO tags, as conlleval reads them: B- starts one, I- of the
    same slot continues it, an I- that continues nothing starts one, O ends it."""
    found, start, kind = set(), None, None
    for i, t in enumerate([*tags, "O"]):
        b, _, slot = t.partition("-")
        if start is not None and (b != "I" or slot != kind):
            found.add((start, i, kind))
            start = None
        if b == "B" or (b == "I" and start is None):
            start, kind = i, slot
    return found


def slot_f1(true: list[list[str]], pred: list[list[str]]) -> dict[str, float]:
    """Entity-level precision, recall and F1 over utterances: an entity counts when its span and slot both
    match exactly. No entities anywhere: all 1."""
    tp = n_true = n_pred = 0
    for t, p in zip(true, pred, strict=True):
        a, b = spans(t), spans(p)
        tp, n_true, n_pred = tp + len(a & b), n_true + len(a), n_pred + len(b)
    precision = tp / n_pred if n_pred else 1.0
    recall = tp / n_true if n_true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def chat_figures(model: nn.Module, ds) -> dict[str, float]:
    """Intent accuracy and entity-level slot F1 on the held-out utterances (padding's tags left out)."""
    with torch.no_grad():
        model.eval()
        device = next(model.parameters()).device
        out = torch.cat([model(ds.x_val[i:i + 1024].to(device)).cpu() for i in range(0, len(ds.x_val), 1024)])
    intents, tags = read_outputs(out)
    true_intents, true_tags = read_outputs(ds.y_val)
    words = (ds.x_val[:, 1:] != 0).numpy()
    names = lang.TAGS
    true = [[names[t] for t in row[w]] for row, w in zip(true_tags, words, strict=True)]
    pred = [[names[t] for t in row[w]] for row, w in zip(tags, words, strict=True)]
    f = slot_f1(true, pred)
    return {"intent accuracy": float((intents == true_intents).mean()), "slot F1": f["f1"],
            "slot precision": f["precision"], "slot recall": f["recall"]}


class _Flat(nn.Module):
    """A per-position model's outputs flattened to (B, T·outputs): attribution explains one score of a flat
    output."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x).flatten(1)


def reply(model: nn.Module, text: str, steps: int = 32) -> dict:
    """A typed request read by the chat model: the words read, those it does not know, how many were cut off,
    the intent with each intent's probability, each word's tag, the slots filled, and each word's
    attribution to the intent (Integrated Gradients through the Embedding, from an all-<pad> baseline)."""
    x, kept, cut = lang.chat_input(text)
    xt = torch.from_numpy(x)[None]
    with torch.no_grad():
        model.eval()
        out = model(xt.to(next(model.parameters()).device)).cpu()
    intents, tags = read_outputs(out)
    p = torch.softmax(out[0, 0, N_TAGS:], -1).numpy()
    n = len(kept)
    word_tags = [lang.TAGS[t] for t in tags[0, :n]]
    intent = int(intents[0])
    a = attribute(_Flat(model), xt, "integrated_gradients", target=N_TAGS + intent, steps=steps)
    slots = [{"slot": s, "words": " ".join(kept[i:j])} for i, j, s in sorted(spans(word_tags))]
    return {"words": kept, "unknown": unknown(kept, lang.CHAT_VOCAB), "cut": cut,
            "intent": lang.INTENTS[intent], "probabilities": dict(zip(lang.INTENTS, p.tolist(), strict=True)),
            "tags": word_tags, "slots": slots, "attributions": a.values[0, 1:n + 1].numpy()}
