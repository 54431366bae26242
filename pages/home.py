"""Home: what this is, lessons and presets as cards, and a blank start."""

import streamlit as st

from playground import presets
from playground.data import DATASETS, builtin
from ui import state
from ui.views.lessons import LESSONS

st.title("Neural-network playground")
st.markdown("Build a network layer by layer, train it live on real PyTorch, and watch it learn — then take "
            "the code home. Follow a lesson, open a preset, or start from scratch.")

st.subheader("Lessons")
cols = st.columns(4)
for i, lesson in enumerate(LESSONS):
    with cols[i % 4].container(border=True):
        st.markdown(f"**{lesson['title']}**")
        st.caption(lesson["text"])
        if st.button("Start", key=f"lesson-{i}", width="stretch", icon=":material/school:"):
            state.set_spec(presets.get(lesson["preset"]).to_dict())
            st.switch_page(lesson["page"])

st.subheader("Presets")
specs = {name: presets.get(name) for name in presets.names()}
cols = st.columns(3)
for i, (name, spec) in enumerate(specs.items()):
    with cols[i % 3].container(border=True):
        st.markdown(f"**{spec.name}**")
        st.caption(spec.description or spec.data.name)
        if st.button("Open", key=f"home-{name}", width="stretch"):
            state.set_spec(spec.to_dict())
            st.switch_page("pages/train.py")

st.subheader("Start from scratch")
left, right = st.columns([2, 1], vertical_alignment="bottom")
data = left.selectbox("Dataset", builtin(), index=builtin().index("spiral"), key="home-scratch-data",
                      format_func=lambda n: f"{n} — {DATASETS.get(n).description}")
if right.button("Start with no layers", key="home-scratch", icon=":material/add:", width="stretch"):
    task = DATASETS.get(data).task
    state.set_spec({"version": 1, "name": f"My {data} network", "data": {"name": data}, "model": {"layers": []},
                    "train": {"loss": "mse" if task == "regression" else "cross_entropy",
                              "optimizer": {"type": "Adam", "lr": 0.01}, "batch_size": 32, "epochs": 30}})
    st.switch_page("pages/build.py")
