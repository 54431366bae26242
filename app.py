"""Entry point: `streamlit run app.py`.

uvicorn imports this file as module `app` to serve the UI plus the app's own streaming routes; every
browser script run executes it again as `__main__`, which draws the pages.
"""

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from ui import server
from ui.server.routes import routes

# A pages/ folder beside the main script makes a fresh Streamlit process run its old automatic
# multipage mode until the first st.navigation call, so a deep link (/build) opened first would run
# the page without this script. The app always navigates with st.navigation: say so up front.
PagesManager.uses_pages_directory = False

app = st.App(__file__, routes=routes(f"/{server.base_path()}" if server.base_path() else ""))

if __name__ == "__main__":
    from ui.main import run

    run()
elif __name__ != "__mp_main__":  # not in a training worker, which may re-import this file while it starts
    import gc

    import pandas  # noqa: F401  components import it lazily: on the first page view it would cost ~2 s

    server.mark_streaming()
    server.pool()  # start the training workers now, so the first Train click finds them warm
    gc.freeze()  # what start-up imported lives forever: keep it out of every later collection
