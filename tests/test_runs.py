"""runs.py: a run directory round-trips its spec, weights and metrics, and refuses damaged ones."""

from __future__ import annotations

import json

import pytest
import torch

from playground import runs
from playground.registry import PlaygroundError
from playground.train import Trainer


@pytest.fixture
def trained(spiral_spec):
    tr = Trainer(spiral_spec)
    return tr, list(tr.fit(2))


def test_round_trip(tmp_path, trained):
    tr, metrics = trained
    d = runs.save(tmp_path / "run", tr.spec, tr.model.state_dict(), metrics)
    assert sorted(p.name for p in d.iterdir()) == ["metrics.jsonl", "model.safetensors", "spec.json"]
    spec, weights, loaded = runs.load_run(d)
    assert spec == tr.spec
    assert loaded == metrics
    state = tr.model.state_dict()
    assert weights.keys() == state.keys()
    for k in state:
        assert torch.equal(weights[k], state[k])
    assert [json.loads(line) for line in (d / "metrics.jsonl").read_text().splitlines()] == metrics


def test_numpy_weights_and_no_weights(tmp_path, trained):
    tr, _ = trained
    arrays = {k: v.numpy() for k, v in tr.model.state_dict().items()}
    _, weights, metrics = runs.load_run(runs.save(tmp_path / "a", tr.spec, arrays))
    assert all(torch.equal(weights[k], torch.from_numpy(v)) for k, v in arrays.items()) and metrics == []
    spec, weights, _ = runs.load_run(runs.save(tmp_path / "b", tr.spec))
    assert spec == tr.spec and weights is None


def test_load_model_reproduces_the_outputs(tmp_path, trained):
    tr, metrics = trained
    d = runs.save(tmp_path, tr.spec, tr.model.state_dict(), metrics)
    model, spec, info = runs.load_model(d)
    assert not model.training and spec == tr.spec and info.n_classes == 2
    with torch.no_grad():
        assert torch.equal(model(tr.data.x_val), tr.predict(tr.data.x_val))


def test_missing_spec(tmp_path):
    with pytest.raises(PlaygroundError, match="not a run directory: it has no spec.json"):
        runs.load_run(tmp_path)
    with pytest.raises(PlaygroundError, match="not a run directory"):
        runs.load_model(tmp_path / "nowhere")


@pytest.mark.parametrize("content", [b"", b"not safetensors at all", b"\xff" * 64], ids=["empty", "text", "bytes"])
def test_corrupt_weights(tmp_path, trained, content):
    tr, _ = trained
    d = runs.save(tmp_path, tr.spec, tr.model.state_dict())
    (d / "model.safetensors").write_bytes(content)
    with pytest.raises(PlaygroundError, match="model.safetensors cannot be read"):
        runs.load_run(d)


def test_truncated_weights(tmp_path, trained):
    tr, _ = trained
    d = runs.save(tmp_path, tr.spec, tr.model.state_dict())
    data = (d / "model.safetensors").read_bytes()
    (d / "model.safetensors").write_bytes(data[: len(data) - 20])
    with pytest.raises(PlaygroundError, match="cannot be read"):
        runs.load_run(d)


def test_weights_that_do_not_fit_the_spec(tmp_path, trained, make_spec):
    tr, _ = trained
    state = tr.model.state_dict()
    other = make_spec({"name": "spiral", "n_samples": 120}, [{"type": "Linear", "out_features": 2}])
    with pytest.raises(PlaygroundError, match=r"do not fit its spec \(size mismatch for 0.bias"):
        runs.load_model(runs.save(tmp_path / "shapes", other, state))
    extra = {**state, "9.weight": torch.zeros(1)}
    with pytest.raises(PlaygroundError, match=r"do not fit its spec \(missing \[\], unexpected \['9.weight'\]\)"):
        runs.load_model(runs.save(tmp_path / "names", tr.spec, extra))


def test_corrupt_spec(tmp_path, trained):
    tr, _ = trained
    d = runs.save(tmp_path, tr.spec)
    (d / "spec.json").write_text("{")
    with pytest.raises(PlaygroundError, match="not valid JSON"):
        runs.load_run(d)


def test_model_from_weights_in_memory(trained):
    """What Inspect rebuilds from a live run's weights (numpy arrays): the same model, with the same checks."""
    tr, _ = trained
    weights = {k: v.numpy().copy() for k, v in tr.model.state_dict().items()}
    model = runs.model_from(tr.spec, tr.data.info, weights)
    assert not model.training
    x = tr.data.x_val[:5]
    torch.testing.assert_close(model(x), tr.predict(x))
    with pytest.raises(PlaygroundError, match=r"the run's weights do not fit its spec \(missing \['0.bias'\]"):
        runs.model_from(tr.spec, tr.data.info, {k: v for k, v in weights.items() if k != "0.bias"},
                        "the run's weights")
