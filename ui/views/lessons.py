"""Lessons: a path through the course, each a preset, the page to open it on, and what to try there.

A started lesson stays with the session (`Session.lesson`): its card's text and the next step are shown
above the pages it takes place on until the learner ends it or opens another setup, so they never get lost.
"""

from __future__ import annotations

import streamlit as st

from ui import keys, state

LESSONS = [  # "next": what to do first on the page it opens; "then": the page the lesson goes on to, if any
    {"title": "1 · One neuron draws a line", "preset": "gauss-mlp", "page": "pages/playground2d.py",
     "text": "A single Linear layer is logistic regression: its boundary is a straight line. Press Play, then "
             "switch the data to circle — no line can separate it.",
     "next": "Press **Play** above the plot."},
    {"title": "2 · Hidden layers bend the boundary", "preset": "circle-mlp", "page": "pages/playground2d.py",
     "text": "Four tanh neurons each draw a line; the output neuron combines them into a closed curve. Watch "
             "each neuron's map, then remove the hidden layer with − and see it fail.",
     "next": "Press **Play** above the plot; the neurons' maps fill in as it learns."},
    {"title": "3 · Depth and activations", "preset": "spiral-mlp", "page": "pages/playground2d.py",
     "text": "Spirals need two hidden layers. Change the activation to ReLU or Sigmoid and compare how fast "
             "and how cleanly each learns; add the x1², sin features and see how little depth is then needed.",
     "next": "Press **Play** above the plot, then change the activation and press Play again."},
    {"title": "4 · Optimizers race", "preset": "moons-mlp", "page": "pages/train.py",
     "text": "Open A/B under the chart, change the optimizer to SGD and train both in lock-step: same data, "
             "same start, one difference.",
     "next": "Open **A/B** under the chart, choose *optimizer* and press **Train A and B**."},
    {"title": "5 · Convolutions read images", "preset": "digits-cnn", "page": "pages/build.py",
     "text": "Two Conv2d + MaxPool blocks, then Flatten and Linear. Watch the output shapes shrink; delete "
             "Flatten and read the error (one click fixes it). Then train it.",
     "next": "When the stack builds again, train it on the Train page.", "then": ("pages/train.py", "Train it")},
    {"title": "6 · Memory over time", "preset": "sine-lstm", "page": "pages/train.py",
     "text": "An LSTM reads 24 past values and forecasts the next; the predicted-vs-true plot at the end "
             "shows how close it gets.",
     "next": "Press **Train**; the predicted-vs-true plot appears when the run ends."},
    {"title": "7 · Words in order", "preset": "sentiment-gru", "page": "pages/train.py",
     "text": "A GRU reads a review word by word and learns that 'not good' is negative. Compare with the "
             "Transformer preset, which needs positions to tell word order.",
     "next": "Press **Train**. When it ends, load *Sentiment: a small Transformer* with **Load a preset** "
             "above the buttons and train it: the GRU's run is drawn beside it under *Compare with earlier runs*."},
    {"title": "8 · Learning without labels", "preset": "digits-autoencoder", "page": "pages/train.py",
     "text": "The network must squeeze each digit through 8 numbers and rebuild it: no labels, just the "
             "reconstruction error.",
     "next": "Press **Train**; the digits and their reconstructions appear when the run ends."},
]


def banner(page: str) -> None:
    """The started lesson's text and next step above `page` (a pages/ file) when the lesson takes place there."""
    s = state.get()
    if s.lesson is None or not 0 <= s.lesson < len(LESSONS):
        return
    lesson = LESSONS[s.lesson]
    if page not in (lesson["page"], lesson.get("then", ("",))[0]):
        return
    with st.container(border=True, key=keys.LESSON("banner")):
        head, close = st.columns([5, 1], vertical_alignment="center")
        head.markdown(f":material/school: **Lesson {lesson['title']}**")
        close.button("End lesson", key=keys.LESSON("end"), type="tertiary", on_click=end, width="stretch")
        st.markdown(lesson["text"])
        st.markdown(f"**Next:** {lesson['next']}")
        then = lesson.get("then")
        if then and page != then[0]:
            st.page_link(then[0], label=then[1], icon=":material/arrow_forward:")


def start(i: int) -> None:
    """Start lesson `i`: its preset becomes the setup (undoable) and its banner shows."""
    from playground import presets
    state.set_spec(presets.get(LESSONS[i]["preset"]).to_dict())
    state.get().lesson = i


def end() -> None:
    """End the started lesson (its banner goes)."""
    state.get().lesson = None
