"""Train: start, pause, step and stop a run of the current setup and watch it learn, live."""

import streamlit as st

from playground import presets
from playground.data import info as data_info
from playground.registry import PlaygroundError
from playground.spec import from_dict
from playground.train import validate
from ui import keys, state
from ui.text import message, plain
from ui.views import compare, runner

s = state.get()
st.title("Train")
PRESET = keys.TRAIN("preset")  # read in its callback


def load_preset() -> None:
    """Load the chosen preset (undoable) and empty the choice: in a callback, before the selectbox exists."""
    name = state.widget(PRESET)
    if name:
        state.set_spec(presets.get(name).to_dict())
    state.set_widget(PRESET, None)



try:
    info = data_info(from_dict(s.spec).data, state.uploads())
except PlaygroundError as e:
    st.error(f"The data cannot be loaded: {message(e.message)}")
    st.stop()

try:
    validate(from_dict(s.spec), info)
except PlaygroundError as e:
    st.error(f"This setup cannot train yet: {message(e.message)}", icon=":material/error:")
    st.page_link("pages/build.py", label="Fix it on the Build page", icon=":material/construction:")

bar = st.container(horizontal=True, vertical_alignment="center", key=keys.TRAIN("setup"))
bar.markdown(f"**{plain(s.spec.get('name', 'Untitled'))}** — {plain(info.name)} ({info.task}), "
             f"{len(s.spec['model']['layers'])} layers, {s.spec['train']['epochs']} epochs", width="stretch")
with bar.popover("Load a preset", icon=":material/folder_open:", width="content"):
    names = dict(presets.listing())
    choice = st.selectbox("Preset", list(names), format_func=lambda n: names[n], index=None,
                          placeholder="Choose a preset…", key=PRESET)
    st.button("Load", key=keys.TRAIN("load"), type="primary", width="stretch", disabled=not choice,
              on_click=load_preset)
job = runner.current()
if job is not None and not runner.same_setup(job.spec, s.spec):
    runner.other_setup(job)  # a run's results are shown only with the setup they came from
    job = None
if not compare.ab_view(info.classification):
    runner.controls(job)
    if job is not None and job.state == "failed":
        st.error(f"The run failed: {message(job.message)}", icon=":material/error:")
    overlay = compare.overlay_picker(job, s.spec)
    runner.chart(job, classify=info.classification, overlay=overlay)
    if job is not None and job.finished and job.metrics:
        runner.report(job)
compare.ab_setup()
