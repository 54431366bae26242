"""Two small synthetic languages, deterministic by seed, and the tokenizer that reads what a user types.

Dates: a date written out in words ("the twenty first of march nineteen ninety nine") and its ISO form
("1999-03-21"), a character per answer slot. Chat: a user's request ("book a table for four at seven pm")
with its intent (book_table) and a BIO slot tag per word (people: four; time: seven pm).

Both are per-position sequence tasks for an encoder: the input is token ids, the target one token per input
position (one-hot), so a stack of Transformer encoder layers reads every position at once. A dates input is
the sentence padded to SENTENCE words followed by ANSWER empty slots; each slot's target is a character of
the ISO date (a sentence word's target is <pad>). A chat input is <cls> and the words; <cls>'s target is the
intent, each word's its tag.
"""

from __future__ import annotations

import datetime
import functools
import re

import numpy as np

PAD, UNK = "<pad>", "<unk>"  # <pad> is id 0: attribution's baseline for token inputs is id 0
MAX_CHARS = 300  # of typed text read at all

# ---- the tokenizer --------------------------------------------------------------------------------

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?|[0-9]+")


def words(text: str) -> list[str]:
    """Lower-case words of `text` (letters with one apostrophe inside, or digits); everything else separates
    them. Only the first MAX_CHARS characters are read."""
    return _WORD.findall(str(text)[:MAX_CHARS].lower())


@functools.cache
def _ids(vocab: tuple[str, ...]) -> dict[str, int]:
    return {w: i for i, w in enumerate(vocab)}


def encode(text: str, vocab: list[str], length: int) -> tuple[np.ndarray, list[str], int]:
    """Token ids of the first `length` words of `text` (a word not in `vocab` is <unk>), padded with <pad> to
    `length`; the words read (as typed, for showing) and how many words were cut off."""
    ids = _ids(tuple(vocab))
    ws = words(text)
    kept = ws[:length]
    x = np.zeros(length, np.int64)
    x[:len(kept)] = [ids.get(w, ids[UNK]) for w in kept]
    return x, kept, len(ws) - len(kept)


# ---- dates: words -> ISO --------------------------------------------------------------------------

MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december"]
UNITS = ["", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
         "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
ORDINAL_UNITS = ["", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth"]
ORDINAL_TEENS = ["tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth",
                 "seventeenth", "eighteenth", "nineteenth"]
ORDINAL_TENS = {2: "twentieth", 3: "thirtieth"}
FORMATS = ["the {d} of {m} {y}", "{m} the {d} {y}", "{d} {m} {y}", "{m} {d} {y}"]
SENTENCE = 10  # words of a sentence read (the longest date is 9)
ANSWER = 10  # characters of an ISO date, YYYY-MM-DD
FIRST_YEAR, LAST_YEAR = 1900, 2099


def two_digits(n: int) -> str:
    """10..99 in words: "ten", "twenty", "forty two"."""
    if n < 20:
        return TEENS[n - 10]
    return f"{TENS[n // 10]} {UNITS[n % 10]}".strip()


def ordinal(day: int) -> str:
    """1..31 as an ordinal in words: "first", "twelfth", "twenty first", "thirtieth"."""
    if day < 10:
        return ORDINAL_UNITS[day]
    if day < 20:
        return ORDINAL_TEENS[day - 10]
    return ORDINAL_TENS[day // 10] if day % 10 == 0 else f"{TENS[day // 10]} {ORDINAL_UNITS[day % 10]}"


def year_words(year: int) -> str:
    """1900..2099 as people say them: "nineteen hundred", "nineteen oh five", "nineteen ninety nine",
    "two thousand", "two thousand and seven", "twenty twenty four"."""
    century, rest = divmod(year, 100)
    if century == 20 and rest < 10:
        return "two thousand" + (f" and {UNITS[rest]}" if rest else "")
    head = two_digits(century)
    if rest == 0:
        return f"{head} hundred"
    return f"{head} oh {UNITS[rest]}" if rest < 10 else f"{head} {two_digits(rest)}"


def date_words(date: datetime.date, form: int = 0) -> str:
    """A date written out in words in one of FORMATS."""
    return FORMATS[form].format(d=ordinal(date.day), m=MONTHS[date.month - 1], y=year_words(date.year))


PARTS = {"d": "day", "m": "month", "y": "year"}
ANSWER_PARTS = "yyyy-mm-dd"  # which part of the date each answer slot holds


def date_parts(date: datetime.date, form: int = 0) -> list[str]:
    """The part of the date ("d", "m", "y"; "" for "the" and "of") each word of `date_words(date, form)` says."""
    said = {"d": ordinal(date.day), "m": MONTHS[date.month - 1], "y": year_words(date.year)}
    out: list[str] = []
    for piece in FORMATS[form].split():
        key = piece.strip("{}")
        out += [key] * len(said[key].split()) if key in said else [""]
    return out


def _date_vocab() -> list[str]:
    ws = {"the", "of", "oh", "hundred", "thousand", "and", *MONTHS, *UNITS[1:], *TEENS, *TENS[2:],
          *ORDINAL_UNITS[1:], *ORDINAL_TEENS, *ORDINAL_TENS.values()}
    return [PAD, UNK, "<slot>", *sorted(ws)]


DATE_VOCAB = _date_vocab()  # the input tokens: words, and <slot> for an empty answer slot
DATE_OUT = [PAD, *"0123456789", "-"]  # the output tokens
_FIRST = datetime.date(FIRST_YEAR, 1, 1).toordinal()
_DAYS = datetime.date(LAST_YEAR, 12, 31).toordinal() - _FIRST + 1


def date_of(day: int) -> datetime.date:
    """The date `day` days after FIRST_YEAR-01-01 (the `day` extra of a sample)."""
    return datetime.date.fromordinal(_FIRST + day)


def date_input(text: str) -> tuple[np.ndarray, list[str], int]:
    """A typed sentence as the model's input: its first SENTENCE words then ANSWER <slot>s; the words read and
    the number cut off."""
    x, kept, cut = encode(text, DATE_VOCAB, SENTENCE)
    return np.r_[x, np.full(ANSWER, DATE_VOCAB.index("<slot>"))], kept, cut


def iso_target(iso: str) -> np.ndarray:
    """The output token per input position for an ISO date: <pad> under the sentence, its characters in the
    slots."""
    return np.r_[np.zeros(SENTENCE, np.int64), [DATE_OUT.index(c) for c in iso]]


def written_dates(n: int, noise: float, rng: np.random.Generator):
    """n dates drawn uniformly from FIRST_YEAR..LAST_YEAR, each written in a random one of FORMATS; the
    target is the ISO date, one-hot per position. `noise`: that share of the answer characters replaced by a
    random digit (a noisy teacher). Extras: the date as days since FIRST_YEAR-01-01, and the format."""
    day = rng.integers(0, _DAYS, n)
    form = rng.integers(0, len(FORMATS), n)
    x = np.zeros((n, SENTENCE + ANSWER), np.int64)
    target = np.zeros((n, SENTENCE + ANSWER), np.int64)
    for i in range(n):
        date = date_of(int(day[i]))
        x[i] = date_input(date_words(date, int(form[i])))[0]
        target[i] = iso_target(date.isoformat())
    if noise:
        flip = rng.random((n, ANSWER)) < noise
        digit = rng.integers(1, 11, (n, ANSWER))
        target[:, SENTENCE:] = np.where(flip, digit, target[:, SENTENCE:])
    y = np.eye(len(DATE_OUT), dtype=np.float32)[target]
    return x, y, {"day": day.astype(np.int64), "format": form.astype(np.int64)}, \
        {"vocab": DATE_VOCAB, "outputs": DATE_OUT}


# ---- chat: intents and slots -----------------------------------------------------------------------

CITIES = ["london", "paris", "berlin", "tokyo", "madrid", "rome", "lisbon", "oslo", "cairo", "lima", "sydney",
          "boston", "dublin", "vienna", "prague", "delhi"]
DAYS = ["today", "tomorrow", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
HOURS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
PEOPLE = ["two", "three", "four", "five", "six", "seven", "eight", "ten", "twelve"]

# {slot} fills a slot; the rest are plain words. Several templates an intent, so that words alone do not say
# the intent (a "table" is booked, "seven" is a time or a party's size).
TEMPLATES = {
    "book_table": ["book a table for {people} at {time}", "i need a table for {people} people {day}",
                   "reserve a table for {people} {day} at {time}", "can we get a table at {time} for {people}",
                   "table for {people} please", "book dinner for {people} {day} at {time} in {city}"],
    "get_weather": ["what is the weather in {city}", "will it rain in {city} {day}", "weather {day}",
                    "how hot is it in {city} {day}", "is it sunny in {city} at {time}", "forecast for {city}"],
    "set_alarm": ["wake me up at {time}", "set an alarm for {time} {day}", "alarm at {time}",
                  "set an alarm for {time}", "wake me {day} at {time}", "i need to get up at {time}"],
    "find_flight": ["flights from {from} to {to}", "find a flight to {to} {day}",
                    "i want to fly from {from} to {to} {day}", "cheapest flight from {from} to {to} at {time}",
                    "get me to {to} from {from}"],
    "greet": ["hello", "hi there", "good morning", "hey how are you", "hello there friend"],
}
INTENTS = list(TEMPLATES)
SLOTS = ["people", "time", "day", "city", "from", "to"]
TAGS = ["O", *(f"{b}-{s}" for s in SLOTS for b in "BI")]
CHAT_OUT = [*TAGS, *INTENTS]  # a per-position output: a tag under each word, the intent under <cls>
UTTERANCE = 12  # words of an utterance read (the longest template fills to 11)


def _time(rng: np.random.Generator) -> str:
    h = str(rng.choice(HOURS))
    return [f"{h} o'clock", f"{h} thirty", f"{h} am", f"{h} pm", f"half past {h}", "noon", "midnight"][
        int(rng.integers(0, 7))]


FILLERS = {"people": lambda r: str(r.choice(PEOPLE)), "time": _time, "day": lambda r: str(r.choice(DAYS)),
           "city": lambda r: str(r.choice(CITIES)), "from": lambda r: str(r.choice(CITIES)),
           "to": lambda r: str(r.choice(CITIES))}


def _chat_vocab() -> list[str]:
    ws = {w for ts in TEMPLATES.values() for t in ts for w in re.sub(r"\{\w+\}", " ", t).split()}
    ws |= {*CITIES, *DAYS, *HOURS, *PEOPLE, "o'clock", "thirty", "am", "pm", "half", "past", "noon", "midnight"}
    return [PAD, UNK, "<cls>", *sorted(ws)]


CHAT_VOCAB = _chat_vocab()


def utterance(intent: str, rng: np.random.Generator) -> tuple[list[str], list[str]]:
    """One utterance of `intent` from a random template: its words and their BIO tags."""
    template = str(rng.choice(TEMPLATES[intent]))
    ws, tags = [], []
    for part in template.split():
        slot = re.fullmatch(r"\{(\w+)\}", part)
        if slot is None:
            ws.append(part)
            tags.append("O")
            continue
        fill = FILLERS[slot[1]](rng).split()
        ws += fill
        tags += [f"B-{slot[1]}"] + [f"I-{slot[1]}"] * (len(fill) - 1)
    return ws, tags


def chat_input(text: str) -> tuple[np.ndarray, list[str], int]:
    """Typed text as the model's input: <cls> then its first UTTERANCE words; the words read and the number
    cut off."""
    x, kept, cut = encode(text, CHAT_VOCAB, UTTERANCE)
    return np.r_[CHAT_VOCAB.index("<cls>"), x], kept, cut


def chat_requests(n: int, noise: float, rng: np.random.Generator):
    """n utterances, the intents in turn (balanced), each from a random template of its intent. The target
    per position: the intent under <cls>, each word's BIO tag, O under padding. `noise`: that share of
    intents replaced by a random one (mislabelled requests). Extras: the intent's index."""
    x = np.zeros((n, UTTERANCE + 1), np.int64)
    target = np.zeros((n, UTTERANCE + 1), np.int64)
    intent = np.arange(n) % len(INTENTS)
    for i in range(n):
        ws, tags = utterance(INTENTS[intent[i]], rng)
        x[i] = chat_input(" ".join(ws))[0]
        target[i, 1:len(tags) + 1] = [CHAT_OUT.index(t) for t in tags]
    labelled = np.where(rng.random(n) < noise, rng.integers(0, len(INTENTS), n), intent)
    target[:, 0] = len(TAGS) + labelled
    y = np.eye(len(CHAT_OUT), dtype=np.float32)[target]
    return x, y, {"intent": labelled.astype(np.int64)}, {"vocab": CHAT_VOCAB, "outputs": CHAT_OUT}
