"""playground/appcards.py: a picture per application card, drawn from its own data, with what its text
alternative says true of the data."""

import numpy as np
import pytest

from playground import appcards
from playground.appdata import gridworld
from playground.applications import APPLICATIONS

FIRST_SEVEN = ["diagnose-tumours", "lesions-cnn", "fraud-mlp", "stocks-lstm", "speech-vowels", "tictactoe-value",
               "drive-gridworld"]


def test_the_first_applications_have_pictures_and_every_picture_an_application():
    assert set(FIRST_SEVEN) <= set(appcards.PICTURES) <= set(APPLICATIONS.names())
    assert appcards.picture("no-such-application") is None


@pytest.mark.parametrize("name", list(appcards.PICTURES))
def test_a_picture_is_small_drawn_the_same_each_time_and_described(name):
    img, alt = appcards.picture(name)
    assert img.shape == (appcards.H, appcards.W, 3) and img.dtype == np.uint8
    assert len(np.unique(img.reshape(-1, 3), axis=0)) >= 3  # something is drawn on the white
    assert (img == appcards.WHITE).all(-1).mean() > 0.05  # and it is not a solid block
    assert np.array_equal(img, appcards.picture(name)[0])  # deterministic: the same card for everyone
    assert 40 <= len(alt) <= 200 and alt == alt.strip()


def colour_share(img: np.ndarray, color: tuple) -> float:
    return float((img == color).all(-1).mean())


def pixels(img: np.ndarray, color: tuple) -> int:
    return int((img == color).all(-1).sum())


def test_tumours_malignant_in_vermilion_are_class_0():
    s = appcards.samples("diagnose-tumours", 569)
    assert s.info["class_names"][0] == "malignant" and len(s.x) == 569
    img = appcards.tumours()
    assert colour_share(img, appcards.VERMILION) > 0 and colour_share(img, appcards.BLUE) > 0


def test_payments_hold_the_frauds_the_text_counts():
    s = appcards.samples("fraud-mlp", 2000)
    assert int(s.y.sum()) == 20 and "the 20 frauds" in appcards.PICTURES["fraud-mlp"].alt


def test_scans_healthy_left_lesion_right():
    s = appcards.samples("lesions-cnn", 2)
    assert list(s.y) == [0, 1]


def test_the_board_has_three_crosses_and_two_noughts_and_no_winner():
    img = appcards.board()
    assert colour_share(img, appcards.BLUE) > 0 and colour_share(img, appcards.VERMILION) > 0
    assert "three blue crosses and two vermilion noughts" in appcards.PICTURES["tictactoe-value"].alt


def test_the_map_shows_the_shortest_route():
    img = appcards.drive()
    o = appcards.options(appcards.presets.get("drive-gridworld").data)
    walls, car, goal, dist = gridworld.random_map(np.random.default_rng(appcards.SEED), o["size"], o["density"])
    cell = (appcards.H - 8) // o["size"]
    inner = (cell - 1) ** 2  # pixels of one cell's fill
    assert pixels(img, appcards.SKY) == (dist[car] - 1) * inner
    assert pixels(img, appcards.BLUE) == inner  # one car
    assert f"{o['size']} by {o['size']} map" in appcards.PICTURES["drive-gridworld"].alt


def test_dots_stay_inside_the_canvas_and_fit_spans_the_range():
    img = appcards.canvas()
    appcards.dots(img, np.array([-3.0, 0.0, appcards.W + 2.0]), np.array([0.0, appcards.H - 1.0, 5.0]), 2.5,
                  appcards.INK)
    assert (img == appcards.INK).all(-1).sum() > 0  # the dots on the canvas drawn, those beyond it clipped
    v = appcards.fit(np.array([3.0, 5.0, 7.0]), 10, 20, flip=True)
    assert list(v) == [20, 15, 10]
    assert (appcards.shade(np.array([0.0]))[0] == appcards.WHITE).all()
    assert (appcards.shade(np.array([0.5]))[0] == appcards.BLUE).all()
