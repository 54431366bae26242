"""AppTest of the app as a whole: the Home page, navigation keeping the setup, and links (?s=…)."""

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
    titles = [m.value for m in at.markdown]
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
    assert any("train.optimizer.lr" in e.value for e in at.error) and not at.exception


def test_a_lesson_loads_its_preset_on_its_page():
    from ui.views.lessons import LESSONS
    at = app()
    at.button(key="lesson-4").click().run()  # convolutions: digits-cnn on the Build page
    assert not at.exception
    assert from_dict(at.session_state["pg"].spec) == presets.get(LESSONS[4]["preset"])
    assert any(t.value == "Build" for t in at.title)


def test_start_from_scratch_opens_build_with_no_layers_and_a_fix():
    at = app()
    at.selectbox(key="home-scratch-data").set_value("iris").run()
    at.button(key="home-scratch").click().run()
    assert not at.exception
    spec = at.session_state["pg"].spec
    assert spec["data"] == {"name": "iris"} and spec["model"]["layers"] == []
    assert any("no layers" in e.value for e in at.error)  # with its one-click fix (add a Linear)
