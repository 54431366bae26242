"""health.py: layer statistics, tracking, dead and saturated activations, gradient norms and the hints."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

import playground as pg
from playground import health
from playground.registry import PlaygroundError
from playground.train import Trainer

LAYERS = [{"type": "Linear", "out_features": 8}, {"type": "Tanh"}, {"type": "Linear", "out_features": 2}]


pytestmark = pytest.mark.usefixtures("one_torch_thread")



def deep(act: str, width: int = 16, depth: int = 6) -> list[dict]:
    """`depth` hidden layers of `width` units with `act`, then 2 outputs: the issue's 6×16 MLP."""
    return [d for _ in range(depth) for d in ({"type": "Linear", "out_features": width}, {"type": act})] + \
        [{"type": "Linear", "out_features": 2}]


# ---- layer statistics and the tracker ------------------------------------------------------------

def test_layer_stats_match_torch(make_spec):
    tr = Trainer(make_spec("circle", LAYERS))
    assert [s["grad_norm"] for s in health.layer_stats(tr.model)] == [None, None]  # no backward yet
    tr.run_epoch()
    stats = health.layer_stats(tr.model, bins=10)
    assert [s["layer"] for s in stats] == [0, 2] and stats[0]["name"] == "layer 1 (Linear)"
    for s in stats:
        m = tr.model[s["layer"]]
        w = torch.cat([m.weight.flatten(), m.bias]).detach()
        g = torch.cat([m.weight.grad.flatten(), m.bias.grad])  # the last batch's gradients
        assert s["weight_norm"] == pytest.approx(w.norm().item(), rel=1e-5)
        assert s["grad_norm"] == pytest.approx(g.norm().item(), rel=1e-5)
        for h, v in ((s["weight_hist"], w), (s["grad_hist"], g)):
            assert h["counts"].shape == (10,) and h["edges"].shape == (11,) and h["counts"].sum() == v.numel()
            assert h["edges"][0] == pytest.approx(v.min().item()) and h["edges"][-1] == pytest.approx(v.max().item())
            expected, _ = np.histogram(v.numpy(), bins=h["edges"])
            assert np.abs(h["counts"] - expected).sum() <= 2  # up to float rounding at a bin's edge


def test_layer_stats_of_constant_weights():
    model = nn.Sequential(nn.Linear(3, 2))
    nn.init.zeros_(model[0].weight)
    nn.init.zeros_(model[0].bias)
    h = health.layer_stats(model, bins=4)[0]["weight_hist"]
    assert h["counts"].tolist() == [0, 0, 8, 0] and h["edges"][0] < 0 < h["edges"][-1]


def test_tracker_checkpoints_and_bounded_stats(make_spec):
    tr = Trainer(make_spec("circle", LAYERS, epochs=25))
    t = health.Tracker(25, stats=True, checkpoints=5, interval=3600)
    t.start(tr)
    sent = []
    for _ in range(25):
        tr.run_epoch()
        s = t.epoch_end(tr)
        if s is not None:
            sent.append(s["epoch"])
    assert sent == [1, 25]  # the first and the last; the rest fall within the interval
    tr2, t2, sent2 = Trainer(make_spec("circle", LAYERS, epochs=25)), health.Tracker(25, points=5, interval=0), []
    for _ in range(25):
        tr2.run_epoch()
        s = t2.epoch_end(tr2)
        sent2 += [] if s is None else [s["epoch"]]
    assert sent2 == [1, 5, 10, 15, 20, 25]  # about `points` over the run, and the first
    assert [c["epoch"] for c in t.checkpoints] == [0, 5, 10, 15, 20, 25]
    last = t.checkpoints[-1]["weights"]
    assert all(np.array_equal(last[k], v.numpy()) for k, v in tr.model.state_dict().items())
    assert not np.array_equal(t.checkpoints[0]["weights"]["0.weight"], last["0.weight"])
    t.finish(tr)
    assert len(t.checkpoints) == 6  # the last epoch is already kept


def test_tracker_memory_budget_and_stop_between_checkpoints(make_spec):
    tr = Trainer(make_spec("circle", LAYERS))
    size = sum(v.numel() * 4 for v in tr.model.state_dict().values())  # 42 floats
    t = health.Tracker(100, stats=False, checkpoints=50, max_bytes=5 * size)
    t.start(tr)
    assert t.every == 34  # 5 copies fit: the first, the last and 3 between
    for _ in range(40):
        tr.run_epoch()
        assert t.epoch_end(tr) is None  # statistics off
    t.finish(tr)  # stopped at epoch 40: the last weights are kept too
    assert [c["epoch"] for c in t.checkpoints] == [0, 34, 40]
    none = health.Tracker(10, checkpoints=5, max_bytes=size)
    none.start(tr)
    assert none.every == 0 and none.checkpoints == []


def test_track_options():
    assert health.track_options(None) is None and health.track_options(False) is None
    assert health.track_options(True) == {"stats": True, "checkpoints": 0, "bins": 30, "points": 50, "interval": 0.05}
    assert health.track_options({"checkpoints": 20})["checkpoints"] == 20
    with pytest.raises(PlaygroundError, match="unknown option 'checkpionts'"):
        health.track_options({"checkpionts": 20})
    with pytest.raises(PlaygroundError, match="checkpoints must be ≤ 100"):
        health.track_options({"checkpoints": 1000})


@pytest.mark.slow  # starts a worker process
def test_a_tracked_job_sends_stats_and_checkpoints():
    from playground.jobs import JobPool
    spec = {"data": {"name": "circle", "n_samples": 60, "seed": 1}, "model": {"layers": LAYERS},
            "train": {"epochs": 12, "batch_size": 16, "device": "cpu"}}
    pool = JobPool(workers=1, nice=0)
    try:
        job = pool.submit(spec, track={"stats": True, "checkpoints": 4})
        plain = pool.submit(spec)
        assert job.wait(60) and plain.wait(60) and job.state == "done", job.message
        assert job.stats[0]["epoch"] == 1 and job.stats[-1]["epoch"] == 12
        assert [s["name"] for s in job.stats[-1]["layers"]] == ["layer 1 (Linear)", "layer 3 (Linear)"]
        assert job.stats[-1]["layers"][0]["grad_norm"] > 0
        cps = job.checkpoints()
        assert [c["epoch"] for c in cps] == [0, 3, 6, 9, 12]
        local = list(Trainer(pg.from_dict(spec)).fit())  # tracking does not change training
        assert [m["val_loss"] for m in job.metrics] == pytest.approx([m["val_loss"] for m in local])
        assert plain.stats == [] and plain.checkpoints() == []
        with pytest.raises(PlaygroundError, match="unknown option"):
            pool.submit(spec, track={"histograms": True})
    finally:
        pool.shutdown()


def test_job_stats_stay_bounded():
    from playground.jobs import MAX_STATS, Job
    job = Job("j", "", {}, 5000, pool=None)
    for e in range(1, 5001):
        job._apply({"type": "stats", "stats": {"epoch": e}})
    epochs = [s["epoch"] for s in job.stats]
    assert len(epochs) <= MAX_STATS and epochs[0] == 1 and epochs[-1] == 5000 and epochs == sorted(epochs)


# ---- activations ---------------------------------------------------------------------------------

def test_dead_relus_and_saturation_by_hand():
    lin = nn.Linear(2, 4)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0, 0], [0, 1], [-1, 0], [0, 0]]))
        lin.bias.copy_(torch.tensor([0.0, 0, 0, -1]))  # unit 4 is -1 everywhere: dead
    model = nn.Sequential(lin, nn.ReLU(), nn.Linear(4, 3), nn.Sigmoid())
    with torch.no_grad():
        model[2].weight.copy_(torch.tensor([[100.0, 0, 0, 0], [0, 0, 0, 0], [-100.0, 0, 0, 0]]))
        model[2].bias.zero_()
    x = torch.tensor([[1.0, 1.0], [2.0, -1.0], [0.5, 0.2]])  # feature 1 always positive: unit 3 dead too
    dead, sat = health.activation_health(model, x)
    assert dead == {"layer": 1, "name": "layer 2 (ReLU)", "type": "ReLU", "kind": "dead", "units": 4, "dead": 2,
                    "dead_pct": 50.0}
    # outputs: sigmoid(100·a) > 0.99 for all 3 samples, 0.5 (not saturated), sigmoid(-100·a) < 0.01
    assert sat["kind"] == "saturation" and sat["values"] == 9 and sat["saturated"] == 6
    assert sat["saturated_pct"] == pytest.approx(200 / 3)


def test_dead_channels_of_a_cnn_in_chunks():
    conv = nn.Conv2d(1, 3, 1)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([1.0, -1.0, 0.0]).view(3, 1, 1, 1))
        conv.bias.copy_(torch.tensor([0.0, 0.0, -0.1]))
    model = nn.Sequential(conv, nn.ReLU())
    x = torch.rand(10, 1, 4, 4)  # positive: channel 2 (−x) and channel 3 (−0.1) never fire
    [r] = health.activation_health(model, x, chunk=3)
    assert r["units"] == 3 and r["dead"] == 2


# ---- gradients -----------------------------------------------------------------------------------

def test_gradient_norms_match_autograd_and_leave_grads_alone(make_spec):
    tr = Trainer(make_spec("circle", LAYERS))
    rows = health.gradient_norms(tr.model, "cross_entropy", tr.x_train, tr.y_train)
    assert all(p.grad is None for p in tr.model.parameters())
    tr.loss_fn(tr.model(tr.x_train), tr.y_train).backward()
    for r in rows:
        m = tr.model[r["layer"]]
        assert r["norm"] == pytest.approx(torch.cat([m.weight.grad.flatten(), m.bias.grad]).norm().item(), rel=1e-5)
    assert [r["name"] for r in rows] == ["layer 1 (Linear)", "layer 3 (Linear)"]


def first_last_ratio(make_spec, act: str, init: str, seeds=(0, 1, 2)) -> float:
    """The first layer's gradient norm over the last layer's, at initialisation, geometric mean over seeds."""
    logs = []
    for seed in seeds:
        tr = Trainer(make_spec({"name": "spiral", "n_samples": 300}, deep(act), init=init, seed=seed))
        g = health.gradient_norms(tr.model, "cross_entropy", tr.x_train, tr.y_train)
        logs.append(math.log10(g[0]["norm"] / g[-1]["norm"]))
    return 10 ** (sum(logs) / len(logs))


def test_the_issues_figures_vanishing_gradients(make_spec):
    sigmoid = first_last_ratio(make_spec, "Sigmoid", "default")
    kaiming = first_last_ratio(make_spec, "ReLU", "kaiming")
    default = first_last_ratio(make_spec, "ReLU", "default")
    assert sigmoid < 1e-4  # ~1e-5 … 1e-6: six sigmoids multiply the gradient by at most 0.25 each
    assert kaiming > 0.05  # ~0.2: He init keeps the gradient's size through ReLUs
    assert 1e-3 < default < kaiming  # ~0.01: PyTorch's default init shrinks it layer by layer
    assert sigmoid * 100 < default  # sigmoid ≪ ReLU


def test_gradient_health_hints(make_spec):
    tr = Trainer(make_spec({"name": "spiral", "n_samples": 300}, deep("Sigmoid")))
    d = health.diagnose(tr.model, "cross_entropy", tr.x_train, tr.y_train)
    [hint] = d["hints"]
    assert hint.startswith("layers 1–") and "smaller than layer 13 (Linear): vanishing gradients" in hint
    assert "train.init = kaiming" in hint
    assert health.gradient_health([1.0, 2.0, 1.5], ["a", "b", "c"]) == []
    [boom] = health.gradient_health([5000.0, 3000.0, 1.0], ["layer 1 (Linear)", "layer 3 (Linear)",
                                                              "layer 5 (Linear)"])
    assert boom.startswith("layers 1–3 get gradients 5,000× larger than layer 5 (Linear): exploding gradients")
    [one] = health.gradient_health([1e-3, 1.0, 1.0], ["layer 1 (Linear)", "layer 3 (Linear)", "layer 5 (Linear)"])
    assert one.startswith("layer 1 (Linear) gets gradients 1,000× smaller than layer 5 (Linear)")
    [nan] = health.gradient_health([float("nan"), 1.0], ["a", "b"])
    assert "non-finite" in nan
    zero = health.gradient_health([0.0, 1.0], ["layer 1 (Linear)", "layer 3 (Linear)"])
    assert zero == ["layer 1 (Linear) gets no gradient at all, so it does not learn: look for dead ReLUs below, "
                    "all-zero weights (train.init = zeros) or a layer cut off from the loss"]
    acts = [{"kind": "dead", "type": "ReLU", "name": "layer 2 (ReLU)", "dead_pct": 75.0},
            {"kind": "saturation", "type": "Tanh", "name": "layer 4 (Tanh)", "saturated_pct": 90.0},
            {"kind": "dead", "type": "ReLU", "name": "layer 6 (ReLU)", "dead_pct": 10.0}]
    dead, sat = health.gradient_health([1.0, 1.0], ["a", "b"], acts)
    assert dead.startswith("layer 2 (ReLU): 75% of its units never activate on this data (dead ReLUs)")
    assert "LeakyReLU" in dead
    assert sat.startswith("layer 4 (Tanh): 90% of its outputs are saturated")
    with pytest.raises(PlaygroundError, match="2 gradient norms for 1 layer names"):
        health.gradient_health([1.0, 2.0], ["a"])
