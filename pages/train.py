"""Train: start, pause, step and stop a run of the current setup and watch it learn, live."""

import streamlit as st

from playground import presets
from playground.data import info as data_info
from playground.registry import PlaygroundError
from playground.spec import from_dict
from playground.train import validate
from ui import state
from ui.views import compare, runner

s = state.get()
st.title("Train")

names = dict(presets.listing())
current_name = s.spec.get("name", "")
with st.sidebar:
    choice = st.selectbox("Load a preset", list(names), format_func=lambda n: names[n], index=None,
                          placeholder="Choose a preset…", key="train-preset")
    if choice and st.button("Load", key="train-load", width="stretch"):
        state.set_spec(presets.get(choice).to_dict())
        st.session_state["train-preset"] = None
        st.rerun()

try:
    info = data_info(from_dict(s.spec).data, state.uploads())
except PlaygroundError as e:
    st.error(f"The data cannot be loaded: {e.message}")
    st.stop()

try:
    validate(from_dict(s.spec), info)
except PlaygroundError as e:
    st.error(f"This setup cannot train yet: {e.message}", icon=":material/error:")
    st.page_link("pages/build.py", label="Fix it on the Build page", icon=":material/construction:")

st.markdown(f"**{s.spec.get('name', 'Untitled')}** — {info.name} ({info.task}), "
            f"{len(s.spec['model']['layers'])} layers, {s.spec['train']['epochs']} epochs")
job = runner.current()
if not compare.ab_view(info.classification):
    runner.controls(job)
    if job is not None and job.state == "failed":
        st.error(f"The run failed: {job.message}", icon=":material/error:")
    overlay = compare.overlay_picker(job)
    runner.chart(job, classify=info.classification, overlay=overlay)
    if job is not None and job.finished and job.metrics:
        runner.report(job)
compare.ab_setup()
