"""AppTest of the app as a whole: the Home page, navigation keeping the setup, and links (?s=…)."""

from pathlib import Path

import pytest
from apptest import shown
from helpers import APP
from streamlit.testing.v1 import AppTest

from playground import presets
from playground.spec import MAX_URL_CHARS, encode, from_dict


def app(query: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if query is not None:
        at.query_params["s"] = query
    return at.run()


def test_home_loads_with_a_card_per_preset():
    at = app()
    assert not at.exception
    titles = [shown(m.value) for m in at.markdown]
    for name in presets.names():
        assert f"**{presets.get(name).name}**" in titles
    assert at.session_state["pg"].spec == presets.get("spiral-mlp").to_dict()


def test_opening_a_preset_loads_it_and_goes_to_train():
    at = app()
    at.button(key="home-digits-cnn").click().run()
    assert not at.exception
    assert at.session_state["pg"].spec["name"] == presets.get("digits-cnn").name
    assert any(t.value == "Train" for t in at.title)
    assert from_dict(at.session_state["pg"].spec) == presets.get("digits-cnn")


def test_every_page_loads_and_switching_pages_keeps_the_setup():
    at = app()
    at.button(key="home-sine-lstm").click().run()
    for page in ("pages/build.py", "pages/train.py", "pages/playground2d.py", "pages/home.py"):
        at.switch_page(page).run()
        assert not at.exception, page
        assert at.session_state["pg"].spec["name"] == presets.get("sine-lstm").name


def test_the_url_always_carries_the_setup():
    at = app()
    at.button(key="home-iris-mlp").click().run()
    assert from_dict(at.session_state["pg"].spec) == presets.get("iris-mlp")
    from playground.spec import decode
    assert decode(at.query_params["s"][0] if isinstance(at.query_params["s"], list) else at.query_params["s"]) \
        == presets.get("iris-mlp")


def test_a_shared_link_restores_the_exact_setup():
    spec = presets.get("digits-cnn").to_dict()
    spec["model"]["layers"][0]["out_channels"] = 12
    spec["train"]["optimizer"]["lr"] = 0.0042
    at = app(encode(from_dict(spec)))
    assert not at.exception and not at.error
    assert at.session_state["pg"].spec == from_dict(spec).to_dict()


def test_a_malformed_link_gives_a_message_and_the_default_setup():
    at = app("not-a-real-spec!!")
    assert not at.exception
    assert any("could not be opened" in e.value and "damaged" in e.value for e in at.error)
    assert at.session_state["pg"].spec == presets.get("spiral-mlp").to_dict()


def test_a_too_long_link_is_refused_with_a_message():
    at = app("A" * (MAX_URL_CHARS + 1))
    assert not at.exception
    assert any("limit" in e.value for e in at.error)
    assert at.session_state["pg"].spec == presets.get("spiral-mlp").to_dict()


def test_a_link_with_an_invalid_spec_names_the_field():
    import base64
    import json
    import zlib
    bad = {"data": {"name": "spiral"}, "train": {"optimizer": {"lr": -5}}}
    text = base64.urlsafe_b64encode(zlib.compress(json.dumps(bad).encode())).decode().rstrip("=")
    at = app(text)
    assert any("train.optimizer.lr" in shown(e.value) for e in at.error) and not at.exception


def test_a_lesson_loads_its_setup_on_its_page():
    from playground import lessons
    at = app()
    at.button(key="lesson-convolution").click().run()  # shifted digits, CNN, on the Build page
    assert not at.exception
    assert at.session_state["pg"].spec == lessons.opening_spec(lessons.get("convolution"))
    assert any(t.value == "Build" for t in at.title)


def test_start_from_scratch_opens_build_with_no_layers_and_a_fix():
    at = app()
    at.selectbox(key="home-scratch-data").set_value("iris").run()
    at.button(key="home-scratch").click().run()
    assert not at.exception
    spec = at.session_state["pg"].spec
    assert spec["data"] == {"name": "iris"} and spec["model"]["layers"] == []
    assert any("no layers" in e.value for e in at.error)  # with its one-click fix (add a Linear)


def test_a_lesson_shows_its_text_on_the_page_it_opens_until_it_ends():
    from playground import lessons
    conv = lessons.get("convolution")
    at = AppTest.from_file(APP, default_timeout=180).run()  # five pages in a row: patient on a busy machine
    at.button(key="lesson-convolution").click().run()  # Build
    assert any(conv.text in m.value for m in at.markdown)
    assert any(m.value == f"**Try this:** {conv.try_this}" for m in at.markdown)
    assert [p.proto.page for p in at.get("page_link") if p.proto.label == "All lessons"] == ["lessons"]
    at.switch_page("pages/explain.py").run()  # not on pages it does not use
    assert not any(conv.text in m.value for m in at.markdown) and not at.exception
    at.switch_page("pages/build.py").run()
    assert any(conv.text in m.value for m in at.markdown)
    at.button(key="lesson-end").click().run()
    assert not any(conv.text in m.value for m in at.markdown)
    at.switch_page("pages/home.py").run()
    at.button(key="lesson-one-neuron").click().run()  # the 2-D page
    assert any(lessons.get("one-neuron").text in m.value for m in at.markdown) and not at.exception
    at.switch_page("pages/home.py").run()
    at.button(key="home-iris-mlp").click().run()  # opening a preset ends the lesson
    assert not any(m.value.startswith("**Try this:**") for m in at.markdown)


@pytest.mark.parametrize("page", ["pages/home.py", "pages/build.py", "pages/train.py", "pages/inspection.py",
                                  "pages/explain.py", "pages/playground2d.py"])
def test_a_lone_surrogate_or_a_huge_name_never_crashes_a_page_nor_draws_unbounded(page):
    at = app()
    spec = presets.get("gauss-mlp").to_dict()
    spec["name"] = "bad \ud800 name " + "x" * 999_000
    spec["description"] = "\udfff" * 1000
    spec["model"]["layers"].append({"type": "Li\ud800near"})
    at.session_state["pg"].spec = spec
    at.switch_page(page).run()
    assert not at.exception, at.exception
    assert not any("went wrong" in e.value for e in at.error), [e.value for e in at.error]  # not even caught
    longest = max(len(e.proto.SerializeToString()) for e in elements(at.main) if getattr(e, "proto", None))
    assert longest < 20_000  # nothing draws the name whole


def elements(node):
    """Every element under an AppTest block."""
    for child in getattr(node, "children", {}).values():
        yield child
        yield from elements(child)


def test_a_page_that_fails_says_so_in_one_line_and_keeps_the_setup(monkeypatch):
    from ui.views import runner

    def broken(*args, **kwargs):
        raise RuntimeError("/srv/app/secret/path.py blew up\n  Traceback (most recent call last): …")
    monkeypatch.setattr(runner, "controls", broken)
    at = app()
    at.button(key="home-iris-mlp").click().run()
    assert not at.exception
    said = [e.value for e in at.error if "Something went wrong on this page" in e.value]
    assert len(said) == 1 and "RuntimeError" in said[0] and "blew up" in said[0]
    assert "/srv" not in said[0] and "secret" not in said[0] and "Traceback" not in said[0]
    assert from_dict(at.session_state["pg"].spec) == presets.get("iris-mlp")  # nothing the user built is lost
    at.switch_page("pages/build.py").run()  # and the other pages still work
    assert not at.exception and not any("Something went wrong" in e.value for e in at.error)


def test_uncaught_errors_show_no_details_in_the_browser():
    import tomllib
    config = tomllib.loads((Path(APP).parent / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"


def test_the_tab_icon_is_drawn_by_the_browser_not_fetched():
    from ui.main import ICON, PAGES
    assert not ICON.startswith(":")  # a :material/…: page icon is fetched from fonts.gstatic.com at run time
    assert all(icon.startswith(":material/") for *_, icon, _ in PAGES)  # nav icons: the bundled font
