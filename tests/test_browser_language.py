"""The language applications in Chromium: Start, Train, then type a date and see its translation and alignment
grid; send the chatbot a request and see its reply, tags and attributions; at 1024×768 and 1920×1080."""

from __future__ import annotations

import pytest
from browser import open_page
from test_browser_applications import sized_shots, start, train

pytestmark = pytest.mark.browser


def test_translate_a_typed_date(server, browser):
    page = open_page(browser, f"{server}/applications", 1024, 768)
    start(page, "translate-transformer")
    train(page)
    page.locator(".js-plotly-plot").filter(has_text="Where each character").wait_for(timeout=120_000)
    box = page.locator(".st-key-apps-sentence input")
    box.fill("march the fifth two thousand and four")
    box.press("Enter")
    page.locator("[data-testid=stMetricValue]").filter(has_text="2004-03-05").wait_for(timeout=60_000)
    sized_shots(page, "translate")
    page.close()


def test_chat_with_the_intent_bot(server, browser):
    page = open_page(browser, f"{server}/applications", 1024, 768)
    start(page, "chat-intents")
    train(page)
    page.locator(".js-plotly-plot").filter(has_text="How much each word weighed").wait_for(timeout=120_000)
    chat = page.locator("[data-testid=stChatInputTextArea]")
    chat.fill("what is the weather in <b>paris</b> tomorrow")
    chat.press("Enter")
    page.get_by_text("know the weather").first.wait_for(timeout=120_000)
    page.get_by_text("what is the weather in <b>paris</b> tomorrow").first.wait_for(timeout=60_000)  # as text
    sized_shots(page, "chat")
    page.close()
