"""The applications' data: deterministic by seed, the stated shapes and balance, and the games' rules."""

import numpy as np
import pytest

from playground.appdata import fraud, gridworld, markets, scans, speech, tictactoe

CASES = {  # generator, options, n, input shape per sample, number of classes (0: regression)
    "fraud": (fraud.transactions, {"fraud_rate": 0.01}, 1000, (10,), 2),
    "markets": (markets.price_windows, {"kind": "regimes", "seq_len": 12}, 200, (12, 1), 0),
    "scans": (scans.lesion_scans, {"size": 24, "contrast": 0.4}, 40, (1, 24, 24), 2),
    "vowels": (speech.vowel_spectrograms, {"pitch_low": 80.0, "pitch_high": 300.0}, 25, (1, speech.BINS, 30), 5),
    "tictactoe": (tictactoe.positions_with_values, {}, 300, (2, 3, 3), 3),
    "gridworld": (gridworld.driving_states, {"size": 6, "density": 0.2}, 60, (3, 6, 6), 4),
}


@pytest.mark.parametrize("name", CASES)
def test_deterministic_by_seed_with_stated_shapes(name):
    make, opts, n, shape, k = CASES[name]
    a = make(n, 0.1, np.random.default_rng(3), **opts)
    b = make(n, 0.1, np.random.default_rng(3), **opts)
    c = make(n, 0.1, np.random.default_rng(4), **opts)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    assert a[0].shape == (n, *shape) and a[0].dtype == np.float32 and np.isfinite(a[0]).all()
    if k:
        assert a[1].shape == (n,) and set(np.unique(a[1])) <= set(range(k))
        assert a[3]["n_classes"] == k == len(a[3]["class_names"])


def test_fraud_share_is_exact():
    for n, rate in [(1000, 0.01), (777, 0.05), (50, 0.001)]:
        y = fraud.transactions(n, 0.0, np.random.default_rng(0), rate)[1]
        assert y.sum() == max(1, round(n * rate))


def test_balanced_classes():
    assert np.bincount(scans.lesion_scans(40, 0, np.random.default_rng(0), 24, 0.4)[1]).tolist() == [20, 20]
    assert np.bincount(speech.vowel_spectrograms(25, 0, np.random.default_rng(0), 80, 300)[1]).tolist() == [5] * 5


def test_lesion_masks_mark_the_lesion_scans_only():
    x, y, extras, _ = scans.lesion_scans(20, 0.0, np.random.default_rng(1), 24, 0.4)
    has = extras["mask"].reshape(20, -1).any(1)
    assert np.array_equal(has, y == 1)
    inside = (x * extras["mask"]).sum((1, 2, 3)) / extras["mask"].sum((1, 2, 3)).clip(1)
    assert (inside[y == 1] > x[y == 1].mean((1, 2, 3))).all()  # a lesion is brighter than its scan


def test_random_walk_is_unforecastable_and_regimes_are_not():
    """Least squares on the window: no better than 'no change' on a random walk, clearly better on trends."""
    ratios = {}
    for kind in markets.KINDS:
        x, y, _, _ = markets.price_windows(3000, 0.0, np.random.default_rng(0), kind, 10)
        x = np.c_[x[..., 0], np.ones(len(x))]
        w = np.linalg.lstsq(x[:2000], y[:2000], rcond=None)[0]
        ratios[kind] = float(((x[2000:] @ w - y[2000:]) ** 2).mean() / (y[2000:] ** 2).mean())
    assert ratios["random_walk"] > 0.98 and ratios["regimes"] < 0.8


def test_vowel_formants_show_in_the_spectrogram():
    """The lowest formant of /a/ (730 Hz) is well above that of /i/ (270 Hz) in the spectrogram."""
    rng = np.random.default_rng(0)
    rows = {v: speech.spectrogram(speech.vowel(speech.FORMANTS[v], 120, rng)) for v in ("a", "i")}
    low = {v: int(np.argmax(s[::-1][:12].mean(1))) for v, s in rows.items()}  # bins of 125 Hz below 1.5 kHz
    assert low["a"] > low["i"]


def test_tictactoe_positions_and_values():
    pos = tictactoe.positions()
    assert len(pos) == 5478 and len(set(pos)) == 5478
    assert tictactoe.value((0,) * 9) == 0  # perfect play draws
    assert tictactoe.value((1, 1, 0, 2, 2, 0, 0, 0, 0)) == 1  # X to move completes the top row
    assert tictactoe.value((1, 1, 1, 2, 2, 0, 0, 0, 0)) == -1  # X has won: O, to move, has lost
    assert tictactoe.value((1, 2, 1, 1, 2, 2, 2, 1, 1)) == 0  # a full board, nobody won
    # X at 0 and 4 plays 6: two threats (3 and 2), O (at 1 and 8) can block only one
    assert tictactoe.value(tictactoe.play((1, 2, 0, 0, 1, 0, 0, 0, 2), 6)) == -1


def test_a_perfect_scorer_never_loses_and_a_blind_one_does():
    pos = tictactoe.positions()
    table = {e.tobytes(): tictactoe.value(b) for e, b in zip(tictactoe.encode(pos), pos, strict=True)}
    exact = tictactoe.versus_random(lambda e: np.array([table[r.tobytes()] for r in e], float), 200, 0)
    blind = tictactoe.versus_random(lambda e: np.zeros(len(e)), 200, 0)
    assert exact["loss"] == 0 and blind["loss"] > 0


def test_gridworld_expert_drives_home_and_random_does_not():
    x, y, _, _ = gridworld.driving_states(60, 0.0, np.random.default_rng(2), 7, 0.2)

    def expert(states):
        out = np.zeros((len(states), 4))
        for i, s in enumerate(states):
            walls = s[0] > 0.5
            car = tuple(int(v) for v in np.argwhere(s[1] > 0.5)[0])
            goal = tuple(int(v) for v in np.argwhere(s[2] > 0.5)[0])
            out[i, gridworld.expert(walls, car, gridworld.distances(walls, goal))] = 1
        return out

    assert np.array_equal(expert(x).argmax(1), y)
    assert gridworld.success_rate(expert, x) == 1.0
    assert gridworld.success_rate(lambda s: np.tile([1.0, 0, 0, 0], (len(s), 1)), x) < 0.5
