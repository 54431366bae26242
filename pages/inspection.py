"""Inspect: look inside the network you trained — every layer's output for an input you choose, weights and
gradients over training, one back-propagation step by hand, its mistakes, and how it changed as it learned.
"""

import streamlit as st

from ui import keys
from ui.views import input_picker, inspect_errors, inspect_time, inspect_training, inspect_views, model_source

TABS = [":material/layers: Layers", ":material/monitoring: Weights & gradients",
        ":material/calculate: Backprop by hand", ":material/rule: Mistakes", ":material/history: Over time"]

st.title("Inspect")
src = model_source.pick(keys.INSPECT)
if src is None:
    st.stop()
every = model_source.refresh_every(src)


@st.fragment(run_every=every)
def body() -> None:
    m = model_source.live_model(src, every)
    if m is None:
        return
    pick, picture, said = st.columns([2.3, 1, 1.5], gap="medium")
    with pick:
        inp = input_picker.pick(m)
    if inp is None:
        return
    with picture:
        input_picker.show(m, inp, target=150)
    with said:
        input_picker.prediction(m, inp, key=keys.INSPECT("prediction"))

    layers, grads, by_hand, mistakes, over_time = st.tabs(TABS, key=keys.INSPECT("tabs"), on_change="rerun")
    if layers.open is not False:
        with layers:
            if not model_source.not_applicable(m, "layers"):
                inspect_views.layers(m, inp)
    if grads.open is not False:
        with grads:
            st.markdown("## Over training")
            inspect_training.over_training(src)
            st.markdown("## Gradient health now")
            inspect_training.gradient_health(m)
    if by_hand.open is not False:
        with by_hand:
            if not model_source.not_applicable(m, "backprop"):
                inspect_training.backprop_by_hand(m, inp)
    if mistakes.open is not False:
        with mistakes:
            if not model_source.not_applicable(m, "mistakes"):
                inspect_errors.mistakes(m, inp)
    if over_time.open is not False:
        with over_time:
            if not model_source.not_applicable(m, "over_time"):
                inspect_time.over_time(m, src, inp)


body()
