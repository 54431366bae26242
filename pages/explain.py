"""Explain: why did the network say that? Attribution methods side by side on an input you choose."""

import streamlit as st

from ui import keys
from ui.views import explain_views, input_picker, model_source

st.title("Explain")
src = model_source.pick(keys.EXPLAIN)
if src is None:
    st.stop()
every = model_source.refresh_every(src)


@st.fragment(run_every=every)
def body() -> None:
    m = model_source.live_model(src, every)
    if m is None:
        return
    pick, said = st.columns([2.3, 1.5], gap="medium")
    with pick:
        inp = input_picker.pick(m)
    if inp is None:
        return
    with said:
        input_picker.prediction(m, inp, key=keys.EXPLAIN("prediction"))
    opts = explain_views.controls(m, inp)
    if not opts.methods:
        st.info("Choose one or more methods above.")
        return
    results = explain_views.run_all(m, inp, opts)
    explain_views.render(m, inp, results, key=keys.EXPLAIN)
    with st.expander("What the methods do", icon=":material/help:"):
        for name in opts.methods:
            meth = explain_views.METHODS.get(name)
            st.markdown(f"**{meth.title}**: {meth.description}")


body()
