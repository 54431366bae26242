"""Under a finished run: take it away as a Jupyter notebook (the setup as code) and its trained weights."""

from __future__ import annotations

import logging

import streamlit as st

from playground.jobs import Job
from playground.registry import PlaygroundError
from playground.runs import weights_bytes
from playground.spec import from_dict
from playground.uploads import Access, using
from ui import keys, state
from ui.views.run_store import remember

log = logging.getLogger("playground.export")


def notebook(spec: dict, access: Access | None = None) -> str:
    """The setup as .ipynb text (a notebook that says why when the setup cannot be exported). `access` is the
    session's uploads, read while the page draws: Streamlit may call this later, outside the script's thread."""
    from playground.notebook import notebook_text
    try:
        with using(access or Access()):
            return notebook_text(from_dict(spec))
    except PlaygroundError as e:
        return _failed(f"This setup cannot be exported yet: {e.message}")
    except Exception as e:  # noqa: BLE001 -- a download must never end in a traceback
        log.exception("notebook export failed")
        return _failed(f"This setup could not be exported ({type(e).__name__}).")


def _failed(text: str) -> str:
    import nbformat
    import nbformat.v4 as nbf
    return nbformat.writes(nbf.new_notebook(cells=[nbf.new_markdown_cell(text)]))


def weights(kept: dict | None) -> bytes:
    """A finished run's kept final weights (run_store.remember) as safetensors, named as
    `python -m playground train --out` names them."""
    return weights_bytes(kept["weights"]) if kept is not None else b""


def slug(spec: dict) -> str:
    name = "".join(c if c.isalnum() else "-" for c in str(spec.get("name", "model"))[:40].lower()).strip("-")
    return name or "model"


def downloads(job: Job | None) -> None:
    """Notebook and weights buttons for a finished run of this session's setup."""
    if job is None or not job.finished or not job.metrics or job.state == "failed":
        return
    with st.container(horizontal=True, gap="small", vertical_alignment="center", key=keys.RUN("exports")):
        st.markdown("**Take it with you:**", width="content")
        access, kept = state.uploads(), remember(job)  # read now: the downloads may be made outside this thread
        st.download_button("Notebook (.ipynb)", lambda: notebook(job.spec, access), file_name=f"{slug(job.spec)}.ipynb",
                           mime="application/x-ipynb+json", icon=":material/description:", key=keys.RUN("dl-notebook"),
                           help="A Jupyter notebook with the data, the model, the training loop and a plot of the "
                                "loss: it trains this setup on the same seed as here")
        st.download_button("Weights (.safetensors)", lambda: weights(kept),
                           file_name=f"{slug(job.spec)}.safetensors", mime="application/octet-stream",
                           icon=":material/download:", key=keys.RUN("dl-weights"), disabled=kept is None,
                           help="This run's trained weights: set the notebook's WEIGHTS to this file to start "
                                "from them")
