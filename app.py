"""Entry point: `streamlit run app.py`.

uvicorn imports this file as module `app` to serve the UI plus the app's own streaming routes; every
browser script run executes it again as `__main__`, which draws the pages.
"""

import streamlit as st

from ui import server

app = st.App(__file__, routes=server.routes(f"/{server.base_path()}" if server.base_path() else ""))

if __name__ == "__main__":
    from ui.main import run

    run()
else:
    server.mark_streaming()
    server.pool()  # start the training workers now, so the first Train click finds them warm
