"""AppTest of the language applications' views on runs trained through the real worker pool (short runs: the
views need a model, not a good one): the translation of a typed sentence with its alignment grid, and the
chat box with intents, slot tags and per-word attributions."""

from __future__ import annotations

import pytest
from apptest import trained
from test_page_applications import open_app, titles

pytestmark = pytest.mark.slow  # worker processes start and train


@pytest.fixture(scope="module")
def pool(app_pool):
    return app_pool


def test_translation_of_a_typed_sentence_with_its_alignment(pool):
    job = trained(pool, "translate-transformer", 1, batch_size=128)
    at = open_app("translate-transformer", job)
    assert "Where each character of the answer looked" in titles(at) and "encoder layer 1" in titles(at)
    assert len(next(m.value for m in at.metric if m.label == "Translation")) <= 10
    at.text_input(key="apps-sentence").set_value("the **first** of <b>may</b> 1999 " + "and " * 20).run()
    assert not at.exception
    assert "the first of b may b 1999 and and" in at.text[0].value  # read as words, shown as text
    warnings = " ".join(w.value for w in at.warning)
    assert "Unknown to the net" in warnings and "left out" in warnings
    at.radio(key="apps-attention-layer").set_value(2).run()
    assert "encoder layer 2" in titles(at) and not at.exception


def test_chat_box_intent_slots_and_attributions(pool):
    job = trained(pool, "chat-intents", 2)
    at = open_app("chat-intents", job)
    assert at.session_state["pg"].apps.chat and "How much each word weighed" in titles(at)
    at.chat_input(key="apps-chat-box").set_value("wake me up at seven thirty tomorrow").run()
    assert not at.exception
    assert at.session_state["pg"].apps.chat[-1] == "wake me up at seven thirty tomorrow"
    assert "wake me up at seven thirty tomorrow" in [t.value for t in at.text]  # the user's words, as text
    assert any("You want to" in m.value for m in at.markdown)
    words = at.dataframe[0].value
    assert list(words["word"]) == "wake me up at seven thirty tomorrow".split() and "slot tag" in words
    for _ in range(5):  # the conversation keeps the latest few requests
        at.chat_input(key="apps-chat-box").set_value("hello").run()
    assert len(at.session_state["pg"].apps.chat) == 4
    at.button(key="apps-chat-clear").click().run()
    assert not at.exception and at.session_state["pg"].apps.chat == ["book a table for four at half past seven"]
