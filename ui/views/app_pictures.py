"""Speech and scans: one validation sample at a time, what the net says about it, and where it looked
(Grad-CAM over the spectrogram or the scan). A vowel is also drawn as its waveform and played."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from playground import appviews
from ui import keys, state
from ui.components.live_chart import PALETTE
from ui.text import short
from ui.views import images
from ui.views.model_source import Loaded

SAMPLE = keys.APPS("sample")
CAM = images.SEQUENTIAL  # magnitudes, as Explain draws Grad-CAM


def _pick(m: Loaded, noun: str) -> int:
    """The validation sample shown (a number input, from 1)."""
    n = len(m.data.y_val)
    if not isinstance(state.widget(SAMPLE), int) or not 1 <= state.widget(SAMPLE) <= n:
        state.set_widget(SAMPLE, 1)
    return st.number_input(f"Validation {noun} (1–{n})", 1, n, step=1, key=SAMPLE, width=260) - 1


def _names(m: Loaded) -> list[str]:
    return [short(c, 30) for c in m.info.class_names] or [str(k) for k in range(m.out_shape[0])]


def probabilities_figure(p: np.ndarray, names: list[str], truth: int) -> go.Figure:
    """The net's probability of each class, the true one marked."""
    colors = [PALETTE["val"] if k == truth else PALETTE["train"] for k in range(len(p))]
    fig = go.Figure(go.Bar(x=names, y=p, marker_color=colors, text=[f"{v:.0%}" for v in p], textposition="outside"))
    fig.update_layout(title="What the net says<br><sup>orange: the true class</sup>", yaxis_range=[0, 1.15],
                      yaxis_title="probability", height=300, margin={"l": 60, "r": 10, "t": 50, "b": 40})
    return fig


def _cam(m: Loaded, x, target: int, picture: np.ndarray, caption: str, what: str) -> None:
    """Grad-CAM for `target` drawn over `picture` (`what` it is, for the text alternative)."""
    cam = appviews.where_it_looked(m.model, x, target)
    st.image(images.overlay(picture, cam, CAM, 0.0, float(cam.max()) or 1.0), caption=caption, width="stretch",
             alt=f"{what} in light grey with Grad-CAM over it: stronger blue where the net looked more")


def speech(m: Loaded) -> None:
    """A vowel: its waveform, its spectrogram with Grad-CAM, playback, and the net's answer."""
    i = _pick(m, "vowel")
    v = appviews.vowel_sample(m.data, i)
    names = _names(m)
    p = appviews.class_probabilities(m.model, m.data.x_val[i])
    guess = int(np.argmax(p))
    st.markdown(f"True vowel **{names[v['label']]}**; the net hears **{names[guess]}** ({p[guess]:.0%}).")
    st.audio(appviews.wav_bytes(v["wave"], v["rate"]), format="audio/wav", sample_rate=None)
    left, mid, right = st.columns(3)
    fig = go.Figure(go.Scatter(x=v["ms"], y=v["wave"], mode="lines", line={"color": PALETTE["train"], "width": 1}))
    fig.update_layout(title="Waveform", xaxis_title="time (ms)", yaxis_title="amplitude", height=300,
                      margin={"l": 60, "r": 10, "t": 40, "b": 40})
    left.plotly_chart(fig, width="stretch", key=keys.APPS("wave"))
    with mid:
        _cam(m, m.data.x_val[i], guess, v["spectrogram"], f"The spectrogram (time →, pitch ↑ to "
             f"{v['top_hz']:,.0f} Hz), coloured where the net looked to hear '{names[guess]}' (Grad-CAM).",
             "the vowel's spectrogram")
    right.plotly_chart(probabilities_figure(p, names, v["label"]), width="stretch", key=keys.APPS("probs"))


def scans(m: Loaded) -> None:
    """A scan, the net's answer, and Grad-CAM for 'lesion' over it, beside the scan alone."""
    i = _pick(m, "scan")
    names = _names(m)
    x = m.data.x_val[i]
    truth = int(m.data.y_val[i])
    p = appviews.class_probabilities(m.model, x)
    lesion = appviews.looked_for(m.data) if len(p) == 2 else int(np.argmax(p))
    st.markdown(f"This scan is **{names[truth]}**; the net gives **{names[lesion]}** a probability of "
                f"{p[lesion]:.0%}.")
    scan = x[0].numpy()
    left, mid, right = st.columns(3)
    left.image(images.picture(scan, None, 0.0, 1.0), caption="The scan", width="stretch",
               alt=f"validation scan {i + 1} in grey: the brighter the tissue, the darker it is drawn")
    with mid:
        _cam(m, x, lesion, scan, f"Where the net looked for '{names[lesion]}' (Grad-CAM)", "the scan")
    right.plotly_chart(probabilities_figure(p, names, truth), width="stretch", key=keys.APPS("probs"))
