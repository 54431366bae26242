"""ui/views/app_patient.py: one patient's attributions as bars (the strongest, then the rest summed), words, a
table, and the verdict at the threshold."""

import numpy as np
import pytest

from ui.views import app_patient


def attributions(n: int = 14) -> dict:
    rng = np.random.default_rng(0)
    values = rng.normal(size=n)
    return {"names": [f"m{j}" for j in range(n)], "values": values, "x": rng.normal(size=n), "baseline": np.zeros(n),
            "label": 1, "probability": 0.8, "baseline_probability": 0.3, "log_odds": 1.386,
            "baseline_log_odds": -0.847, "delta": 0.001}


def test_bars_show_the_strongest_features_then_the_rest_summed_strongest_on_top():
    a = attributions()
    labels, values = app_patient.bars(a)
    assert len(labels) == app_patient.SHOWN + 1 and labels[0] == "the other 4 features"
    assert values.sum() == pytest.approx(a["values"].sum())  # nothing lost: the bars add up to the total push
    top = np.abs(values[1:])
    assert (top[1:] >= top[:-1]).all()  # drawn bottom to top: the strongest last, at the top
    j = int(np.argmax(np.abs(a["values"])))
    assert labels[-1].startswith(f"m{j} (") and labels[-1].endswith(" sd)")


def test_a_few_features_need_no_rest_bar():
    labels, values = app_patient.bars(attributions(5))
    assert len(labels) == 5 and not any(lb.startswith("the other") for lb in labels)


def test_the_table_lists_every_feature_strongest_first():
    t = app_patient.table(attributions(), "malignant")
    assert len(t) == 14 and list(t.columns) == ["measurement", "this patient (sd from average)",
                                                "push toward malignant (log-odds)"]
    push = np.abs(t.iloc[:, 2].to_numpy())
    assert (push[:-1] >= push[1:]).all()


def test_the_sentence_names_the_strongest_and_the_total_change():
    a = attributions()
    words = app_patient.sentence(a, "malignant", "benign")
    j = int(np.argmax(np.abs(a["values"])))
    assert words.startswith(f"Strongest pushes: m{j} ") and "+1.39 (this one, 80%)" in words
    assert "−0.85 (an average tumour, 30%)" in words


@pytest.mark.parametrize(("label", "p", "outcome"), [(1, 0.8, "right"), (1, 0.2, "missed"), (0, 0.8, "a false alarm"),
                                                      (0, 0.2, "right")])
def test_the_verdict_at_the_threshold(label, p, outcome):
    a = {**attributions(), "label": label, "probability": p}
    assert app_patient.verdict(a, "malignant", "benign", 0.5).endswith(f"**{outcome}**.")
