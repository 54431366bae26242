"""Home: what this is, and a card per preset to start from."""

import streamlit as st

from playground import presets
from ui import state

st.title("Neural-network playground")
st.markdown("Build a network layer by layer, train it live on real PyTorch, and watch it learn. "
            "Pick a preset to start, or change any of them.")

specs = {name: presets.get(name) for name in presets.names()}
cols = st.columns(3)
for i, (name, spec) in enumerate(specs.items()):
    with cols[i % 3].container(border=True):
        st.markdown(f"**{spec.name}**")
        st.caption(spec.description or spec.data.name)
        if st.button("Open", key=f"home-{name}", width="stretch"):
            state.set_spec(spec.to_dict())
            st.switch_page("pages/train.py")
