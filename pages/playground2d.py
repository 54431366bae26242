"""2-D Playground: TensorFlow Playground on real PyTorch, drawn live from a stream (no rerun per frame)."""

import streamlit as st

from playground import tfplay
from ui import state
from ui.text import message
from ui.views import playground2d as pg

s = state.get()
cfg = tfplay.from_spec(s.spec)
if cfg is None:
    st.subheader("2-D Playground")
    pg.offer_2d(s.spec)
    st.stop()

pg.compact()
pg.back_link()
job = pg.ensure_job()
pg.toolbar(cfg, job)
left, right = st.columns([1, 4.6], gap="medium")
with left:
    pg.data_panel(cfg)
    pg.feature_panel(cfg)
with right:
    pg.layer_controls(cfg)
    if job is not None and job.state == "failed":
        st.error(f"The run failed: {message(job.message)}. Change a setting or press Reset.", icon=":material/error:")
    pg.live_view(cfg, job)
