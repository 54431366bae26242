"""GAN lab: a generator learns to imitate data while a discriminator learns to tell them apart, drawn live."""

import streamlit as st

from playground import ganlab
from ui import state
from ui.text import message
from ui.views import gan, gan_settings

s = state.get()
cfg = ganlab.from_spec(s.spec)
st.title("GAN lab")
if cfg is None:
    gan_settings.offer(s.spec)
    st.stop()

job = gan.ensure_job(cfg)
gan.toolbar(cfg, job)
left, right = st.columns([1.2, 3.2], gap="medium")
with left:
    gan_settings.data_panel(cfg)
    with st.expander("Networks", icon=":material/hub:"):
        gan_settings.model_panel(cfg)
    with st.expander("Training", icon=":material/tune:"):
        gan_settings.training_panel(cfg)
with right:
    if job is not None and job.state == "failed":
        st.error(f"The run failed: {message(job.message)}. Change a setting or press Reset.", icon=":material/error:")
    gan.live_view(cfg, job)
