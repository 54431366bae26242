"""Train: start, pause, step and stop a run of the current setup and watch it learn, live."""

import streamlit as st

from playground import presets, tasks
from playground.data import info as data_info
from playground.registry import PlaygroundError
from playground.spec import from_dict
from playground.train import validate
from ui import keys, state
from ui.text import message, plain
from ui.views import board_student, compare, run_exports, runner

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

task = None
try:
    task = tasks.of(from_dict(s.spec), info)
    validate(from_dict(s.spec), info)
except PlaygroundError as e:
    st.error(f"This setup cannot train yet: {message(e.message)}", icon=":material/error:")
    st.page_link("pages/build.py", label="Fix it on the Build page", icon=":material/construction:")

bar = st.container(horizontal=True, vertical_alignment="center", key=keys.TRAIN("setup"))
bar.markdown(f"**{plain(s.spec.get('name', 'Untitled'))}** — {plain(info.name)} "
             f"({task.name if task else info.task}), "
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
metric = tasks.chart_metric(task) if task else None
if task is not None and "gan" in task.live:  # the task has a live view of its own
    st.page_link("pages/gan.py", label="Watch this GAN learn in the GAN lab: its samples, the discriminator's "
                 "view and the game between them, live", icon=":material/blur_on:")
if not compare.ab_view(metric):
    runner.controls(job)
    if job is not None and job.state == "failed":
        st.error(f"The run failed: {message(job.message)}", icon=":material/error:")
    overlay = compare.overlay_picker(job, s.spec)
    runner.chart(job, metric, overlay=overlay)
    if job is not None and job.finished and job.metrics:
        runner.report(job)
        run_exports.downloads(job)
        board_student.submit_box(job)
compare.ab_setup()
