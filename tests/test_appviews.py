"""playground/appviews.py: curves against scikit-learn, counts by hand, forecasts, tic-tac-toe move values
against minimax, and driving with a net that knows the way."""

import functools

import numpy as np
import pytest
import sklearn.metrics as skm
import torch
from torch import nn

from playground import appviews
from playground.appdata import gridworld, markets, tictactoe
from playground.applications import roc_auc


def scored(seed: int, n: int = 300):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.2).astype(int)
    return np.round(rng.random(n) + y * rng.random(n), 2) / 2, y  # rounded: ties on purpose; within [0, 1]


@pytest.mark.parametrize("seed", range(3))
def test_roc_points_match_scikit_learn(seed):
    s, y = scored(seed)
    roc = appviews.roc_points(s, y)
    fpr, tpr, thr = skm.roc_curve(y, s, drop_intermediate=False)
    assert np.allclose(roc["fpr"], fpr) and np.allclose(roc["tpr"], tpr) and np.allclose(roc["threshold"][1:], thr[1:])
    assert np.trapezoid(roc["tpr"], roc["fpr"]) == pytest.approx(roc_auc(s, y))  # its area is the AUC


@pytest.mark.parametrize("seed", range(3))
def test_pr_points_match_scikit_learn(seed):
    s, y = scored(seed)
    pr = appviews.pr_points(s, y)
    precision, recall, thr = skm.precision_recall_curve(y, s, drop_intermediate=False)
    # scikit-learn lists thresholds low to high and ends with the point (recall 0, precision 1)
    assert np.allclose(pr["precision"], precision[:-1][::-1]) and np.allclose(pr["recall"], recall[:-1][::-1])
    assert np.allclose(pr["threshold"], thr[::-1])


def test_counts_at_a_threshold_by_hand():
    s, y = np.array([0.1, 0.4, 0.35, 0.8, 0.6]), np.array([0, 0, 1, 1, 0])
    c = appviews.at_threshold(s, y, 0.4)  # called positive: 0.4, 0.8, 0.6
    assert (c["tp"], c["fp"], c["fn"], c["tn"]) == (1, 2, 1, 1)
    assert c["sensitivity"] == 0.5
    assert c["specificity"] == pytest.approx(1 / 3) and c["precision"] == pytest.approx(1 / 3)
    everything = appviews.at_threshold(s, y, 0.0)
    assert everything["sensitivity"] == 1 and everything["specificity"] == 0


@pytest.mark.parametrize("seed", range(3))
def test_each_point_of_the_curves_is_the_count_at_its_threshold(seed):
    s, y = scored(seed, 80)
    roc, pr = appviews.roc_points(s, y), appviews.pr_points(s, y)
    for i, t in enumerate(pr["threshold"]):
        c = appviews.at_threshold(s, y, t)
        assert c["sensitivity"] == pytest.approx(pr["recall"][i]) == pytest.approx(roc["tpr"][i + 1])
        assert c["precision"] == pytest.approx(pr["precision"][i])
        assert 1 - c["specificity"] == pytest.approx(roc["fpr"][i + 1])


def test_histograms_count_every_score_once_per_class():
    s, y = scored(0)
    h = appviews.histograms(s, y, bins=10)
    assert h["positive"].sum() == (y == 1).sum() and h["negative"].sum() == (y == 0).sum()
    assert np.array_equal(h["negative"], np.histogram(s[y == 0], np.linspace(0, 1, 11))[0])


class Change(nn.Module):
    """A forecaster that says tomorrow changes by `k` × the last day's change (in the window's units)."""

    def __init__(self, k: float):
        super().__init__()
        self.k = nn.Parameter(torch.tensor(float(k)))

    def forward(self, x):
        return (self.k * (x[:, -1] - x[:, -2]))


def test_forecast_of_a_no_change_net_equals_the_naive_forecast():
    f = appviews.forecast(Change(0.0), "random_walk", seq_len=10, days=50)
    assert np.allclose(f["net"], f["naive"]) and f["ratio"] == pytest.approx(1.0)
    # the truth is the next window's "today": the price path runs on day by day
    assert np.allclose(f["truth"][:-1], f["naive"][1:], rtol=1e-5)


def test_momentum_beats_naive_on_regimes_but_not_on_a_random_walk():
    trend, walk = (appviews.forecast(Change(0.6), kind, seq_len=10, days=400) for kind in markets.KINDS[::-1])
    assert trend["ratio"] < 1 < walk["ratio"]


@functools.cache
def minimax_table() -> dict[bytes, float]:
    boards = tictactoe.positions()
    return {e.tobytes(): float(tictactoe.value(b)) for e, b in zip(tictactoe.encode(boards), boards, strict=True)}


class Minimax:
    """An exact scorer: every legal position's minimax value, looked up by its encoding."""

    def __call__(self, enc: np.ndarray) -> np.ndarray:
        return np.array([minimax_table()[e.tobytes()] for e in enc])


@pytest.mark.parametrize("board", [(0,) * 9, (1, 0, 0, 0, 2, 0, 0, 0, 0), (1, 1, 0, 2, 2, 0, 0, 0, 0),
                                   (1, 2, 1, 0, 2, 0, 0, 0, 0)])
def test_move_values_with_a_perfect_scorer_are_the_minimax_values(board):
    values = appviews.move_values(Minimax(), board)
    assert sorted(values) == [c for c in range(9) if board[c] == 0]
    for cell, v in values.items():
        assert v == -tictactoe.value(tictactoe.play(board, cell))
    assert max(values.values()) == tictactoe.value(board)


def test_no_move_values_on_a_finished_board():
    assert appviews.move_values(Minimax(), (1, 1, 1, 2, 2, 0, 0, 0, 0)) == {}


class Expert(nn.Module):
    """A 'net' whose logits favour the expert's move (breadth-first), for each encoded state."""

    def __init__(self):
        super().__init__()
        self.p = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        out = torch.zeros(len(x), 4)
        for i, s in enumerate(x.numpy()):
            walls, car, goal = s[0] > 0.5, tuple(np.argwhere(s[1] > 0.5)[0]), tuple(np.argwhere(s[2] > 0.5)[0])
            out[i, gridworld.expert(walls, car, gridworld.distances(walls, goal))] = 5.0
        return out


def test_an_expert_drives_the_shortest_path_and_its_probabilities_sum_to_one():
    walls, car, goal, dist = gridworld.random_map(np.random.default_rng(3), 8, 0.2)
    d = appviews.drive(Expert(), walls, car, goal)
    assert d["arrived"] and d["path"][-1] == goal and len(d["path"]) - 1 == d["shortest"] == dist[car]
    assert len(d["probs"]) == d["shortest"] and all(p.sum() == pytest.approx(1) for p in d["probs"])


def test_a_car_that_cannot_reach_its_goal_stops_within_the_map_area():
    walls = np.zeros((5, 5), bool)
    walls[2, :] = True  # a wall across the map
    d = appviews.drive(nn.Sequential(nn.Flatten(), nn.Linear(75, 4)), walls, (0, 0), (4, 4))
    assert not d["arrived"] and d["shortest"] == -1 and len(d["probs"]) == walls.size


def test_a_wav_file_holds_the_waveform():
    import io
    import wave

    samples = np.sin(np.linspace(0, 20, 800))
    with wave.open(io.BytesIO(appviews.wav_bytes(samples, 8000))) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (1, 2, 8000, 800)
        back = np.frombuffer(w.readframes(800), "<i2") / 32767
    assert np.abs(back - samples).max() < 1e-4


def test_looked_for_is_a_clear_minority_else_class_one():
    from playground.data import DataInfo, Dataset

    def ds(ones: int, n: int = 100):
        y = torch.tensor([1] * ones + [0] * (n - ones))
        return Dataset(DataInfo("d", "binary", "tabular", (1,), ()), torch.zeros(n, 1), y, torch.zeros(1, 1), y[:1])
    assert appviews.looked_for(ds(63)) == 0 and appviews.looked_for(ds(1)) == 1 and appviews.looked_for(ds(50)) == 1


@functools.cache
def tumours():
    from playground import presets
    from playground.data import load
    return load(presets.get("diagnose-tumours").data)


def test_attributions_of_a_linear_net_are_the_weight_gap_times_the_distance_from_the_average():
    import dataclasses
    t = tumours()  # shifted away from 0 (its features are standardised): the baseline is the mean, not zeros
    ds = dataclasses.replace(t, x_train=t.x_train + torch.arange(30.0), x_val=t.x_val + torch.arange(30.0))
    k = appviews.looked_for(ds)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(30, 2))
    a = appviews.feature_attributions(net, ds, 3)
    w = net[0].weight.detach()
    gap = (w[k] - w[1 - k]).numpy()  # the log-odds of class k is linear: its gradient is this everywhere
    expected = (ds.x_val[3] - ds.x_train.mean(0)).numpy() * gap
    assert np.allclose(a["values"], expected, atol=1e-5)
    assert a["names"] == ds.info.feature_names and len(a["names"]) == 30 and a["names"][0] == "mean radius"


@pytest.mark.parametrize("seed", range(3))
def test_attributions_add_up_to_the_change_in_log_odds_from_the_average_case(seed):
    ds = tumours()
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(30, 16), nn.ReLU(), nn.Linear(16, 2))
    i = seed * 7
    a = appviews.feature_attributions(net, ds, i, steps=200)
    with torch.no_grad():
        out = net(torch.stack([ds.x_val[i], ds.x_train.mean(0)]))
    k = appviews.looked_for(ds)
    odds = (out[:, k] - out[:, 1 - k]).numpy()
    assert a["log_odds"] == pytest.approx(odds[0], abs=1e-5)
    assert a["baseline_log_odds"] == pytest.approx(odds[1], abs=1e-5)
    assert a["values"].sum() == pytest.approx(odds[0] - odds[1], abs=0.02 * max(1.0, abs(odds[0] - odds[1])))
    assert a["delta"] < 0.02 * max(1.0, abs(odds[0] - odds[1]))
    assert a["probability"] == pytest.approx(torch.softmax(out[0], 0)[k].item(), abs=1e-5)
    assert a["label"] == int(ds.y_val[i] == k)


def test_a_one_logit_net_is_explained_toward_the_class_looked_for():
    ds = tumours()  # malignant (class 0) is the minority looked for: its log-odds is minus the logit of class 1
    assert appviews.looked_for(ds) == 0
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(30, 1))
    a = appviews.feature_attributions(net, ds, 0)
    w = net[0].weight.detach()[0].numpy()
    assert np.allclose(a["values"], -(ds.x_val[0] - ds.x_train.mean(0)).numpy() * w, atol=1e-5)
    assert a["probability"] == pytest.approx(1 - torch.sigmoid(net(ds.x_val[:1]))[0, 0].item(), abs=1e-5)
