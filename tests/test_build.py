"""build.py: every layer type trains inside a model; errors name the layer and carry a working fix."""

from __future__ import annotations

import copy

import pytest
import torch

import playground as pg
from playground.build import BuildError, build, build_layers, summarize
from playground.layers import LAYERS
from playground.train import Trainer

POINTS = {"name": "circle", "n_samples": 60}
IMAGES = {"name": "shapes", "n_samples": 30, "size": 8}
SERIES = {"name": "sine", "n_samples": 40, "seq_len": 8}
TEXT = {"name": "sentiment", "n_samples": 40, "seq_len": 10}


def model_for(name: str) -> tuple[dict, list[dict], str]:
    """A small (data, layers, loss) that uses layer `name` where it fits."""
    category = LAYERS.get(name).category
    x = {"type": name}
    if name == "Embedding":
        return TEXT, [{"type": "Embedding", "embedding_dim": 4}, {"type": "Flatten"},
                      {"type": "Linear", "out_features": 2}], "cross_entropy"
    if category == "attention":
        return TEXT, [{"type": "Embedding", "embedding_dim": 8}, x, {"type": "Flatten"},
                      {"type": "Linear", "out_features": 2}], "cross_entropy"
    if category == "recurrent":
        return SERIES, [{"type": name, "hidden_size": 6}, {"type": "Linear", "out_features": 1}], "mse"
    if name == "Conv1d":
        return IMAGES, [{"type": "Flatten", "start_dim": 2}, {"type": "Conv1d", "out_channels": 4},
                        {"type": "Flatten"}, {"type": "Linear", "out_features": 3}], "cross_entropy"
    if category in ("convolution", "pooling") or name in ("BatchNorm2d", "Upsample"):
        return IMAGES, [x, {"type": "Flatten"}, {"type": "Linear", "out_features": 3}], "cross_entropy"
    if name == "Flatten":
        return IMAGES, [x, {"type": "Linear", "out_features": 3}], "cross_entropy"
    if name == "Unflatten":
        return POINTS, [{"type": "Unflatten", "dim": 1, "unflattened_size": [2, 1]}, {"type": "Flatten"},
                        {"type": "Linear", "out_features": 2}], "cross_entropy"
    if name == "Select":
        return POINTS, [{"type": "Linear", "out_features": 8}, {"type": "Select", "columns": [0, 2, 5]},
                        {"type": "Linear", "out_features": 2}], "cross_entropy"
    if name == "Linear":
        return POINTS, [{"type": "Linear", "out_features": 8}, {"type": "Tanh"},
                        {"type": "Linear", "out_features": 2}], "cross_entropy"
    return POINTS, [{"type": "Linear", "out_features": 8}, x, {"type": "Linear", "out_features": 2}], "cross_entropy"


def spec_for(name: str, **train) -> pg.Spec:
    data, layers, loss = model_for(name)
    return pg.from_dict({"data": data, "model": {"layers": layers},
                         "train": {"loss": loss, "optimizer": {"type": "Adam", "lr": 0.01}, "batch_size": 8,
                                   "device": "cpu", **train}})


def build_error(spec_dict: dict) -> BuildError:
    spec = pg.from_dict(spec_dict)
    with pytest.raises(BuildError) as e:
        build(spec, pg.load(spec.data).info)
    return e.value


def apply_fix(spec_dict: dict, fix: dict) -> dict:
    d = copy.deepcopy(spec_dict)
    layers = d["model"]["layers"]
    if fix["action"] == "insert":
        layers.insert(fix["at"], dict(fix["layer"]))
    elif fix["action"] == "set":
        layers[fix["at"]][fix["key"]] = fix["value"]
    elif fix["action"] == "unset":
        del layers[fix["at"]][fix["key"]]
    else:
        raise AssertionError(f"unknown fix {fix}")
    return d


def spec_dict(data: dict | str, layers: list[dict], loss: str = "cross_entropy") -> dict:
    return {"data": {"name": data} if isinstance(data, str) else dict(data), "model": {"layers": layers},
            "train": {"loss": loss, "device": "cpu"}}


@pytest.mark.parametrize("name", LAYERS.names())
def test_parameters_change_after_one_step(name):
    spec = spec_for(name)
    tr = Trainer(spec)
    layer = next(i for i, layer in enumerate(spec.model.layers) if layer.type == name)
    before = {k: v.clone() for k, v in tr.model.named_parameters()}
    own = [k for k in before if k.startswith(f"{layer}.")]
    assert bool(own) == (sum(p.numel() for p in tr.model[layer].parameters()) > 0)
    tr.train_step()
    after = dict(tr.model.named_parameters())
    unchanged = [k for k in before if torch.equal(before[k], after[k])]
    assert not unchanged, f"{name}: {unchanged} did not change after one step"


@pytest.mark.parametrize("name", LAYERS.names())
def test_summary_matches_the_real_model(name):
    spec = spec_for(name)
    info = pg.load(spec.data).info
    model = build(spec, info)
    summary = summarize(spec, info)
    assert [r.index for r in summary.rows] == list(range(1, len(model) + 1))
    assert [r.label for r in summary.rows] == [str(i) for i in range(1, len(model) + 1)]
    assert [r.type for r in summary.rows] == [layer.type for layer in spec.model.layers]
    x = pg.load(spec.data).x_train[:3]
    model.eval()
    for row, module in zip(summary.rows, model, strict=True):
        x = module(x)
        assert tuple(x.shape[1:]) == row.output_shape, f"layer {row.index} ({row.type})"
        assert row.params == sum(p.numel() for p in module.parameters())
    assert summary.total_params == sum(p.numel() for p in model.parameters())
    assert summary.output_shape == tuple(x.shape[1:])


def test_summary_table_lists_every_layer(spiral_spec, dataset):
    summary = summarize(spiral_spec, dataset(spiral_spec).info)
    table = summary.table()
    assert table.splitlines()[1].split() == ["input", "(N,", "2)"]
    assert "  5  Linear" in table and "(N, 2)" in table
    assert table.endswith(f"total parameters: {summary.total_params:,}")
    assert summary.total_params == (2 * 8 + 8) + (8 * 8 + 8) + (8 * 2 + 2)


def test_summarize_allocates_nothing(spiral_spec, dataset):
    # a huge model is summarised on the meta device: no memory, no time
    d = spiral_spec.to_dict()
    d["model"]["layers"][2]["out_features"] = 4096
    d["model"]["layers"].insert(3, {"type": "Linear", "out_features": 4096})
    spec = pg.from_dict(d)
    assert summarize(spec, dataset(spec).info).total_params > 16_000_000


def test_build_is_a_pure_function_of_the_spec(spiral_spec, dataset):
    info = dataset(spiral_spec).info
    torch.manual_seed(1)
    a = build(spiral_spec, info)
    torch.manual_seed(1)
    b = build(spiral_spec, info)
    assert all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())


# ---- errors and their fixes -----------------------------------------------------------------

@pytest.mark.parametrize("data, layers, start, hint", [
    (IMAGES, [{"type": "Conv2d"}, {"type": "Linear", "out_features": 3}], "layer 2 (Linear): ",
     "add Flatten before it"),
    (POINTS, [{"type": "Linear", "out_features": 64}, {"type": "Conv2d", "out_channels": 2}, {"type": "Flatten"},
              {"type": "Linear", "out_features": 2}], "layer 2 (Conv2d): ", r"add Unflatten(1, [1, 8, 8])"),
    (POINTS, [{"type": "LSTM", "hidden_size": 4}, {"type": "Linear", "out_features": 2}], "layer 1 (LSTM): ",
     "Unflatten(1, [2, 1])"),
    (IMAGES, [{"type": "GRU", "hidden_size": 4}, {"type": "Linear", "out_features": 3}], "layer 1 (GRU): ",
     "Flatten(start_dim=2)"),
    (TEXT, [{"type": "Linear", "out_features": 2}, {"type": "Flatten"}, {"type": "Linear", "out_features": 2}],
     "layer 1 (Linear): ", "add Embedding before it"),
])
def test_shape_errors_name_the_layer_and_their_fix_builds(data, layers, start, hint):
    d = spec_dict(data, layers)
    err = build_error(d)
    assert err.message.startswith(start), err.message
    assert hint in err.message
    assert err.layer == int(start.split()[1]) - 1
    assert err.path == f"model.layers[{err.layer}]"
    assert err.fix["action"] == "insert" and err.fix["at"] == err.layer
    fixed = pg.from_dict(apply_fix(d, err.fix))
    model = build(fixed, pg.load(fixed.data).info)
    assert len(model) == len(layers) + 1


def test_wrong_out_features_names_the_last_linear_and_the_classes():
    d = spec_dict({"name": "gauss", "classes": 3, "n_samples": 60},
                  [{"type": "Linear", "out_features": 8}, {"type": "ReLU"}, {"type": "Linear", "out_features": 2},
                   {"type": "Softmax"}])
    err = build_error(d)
    assert err.message.startswith("layer 4 (Softmax): the model outputs (N, 2)"), err.message
    assert "needs (N, 3) (3 classes)" in err.message
    assert err.message.endswith("set out_features=3 on layer 3")
    assert err.fix == {"action": "set", "at": 2, "key": "out_features", "value": 3}
    fixed = pg.from_dict(apply_fix(d, err.fix))
    assert summarize(fixed, pg.load(fixed.data).info).output_shape == (3,)


@pytest.mark.parametrize("data, loss, want", [
    ("plane", "mse", "needs (N, 1) (targets of shape (N, 1))"),
    ({"name": "circle"}, "bce_with_logits", "needs (N, 1) (2 classes)"),
])
def test_head_errors_say_what_the_loss_needs(data, loss, want):
    d = spec_dict(data, [{"type": "Linear", "out_features": 5}], loss)
    err = build_error(d)
    assert err.message.startswith("layer 1 (Linear): the model outputs (N, 5)") and want in err.message
    fixed = pg.from_dict(apply_fix(d, err.fix))
    build(fixed, pg.load(fixed.data).info)


def test_two_outputs_also_fit_binary_losses():
    for loss in ("bce_with_logits", "mse"):
        spec = pg.from_dict(spec_dict(POINTS, [{"type": "Linear", "out_features": 2}], loss))
        assert summarize(spec, pg.load(spec.data).info).output_shape == (2,)


def test_image_output_for_a_label_asks_for_flatten():
    err = build_error(spec_dict(IMAGES, [{"type": "Conv2d", "out_channels": 3}]))
    assert err.message.startswith("layer 1 (Conv2d): the model outputs (N, 3, 6, 6)")
    assert "end with Flatten and Linear" in err.message
    assert err.fix == {"action": "insert", "at": 1, "layer": {"type": "Flatten"}}


def test_loss_that_does_not_fit_the_task():
    err = build_error(spec_dict("plane", [{"type": "Linear", "out_features": 1}], "cross_entropy"))
    assert err.message.startswith("train.loss: cross_entropy needs a classification dataset")
    assert err.path == "train.loss"


def test_unknown_layer_type_suggests_the_close_name():
    err = build_error(spec_dict(POINTS, [{"type": "Linear", "out_features": 4}, {"type": "Lienar"}]))
    assert err.message.startswith("layer 2 (Lienar): unknown layer type 'Lienar'")
    assert "did you mean 'Linear'?" in err.message
    assert err.path == "model.layers[1].type" and err.layer == 1


def test_unknown_layer_option_names_its_path():
    err = build_error(spec_dict(POINTS, [{"type": "Linear", "out_feature": 2}]))
    assert err.message.startswith("layer 1 (Linear): unknown option 'out_feature'; did you mean 'out_features'")
    assert err.path == "model.layers[0].out_feature"


@pytest.mark.parametrize("key, value, message", [
    ("out_features", 0, "out_features must be ≥ 1, got 0"),
    ("out_features", "two", "out_features must be an integer"),
    ("bias", "no", "bias must be true or false"),
])
def test_bad_layer_option_names_its_path(key, value, message):
    err = build_error(spec_dict(POINTS, [{"type": "Tanh"}, {"type": "Linear", key: value}]))
    assert err.message.startswith(f"layer 2 (Linear): {message}"), err.message
    assert err.path == f"model.layers[1].{key}"


def test_empty_model():
    err = build_error(spec_dict(POINTS, []))
    assert err.message.startswith("model.layers: ") and err.path == "model.layers"
    assert err.fix == {"action": "insert", "at": 0, "layer": {"type": "Linear"}}


@pytest.mark.parametrize("data, layers, key, given, actual", [
    (POINTS, [{"type": "Linear", "in_features": 3, "out_features": 2}], "in_features", 3, 2),
    (IMAGES, [{"type": "Conv2d", "in_channels": 3}, {"type": "Flatten"}, {"type": "Linear", "out_features": 3}],
     "in_channels", 3, 1),
    (SERIES, [{"type": "LSTM", "input_size": 2}, {"type": "Linear", "out_features": 1}], "input_size", 2, 1),
    (TEXT, [{"type": "Embedding", "num_embeddings": 5}, {"type": "Flatten"}, {"type": "Linear", "out_features": 2}],
     "num_embeddings", 5, 44),  # <pad>, <unk> and 42 words
    (POINTS, [{"type": "Linear", "out_features": 4}, {"type": "BatchNorm1d", "num_features": 5},
              {"type": "Linear", "out_features": 2}], "num_features", 5, 4),
    (POINTS, [{"type": "Linear", "out_features": 4}, {"type": "LayerNorm", "normalized_shape": [3]},
              {"type": "Linear", "out_features": 2}], "normalized_shape", 3, 4),
    (TEXT, [{"type": "Embedding", "embedding_dim": 8}, {"type": "MultiheadAttention", "embed_dim": 4},
            {"type": "Flatten"}, {"type": "Linear", "out_features": 2}], "embed_dim", 4, 8),
])
def test_inferred_arguments_given_in_the_spec_are_checked(data, layers, key, given, actual):
    d = spec_dict(data, layers, "mse" if data is SERIES else "cross_entropy")
    err = build_error(d)
    i = next(i for i, layer in enumerate(layers) if key in layer)
    assert err.message.startswith(f"layer {i + 1} ({layers[i]['type']}): {key}={given} but its input gives "
                                  f"{actual}"), err.message
    assert err.path == f"model.layers[{i}].{key}"
    assert err.fix == {"action": "unset", "at": i, "key": key}
    fixed = pg.from_dict(apply_fix(d, err.fix))
    build(fixed, pg.load(fixed.data).info)
    # the right value is accepted as it is
    right = copy.deepcopy(d)
    right["model"]["layers"][i][key] = [actual] if isinstance(given, list) else actual
    right_spec = pg.from_dict(right)
    build(right_spec, pg.load(right_spec.data).info)


def test_check_output_false_skips_the_head(dataset):
    spec = pg.from_dict(spec_dict(POINTS, [{"type": "Linear", "out_features": 7}]))
    _, summary = build_layers(spec, dataset(spec).info, check_output=False)
    assert summary.output_shape == (7,)


def test_build_error_is_a_playground_error():
    assert issubclass(BuildError, pg.PlaygroundError)


def test_a_model_without_parameters_is_refused():
    err = build_error(spec_dict(POINTS, [{"type": "ReLU"}]))
    assert err.message.startswith("model.layers: no layer has parameters") and err.path == "model.layers"
