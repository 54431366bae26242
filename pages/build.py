"""Build: assemble the network from the layer palette, configure each layer, pick the data and the training."""

import streamlit as st

from ui import keys, state
from ui.views import board_lock, builder
from ui.views import build_settings as settings

s = state.get()
if board_lock.read_only():  # a setup opened read-only by its link (?lock=1): shown, not edited
    st.stop()
builder.handle_events()  # a reorder, a row click or a dropped layer from the stack; a palette click
builder.select_guard()
result = builder.check(s.spec)

st.title("Build")
settings.toolbar(result)
with st.container():  # always there, so what follows keeps its place when a message appears
    settings.messages()
builder.status(result)

# Tabs that track state: only the open one is drawn, and it stays open across edits.
model_tab, data_tab, train_tab = st.tabs([":material/layers: Model", ":material/dataset: Data",
                                          ":material/tune: Training"], key=keys.BUILD("tabs"), on_change="rerun")

if model_tab.open is not False:
    with model_tab:
        palette_col, stack_col, config_col = st.columns([1, 1.9, 1.15], gap="medium")
        with palette_col:
            builder.palette()
        with stack_col:
            st.markdown("**Layers** · drag to move (into and out of blocks), click to select")
            builder.stack(result)
            builder.stack_buttons()
            builder.error_box(result)
        with config_col:
            builder.configure()

if data_tab.open is not False:
    with data_tab:
        options_col, preview_col = st.columns([1, 1.6], gap="large")
        with options_col:
            settings.data_settings()
        with preview_col:
            st.markdown("**Preview**")
            settings.data_preview(s.spec, result)

if train_tab.open is not False:
    with train_tab:
        settings.training_settings()
        st.caption("Dropout is a layer: add it from the palette (Regularisation) on the Model tab.")
