"""probe.py: end-of-run reports, the 2-D views, captured layer outputs and embeddings agree with the model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from playground import presets, probe, tasks
from playground.build import build_layers
from playground.data import load_cached
from playground.modules import Network
from playground.registry import PlaygroundError
from playground.train import Trainer

DEEP = [{"type": "Linear", "out_features": 6}, {"type": "Tanh"}, {"type": "Linear", "out_features": 4},
        {"type": "ReLU"}, {"type": "Dropout", "p": 0.1}, {"type": "Linear", "out_features": 3}]


@pytest.fixture
def classifier(make_spec):
    tr = Trainer(make_spec({"name": "gauss", "classes": 3, "n_samples": 90}, DEEP, epochs=2))
    list(tr.fit())
    return tr


@pytest.fixture
def regressor(make_spec):
    tr = Trainer(make_spec({"name": "multigauss", "n_samples": 80},
                           [{"type": "Linear", "out_features": 5}, {"type": "Tanh"},
                            {"type": "Linear", "out_features": 1}], loss="mse", epochs=2))
    list(tr.fit())
    return tr


def test_confusion_matrix_counts_the_validation_set(classifier):
    r = probe.report(classifier)
    m = np.array(r["matrix"])
    assert r["kind"] == "confusion" and m.shape == (3, 3) and r["classes"] == classifier.data.info.class_names
    assert m.sum() == len(classifier.data.x_val)
    true = classifier.data.y_val.numpy()
    assert (m.sum(1) == np.bincount(true, minlength=3)).all()  # rows are the true classes
    pred = classifier.predict(classifier.data.x_val).argmax(1).numpy()
    assert (m.sum(0) == np.bincount(pred, minlength=3)).all()  # columns the predicted ones
    assert r["accuracy"] == pytest.approx(np.trace(m) / m.sum())


def test_binary_report_with_one_logit(make_spec):
    tr = Trainer(make_spec("circle", [{"type": "Linear", "out_features": 1}], loss="bce_with_logits"))
    r = probe.report(tr)
    assert np.array(r["matrix"]).shape == (2, 2) and np.array(r["matrix"]).sum() == len(tr.data.x_val)


def test_regression_report_lists_true_and_predicted_values(regressor):
    r = probe.report(regressor)
    n = len(regressor.data.x_val)
    assert r["kind"] == "regression" and len(r["true"]) == len(r["pred"]) == n
    np.testing.assert_allclose(r["true"], regressor.data.y_val[:, 0].numpy())
    pred = regressor.predict(regressor.data.x_val)[:, 0].numpy()
    np.testing.assert_allclose(r["pred"], pred, rtol=1e-6)
    assert r["mse"] == pytest.approx(float(((pred - np.array(r["true"])) ** 2).mean()), rel=1e-5)


@pytest.mark.parametrize("res", [8, 16])
def test_grid2d_classification(classifier, res):
    v = probe.grid2d(classifier, res=res)
    assert v["res"] == res and v["epoch"] == 2
    assert v["surface"].shape == (res, res, 3)
    np.testing.assert_allclose(v["surface"].astype(np.float32).sum(-1), 1.0, atol=1e-2)  # probabilities
    # one map per hidden Linear layer, with that layer's neurons (the output layer is not hidden)
    assert [n.shape for n in v["neurons"]] == [(6, res, res), (4, res, res)]
    assert [w.shape for w in v["weights"]] == [(6, 2), (4, 6), (3, 4)]
    assert v["hidden"].shape == (len(v["hidden_labels"]), 2)
    assert classifier.model.training  # the view leaves the mode as it found it


def test_grid2d_surface_is_the_model_on_the_grid(classifier):
    res = 5
    v = probe.grid2d(classifier, res=res)
    lin = np.linspace(-6, 6, res, dtype=np.float32)
    top_left, bottom_right = [[lin[0], lin[-1]]], [[lin[-1], lin[0]]]  # row 0 is the top of the plot
    for point, (r, c) in ((top_left, (0, 0)), (bottom_right, (res - 1, res - 1))):
        p = torch.softmax(classifier.predict(torch.tensor(point)), 1)[0].numpy()
        np.testing.assert_allclose(v["surface"][r, c].astype(np.float32), p, atol=2e-3)
    # neuron maps: the first hidden layer after its Tanh, at the same point
    h = torch.tanh(classifier.model[0](torch.tensor(top_left)))[0].detach().numpy()
    np.testing.assert_allclose(v["neurons"][0][:, 0, 0].astype(np.float32), h, atol=2e-3)


def test_grid2d_with_one_logit_and_regression(make_spec, regressor):
    tr = Trainer(make_spec("xor", [{"type": "Linear", "out_features": 3}, {"type": "ReLU"},
                                   {"type": "Linear", "out_features": 1}], loss="bce_with_logits"))
    v = probe.grid2d(tr, res=6)
    assert v["surface"].shape == (6, 6, 2) and len(v["neurons"]) == 1
    r = probe.grid2d(regressor, res=7)
    assert r["surface"].shape == (7, 7, 1) and [n.shape for n in r["neurons"]] == [(5, 7, 7)]


def test_grid2d_uses_the_dataset_features(make_spec):
    tr = Trainer(make_spec({"name": "circle", "features": ["x1^2", "x2^2", "x1*x2"]},
                           [{"type": "Linear", "out_features": 2}]))
    v = probe.grid2d(tr, res=4)
    assert v["surface"].shape == (4, 4, 2) and v["neurons"] == []


def test_grid2d_refuses_other_data(make_spec):
    tr = Trainer(make_spec({"name": "iris"}, [{"type": "Linear", "out_features": 3}]))
    with pytest.raises(PlaygroundError, match="2-D point dataset; iris is tabular"):
        probe.grid2d(tr)


def test_neuron_layers_skip_to_after_the_activations():
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Dropout(),
                                torch.nn.Linear(3, 3), torch.nn.Linear(3, 2))
    assert probe.neuron_layers(model) == [2, 3]


def test_views_registry():
    assert probe.VIEWS.get("grid2d") is probe.grid2d


# ---- capture: every layer's output -------------------------------------------------------------

@pytest.mark.parametrize("name", presets.names())
def test_capture_shapes_match_the_declared_ones_for_every_preset(name):
    spec = presets.get(name)
    ds = load_cached(spec.data)
    nets = tasks.parts(spec, ds.info)  # every network the run trains (a GAN's generator reads noise)
    for _, net, info in nets:
        x = ds.x_val[:2] if info is ds.info else torch.randn(2, *info.input_shape)
        check_capture(net, info, x, check_output=len(nets) == 1)


def check_capture(spec, info, x, check_output):
    modules, summary = build_layers(spec, info, check_output)
    model = Network(*modules)
    outs = probe.capture(model, x)
    # one output per top-level layer, a block as one (its layers' rows follow it in summary.rows)
    assert [o.shape for o in outs] == [r.output_shape for r in summary.top]
    assert [o.index for o in outs] == list(range(len(summary.top)))
    assert [o.type for o in outs] == [r.type for r in summary.top]
    for o in outs:
        assert o.values.dtype == np.float32 and o.values.shape == (2, *o.shape) and o.truncated == ""
    # the last record is the model's output
    with torch.no_grad():
        np.testing.assert_allclose(outs[-1].values, model.eval()(x).numpy(), rtol=1e-5, atol=1e-6)


def test_capture_extras_attention_sequences_kernels(make_spec):
    tr = Trainer(make_spec({"name": "sentiment", "n_samples": 40, "seq_len": 10},
                           [{"type": "Embedding", "embedding_dim": 8}, {"type": "MultiheadAttention", "num_heads": 2},
                            {"type": "TransformerEncoderLayer", "nhead": 4, "dim_feedforward": 8, "dropout": 0.0},
                            {"type": "LSTM", "hidden_size": 5, "bidirectional": True},
                            {"type": "Linear", "out_features": 2}]))
    outs = probe.capture(tr.model, tr.x_val[:3])
    mha, enc, lstm = outs[1], outs[2], outs[3]
    assert mha.attention.shape == (3, 2, 10, 10) and enc.attention.shape == (3, 4, 10, 10)
    np.testing.assert_allclose(mha.attention.sum(-1), 1.0, atol=1e-5)  # each row of weights sums to 1
    np.testing.assert_allclose(enc.attention.sum(-1), 1.0, atol=1e-5)
    assert lstm.shape == (10,) and lstm.sequence.shape == (3, 10, 10)  # last step only; the sequence anyway
    # the forward direction's last step is the output's first half
    np.testing.assert_allclose(lstm.sequence[:, -1, :5], lstm.values[:, :5], atol=1e-6)
    assert outs[0].attention is None and outs[0].sequence is None
    assert tr.model[1].keep_weights is False and tr.model[1].last_weights is None  # left as it was
    assert tr.model.training  # mode restored


def test_capture_attention_matches_the_layer(make_spec):
    tr = Trainer(make_spec({"name": "sentiment", "n_samples": 40, "seq_len": 10},
                           [{"type": "Embedding", "embedding_dim": 8}, {"type": "MultiheadAttention", "num_heads": 2},
                            {"type": "Flatten"}, {"type": "Linear", "out_features": 2}]))
    x = tr.x_val[:2]
    outs = probe.capture(tr.model, x)
    with torch.no_grad():
        e = tr.model[0](x)
        _, w = tr.model[1].attn(e, e, e, need_weights=True, average_attn_weights=False)
    np.testing.assert_allclose(outs[1].attention, w.numpy(), atol=1e-6)


def test_capture_kernels_no_graph_and_bounded(make_spec):
    tr = Trainer(make_spec({"name": "shapes", "n_samples": 30, "size": 16},
                           [{"type": "Conv2d", "out_channels": 6, "kernel_size": 3, "padding": 1}, {"type": "ReLU"},
                            {"type": "Flatten"}, {"type": "Linear", "out_features": 3}]))
    outs = probe.capture(tr.model, tr.x_val[:4], max_elements=700)
    conv = outs[0]
    np.testing.assert_array_equal(conv.kernels, tr.model[0].weight.detach().numpy())
    assert conv.shape == (6, 16, 16)
    # one sample alone has 1536 values: the first sample's first two channels fit in 700
    assert conv.values.shape == (1, 2, 16, 16) and "first 2 of 6 channels" in conv.truncated
    assert "first of 4 samples" in conv.truncated
    full = tr.model[0](tr.x_val[:4]).detach()
    assert conv.stats["max"] == pytest.approx(float(full.max()))
    assert conv.stats["min"] == pytest.approx(float(full.min()))
    assert all(o.values.size <= 700 for o in outs)
    lin = outs[-1]
    assert lin.values.shape == (4, 3) and lin.truncated == ""
    assert all(p.grad is None for p in tr.model.parameters())  # nothing was back-propagated
    flat = outs[2]  # (1536,) per sample: the first 700 values of the first sample
    assert flat.values.shape == (1, 700) and "flattened" in flat.truncated
    assert probe.capture(tr.model, tr.x_val[:1], kernels=False)[0].kernels is None  # when flipping through inputs


def test_capture_kernels_follow_training_and_are_copies(make_spec):
    tr = Trainer(make_spec({"name": "shapes", "n_samples": 30, "size": 16},
                           [{"type": "Conv2d", "out_channels": 6, "kernel_size": 3}, {"type": "Flatten"},
                            {"type": "Linear", "out_features": 3}]))
    before = probe.capture(tr.model, tr.x_val[:1])[0].kernels
    kept = before.copy()
    tr.train_step()  # the optimizer changes the weights in place
    after = probe.capture(tr.model, tr.x_val[:1])[0].kernels
    np.testing.assert_array_equal(after, tr.model[0].weight.detach().numpy())
    assert not np.array_equal(after, kept)
    np.testing.assert_array_equal(before, kept)  # what the first call returned did not move with the weights
    tr.model[0] = torch.nn.Conv2d(1, 6, 3)  # a swapped layer: its own kernels, not the old layer's
    np.testing.assert_array_equal(probe.capture(tr.model, tr.x_val[:1])[0].kernels,
                                  tr.model[0].weight.detach().numpy())


def test_capture_downsamples_big_images():
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 1))
    out = probe.capture(model, torch.randn(1, 1, 100, 100), max_elements=2500)[0]
    assert out.values.shape == (1, 1, 50, 50) and "one pixel in 2 along each side" in out.truncated
    assert out.to_dict()["name"] == "layer 1 (Conv2d)" and out.to_dict()["shape"] == [1, 100, 100]


def test_capture_refuses_non_sequential_models():
    class Two(torch.nn.Module):
        def forward(self, x):
            return x
    with pytest.raises(PlaygroundError, match="sequential model"):
        probe.capture(Two(), torch.zeros(1, 2))


# ---- embedding: the penultimate layer's view ------------------------------------------------------

def test_embedding_is_the_pca_of_the_penultimate_layer(classifier):
    x, y = classifier.data.x_val, classifier.data.y_val
    e = probe.embedding(classifier.model, x, y)
    assert e["points"].shape == (len(x), 2) and e["points"].dtype == np.float32
    assert e["layer"] == 4 and e["name"] == "layer 5 (Dropout)" and e["dim"] == 4  # input of the last Linear
    np.testing.assert_array_equal(e["labels"], y.numpy())
    with torch.no_grad():
        h = classifier.model.eval()[:5](x).numpy()
    classifier.model.train()
    # PCA keeps distances within the plane's share of the variance: compare the centred Gram matrices
    c = h - h.mean(0)
    assert sum(e["explained"]) <= 1 + 1e-6 and e["explained"][0] >= e["explained"][1]
    var = (e["points"] ** 2).sum(0) / (c ** 2).sum()
    np.testing.assert_allclose(var, e["explained"], rtol=1e-4)
    again = probe.embedding(classifier.model, x, y)
    np.testing.assert_array_equal(again["points"], e["points"])  # deterministic, signs included
    assert classifier.model.training


def test_embedding_of_a_cnn_reads_the_flattened_features(make_spec):
    tr = Trainer(make_spec({"name": "shapes", "n_samples": 40, "size": 8},
                           [{"type": "Conv2d", "out_channels": 2, "kernel_size": 3}, {"type": "Flatten"},
                            {"type": "Linear", "out_features": 3}]))
    e = probe.embedding(tr.model, tr.x_val)
    assert e["dim"] == 2 * 6 * 6 and e["labels"] is None and e["name"] == "layer 2 (Flatten)"


def test_capture_converts_other_dtypes_in_one_transfer():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    x = torch.randn(2, 3, dtype=torch.float64)
    outs = probe.capture(model, x)
    assert [o.values.dtype for o in outs] == [np.float32] * 3
    assert [o.values.shape for o in outs] == [(2, 4), (2, 4), (2, 2)]
    with torch.no_grad():
        np.testing.assert_allclose(outs[-1].values, model(x).numpy(), rtol=1e-6)


def test_an_autoencoder_reports_its_images_and_their_reconstructions():
    spec = presets.get("digits-autoencoder")
    tr = Trainer(spec.model_copy(update={"train": spec.train.model_copy(update={"epochs": 1, "device": "cpu"})}))
    list(tr.fit())
    r = probe.report(tr)
    x = tr.data.x_val  # (N, 1, 8, 8): the target is the input
    assert r["kind"] == "reconstruction" and r["inputs"].shape == r["outputs"].shape == (8, 8, 8)
    np.testing.assert_allclose(r["inputs"], x[:8, 0].numpy())
    out = tr.predict(x).reshape(x.shape)
    np.testing.assert_allclose(r["outputs"], out[:8, 0].numpy(), rtol=1e-5, atol=1e-6)
    assert r["mse"] == pytest.approx(float(((out - x) ** 2).mean()), rel=1e-5)
