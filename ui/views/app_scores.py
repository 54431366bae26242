"""Detectors with a threshold: diagnosis (ROC curve, sensitivity and specificity, the confusion matrix) and
fraud (precision–recall curve, caught vs missed, the probabilities of each class)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from playground import appviews
from playground.applications import roc_auc
from ui import keys
from ui.components.live_chart import PALETTE
from ui.text import short
from ui.views.app_patient import patient
from ui.views.model_source import Loaded

FIGURE = {"height": 360, "margin": {"l": 60, "r": 10, "t": 50, "b": 50}}
HERE = "#D55E00"  # Okabe–Ito vermilion: the point the threshold picks


def _scores(m: Loaded) -> tuple[np.ndarray, np.ndarray, str, str]:
    """Validation scores of the class looked for, the labels (1: that class), and both class names."""
    scores, labels, k = appviews.validation_scores(m.model, m.data)
    names = m.info.class_names or ["class 0", "class 1"]
    return scores, labels, short(names[k], 30), short(names[1 - k], 30)


def _threshold(label: str) -> float:
    return st.slider(label, 0.0, 1.0, 0.5, 0.01, key=keys.APPS("threshold"),
                     help="Every case the network gives at least this probability is flagged.")


def diagnosis(m: Loaded) -> None:
    """ROC curve with the threshold's point, sensitivity and specificity, and the confusion matrix."""
    scores, labels, pos, neg = _scores(m)
    t = _threshold(f"Threshold: call a tumour {pos} when its probability is at least")
    c = appviews.at_threshold(scores, labels, t)
    roc = appviews.roc_points(scores, labels)
    left, right = st.columns(2)
    fig = go.Figure([
        go.Scatter(x=roc["fpr"], y=roc["tpr"], mode="lines", name="ROC curve", line={"color": PALETTE["train"]}),
        go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance", line={"color": PALETTE["other"], "dash": "dash"}),
        go.Scatter(x=[1 - c["specificity"]], y=[c["sensitivity"]], mode="markers", name=f"threshold {t:.2f}",
                   marker={"color": HERE, "size": 12, "symbol": "diamond"})])
    fig.update_layout(title=f"ROC curve<br><sup>validation, AUC {roc_auc(scores, labels):.3f}</sup>",
                      xaxis_title="false-positive rate (1 − specificity)", yaxis_title="true-positive rate "
                      "(sensitivity)", legend={"orientation": "h", "y": -0.25, "x": 0}, **FIGURE)
    left.plotly_chart(fig, width="stretch", key=keys.APPS("roc"))
    with right:
        a, b = st.columns(2)
        a.metric("Sensitivity", f"{c['sensitivity']:.1%}", help=f"Share of {pos} tumours flagged")
        b.metric("Specificity", f"{c['specificity']:.1%}", help=f"Share of {neg} tumours not flagged")
        st.plotly_chart(confusion(c, pos, neg), width="stretch", key=keys.APPS("confusion"))
    st.caption(f"At this threshold, of the validation patients' tumours, {c['fn']} {pos} missed and {c['fp']} "
               f"{neg} flagged. Lower it to miss fewer, at the price of more false alarms.")
    patient(m, pos, neg, t)


def confusion(c: dict, pos: str, neg: str) -> go.Figure:
    """The 2×2 confusion matrix at the threshold (true class down, called class across)."""
    z = [[c["tp"], c["fn"]], [c["fp"], c["tn"]]]
    fig = go.Figure(go.Heatmap(z=z, x=[f"called {pos}", f"called {neg}"], y=[f"truly {pos}", f"truly {neg}"],
                               colorscale="Cividis", showscale=False, text=z, texttemplate="%{text}",
                               hovertemplate="%{y}, %{x}: %{z}<extra></extra>"))
    fig.update_layout(title="Confusion matrix", yaxis_autorange="reversed",
                      **{**FIGURE, "height": 260, "margin": {"l": 90, "r": 10, "t": 40, "b": 40}})
    return fig


def fraud(m: Loaded) -> None:
    """Precision–recall curve with the threshold's point, caught vs missed, and each class's probabilities."""
    scores, labels, pos, neg = _scores(m)
    t = _threshold(f"Threshold: flag a payment as {pos} when its probability is at least")
    c = appviews.at_threshold(scores, labels, t)
    pr = appviews.pr_points(scores, labels)
    a, b, d, e = st.columns(4)
    a.metric("Caught", f"{c['tp']} of {c['tp'] + c['fn']}", help=f"{pos} payments flagged")
    b.metric("Missed", c["fn"], help=f"{pos} payments not flagged")
    d.metric("False alarms", c["fp"], help=f"{neg} payments flagged")
    e.metric("Precision", "–" if np.isnan(c["precision"]) else f"{c['precision']:.1%}",
             help="Share of flagged payments that are frauds")
    left, right = st.columns(2)
    fig = go.Figure([
        go.Scatter(x=pr["recall"], y=pr["precision"], mode="lines", name="precision–recall",
                   line={"color": PALETTE["train"]}),
        go.Scatter(x=[0, 1], y=[labels.mean()] * 2, mode="lines", name=f"chance (share of {pos})",
                   line={"color": PALETTE["other"], "dash": "dash"})])
    if c["tp"] + c["fp"]:
        fig.add_scatter(x=[c["sensitivity"]], y=[c["precision"]], mode="markers", name=f"threshold {t:.2f}",
                        marker={"color": HERE, "size": 12, "symbol": "diamond"})
    fig.update_layout(title="Precision–recall<br><sup>validation payments</sup>", xaxis_title="recall (share "
                      "caught)", yaxis_title="precision (flagged that are right)", yaxis_range=[0, 1.05],
                      legend={"orientation": "h", "y": -0.25, "x": 0}, **FIGURE)
    left.plotly_chart(fig, width="stretch", key=keys.APPS("pr"))
    right.plotly_chart(histogram(scores, labels, t, pos, neg), width="stretch", key=keys.APPS("histogram"))


def histogram(scores: np.ndarray, labels: np.ndarray, t: float, pos: str, neg: str) -> go.Figure:
    """How many payments of each class get each probability (a log scale: the rare class stays visible)."""
    h = appviews.histograms(scores, labels, bins=20)
    mids = (h["edges"][:-1] + h["edges"][1:]) / 2
    fig = go.Figure([go.Bar(x=mids, y=h["negative"], name=neg, marker_color=PALETTE["train"], width=0.045),
                     go.Bar(x=mids, y=h["positive"], name=pos, marker_color=PALETTE["val"], width=0.045)])
    fig.add_vline(x=t, line={"color": HERE, "dash": "dash"})
    fig.update_layout(title=f"Probability of {pos}, by true class<br><sup>the dashed line is the threshold</sup>",
                      barmode="group", xaxis_title=f"probability of {pos}", yaxis_title="payments (log scale)",
                      yaxis_type="log", legend={"orientation": "h", "y": -0.25, "x": 0}, **FIGURE)
    return fig
