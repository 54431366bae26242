"""Who may read a run through the app's routes: whoever holds its key, which only the owning session hands out.

A run's key is HMAC-SHA256 of its id under this process's secret (32 bytes from `secrets`, made once per
process), so keys need no storage, are 256 bits, and cannot be derived from an id. The owning session puts
the key in its own components' data; they send it as `?key=` (EventSource cannot set headers) or as the
`X-Job-Key` header. A missing or wrong key gets exactly the answer an unknown id gets, after the same work:
the key is always computed and compared (`hmac.compare_digest`), and the job always looked up.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from playground.jobs import Job
from ui import server

HEADER = "x-job-key"
PARAM = "key"
MAX_ID = 64  # characters of a job id (ours are ~16); longer ones are not looked at
_CURSOR = re.compile(r"[0-9]{1,9}")


def job_key(job_id: str) -> str:
    """The key that opens `job_id`'s routes (43 URL-safe characters)."""
    mac = hmac.new(server._STATE.key, job_id.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def find(request: Request) -> Job | None:
    """The job a request names, if it also carries that job's key; else None (answer with `not_found`)."""
    job_id = str(request.path_params.get("job", ""))[:MAX_ID]
    param, header = request.query_params.get(PARAM), request.headers.get(HEADER)  # both read, always
    given = param or header or ""
    ok = hmac.compare_digest(job_key(job_id).encode(), given.encode("utf-8", "surrogatepass"))
    job = server.pool().get(job_id)
    return job if ok and job is not None else None


def not_found() -> Response:
    """The one answer for an unknown run, a missing key and a wrong key alike."""
    return JSONResponse({"error": "no such run"}, status_code=404, headers={"Cache-Control": "no-store"})


def resume_from(request: Request, job: Job) -> int:
    """Where a reconnecting EventSource resumes (its Last-Event-ID: epochs it already has). Anything but a
    plain count within the run's epochs so far (text, negative, huge) is ignored: the stream starts over."""
    value = request.headers.get("last-event-id", "")
    if not _CURSOR.fullmatch(value):
        return 0
    n = int(value)
    return n if n <= len(job.metrics) else 0
