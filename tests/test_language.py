"""The language applications: the dates and chat generators, the tokenizer for typed text, the translate
task's score and report, slot F1 against hand counts, and the views' engine calls on small models."""

from __future__ import annotations

import datetime

import numpy as np
import pytest
import torch

from playground import language, presets, tasks
from playground.appdata import language as lang
from playground.data import info as data_info
from playground.data import load
from playground.spec import from_dict
from playground.train import Trainer

GENERATORS = {"dates": (lang.written_dates, lang.SENTENCE + lang.ANSWER, len(lang.DATE_OUT)),
              "chat": (lang.chat_requests, lang.UTTERANCE + 1, len(lang.CHAT_OUT))}


@pytest.mark.parametrize("name", GENERATORS)
def test_generators_are_deterministic_by_seed_with_stated_shapes(name):
    make, length, outputs = GENERATORS[name]
    a, b, c = (make(60, 0.0, np.random.default_rng(s)) for s in (3, 3, 4))
    assert all(np.array_equal(p, q) for p, q in zip(a[:2], b[:2], strict=True))
    assert not np.array_equal(a[0], c[0])
    x, y, _, info = a
    assert x.shape == (60, length) and x.dtype == np.int64 and y.shape == (60, length, outputs)
    assert (y.sum(-1) == 1).all() and x.min() >= 0 and x.max() < len(info["vocab"])
    assert lang.UNK not in [info["vocab"][t] for t in x.ravel()]  # the generators' words are all known


def test_a_date_reads_back_to_its_iso_form():
    x, y, extras, _ = lang.written_dates(200, 0.0, np.random.default_rng(0))
    for i in range(200):
        date = lang.date_of(int(extras["day"][i]))
        words = [lang.DATE_VOCAB[t] for t in x[i, :lang.SENTENCE] if t]
        assert " ".join(words) == lang.date_words(date, int(extras["format"][i]))
        answer = "".join(lang.DATE_OUT[t] for t in y[i].argmax(-1)[lang.SENTENCE:])
        assert answer == date.isoformat() and (y[i, :lang.SENTENCE].argmax(-1) == 0).all()
        assert (x[i, lang.SENTENCE:] == lang.DATE_VOCAB.index("<slot>")).all()
    assert set(extras["format"]) == set(range(len(lang.FORMATS)))


@pytest.mark.parametrize(("date", "form", "words"), [
    ((1999, 3, 21), 0, "the twenty first of march nineteen ninety nine"),
    ((2004, 3, 5), 1, "march the fifth two thousand and four"),
    ((2024, 7, 30), 2, "thirtieth july twenty twenty four"),
    ((1900, 12, 12), 3, "december twelfth nineteen hundred"),
    ((1905, 2, 1), 0, "the first of february nineteen oh five"),
    ((2000, 10, 20), 3, "october twentieth two thousand"),
    ((2010, 1, 31), 0, "the thirty first of january twenty ten")])
def test_dates_in_words_by_hand(date, form, words):
    d = datetime.date(*date)
    assert lang.date_words(d, form) == words
    parts = lang.date_parts(d, form)
    assert len(parts) == len(words.split()) and {"d", "m", "y"} <= set(parts)


def test_the_chat_intents_are_balanced_and_tags_follow_bio():
    x, y, extras, _ = lang.chat_requests(500, 0.0, np.random.default_rng(1))
    assert np.bincount(extras["intent"]).tolist() == [100] * len(lang.INTENTS)
    out = y.argmax(-1)
    assert (out[:, 0] >= len(lang.TAGS)).all() and (out[:, 1:] < len(lang.TAGS)).all()
    for row, ids in zip(out, x, strict=True):
        tags = [lang.TAGS[t] for t in row[1:]]
        for i, t in enumerate(tags):  # an I- tag continues the same slot
            if t.startswith("I-"):
                assert tags[i - 1][2:] == t[2:]
        assert all(t == "O" for t, w in zip(tags, ids[1:], strict=True) if w == 0)  # padding is no slot


def test_noise_relabels_that_share():
    clean = lang.chat_requests(2000, 0.0, np.random.default_rng(2))[2]["intent"]
    noisy = lang.chat_requests(2000, 0.5, np.random.default_rng(2))[2]["intent"]
    changed = (clean != noisy).mean()  # a random relabel keeps the same intent 1 time in 5
    assert 0.3 < changed < 0.5


def test_the_tokenizer_is_bounded_and_safe():
    ids, words, cut = lang.encode("Book <b>a</b> TABLE, for 4!", lang.CHAT_VOCAB, 12)
    assert words == ["book", "b", "a", "b", "table", "for", "4"] and cut == 0  # markup is not kept as markup
    unk = lang.CHAT_VOCAB.index(lang.UNK)
    assert ids.tolist()[:7] == [lang.CHAT_VOCAB.index("book"), unk, lang.CHAT_VOCAB.index("a"), unk,
                                lang.CHAT_VOCAB.index("table"), lang.CHAT_VOCAB.index("for"), unk]
    assert (ids[7:] == 0).all()
    ids, words, cut = lang.encode("word " * 100_000, lang.CHAT_VOCAB, 12)  # a huge text: read only its start
    assert len(ids) == 12 and len(words) == 12 and cut == lang.MAX_CHARS // 5 - 12
    assert lang.words("o'clock don't ''x'' \x00\u202e") == ["o'clock", "don't", "x"]
    x, kept, _ = lang.date_input("")
    assert kept == [] and x.shape == (lang.SENTENCE + lang.ANSWER,)


def test_exact_match_by_hand():
    target = torch.eye(3)[torch.tensor([[0, 1, 2], [2, 2, 2], [1, 0, 1]])]  # 3 sequences of 3 tokens
    out = target.clone()
    out[1, 0] = torch.tensor([1.0, 0.0, 0.5])  # sequence 2's first token wrong
    counts = language.exact_counts(out, target)
    assert counts.tolist() == [2, 3]
    assert language.exact_match([counts, language.exact_counts(target[:1], target[:1])]) == 3 / 4


@pytest.mark.parametrize(("tags", "found"), [
    (["B-time", "I-time", "O", "B-city"], {(0, 2, "time"), (3, 4, "city")}),
    (["I-day", "I-day", "B-day"], {(0, 2, "day"), (2, 3, "day")}),  # an I- that continues nothing starts one
    (["B-from", "I-to", "O"], {(0, 1, "from"), (1, 2, "to")}),  # a different slot's I- starts another
    (["O", "O"], set())])
def test_spans_read_bio_like_conlleval(tags, found):
    assert language.spans(tags) == found


def test_slot_f1_by_hand():
    true = [["B-people", "O", "B-time", "I-time"], ["B-city", "O"]]
    pred = [["B-people", "O", "B-time", "O"], ["B-city", "B-day"]]  # the time is cut short; a day too many
    f = language.slot_f1(true, pred)
    precision, recall = 2 / 4, 2 / 3  # right: people, city; predicted 4; true 3
    assert f["precision"] == precision and f["recall"] == recall
    assert f["f1"] == pytest.approx(2 * precision * recall / (precision + recall))
    assert language.slot_f1([["O"]], [["O"]])["f1"] == 1.0


def test_aligned_share_by_hand():
    grid = np.zeros((1, lang.ANSWER, 4))
    parts = [["", "m", "y", "d"]]  # "the march twenty fifth"-like: one word of each part
    for slot, part in enumerate(lang.ANSWER_PARTS):
        if part in lang.PARTS:
            grid[0, slot, parts[0].index(part)] = 0.6  # 0.6 on its own word, 0.2 on "the"
            grid[0, slot, 0] = 0.2
    assert language.aligned_share(grid, parts) == pytest.approx(0.75)
    assert language.aligned_share(np.ones_like(grid), parts) == pytest.approx(0.25)


@pytest.mark.parametrize("preset", ["translate-transformer", "chat-intents"])
def test_the_presets_name_the_translate_task(preset):
    spec = presets.get(preset)
    info = data_info(spec.data)
    assert tasks.of(spec, info).name == "translate" and info.tokens
    assert tasks.TASKS.get("translate").why_not("explain")


def _small(name: str, epochs: int = 1, n: int = 300):
    d = presets.get(name).to_dict()
    d["data"]["n_samples"] = n
    d["train"].update(epochs=epochs, device="cpu")
    spec = from_dict(d)
    trainer = Trainer(spec, load(spec.data), device="cpu")
    metrics = list(trainer.fit())
    return trainer, metrics


def test_translate_keeps_exact_match_and_reports_sequences():
    trainer, metrics = _small("translate-transformer")
    assert 0 <= metrics[-1]["val_exact_match"] <= 1 and "train_exact_match" in metrics[-1]
    r = trainer.task.report(trainer)
    assert r["kind"] == "sequences" and len(r["rows"]) == 8
    first = r["rows"][0]
    assert first["input"].endswith("<slot> " * 9 + "<slot>") and len(first["target"].split()) == lang.ANSWER
    figures = language.dates_figures(trainer.model, trainer.data)
    assert figures["exact match"] == pytest.approx(r["exact_match"])  # the same held-out sentences
    assert 0 <= figures["attention on its own part (layer 1)"] <= 1


def test_translate_a_typed_sentence():
    trainer, _ = _small("translate-transformer")
    t = language.translate(trainer.model, "The 21st of MARCH, nineteen ninety nine <script>")
    assert t["words"] == ["the", "21", "st", "of", "march", "nineteen", "ninety", "nine", "script"]
    assert t["unknown"] == ["21", "st", "script"] and t["cut"] == 0
    assert len(t["characters"]) == lang.ANSWER and len(t["attention"]) == 2
    grid = t["attention"][0]
    assert grid.shape == (lang.ANSWER, len(t["words"])) and (grid >= 0).all() and (grid.sum(1) <= 1 + 1e-5).all()


def test_chat_reply_reads_intent_slots_and_attributions():
    trainer, _ = _small("chat-intents", epochs=3, n=1000)
    r = language.reply(trainer.model, "book a table for four at seven pm")
    assert r["intent"] in lang.INTENTS and sum(r["probabilities"].values()) == pytest.approx(1, abs=1e-5)
    assert len(r["tags"]) == len(r["words"]) == len(r["attributions"]) == 8
    assert all(t in lang.TAGS for t in r["tags"])
    assert np.isfinite(r["attributions"]).all() and np.abs(r["attributions"]).sum() > 0
    figures = language.chat_figures(trainer.model, trainer.data)
    assert {"intent accuracy", "slot F1"} <= set(figures)


def test_a_perfect_chat_model_scores_one():
    ds = load(presets.get("chat-intents").data.model_copy(update={"n_samples": 200}))

    class Oracle(torch.nn.Module):  # looks the answer up: the figures of the truth itself
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(()))

        def forward(self, x):
            return ds.y_val[:len(x)] + self.w

    figures = language.chat_figures(Oracle(), ds)
    assert figures["intent accuracy"] == 1.0 and figures["slot F1"] == 1.0
