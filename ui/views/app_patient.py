"""Diagnosis, one patient: which measurements pushed the net toward its answer for the tumour chosen, as a
labelled bar per feature (Integrated Gradients against an average tumour), a sentence, and the numbers as a
table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from playground import appviews
from ui import keys, state
from ui.text import short
from ui.views.model_source import Loaded

PATIENT = keys.APPS("patient")
SHOWN = 10  # bars for the strongest features; the others are summed into one
TOWARD, AWAY = "#D55E00", "#0072B2"  # Okabe–Ito vermilion and blue


def _pick(n: int) -> int:
    """The validation patient looked at (a number input, from 1; back to 1 when the data has fewer)."""
    if not isinstance(state.widget(PATIENT), int) or not 1 <= state.widget(PATIENT) <= n:
        state.set_widget(PATIENT, 1)
    return st.number_input(f"Validation patient (1–{n})", 1, n, step=1, key=PATIENT,
                           help="A tumour the net never trained on", width=260) - 1


def _sd(v: float) -> str:
    return f"{v:+.1f} sd".replace("-", "−")


def bars(a: dict) -> tuple[list[str], np.ndarray]:
    """The strongest SHOWN features by size (labelled with this patient's value in standard deviations from the
    average) and, last, the rest summed; strongest at the top."""
    order = np.argsort(-np.abs(a["values"]), kind="stable")
    top, rest = order[:SHOWN], order[SHOWN:]
    labels = [f"{short(a['names'][j], 40)} ({_sd(a['x'][j] - a['baseline'][j])})" for j in top]
    values = a["values"][top]
    if len(rest):
        labels.append(f"the other {len(rest)} features")
        values = np.r_[values, a["values"][rest].sum()]
    return labels[::-1], values[::-1]


def figure(a: dict, pos: str, neg: str, patient: int) -> go.Figure:
    """Horizontal bars: each feature's push on the log-odds of `pos`, vermilion toward it, blue away."""
    labels, values = bars(a)
    fig = go.Figure()
    for name, color, mask in ((f"toward {pos}", TOWARD, values >= 0), (f"toward {neg}", AWAY, values < 0)):
        fig.add_bar(y=[lab for lab, m in zip(labels, mask, strict=True) if m], x=values[mask], orientation="h",
                    name=name, marker_color=color, text=[f"{v:+.2f}".replace("-", "−") for v in values[mask]],
                    textposition="outside", cliponaxis=False,
                    hovertemplate="%{y}: %{x:+.2f} log-odds<extra></extra>")
    span = float(np.abs(values).max()) or 1.0
    fig.update_layout(title=f"Why patient {patient + 1}: {a['probability']:.0%} {pos}<br><sup>each "
                      f"measurement's push from an average tumour ({a['baseline_probability']:.0%} {pos})</sup>",
                      xaxis_title=f"push on the log-odds of {pos}", xaxis_range=[-1.35 * span, 1.35 * span],
                      yaxis={"categoryorder": "array", "categoryarray": labels}, barmode="overlay", bargap=0.25,
                      height=120 + 26 * len(labels), legend={"orientation": "h", "y": -0.18, "x": 0},
                      margin={"l": 10, "r": 20, "t": 60, "b": 60})
    fig.update_yaxes(automargin=True)
    return fig


def sentence(a: dict, pos: str, neg: str) -> str:
    """The chart in words: the three strongest pushes and the change they add up to."""
    order = np.argsort(-np.abs(a["values"]), kind="stable")[:3]
    pushes = "; ".join(f"{short(a['names'][j], 40)} {abs(a['values'][j]):.2f} toward "
                       f"{pos if a['values'][j] >= 0 else neg}" for j in order)
    return (f"Strongest pushes: {pushes}. All {len(a['values'])} together move the log-odds of {pos} from "
            f"{a['baseline_log_odds']:+.2f} (an average tumour, {a['baseline_probability']:.0%}) to "
            f"{a['log_odds']:+.2f} (this one, {a['probability']:.0%}); Integrated Gradients, exact within "
            f"{a['delta']:.2g}.").replace("-", "−")


def table(a: dict, pos: str) -> pd.DataFrame:
    """Every feature, strongest push first: this patient's value and its push."""
    order = np.argsort(-np.abs(a["values"]), kind="stable")
    return pd.DataFrame({"measurement": [short(a["names"][j], 40) for j in order],
                         "this patient (sd from average)": np.round(a["x"][order] - a["baseline"][order], 2),
                         f"push toward {pos} (log-odds)": np.round(a["values"][order], 3)})


def verdict(a: dict, pos: str, neg: str, threshold: float) -> str:
    """The truth, the net's probability, and what the threshold makes of it (right, missed or a false alarm)."""
    truth, called = (pos if a["label"] else neg), (pos if a["probability"] >= threshold else neg)
    outcome = "right" if truth == called else ("missed" if truth == pos else "a false alarm")
    return (f"This tumour is **{truth}**; the net gives it a **{a['probability']:.0%}** chance of being {pos}, "
            f"so at the threshold of {threshold:.2f} it is called {called}: **{outcome}**.")


def patient(m: Loaded, pos: str, neg: str, threshold: float) -> None:
    """One validation patient: the net's answer, the truth, and each measurement's push toward it."""
    st.subheader("One patient: which measurements decided")
    i = _pick(len(m.data.y_val))
    a = appviews.feature_attributions(m.model, m.data, i)
    st.markdown(verdict(a, pos, neg, threshold))
    st.plotly_chart(figure(a, pos, neg, i), width="stretch", key=keys.APPS("attributions"))
    st.caption(sentence(a, pos, neg))
    if st.toggle("Show as table", key=keys.APPS("attributions", "table")):
        st.dataframe(table(a, pos), hide_index=True, width="stretch")
