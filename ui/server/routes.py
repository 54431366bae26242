"""The app's own HTTP routes, mounted by app.py through st.App. Each one answers only a run's owner."""

from __future__ import annotations

import os

from starlette.routing import Route

from ui.server import gan_stream, grid_stream, streams


def routes(prefix: str = "") -> list[Route]:
    """The routes under `prefix` (server.baseUrlPath); the debug listing only with PLAYGROUND_BENCH_ROUTES=1."""
    debug = ([Route(f"{prefix}/api/debug/jobs", streams.debug_jobs)]
             if os.environ.get("PLAYGROUND_BENCH_ROUTES") == "1" else [])
    return debug + [Route(f"{prefix}/api/jobs/{{job}}/stream", streams.stream_job),
                    Route(f"{prefix}/api/playground/{{job}}/stream", grid_stream.stream),
                    Route(f"{prefix}/api/gan/{{job}}/stream", gan_stream.stream),
                    Route(f"{prefix}/api/jobs/{{job}}", streams.job_status)]
