"""data.py: every dataset loads, is deterministic by seed, splits as asked and refuses bad options by name."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from playground.data import DATASETS, FEATURES, _sine, builtin, describe, listing, load, options
from playground.registry import PlaygroundError
from playground.spec import DataSpec

NAMES = builtin()  # every dataset that needs no file from the user (the CSV has its own tests)
POINT_SETS = [n for n, d in DATASETS.items() if d.modality == "points" and "features" in {p.name for p in d.params}]


def small(name: str, **opts) -> DataSpec:
    """A small version of dataset `name` (fixed-size sets keep at most their size)."""
    n = next(p for p in DATASETS.get(name).params if p.name == "n_samples")
    return DataSpec(name=name, **{"n_samples": min(60, n.max), **opts})


def test_contract_datasets_are_offered():
    assert {"circle", "xor", "gauss", "spiral", "moons", "plane", "multigauss", "digits", "iris", "wine",
            "breast_cancer", "shapes", "sine", "sentiment"} <= set(NAMES)
    assert [name for name, _, _ in listing()] == DATASETS.names() == NAMES + ["csv"]


@pytest.mark.parametrize("name", NAMES)
def test_loads_with_default_options(name):
    kind = DATASETS.get(name)
    ds = load(DataSpec(name=name))
    info = ds.info
    defaults = {p.name: p.default for p in kind.params}
    n = defaults["n_samples"]
    assert len(ds.x_train) + len(ds.x_val) == n
    assert len(ds.x_val) == max(1, round(n * defaults["val_fraction"]))
    assert len(ds.y_train) == len(ds.x_train) and len(ds.y_val) == len(ds.x_val)
    assert tuple(ds.x_train.shape[1:]) == tuple(ds.x_val.shape[1:]) == info.input_shape
    assert tuple(ds.y_train.shape[1:]) == info.target_shape
    assert info.name == name and info.modality == kind.modality and info.description
    assert ds.x_train.dtype == (torch.int64 if info.tokens else torch.float32)
    assert torch.isfinite(ds.x_train.float()).all()
    if info.classification:
        assert info.task in ("binary", "multiclass")
        assert ds.y_train.dtype == torch.int64 and info.target_shape == ()
        assert len(info.class_names) == info.n_classes >= 2
        for y in (ds.y_train, ds.y_val):
            assert 0 <= y.min() and y.max() < info.n_classes
        assert len(ds.y_train.unique()) == info.n_classes  # every class is represented
    else:
        assert info.n_classes == 0 and ds.y_train.dtype == torch.float32
    for k, v in ds.extras_train.items():
        assert len(v) == len(ds.x_train) and len(ds.extras_val[k]) == len(ds.x_val)
    assert name in describe(name) or kind.description in describe(name)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_data_other_seed_other_data(name):
    a, b = load(small(name, seed=3)), load(small(name, seed=3))
    c = load(small(name, seed=4))
    for field in ("x_train", "y_train", "x_val", "y_val"):
        assert torch.equal(getattr(a, field), getattr(b, field)), field
    assert not torch.equal(a.x_train, c.x_train)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("val_fraction", [0.05, 0.3, 0.9])
def test_split_follows_val_fraction(name, val_fraction):
    ds = load(small(name, val_fraction=val_fraction))
    n = len(ds.x_train) + len(ds.x_val)
    assert len(ds.x_val) == max(1, round(n * val_fraction))
    assert len(ds.x_train) >= 1


def test_split_is_disjoint():
    ds = load(DataSpec(name="circle", n_samples=200))
    train = {tuple(r) for r in ds.x_train.tolist()}
    assert not train & {tuple(r) for r in ds.x_val.tolist()}


def test_fixed_size_sets_take_a_seeded_subset():
    full, part = load(DataSpec(name="iris")), load(DataSpec(name="iris", n_samples=60, val_fraction=0.5))
    assert len(full.x_train) + len(full.x_val) == 150
    assert len(part.x_train) + len(part.x_val) == 60


def test_tabular_sets_are_standardised_on_the_training_split():
    ds = load(DataSpec(name="wine"))
    torch.testing.assert_close(ds.x_train.mean(0), torch.zeros(13), atol=1e-5, rtol=0)
    torch.testing.assert_close(ds.x_train.std(0, unbiased=False), torch.ones(13), atol=1e-4, rtol=0)


@pytest.mark.parametrize("name", POINT_SETS)
def test_feature_options_make_the_right_columns(name):
    features = ["x1", "x2", "x1^2", "x1*x2", "sin(x2)"]
    ds = load(small(name, features=features))
    assert ds.info.input_shape == (5,) and ds.info.feature_names == features
    p = ds.extras_train["points"].numpy()
    for j, f in enumerate(features):
        np.testing.assert_allclose(ds.x_train[:, j].numpy(), FEATURES[f](p), rtol=1e-5, atol=1e-6)
    assert load(small(name, features=["x1*x2"])).x_train.shape[1] == 1


@pytest.mark.parametrize("name", POINT_SETS)
def test_points_lie_in_the_plane(name):
    ds = load(DataSpec(name=name, noise=0.0))
    assert ds.extras_train["points"].abs().max() <= 6.5


@pytest.mark.parametrize("name", ["gauss", "spiral"])
def test_classes_option(name):
    ds = load(small(name, classes=4))
    assert ds.info.task == "multiclass" and ds.info.n_classes == 4
    assert sorted(ds.y_train.unique().tolist()) == [0, 1, 2, 3]
    assert load(small(name, classes=2)).info.task == "binary"


def test_noise_moves_points():
    a, b = load(DataSpec(name="xor", noise=0.0)), load(DataSpec(name="xor", noise=0.5))
    assert not torch.equal(a.x_train, b.x_train)


@pytest.mark.parametrize("name, opts, option, message", [
    ("spiral", {"nosie": 0.1}, "nosie", "did you mean 'noise'"),
    ("spiral", {"noise": 1.5}, "noise", "must be ≤ 1"),
    ("spiral", {"noise": -0.1}, "noise", "must be ≥ 0"),
    ("spiral", {"n_samples": 5}, "n_samples", "must be ≥ 10"),
    ("iris", {"n_samples": 151}, "n_samples", "must be ≤ 150"),
    ("circle", {"val_fraction": 0.95}, "val_fraction", "must be ≤ 0.9"),
    ("circle", {"seed": -1}, "seed", "must be ≥ 0"),
    ("circle", {"seed": 1.5}, "seed", "must be an integer"),
    ("circle", {"features": ["x3"]}, "features", "unknown entries ['x3']"),
    ("circle", {"features": []}, "features", "must be a list of names"),
    ("circle", {"features": "x1"}, "features", "must be a list of names"),
    ("gauss", {"classes": 7}, "classes", "must be ≤ 6"),
    ("circle", {"classes": 3}, "classes", "unknown option"),
    ("circle", {"target": "mask"}, "target", "unknown option"),
    ("shapes", {"target": "boxes"}, "target", "must be one of 'label', 'mask', 'box', 'input'"),
    ("shapes", {"size": 4}, "size", "must be ≥ 8"),
    ("sentiment", {"negation": 2}, "negation", "must be ≤ 1"),
])
def test_option_errors_name_the_option(name, opts, option, message):
    with pytest.raises(PlaygroundError) as e:
        load(DataSpec(name=name, **opts))
    assert e.value.message.startswith(f"data ({name}): ")
    assert option in e.value.message and message in e.value.message


def test_unknown_dataset_suggests_the_close_name():
    with pytest.raises(PlaygroundError, match=r"^data\.name: unknown dataset 'spirl'; did you mean 'spiral'"):
        load(DataSpec(name="spirl"))


def test_options_fill_in_defaults():
    opts = options(DataSpec(name="spiral", noise=0.3))
    assert opts["noise"] == 0.3 and opts["classes"] == 2 and opts["features"] == ["x1", "x2"]


@pytest.mark.parametrize("name, target, task, shape", [
    ("digits", "input", "reconstruction", (1, 8, 8)),
    ("digits", "label", "multiclass", ()),
    ("shapes", "mask", "segmentation", (1, 8, 8)),
    ("shapes", "box", "regression", (4,)),
    ("shapes", "input", "reconstruction", (1, 8, 8)),
    ("shapes", "label", "multiclass", ()),
])
def test_targets(name, target, task, shape):
    ds = load(small(name, target=target, **({"size": 8} if name == "shapes" else {})))
    assert ds.info.task == task and ds.info.target_shape == shape
    assert tuple(ds.y_train.shape[1:]) == shape and tuple(ds.y_val.shape[1:]) == shape
    assert ds.info.classification == (target == "label")
    if target == "input":
        assert torch.equal(ds.y_train, ds.x_train)
    if target == "mask":
        assert set(ds.y_train.unique().tolist()) == {0.0, 1.0}
        assert torch.equal(ds.y_train, ds.extras_train["mask"])
    if target == "box":
        b = ds.y_train
        assert (b >= 0).all() and (b <= 1).all()
        assert (b[:, 0] < b[:, 2]).all() and (b[:, 1] < b[:, 3]).all()  # x0 < x1, y0 < y1


def test_shapes_boxes_frame_their_masks():
    ds = load(DataSpec(name="shapes", n_samples=30, size=16, noise=0.0))
    for mask, box in zip(ds.extras_train["mask"], ds.extras_train["box"], strict=True):
        rows, cols = torch.nonzero(mask[0], as_tuple=True)
        assert torch.equal(box * 16, torch.tensor([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1]).float())


def test_sine_targets_are_the_next_value():
    s = _sine(50, 0.0, np.random.default_rng(0), seq_len=6)
    assert s.x.shape == (50, 6, 1) and s.y.shape == (50, 1)
    np.testing.assert_allclose(s.y[:-1, 0], s.x[1:, -1, 0], rtol=1e-6)  # window i+1 ends where i's target is
    np.testing.assert_allclose(s.x[1:, :-1], s.x[:-1, 1:], rtol=1e-6)  # windows slide by one step


def test_sentiment_is_left_padded_token_ids():
    ds = load(DataSpec(name="sentiment", n_samples=100, seq_len=12))
    info = ds.info
    assert info.tokens and info.input_shape == (12,) and info.vocab[0] == "<pad>"
    x = ds.x_train
    assert x.min() >= 0 and x.max() < len(info.vocab)
    nonzero = (x != 0).int()
    assert (nonzero.cummax(1).values == nonzero).all()  # once words start, no padding follows
    assert (x[:, -1] != 0).all()


def test_sentiment_labels_follow_the_words():
    # without negation or noise, a review is positive exactly when it has more positive words
    ds = load(DataSpec(name="sentiment", n_samples=200, negation=0.0))
    vocab = ds.info.vocab
    pos = {vocab.index(w) for w in ["good", "great", "excellent", "wonderful", "love", "fun", "brilliant",
                                     "enjoyable", "superb", "nice"]}
    for row, label in zip(ds.x_train.tolist(), ds.y_train.tolist(), strict=True):
        words = [t for t in row if t > 1]
        score = sum(1 if t in pos else -1 for t in words if t < 22)  # ids 2..21: sentiment words
        assert (score > 0) == bool(label)


def test_shifted_digits_are_the_digits_pasted_somewhere_on_a_16x16_canvas():
    import sklearn.datasets as skd
    ds = load(DataSpec(name="digits", shifted=True, val_fraction=0.2, seed=3))
    assert ds.info.input_shape == (1, 16, 16) and ds.info.n_classes == 10
    sums = np.sort((skd.load_digits().images / 16.0).sum((1, 2)))
    corners = set()
    for img in ds.x_train[:60, 0].numpy():
        rows, cols = np.nonzero(img.any(1))[0], np.nonzero(img.any(0))[0]
        assert rows.max() - rows.min() < 8 and cols.max() - cols.min() < 8  # one 8×8 digit, whole
        assert np.abs(sums - img.sum()).min() < 1e-4  # ink of a real digit, nothing lost or added
        corners.add((rows.min(), cols.min()))
    assert len(corners) > 10  # the place varies


def test_the_adding_problem_targets_the_sum_of_the_two_marked_values():
    ds = load(DataSpec(name="adding", n_samples=200, seq_len=20, seed=1))
    x, y = ds.x_train, ds.y_train
    assert x.shape[1:] == (20, 2) and (x[:, :, 1].sum(1) == 2).all()
    assert (x[:, :10, 1].sum(1) == 1).all()  # one mark in each half
    assert torch.allclose((x[:, :, 0] * x[:, :, 1]).sum(1, keepdim=True), y, atol=1e-6)


def test_reverse_targets_are_the_mirrored_tokens_one_hot():
    ds = load(DataSpec(name="reverse", n_samples=100, seq_len=6, vocab=5, seed=2))
    assert ds.info.tokens and ds.info.vocab == [str(t) for t in range(5)]
    assert ds.y_train.shape[1:] == (6, 5) and torch.equal(ds.y_train.argmax(-1), ds.x_train.flip(1))
    noisy = load(DataSpec(name="reverse", n_samples=2000, seq_len=6, vocab=5, noise=0.5, seed=2))
    wrong = (noisy.y_train.argmax(-1) != noisy.x_train.flip(1)).float().mean()
    assert 0.3 < wrong < 0.5  # half the targets drawn at random, of which 4 in 5 differ
