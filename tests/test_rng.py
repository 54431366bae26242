"""rng.py: a run with Dropout repeats itself whatever else draws from torch's generator between its steps."""

from __future__ import annotations

import pytest
import torch

import playground as pg
from playground.rng import RunRNG, draws_randomly

LAYERS = [{"type": "Linear", "out_features": 16}, {"type": "ReLU"}, {"type": "Dropout", "p": 0.5},
          {"type": "Linear", "out_features": 2}]


def spec(seed: int, layers=LAYERS) -> pg.Spec:
    return pg.from_dict({"data": {"name": "circle", "n_samples": 120, "seed": 1}, "model": {"layers": layers},
                         "train": {"epochs": 3, "batch_size": 16, "device": "cpu", "seed": seed}})


def losses_alone(seed: int) -> list[float]:
    return [m["train_loss"] for m in pg.Trainer(spec(seed)).fit(3)]


@pytest.mark.parametrize("seeds", [(3, 7), (0, 0)])
def test_runs_taking_turns_draw_the_masks_of_each_run_alone(seeds):
    alone = [losses_alone(s) for s in seeds]
    runs, seen = [pg.Trainer(spec(s)) for s in seeds], [[], []]
    while any(r.epoch < 3 for r in runs):
        for i, r in enumerate(runs):  # one batch each in turn, as a worker does, and someone else draws too
            if r.epoch < 3 and r.train_step():
                seen[i].append(r.end_epoch()["train_loss"])
            torch.rand(7)
    assert seen == alone
    assert alone[0] != losses_alone(seeds[0] + 1)  # the masks are drawn: another seed, other losses


def test_the_state_around_a_run_is_left_as_it_was_and_the_runs_stream_goes_on():
    torch.manual_seed(5)
    rng = RunRNG(torch.device("cpu"))  # the run's stream starts where seed 5 starts
    torch.manual_seed(11)
    outside = torch.rand(3)
    torch.manual_seed(11)
    with rng:
        a = torch.rand(4)
    with rng:
        b = torch.rand(4)
    assert torch.equal(torch.rand(3), outside)  # the code around it drew as if nothing had happened
    torch.manual_seed(5)
    assert torch.equal(torch.cat([a, b]), torch.rand(8))  # the run's two blocks drew one stream, in order


def test_only_models_with_random_layers_keep_a_stream():
    assert draws_randomly(pg.Trainer(spec(0)).model)
    plain = pg.Trainer(spec(0, [LAYERS[0], LAYERS[1], LAYERS[3]]))
    assert not draws_randomly(plain.model) and plain._rng is None
