"""Lessons as data: the course loads and validates, every variant spec builds, the verdict logic, the command
line, and one test a lesson that runs its experiment and asserts that its claim holds."""

import json
import math

import pytest

from playground import lessons
from playground.cli import main
from playground.lessons import measures
from playground.lessons.experiment import Run, variant_spec, verdict
from playground.lessons.schema import Lesson
from playground.registry import PlaygroundError
from playground.spec import from_dict
from playground.train import validate

COURSE = lessons.course()
SLOW = {"feed-forward", "learning-rate", "overfitting", "initialisation", "convolution", "rnn-memory",
        "autoencoder", "attention", "gan", "forecasting", "segmentation"}  # over ~5 s on an idle 2-core machine
TEST_SEED = 1  # one of the seeds the claims were measured on (benchmarks/lessons.py: 0–4)


def test_the_course_is_in_order_with_unique_names_and_about_twenty_lessons():
    orders = [lesson.order for lesson in COURSE]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)
    assert len({lesson.name for lesson in COURSE}) == len(COURSE) >= 20
    assert lessons.names() == [lesson.name for lesson in COURSE]


@pytest.mark.parametrize("lesson", COURSE, ids=lambda lesson: lesson.name)
def test_every_variant_and_the_opening_setup_build(lesson):
    for name in lesson.experiment.variants:
        spec = from_dict(variant_spec(lesson, name, seed=3))
        assert spec.train.seed == 3 and spec.data.seed == 3
        validate(spec)  # data options, layers, head, loss and optimizer all fit
    validate(from_dict(lessons.opening_spec(lesson)))


@pytest.mark.parametrize("lesson", COURSE, ids=lambda lesson: lesson.name)
def test_every_lesson_opens_on_a_page_of_the_app_and_says_what_to_try(lesson):
    from ui.main import PAGES
    assert lesson.page in {url for *_, url in PAGES}
    assert lesson.try_this and lesson.notice and lesson.claim and lesson.text


def test_an_unknown_lesson_is_refused_with_a_suggestion():
    with pytest.raises(PlaygroundError, match="did you mean 'backprop'"):
        lessons.get("backprop2")


def _lesson(**experiment) -> Lesson:
    base = {"base": "gauss-mlp", "variants": {"a": {"label": "A"}, "b": {"label": "B"}},
            "measures": {"x": {"label": "X", "variant": "a", "metric": "last"},
                         "y": {"label": "Y", "variant": "b", "metric": "last"}},
            "holds": [["x", "<", "y"]]}
    return Lesson.model_validate({"name": "t", "order": 1, "title": "T", "text": "t", "page": "train", "try": "t",
                                  "notice": "n", "claim": "c", "experiment": {**base, **experiment}})


@pytest.mark.parametrize("bad, message", [
    ({"holds": [["z", "<", 1]]}, "unknown measure z"),
    ({"measures": {"x": {"label": "X", "variant": "c", "metric": "last"}}, "holds": [["x", "<", 1]]}, "no variant"),
    ({"measures": {"x": {"label": "X", "metric": "last"}}, "holds": [["x", "<", 1]]}, "names its variant"),
    ({"measures": {"x": {"label": "X", "variant": "a", "metric": "epochs_to"}}, "holds": [["x", "<", 1]]},
     "needs `below`"),
    ({"holds": [["x", "!=", "y"]]}, "holds"),
])
def test_the_schema_refuses_a_lesson_that_cannot_be_checked(bad, message):
    with pytest.raises(ValueError, match=message):
        _lesson(**bad)


def test_the_verdict_compares_measures_and_differences_and_fails_on_a_missing_number():
    lesson = _lesson(measures={"x": {"label": "X", "variant": "a", "metric": "last"},
                               "y": {"label": "Y", "variant": "b", "metric": "min", "of": "val_loss"},
                               "d": {"label": "D", "difference": ["y", "x"]}},
                     holds=[["x", "<", "y"], ["d", ">", 0.5]])
    a = Run(metrics=[{"epoch": 1, "train_loss": 0.3}, {"epoch": 2, "train_loss": 0.2}])
    b = Run(metrics=[{"epoch": 1, "val_loss": 0.9}, {"epoch": 2, "val_loss": 1.5}])
    r = verdict(lesson, {"a": a, "b": b}, seed=0)
    assert r["measured"] == {"x": 0.2, "y": 0.9, "d": pytest.approx(0.7)}
    assert [c["holds"] for c in r["checks"]] == [True, True] and r["holds"]
    r = verdict(lesson, {"a": a, "b": Run(error="the loss became nan")}, seed=0)
    assert not r["holds"] and r["measured"]["y"] is None and r["errors"] == {"b": "the loss became nan"}


def test_history_measures():
    ms = [{"epoch": e, "train_loss": v} for e, v in enumerate([1.0, 0.5, 0.25, 0.3, 0.1, 0.4], 1)]
    assert measures.from_history(ms, "first", "train_loss") == 1.0
    assert measures.from_history(ms, "max", "train_loss") == 1.0
    assert measures.from_history(ms, "epochs_to", "train_loss", below=0.26) == 3
    assert measures.from_history(ms, "epochs_to", "train_loss", below=0.01) == 7  # never: one past the last
    assert measures.from_history(ms, "noise", "train_loss") == pytest.approx(0.25)  # second half: -0.2, +0.3
    assert not measures.compare(math.nan, "<", 1) and not measures.compare(None, ">", 0)


def test_grad_ratio_is_the_first_over_the_last_layer_gradient_and_leaves_training_unchanged():
    import torch

    from playground.train import Trainer
    spec = from_dict(variant_spec(lessons.get("activations"), "sigmoid", 0))
    tr = Trainer(spec, device="cpu")
    ratio = measures.grad_ratio(tr)
    tr.model.zero_grad()
    tr.loss_fn(tr.model(tr.x_train), tr.y_train).backward()
    ws = [m.weight.grad.norm() for m in tr.model if isinstance(m, torch.nn.Linear)]
    assert ratio == pytest.approx((ws[0] / ws[-1]).item(), rel=1e-5)
    assert all(p.grad is None for p in Trainer(spec, device="cpu").model.parameters())


def test_the_cli_lists_lessons_and_prints_one_verdict(capsys):
    assert main(["lessons"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == lessons.names()
    assert all(line.split("\t")[1] == lessons.get(line.split("\t")[0]).claim for line in lines)
    assert main(["lesson", "backprop", "--seed", "7"]) == 0  # a seed the claim was not measured on
    out = json.loads(capsys.readouterr().out)
    assert out["holds"] is True and out["seed"] == 7 and out["claim"] == lessons.get("backprop").claim
    assert set(out["measured"]) == {"difference", "loss_drop"}
    assert main(["lesson", "nope"]) == 2 and "unknown lesson" in capsys.readouterr().err


def test_the_cli_exits_1_when_the_claim_does_not_hold(capsys, monkeypatch):
    monkeypatch.setattr(lessons, "run_here", lambda lesson, seed: {"holds": False, "claim": "c", "measured": {}})
    assert main(["lesson", "backprop"]) == 1
    assert json.loads(capsys.readouterr().out)["holds"] is False


@pytest.mark.parametrize("lesson", [pytest.param(lesson, marks=[pytest.mark.slow] if lesson.name in SLOW else [],
                                                 id=lesson.name) for lesson in COURSE])
def test_the_claim_holds(lesson, one_torch_thread):
    result = lessons.run_here(lesson, TEST_SEED)
    assert result["holds"], json.dumps(result, indent=1)


def test_a_probe_that_fails_gives_its_message_and_the_claim_does_not_hold():
    from playground import presets
    from playground.train import Trainer
    tr = Trainer(presets.get("plane-regression"), device="cpu")
    out = measures.view(tr, end={"k": {"metric": "knn_code", "options": {"layer": 1}},
                                 "z": {"metric": "knn_code", "options": {"layer": "x"}}}, epochs=0)
    assert "class labels; plane has none" in out["end"]["k"]["error"] and "TypeError" in out["end"]["z"]["error"]
    lesson = _lesson(measures={"x": {"label": "X", "variant": "a", "metric": "knn_code"},
                               "y": {"label": "Y", "variant": "b", "metric": "last"}})
    r = verdict(lesson, {"a": Run(probes={"end": {"x": out["end"]["k"]}}), "b": Run(metrics=[{"train_loss": 1}])}, 0)
    assert not r["holds"] and r["measured"]["x"] is None and "has none" in r["errors"]["x"]


def _trainer(preset: str, **data):
    from playground import presets
    from playground.train import Trainer
    d = presets.get(preset).to_dict()
    d["data"].update(data)
    return Trainer(from_dict(d), device="cpu")


def test_the_application_probes_match_scikit_learn_on_the_validation_split():
    from sklearn.metrics import average_precision_score, roc_auc_score

    from playground.applications import positive_probability
    tr = _trainer("fraud-mlp", n_samples=2000, fraud_rate=0.05)
    p, y = positive_probability(tr.model, tr.data.x_val), tr.data.y_val.numpy()
    tr.model.train()
    assert measures.roc_auc(tr) == pytest.approx(roc_auc_score(y, p), abs=1e-9)
    assert measures.average_precision(tr) == pytest.approx(average_precision_score(y, p), abs=1e-9)
    assert tr.model.training  # a probe leaves the model as it found it
    assert measures.majority_accuracy(tr) == pytest.approx(1 - y.mean())  # the commonest class is "genuine"
    with pytest.raises(PlaygroundError, match="two-class classifier"):
        measures.roc_auc(_trainer("iris-mlp"))


def test_versus_naive_is_one_for_a_net_that_always_forecasts_no_change():
    import torch
    tr = _trainer("stocks-lstm", n_samples=300)
    head = tr.model[-1]
    with torch.no_grad():
        head.weight.zero_()
        head.bias.zero_()
    assert measures.versus_naive(tr) == pytest.approx(1.0)
    with torch.no_grad():
        head.bias.fill_(1.0)  # forecasting +1 % every day: the error grows by E[(y−1)²] − E[y²]
    y = tr.data.y_val
    assert measures.versus_naive(tr) == pytest.approx(float(((y - 1) ** 2).mean() / (y ** 2).mean()), rel=1e-5)
