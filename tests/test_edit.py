"""The pure spec edits behind the Build page: each returns a new dict, and a builder fix makes a broken spec build."""

import copy

import pytest

from playground import edit, presets, tasks
from playground.build import BuildError, summarize
from playground.data import builtin, load_cached
from playground.layers import LAYERS
from playground.losses import LOSSES
from playground.registry import PlaygroundError
from playground.spec import from_dict


def types(spec: dict) -> list[str]:
    return [layer["type"] for layer in spec["model"]["layers"]]


def build_error(spec: dict) -> BuildError | None:
    parsed = from_dict(spec)
    try:
        summarize(parsed, load_cached(parsed.data).info)
    except BuildError as e:
        return e
    return None


@pytest.mark.parametrize("name", LAYERS.names())
def test_new_layer_has_the_registry_defaults_and_parses(name):
    layer = edit.new_layer(name)
    kind = LAYERS.get(name)
    assert layer["type"] == name
    assert {k: v for k, v in layer.items() if k != "type"} == {p.name: p.default for p in kind.params
                                                               if p.default is not None}
    assert not set(layer) & set(kind.inferred)


def test_insert_move_duplicate_delete_leave_the_argument_alone(spiral_dict):
    before = copy.deepcopy(spiral_dict)
    s = edit.insert_layer(spiral_dict, 1, {"type": "ReLU"})
    assert types(s) == ["Linear", "ReLU", "Tanh", "Linear", "Tanh", "Linear"]
    assert types(edit.insert_layer(spiral_dict, 99, {"type": "ReLU"}))[-1] == "ReLU"  # clamped: appends
    assert types(edit.insert_layer(spiral_dict, -3, {"type": "ReLU"}))[0] == "ReLU"
    assert types(edit.move_layer(spiral_dict, 0, 2)) == ["Tanh", "Linear", "Linear", "Tanh", "Linear"]
    assert types(edit.move_layer(spiral_dict, 4, 0)) == ["Linear", "Linear", "Tanh", "Linear", "Tanh"]
    d = edit.duplicate(spiral_dict, 2)
    assert types(d) == ["Linear", "Tanh", "Linear", "Linear", "Tanh", "Linear"]
    d["model"]["layers"][3]["out_features"] = 99  # a deep copy, not the same dict twice
    assert d["model"]["layers"][2]["out_features"] == 8
    assert types(edit.delete(spiral_dict, 1)) == ["Linear", "Linear", "Tanh", "Linear"]
    assert spiral_dict == before


def test_reorder_is_a_permutation(spiral_dict):
    s = edit.reorder(spiral_dict, [4, 0, 1, 2, 3])
    assert types(s) == ["Linear", "Linear", "Tanh", "Linear", "Tanh"]
    assert s["model"]["layers"][0]["out_features"] == 2
    for bad in ([0, 1, 2], [0, 0, 1, 2, 3], [0, 1, 2, 3, 5]):
        with pytest.raises(PlaygroundError):
            edit.reorder(spiral_dict, bad)


def test_bad_indices_are_refused_with_a_message(spiral_dict):
    for fn in (lambda: edit.delete(spiral_dict, 5), lambda: edit.duplicate(spiral_dict, -1),
               lambda: edit.move_layer(spiral_dict, 7, 0), lambda: edit.set_param(spiral_dict, 9, "p", 1)):
        with pytest.raises(PlaygroundError, match="no layer"):
            fn()


def test_set_and_unset_param(spiral_dict):
    s = edit.set_param(spiral_dict, 0, "out_features", 32)
    assert s["model"]["layers"][0]["out_features"] == 32
    assert "bias" not in edit.unset_param(edit.set_param(s, 0, "bias", False), 0, "bias")["model"]["layers"][0]
    assert spiral_dict["model"]["layers"][0]["out_features"] == 8
    with pytest.raises(PlaygroundError):
        edit.set_param(spiral_dict, 0, "type", "ReLU")


def test_set_path(spiral_dict):
    s = edit.set_path(spiral_dict, ("train", "optimizer", "lr"), 0.5)
    assert s["train"]["optimizer"]["lr"] == 0.5
    assert "scheduler" not in edit.set_path(edit.set_path(s, ("train", "scheduler"), {"type": "StepLR"}),
                                            ("train", "scheduler"), None)["train"]
    assert edit.set_path(s, ("model", "layers", 1, "type"), "ReLU")["model"]["layers"][1]["type"] == "ReLU"
    assert spiral_dict["train"]["optimizer"]["lr"] == 0.01


@pytest.mark.parametrize("broken, action", [
    (lambda s: edit.delete(s, 0), "insert"),  # digits MLP without Flatten: Linear gets an image
    (lambda s: edit.set_param(s, 3, "out_features", 7), "set"),  # head does not match the 10 classes
    (lambda s: edit.set_param(s, 1, "in_features", 5), "unset"),  # an inferred size that disagrees
])
def test_apply_fix_makes_a_broken_spec_build(broken, action):
    spec = broken(presets.get("digits-mlp").to_dict())
    err = build_error(spec)
    assert err is not None and err.fix is not None and err.fix["action"] == action
    assert edit.describe_fix(spec, err.fix)
    fixed = edit.apply_fix(spec, err.fix)
    assert build_error(fixed) is None


def test_apply_fix_repairs_an_empty_model(spiral_dict):
    spiral_dict["model"]["layers"] = []
    err = build_error(spiral_dict)
    fixed = edit.apply_fix(spiral_dict, err.fix)
    assert types(fixed) == ["Linear"]


def test_describe_fix_names_the_layer():
    spec = {"model": {"layers": [{"type": "Flatten"}, {"type": "Linear"}]}}
    assert edit.describe_fix(spec, {"action": "insert", "at": 1, "layer": {"type": "Flatten"}}) == \
        "Insert Flatten before layer 2 (Linear)"
    assert edit.describe_fix(spec, {"action": "set", "at": 1, "key": "out_features", "value": 10}) == \
        "Set out_features = 10 on layer 2 (Linear)"
    assert edit.describe_fix(spec, {"action": "unset", "at": 0, "key": "x"}) == "Remove x from layer 1 (Flatten)"
    with pytest.raises(PlaygroundError):
        edit.apply_fix(spec, {"action": "explode", "at": 0})


def test_add_dropout_after_hidden_activations(spiral_dict):
    s = edit.add_dropout(spiral_dict, 0.3)
    assert types(s) == ["Linear", "Tanh", "Dropout", "Linear", "Tanh", "Dropout", "Linear"]
    assert s["model"]["layers"][2]["p"] == 0.3
    assert edit.add_dropout(s) == s  # idempotent
    assert build_error(s) is None


def test_key_args():
    assert edit.key_args({"type": "Linear"}) == "out_features=8"
    assert edit.key_args({"type": "Linear", "out_features": 16, "bias": False}) == "out_features=16, bias=False"
    assert edit.key_args({"type": "Conv2d", "out_channels": 8, "kernel_size": [3, 5], "padding": 1}) == \
        "out_channels=8, kernel_size=[3, 5], padding=1"
    assert edit.key_args({"type": "Tanh"}) == ""
    assert edit.key_args({"type": "Nope", "a": 1}) == "a=1"


def test_diff_names_each_change():
    a = {"name": "A", "data": {"name": "spiral", "noise": 0.1},
         "model": {"layers": [{"type": "Linear", "out_features": 8}, {"type": "Tanh"}]},
         "train": {"optimizer": {"type": "Adam", "lr": 0.03}}}
    b = edit.set_path(a, ("train", "optimizer", "lr"), 0.1)
    b = edit.set_path(b, ("model", "layers", 1, "type"), "ReLU")
    b = edit.set_param(b, 0, "out_features", 16)
    b = edit.insert_layer(b, 2, {"type": "Dropout", "p": 0.2})
    b["name"] = "B"
    assert edit.diff(a, b) == ["layer 1 (Linear): out_features 8 → 16", "layer 2: Tanh → ReLU",
                               "layer 3 added: Dropout(p=0.2)", "train.optimizer.lr: 0.03 → 0.1"]
    assert edit.diff(a, a) == []


# ---- an A/B comparison's B: one knob changed ----------------------------------------------------------

def test_each_knob_changes_one_thing(spiral_dict):
    values = {"learning rate": 0.3, "optimizer": "SGD", "activation": "ReLU", "initialisation": "kaiming",
              "batch size": 64, "weight decay": 0.001, "dropout": 0.2}
    assert set(values) == set(edit.KNOBS)
    for knob, value in values.items():
        before = copy.deepcopy(spiral_dict)
        b = edit.variant(spiral_dict, knob, value)
        assert spiral_dict == before  # the argument is left alone
        assert build_error(b) is None
        changes = edit.diff(spiral_dict, b)
        assert changes, knob
    assert edit.diff(spiral_dict, edit.variant(spiral_dict, "learning rate", 0.3)) == ["train.optimizer.lr: 0.01 → 0.3"]
    assert types(edit.variant(spiral_dict, "activation", "ReLU")) == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert types(edit.variant(spiral_dict, "dropout", 0.2)).count("Dropout") == 2


def test_an_optimizer_variant_keeps_the_rate_and_sets_its_options(spiral_dict):
    spiral_dict["train"]["optimizer"] = {"type": "Adam", "lr": 0.02, "weight_decay": 0.001, "beta1": 0.8}
    b = edit.variant(spiral_dict, "optimizer", "SGD+momentum")
    assert b["train"]["optimizer"] == {"type": "SGD", "lr": 0.02, "weight_decay": 0.001, "momentum": 0.9}
    with pytest.raises(PlaygroundError, match="unknown optimizer 'Adamm'; did you mean 'Adam'"):
        edit.variant(spiral_dict, "optimizer", "Adamm")


def test_an_activation_replaces_every_per_neuron_activation_only(spiral_dict):
    spiral_dict["model"]["layers"][1] = {"type": "LeakyReLU", "negative_slope": 0.2}
    spiral_dict["model"]["layers"].append({"type": "Softmax", "dim": 1})
    b = edit.variant(spiral_dict, "activation", "GELU")
    assert b["model"]["layers"][1] == {"type": "GELU"} and b["model"]["layers"][3] == {"type": "GELU"}
    assert b["model"]["layers"][-1] == {"type": "Softmax", "dim": 1}  # not a per-neuron activation
    with pytest.raises(PlaygroundError, match="unknown layer type"):
        edit.variant(spiral_dict, "activation", "Relu")
    with pytest.raises(PlaygroundError, match="unknown knob 'colour'"):
        edit.variant(spiral_dict, "colour", 1)


@pytest.mark.parametrize("dataset", sorted(builtin()))  # a CSV needs its file first
def test_a_blank_setup_starts_with_a_loss_that_fits_its_data(dataset):
    spec = presets.blank(dataset)
    parsed = from_dict(spec)
    assert parsed.model.layers == [] and parsed.data.name == dataset
    info = load_cached(parsed.data).info
    task = tasks.of(parsed, info)
    if task.loss_option != "train.loss":  # a task that picks its loss elsewhere (a GAN): it and its D start blank
        task.check_loss(parsed.train.gan.loss)
        assert parsed.discriminator.layers == []
        return
    want = LOSSES.get(parsed.train.loss).expects(info)  # raises when the loss cannot fit the task
    if info.modality in ("points", "tabular") and not info.tokens:  # ids (ratings) need an Embedding first
        spec["model"]["layers"] = [{"type": "Linear", "out_features": want[0]}]
        assert build_error(spec) is None
