"""memory.py: a run's memory is estimated on the meta device before it starts, and refused past a cap with the
layer that makes it large; datasets are refused before they are built, and the cache is bounded in bytes."""

from __future__ import annotations

import resource

import pytest
import torch

from playground import data, memory, presets
from playground.data import DataTooLarge, load, load_cached, nbytes, sketch
from playground.memory import MB, Caps, MemoryLimit, check, estimate
from playground.spec import from_dict

UPSAMPLE_ATTACK = {  # 8 parameters, 34 GB a batch: two Upsample ×16 on 64×64 shapes
    "data": {"name": "shapes", "size": 64, "n_samples": 200},
    "model": {"layers": [{"type": "Upsample", "scale_factor": 16}, {"type": "Upsample", "scale_factor": 16},
                         {"type": "Conv2d", "out_channels": 1, "kernel_size": 1}, {"type": "AdaptiveAvgPool2d",
                                                                                      "output_size": 1},
                         {"type": "Flatten"}, {"type": "Linear", "out_features": 3}]},
    "train": {"batch_size": 32}}


def test_the_upsample_attack_is_refused_naming_the_layer():
    spec = from_dict(UPSAMPLE_ATTACK)
    sk = sketch(spec.data)
    est = estimate(spec, sk)
    assert est.params == 8
    with pytest.raises(MemoryLimit) as e:
        check(spec, sk, 512 * MB)
    msg = e.value.message
    assert msg.startswith("layer 2 (Upsample): output 1×16384×16384 per sample")
    assert "over this server's 512 MB a run" in msg and e.value.path == "model.layers"


def test_a_training_batch_is_named_when_it_dominates():
    spec = from_dict({"data": {"name": "shapes", "size": 64, "n_samples": 20},
                      "model": {"layers": [{"type": "Upsample", "scale_factor": 16}, {"type": "Flatten"},
                                           {"type": "Linear", "out_features": 3}]},
                      "train": {"batch_size": 256}})
    with pytest.raises(MemoryLimit, match=r"^layer 1 \(Upsample\): output 1×1024×1024 per sample, × 16 batch"):
        check(spec, sketch(spec.data), 64 * MB)  # 20 samples: 16 train, so the batch is 16


@pytest.mark.parametrize("name", presets.names())
def test_every_preset_fits_the_default_cap(name):
    spec = presets.get(name)
    est = check(spec, sketch(spec.data), Caps().job_bytes)
    assert 0 < est.total < 64 * MB


def test_the_estimate_covers_what_training_really_allocates():
    # measured: a conv net's real peak over one training step and the validation pass stays under the estimate
    spec = from_dict({"data": {"name": "shapes", "size": 32, "n_samples": 400},
                      "model": {"layers": [{"type": "Conv2d", "out_channels": 32, "kernel_size": 3, "padding": 1},
                                           {"type": "ReLU"}, {"type": "Flatten"},
                                           {"type": "Linear", "out_features": 3}]},
                      "train": {"batch_size": 64, "device": "cpu"}})
    est = estimate(spec, sketch(spec.data))
    from torch.profiler import ProfilerActivity, profile

    from playground.train import Trainer
    tr = Trainer(spec, data=load(spec.data))
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        tr.train_step()
        tr.evaluate(tr.x_val, tr.y_val, tr.labels_val)
    allocated = max(e.cpu_memory_usage for e in prof.key_averages())
    assert allocated > 0
    assert est.train_bytes + est.eval_bytes >= allocated
    assert est.data_bytes == nbytes(tr.data)


def test_the_optimizer_state_is_counted():
    base = {"data": {"name": "digits"}, "model": {"layers": [{"type": "Flatten"},
                                                             {"type": "Linear", "out_features": 10}]}}
    sk = sketch(from_dict(base).data)
    sgd = estimate(from_dict({**base, "train": {"optimizer": {"type": "SGD"}}}), sk)
    adam = estimate(from_dict({**base, "train": {"optimizer": {"type": "Adam"}}}), sk)
    assert sgd.params == adam.params == 650
    assert sgd.param_bytes == 650 * 4 * 2 and adam.param_bytes == 650 * 4 * 4


# ---- datasets: refused before they are built, cached within a byte budget -------------------------

def test_a_dataset_over_the_cap_is_refused_before_it_is_built():
    # the attack: shapes with 20,000 samples of 64×64 from four links took the server to 2.9 GB
    spec = from_dict({"data": {"name": "shapes", "n_samples": 20000, "size": 64}})
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(DataTooLarge) as e:
        load_cached(spec.data)
    grew_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert e.value.message.startswith("data (shapes): 20,000 samples of 1×64×64 take about 625 MB")
    assert "this server allows 64 MB a dataset: use at most 2,046 samples or a smaller size" in e.value.message
    assert grew_kb < 100_000  # the 625 MB were never allocated


def test_the_sketch_matches_the_built_dataset_without_building_it():
    spec = from_dict({"data": {"name": "shapes", "n_samples": 3000, "size": 32, "target": "mask"}})
    sk = sketch(spec.data)
    ds = load(spec.data)
    assert sk.info == ds.info and (sk.n_train, sk.n_val) == (len(ds.x_train), len(ds.x_val))
    assert sk.bytes == nbytes(ds)


def test_the_cache_is_bounded_in_bytes_not_count(monkeypatch):
    monkeypatch.setattr(data, "_CACHE", type(data._CACHE)())
    specs = [from_dict({"data": {"name": "shapes", "n_samples": 2000, "size": 32, "seed": s}}).data for s in range(4)]
    one = sketch(specs[0]).bytes
    monkeypatch.setattr(data, "CACHE_BYTES", int(2.5 * one))
    for s in specs:
        load_cached(s)
    assert data.cached_bytes() <= data.CACHE_BYTES and len(data._CACHE) == 2
    assert load_cached(specs[-1]) is load_cached(specs[-1])  # the most recent stay


def test_caps_come_from_the_environment_and_using_lifts_them(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_MAX_MEMORY_MB", "64")
    monkeypatch.setenv("PLAYGROUND_MAX_DATA_MB", "0")
    assert memory.caps() == Caps(64 * MB, None)
    with memory.using(memory.NO_CAPS):
        assert memory.caps() == Caps(None, None)
    spec = from_dict(UPSAMPLE_ATTACK)
    with pytest.raises(MemoryLimit, match="64 MB a run"):
        check(spec, sketch(spec.data))


def test_layers_without_meta_kernels_still_count_their_output(monkeypatch):
    spec = presets.get("digits-cnn")
    real = torch.nn.Conv2d.forward
    monkeypatch.setattr(torch.nn.Conv2d, "forward", lambda self, x: (_ for _ in ()).throw(RuntimeError("no meta")))
    est = estimate(spec, sketch(spec.data))
    monkeypatch.setattr(torch.nn.Conv2d, "forward", real)
    conv = est.layers[0]
    assert conv.forward_bytes == 4 * conv.output_shape[0] * conv.output_shape[1] * conv.output_shape[2]


def test_a_preview_never_builds_a_large_dataset(monkeypatch):
    monkeypatch.setattr(data, "_CACHE", type(data._CACHE)())
    spec = from_dict({"data": {"name": "shapes", "n_samples": 20000, "size": 16}})  # 40 MB in all
    ds, whole = data.preview(spec.data)
    assert whole.n_train == 16000 and whole.bytes > 38 * MB
    assert nbytes(ds) <= data.PREVIEW_BYTES and ds.info == whole.info
    small = from_dict({"data": {"name": "spiral"}})
    ds, whole = data.preview(small.data)
    assert len(ds.x_train) == whole.n_train  # small sets are shown whole


def test_building_the_dataset_counts_at_its_peak():
    # building shapes peaks at about three times what it holds (measured 40 MB -> 118 MB): a plain model on a
    # large set is refused for the build, not for training
    spec = from_dict({"data": {"name": "shapes", "n_samples": 20000, "size": 16},
                      "model": {"layers": [{"type": "Flatten"}, {"type": "Linear", "out_features": 3}]}})
    est = estimate(spec, sketch(spec.data))
    assert est.total == memory.BUILD * est.data_bytes > est.training
    with pytest.raises(MemoryLimit, match=r"^data: building the dataset takes about 1\d\d MB \(it holds 40 MB\)"):
        check(spec, sketch(spec.data), 100 * MB)
