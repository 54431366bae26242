"""gan.py, gan_data.py, gan_views.py, ganlab.py: the GAN's spec, trainer, metric, views and the lab's settings."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch

from playground import cli, ganlab, memory, presets, probe
from playground.data import DataInfo, load_cached
from playground.gan import EVAL_SAMPLES, GanTrainer, gradient_penalty
from playground.gan_data import coverage
from playground.registry import PlaygroundError
from playground.spec import DataSpec, from_dict
from playground.tasks import summarize
from playground.train import TrainingError, validate
from playground.trainers import make_trainer

RING = [[2 * math.cos(a), 2 * math.sin(a)] for a in np.arange(8) * math.pi / 4]


def small(preset: str = "gan-ring", **train) -> dict:
    """A GAN preset with small networks and data (fast steps)."""
    d = ganlab.to_spec(ganlab.Settings(g_hidden=(16,), d_hidden=(16,), batch_size=32),
                       presets.get("gan-ring").to_dict()) if preset == "gan-ring" else presets.get(preset).to_dict()
    d["data"]["n_samples"] = 400
    d["train"].update(device="cpu", **train)
    return d


def states(net) -> dict:
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def same(a: dict, b: dict) -> bool:
    return all(torch.equal(a[k], b[k]) for k in a)


# ---- the modes-covered metric on hand-made points ---------------------------------------------------

def test_coverage_counts_a_mode_from_one_percent_of_the_samples():
    rng = np.random.default_rng(0)
    pts = [np.array(RING[0]) + rng.normal(0, 0.01, (2500 - 25 - 24, 2)),  # mode 0
           np.array(RING[1]) + rng.normal(0, 0.01, (25, 2)),  # mode 1: exactly 1 %, covered
           np.array(RING[2]) + rng.normal(0, 0.01, (24, 2))]  # mode 2: one short, not covered
    c = coverage(np.concatenate(pts), RING, 0.05)
    assert c["modes_covered"] == 2 and c["modes"] == 8 and c["high_quality"] == pytest.approx(1.0)
    assert c["hits"] == [2451, 25, 24, 0, 0, 0, 0, 0] and c["covered"] == [True, True] + [False] * 6


def test_a_sample_beyond_three_sigma_is_not_high_quality():
    x = np.array([[2.0 + 0.149, 0.0], [2.0 + 0.151, 0.0], [0.0, 0.0], [0.0, 2.1]])  # 3σ = 0.15
    c = coverage(x, RING, 0.05)
    assert c["high_quality"] == pytest.approx(2 / 4) and c["hits"][0] == 1 and c["hits"][2] == 1
    assert coverage(np.zeros((10, 2)), RING, 0.05)["modes_covered"] == 0  # all in the hole of the ring
    spread = np.array(RING * 10)
    assert coverage(spread, RING, 0.05)["modes_covered"] == 8


# ---- data -----------------------------------------------------------------------------------------

def test_the_mixtures_know_their_modes():
    ring = load_cached(DataSpec(name="ring", n_samples=800))
    assert ring.info.task == "generation" and ring.info.input_shape == (2,) and len(ring.info.modes) == 8
    assert ring.info.mode_std == 0.05 and coverage(ring.x_train, ring.info.modes, 0.05)["modes_covered"] == 8
    assert torch.equal(ring.x_train, ring.y_train)  # a GAN's target is the sample itself
    grid = load_cached(DataSpec(name="grid", n_samples=800)).info
    assert len(grid.modes) == 25 and [-4.0, -4.0] in grid.modes and [4.0, 4.0] in grid.modes


def test_a_drawing_travels_in_the_spec_and_is_bounded():
    d = load_cached(DataSpec(name="drawn", n_samples=300, noise=0.0, points=[[1, 2], [-3, 0.5]]))
    assert {tuple(p) for p in d.x_train.numpy().round(3).tolist()} == {(1.0, 2.0), (-3.0, 0.5)}
    with pytest.raises(PlaygroundError, match="points holds 201 points; at most 200"):
        load_cached(DataSpec(name="drawn", points=[[0, 0]] * 201))
    with pytest.raises(PlaygroundError, match=r"point 2 is \[7.0, 0.0\]; both coordinates must be within ±6"):
        load_cached(DataSpec(name="drawn", points=[[0, 0], [7, 0]]))
    with pytest.raises(PlaygroundError, match="point 1 must be \\[x, y\\], two numbers"):
        load_cached(DataSpec(name="drawn", points=[["a", 0]]))


# ---- the spec and its checks ---------------------------------------------------------------------

def test_old_specs_stay_as_they_were(contract_example):
    assert from_dict(contract_example).to_dict() == from_dict(copy.deepcopy(contract_example)).to_dict()
    out = from_dict(contract_example).to_dict()
    assert "discriminator" not in out and not {"task", "gan", "d_optimizer"} & set(out["train"])


def test_a_gan_summary_has_both_networks():
    spec = presets.get("gan-digits")
    s = validate(spec)
    d = dict(s.others)["discriminator"]
    assert s.input_shape == (32,) and s.output_shape == (1, 8, 8) and d.output_shape == (1,)
    g_params = sum(r.params for r in s.rows)
    assert s.total_params == g_params + d.total_params == 103_361


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.pop("discriminator"), "discriminator: a GAN needs a discriminator"),
    (lambda d: d["model"]["layers"][-1].update(out_features=3),
     r"layer 5 \(Linear\): the generator outputs \(N, 3\) but needs \(N, 2\) \(samples of ring\); end with a Linear "
     "of out_features=2"),
    (lambda d: d["discriminator"]["layers"][-1].update(out_features=2),
     r"discriminator layer 5 \(Linear\): the discriminator outputs \(N, 2\) but needs \(N, 1\)"),
    (lambda d: d["discriminator"]["layers"].insert(0, {"type": "Conv2d", "out_channels": 4, "kernel_size": 3}),
     r"discriminator layer 1 \(Conv2d\)"),
    (lambda d: d["train"]["gan"].update(loss="hinge"), "train.gan.loss: unknown GAN loss 'hinge' \\(known: bce, "
                                                       "wgan-gp\\)"),
    (lambda d: d["train"].update(scheduler={"type": "StepLR"}), "train.scheduler: a GAN's learning rates stay"),
    (lambda d: d["train"].update(d_optimizer={"type": "Adamm"}), "train.d_optimizer.type: unknown optimizer"),
])
def test_a_broken_gan_is_refused_naming_the_network_and_the_layer(change, message):
    d = presets.get("gan-ring").to_dict()
    change(d)
    spec = from_dict(d)
    with pytest.raises(PlaygroundError, match=message) as e:
        validate(spec)
    if "discriminator layer" in message:
        assert e.value.path.startswith("discriminator.layers[")


def test_memory_counts_both_networks():
    spec = presets.get("gan-ring")
    sketch = load_cached(spec.data)
    from playground.data import sketch as make_sketch
    est = memory.estimate(spec, make_sketch(spec.data))
    assert est.params == summarize(spec, sketch.info).total_params == 2 * (16 * 128 + 128 + 128 * 128 + 128) \
        + 128 * 2 + 2 + 128 + 1 - 16 * 128 + 2 * 128
    assert any(c.name.startswith("discriminator layer 1") for c in est.layers)


# ---- training ------------------------------------------------------------------------------------

def test_d_only_leaves_the_generator_alone_and_g_only_the_discriminator():
    tr = make_trainer(from_dict(small()))
    assert isinstance(tr, GanTrainer)
    g0, d0 = states(tr.model), states(tr.discriminator)
    tr.set_phase("d")
    for _ in range(5):
        tr.train_step()
    assert same(states(tr.model), g0) and not same(states(tr.discriminator), d0)
    assert (tr.d_steps, tr.g_steps) == (5, 0)
    d1 = states(tr.discriminator)
    tr.commands["phase"](phase="g")
    for _ in range(5):
        tr.train_step()
    assert same(states(tr.discriminator), d1) and not same(states(tr.model), g0)
    assert (tr.d_steps, tr.g_steps) == (5, 5)
    tr.set_phase("both")
    tr.train_step()
    assert (tr.d_steps, tr.g_steps) == (6, 6)
    with pytest.raises(PlaygroundError, match="phase: must be one of both, d, g"):
        tr.set_phase("x")


def test_an_epoch_reports_both_losses_and_the_coverage():
    tr = make_trainer(from_dict(small()))
    m = tr.run_epoch()
    assert m["steps"] == m["g_steps"] == m["d_steps"] == 100
    assert m["train_loss"] == m["d_loss"] and all(math.isfinite(m[k]) for k in ("d_loss", "g_loss", "val_loss"))
    assert 0 <= m["modes_covered"] <= 8 and 0 <= m["high_quality"] <= 1
    again = make_trainer(from_dict(small())).run_epoch()  # same seed, same run
    assert {k: v for k, v in again.items() if k != "seconds"} == {k: v for k, v in m.items() if k != "seconds"}
    tr.set_phase("d")  # an epoch of the discriminator alone still reports the generator's loss (evaluated)
    m2 = tr.run_epoch()
    assert m2["g_steps"] == 100 and math.isfinite(m2["g_loss"])


def test_two_discriminator_steps_per_generator_step():
    d = small()
    d["train"]["gan"]["d_steps"] = 2
    tr = make_trainer(from_dict(d))
    tr.train_step()
    assert (tr.d_steps, tr.g_steps) == (2, 1)


def test_the_gradient_penalty_by_hand():
    d = torch.nn.Linear(2, 1)  # the gradient of a linear critic is its weight everywhere
    with torch.no_grad():
        d.weight.copy_(torch.tensor([[3.0, 4.0]]))
    gp = gradient_penalty(d, torch.randn(8, 2), torch.randn(8, 2), torch.Generator().manual_seed(0))
    assert gp.item() == pytest.approx((5 - 1) ** 2)


def test_wgan_gp_trains():
    d = small()
    d["train"]["gan"].update(loss="wgan-gp", d_steps=2)
    m = make_trainer(from_dict(d)).run_epoch()
    assert math.isfinite(m["d_loss"]) and math.isfinite(m["g_loss"])


def test_a_gan_whose_loss_is_not_a_number_fails_with_a_hint():
    tr = make_trainer(from_dict(small()))
    with torch.no_grad():
        tr.model[0].weight[0, 0] = float("nan")  # as a diverged generator's would be
    with pytest.raises(TrainingError, match=r"epoch 1: the discriminator's loss became nan; lower the learning rates "
                                            r"\(now 0.001 and 0.001\)"):
        tr.run_epoch()


def test_the_cli_trains_a_gan_with_its_metrics(capsys, tmp_path):
    import json
    assert cli.main(["train", "gan-ring", "--epochs", "1", "--out", str(tmp_path / "run")]) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    want = {"epoch", "train_loss", "val_loss", "seconds", "d_loss", "g_loss", "modes_covered", "high_quality"}
    assert want <= set(line)
    assert (tmp_path / "run" / "model.safetensors").is_file()
    assert cli.main(["export", "gan-ring", "--format", "python", "-o", str(tmp_path / "x.py")]) == 2
    assert "export cannot write it yet" in capsys.readouterr().err


# ---- views and report ----------------------------------------------------------------------------

def test_the_2d_view_draws_what_the_networks_do():
    d = small()
    d["discriminator"]["layers"] = [{"type": "Linear", "out_features": 1}]  # a linear D: its gradient is its weight
    tr = make_trainer(from_dict(d))
    v = probe.VIEWS.get("gan2d")(tr, res=8, points=30, arrows=10, grid=5)
    assert v["fake"].shape == (30, 2) and v["arrows"].shape == (10, 2) and v["manifold"].shape == (25, 2)
    assert v["surface"].shape == (64,) and v["surface"].dtype == np.uint8 and v["modes"] == 8
    w, b = tr.discriminator[0].weight.detach()[0], tr.discriminator[0].bias.detach()[0]
    x = torch.as_tensor(v["fake"][:10])
    want = torch.sigmoid(-(x @ w + b))[:, None] * w  # minus the gradient of softplus(-D(x)): up D's slope
    np.testing.assert_allclose(v["arrows"], want.numpy(), rtol=1e-4, atol=1e-6)
    with torch.no_grad():  # the surface's top-left pixel is the discriminator at (-range, +range)
        top_left = torch.sigmoid(tr.discriminator(torch.tensor([[-tr.range, tr.range]])))[0, 0].item()
    assert abs(int(v["surface"][0]) - top_left * 255) <= 1
    fake = tr.samples(tr.eval_noise[:EVAL_SAMPLES])
    assert v["modes_covered"] == coverage(fake, tr.data.info.modes, 0.05)["modes_covered"]


def test_the_images_view_and_the_report_of_digits():
    tr = make_trainer(from_dict(small("gan-digits")))
    tr.train_step()
    v = probe.VIEWS.get("gan_images")(tr)
    assert v["samples"].shape == (36, 8, 8) and v["walk"].shape == (10, 8, 8) and len(v["scores"]) == 36
    r = probe.report(tr)
    assert r["kind"] == "gan_images" and r["samples"].shape == (64, 8, 8)


def test_the_points_report_counts_the_modes():
    tr = make_trainer(from_dict(small()))
    r = probe.report(tr)
    assert r["kind"] == "gan_points" and len(r["fake"]) == len(r["real"]) == 80 and r["modes"] == 8
    assert r["range"] == 3 and len(r["centres"]) == 8


# ---- the lab's settings ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["gan-ring", "gan-digits"])
def test_the_lab_reads_and_writes_its_presets(name):
    d = presets.get(name).to_dict()
    s = ganlab.from_spec(d)
    assert s is not None
    assert from_dict(ganlab.to_spec(s, d)).to_dict() == d


def test_the_lab_writes_every_dataset_and_reads_it_back():
    base = presets.get("gan-ring").to_dict()
    for name in ganlab.DATA:
        s = ganlab.Settings(dataset=name, g_hidden=(32, 32, 32), d_hidden=(64,), g_activation="Tanh",
                            d_activation="LeakyReLU", loss="wgan-gp", d_steps=3, g_lr=0.002, d_lr=0.0005, beta1=0.5,
                            batch_size=64, points=((1.0, 1.0), (2.0, -1.0)) if name == "drawn" else ())
        spec = ganlab.to_spec(s, base)
        validate(from_dict(spec))
        assert ganlab.from_spec(spec) == s


def test_the_lab_leaves_other_setups_alone(spiral_dict):
    assert ganlab.from_spec(spiral_dict) is None and ganlab.from_spec({"data": 3}) is None
    odd = presets.get("gan-ring").to_dict()
    odd["model"]["layers"].insert(0, {"type": "Dropout"})
    assert ganlab.from_spec(odd) is None
    assert ganlab.check(ganlab.Settings(dataset="nope", noise=10_000, g_lr=float("nan"), points=((9, -9),))) == \
        ganlab.Settings(dataset="ring", noise=256, points=((6.0, -6.0),))


def test_data_info_defaults_keep_old_callers_working():
    info = DataInfo("x", "binary", "points", (2,), ())
    assert info.modes == [] and info.mode_std == 0.0


@pytest.mark.slow  # two 3,000-step runs of the preset (~10-20 s each on 2 cores)
@pytest.mark.parametrize("seed", [0, 1])
def test_gan_ring_covers_six_of_eight_modes(seed):
    d = presets.get("gan-ring").to_dict()
    d["train"].update(seed=seed, device="cpu")
    tr = GanTrainer(from_dict(d))
    m = list(tr.fit())[-1]
    assert m["g_steps"] == 3000 and m["modes_covered"] >= 6, m


def test_a_full_drawing_fits_in_a_link():
    from playground.spec import MAX_URL_CHARS, decode, encode
    rng = np.random.default_rng(0)
    pts = [[float(x), float(y)] for x, y in rng.uniform(-4, 4, (200, 2)).round(3)]
    spec = from_dict(ganlab.to_spec(ganlab.Settings(dataset="drawn", points=tuple(map(tuple, pts))),
                                    presets.get("gan-ring").to_dict()))
    text = encode(spec)
    assert len(text) <= MAX_URL_CHARS and decode(text).data.options()["points"] == pts
