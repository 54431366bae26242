"""stload: a headless load generator for Streamlit apps (the benchmarks' own copy; classroom.py and
first_point.py run it).

Speaks Streamlit's websocket protocol directly (BackMsg / ForwardMsg protobufs
on ws://HOST/_stcore/stream, subprotocol "streamlit"), so many simulated
browser sessions fit in one asyncio process. No browser, no JS, no rendering.

Each simulated session:
  1. connects and sends rerun_script (ClientState: query_string, page_name),
     waits for script_finished;
  2. if --page names a page other than the one the server resolved, reruns
     with that page's page_script_hash (read from the Navigation message);
  3. with --click LABEL, presses the button once: rerun_script whose
     widget_states holds {id: <button id from the delta>, trigger_value: true};
  4. until the deadline, keeps issuing reruns on a fixed clock:
     - if the app announced run_every fragments (ForwardMsg.auto_rerun), it
       emulates the browser's setInterval: rerun_script with fragment_id and
       is_auto_rerun=true, at the server's interval (or --rerun-every);
     - otherwise full-app reruns every --rerun-every seconds.
     At most one request is in flight per session; a tick that comes due while
     the previous run has not finished is counted as "missed" (a browser would
     send it anyway and the server would coalesce it).
Every request is timed from send to the ForwardMsg script_finished. Only loopback
addresses are accepted: this is a tool for one's own machine.

Usage:
  python benchmarks/stload.py http://127.0.0.1:8501 --sessions 10 --seconds 20 \
      --page Train --click Train --rerun-every 0.25
The last line printed is a JSON summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
import urllib.parse
from dataclasses import dataclass, field

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import connect

FINISHED_OK = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_SUCCESSFULLY")
FINISHED_COMPILE_ERROR = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_WITH_COMPILE_ERROR")
FINISHED_EARLY = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_EARLY_FOR_RERUN")
FINISHED_FRAGMENT_OK = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_FRAGMENT_RUN_SUCCESSFULLY")


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)  # kind -> seconds
    steady_done: int = 0  # reruns finished during the steady phase
    sent: int = 0
    missed_ticks: int = 0
    timeouts: int = 0
    early_finishes: int = 0
    compile_errors: int = 0
    app_exceptions: int = 0
    page_not_found: int = 0
    conn_failures: int = 0
    disconnects: int = 0
    setup_failures: int = 0
    unfinished_at_end: int = 0
    msgs_in: int = 0
    bytes_in: int = 0
    errors: list[str] = field(default_factory=list)  # first few messages

    def add(self, kind: str, secs: float) -> None:
        self.latencies.setdefault(kind, []).append(secs)

    def err(self, text: str) -> None:
        if len(self.errors) < 20:
            self.errors.append(text)


class RequestTimeout(Exception):
    pass


class Session:
    """One simulated browser tab."""

    def __init__(self, idx: int, args: argparse.Namespace, stats: Stats,
                 ws_url: str, query: str, start_at: float, deadline: float) -> None:
        self.idx, self.args, self.stats = idx, args, stats
        self.ws_url, self.query = ws_url, query
        self.start_at, self.deadline = start_at, deadline
        self.ws = None
        self.page_hash = ""  # page_script_hash to send; "" = let the server resolve
        self.pages: list = []  # AppPage protos from the last Navigation message
        self.nav_page_hash = ""  # page the server actually ran
        self.buttons: dict[str, str] = {}  # label -> widget id (current full run)
        self.auto_reruns: dict[str, float] = {}  # fragment_id -> interval (s)
        self.pending: tuple[str, float] | None = None  # (kind, t_send)
        self.finished = asyncio.Event()
        self.last_status: int | None = None
        self.t_finished = 0.0  # monotonic time the last script_finished arrived
        self.closed = False
        self.collectors: set[asyncio.Task] = set()  # the steady phase's pending finish collectors

    # ---- receiving -------------------------------------------------------
    async def reader(self) -> None:
        try:
            async for raw in self.ws:
                self.stats.msgs_in += 1
                self.stats.bytes_in += len(raw)
                msg = ForwardMsg()
                try:
                    msg.ParseFromString(raw)
                except Exception as e:
                    self.stats.err(f"s{self.idx}: bad ForwardMsg: {e!r}")
                    continue
                self.handle(msg)
        except Exception as e:  # connection dropped
            if not self.closed:
                self.stats.disconnects += 1
                self.stats.err(f"s{self.idx}: disconnected: {e!r}")
        finally:
            self.closed = True
            self.finished.set()

    def handle(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "delta":
            d = msg.delta
            if d.WhichOneof("type") == "new_element":
                el = d.new_element
                etype = el.WhichOneof("type")
                if etype == "button":
                    self.buttons[el.button.label] = el.button.id
                elif etype == "exception":
                    self.stats.app_exceptions += 1
                    self.stats.err(f"s{self.idx}: app exception: {el.exception.type}: "
                                   f"{el.exception.message[:200]}")
        elif kind == "new_session":
            # Mirror the frontend: a full (non-fragment) run clears run_every timers
            # and the element tree; the run's own auto_rerun messages re-arm them.
            if not msg.metadata.run.fragment_ids:
                self.auto_reruns.clear()
                self.buttons.clear()
        elif kind == "navigation":
            self.pages = list(msg.navigation.app_pages)
            self.nav_page_hash = msg.navigation.page_script_hash
        elif kind == "page_not_found":
            self.stats.page_not_found += 1
            self.stats.err(f"s{self.idx}: page_not_found {msg.page_not_found.page_name!r}")
        elif kind == "auto_rerun":
            self.auto_reruns[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
        elif kind == "stop_auto_rerun":
            for fid in msg.stop_auto_rerun.fragment_ids:
                self.auto_reruns.pop(fid, None)
        elif kind == "script_finished":
            status = msg.script_finished
            if status == FINISHED_EARLY:
                self.stats.early_finishes += 1
                return  # superseded run; the run we are waiting for is still coming
            if status == FINISHED_COMPILE_ERROR:
                self.stats.compile_errors += 1
            self.last_status = status
            self.t_finished = time.monotonic()
            self.finished.set()
        elif kind == "ref_hash":  # only sent if we had claimed a cached message
            self.stats.err(f"s{self.idx}: unexpected ref_hash")

    # ---- sending ---------------------------------------------------------
    async def send_rerun(self, kind: str, *, fragment_id: str = "", page_name: str = "",
                         trigger_id: str = "", auto: bool = False) -> None:
        bm = BackMsg()
        cs = bm.rerun_script
        cs.query_string = self.query
        cs.page_script_hash = self.page_hash
        cs.page_name = page_name
        cs.fragment_id = fragment_id
        cs.is_auto_rerun = auto
        if trigger_id:
            w = cs.widget_states.widgets.add()
            w.id = trigger_id
            w.trigger_value = True
        self.finished.clear()
        self.pending = (kind, time.monotonic())
        self.stats.sent += 1
        await self.ws.send(bm.SerializeToString())

    async def wait_finished(self, timeout: float) -> float:
        """Wait for script_finished of the pending request; return latency (s)."""
        kind, t0 = self.pending
        try:
            await asyncio.wait_for(self.finished.wait(), timeout)
        except asyncio.TimeoutError:
            self.pending = None
            self.stats.timeouts += 1
            self.stats.err(f"s{self.idx}: {kind} timed out after {timeout:.1f}s")
            raise RequestTimeout(kind) from None
        if self.closed:
            raise ConnectionError("closed while waiting")
        self.pending = None
        return self.t_finished - t0

    async def request(self, kind: str, timeout: float, **kw) -> float:
        await self.send_rerun(kind, **kw)
        dt = await self.wait_finished(timeout)
        self.stats.add(kind, dt)
        return dt

    # ---- scenario --------------------------------------------------------
    async def run(self) -> None:
        a = self.args
        await asyncio.sleep(max(0.0, self.start_at - time.monotonic()))
        try:
            self.ws = await asyncio.wait_for(
                connect(self.ws_url, subprotocols=["streamlit"], compression=None,
                        max_size=None, proxy=None, ping_interval=None,
                        open_timeout=a.timeout, user_agent_header="stload"),
                a.timeout)
        except Exception as e:
            self.stats.conn_failures += 1
            self.stats.err(f"s{self.idx}: connect failed: {e!r}")
            return
        reader = asyncio.create_task(self.reader())
        try:
            await self.scenario()
        except (RequestTimeout, ConnectionError) as e:
            self.stats.err(f"s{self.idx}: stopped: {e!r}")
        finally:
            self.closed = True
            try:
                await asyncio.wait_for(self.ws.close(), 5)
            except Exception:
                pass
            reader.cancel()
            try:
                await reader
            except (asyncio.CancelledError, Exception):
                pass

    def _find_page_hash(self, name: str) -> str:
        key = name.strip("/").lower()
        for p in self.pages:
            if key in (p.page_name.lower(), p.url_pathname.lower()):
                return p.page_script_hash
        return ""

    async def scenario(self) -> None:
        a = self.args
        # 1. initial page load
        # A browser sends the URL path as page_name; "/train" does that, a bare
        # title loads the default page and then switches by page_script_hash.
        first = a.page.lstrip("/") if a.page.startswith("/") else ""
        await self.request("initial", a.timeout, page_name=first)
        if a.page:
            want = self._find_page_hash(a.page)
            if not want:
                self.stats.setup_failures += 1
                self.stats.err(f"s{self.idx}: page {a.page!r} not in navigation "
                               f"{[p.page_name for p in self.pages]}")
                return
            self.page_hash = want
            if want != self.nav_page_hash:
                await self.request("page_switch", a.timeout)
        # 2. click
        if a.click:
            bid = self.buttons.get(a.click)
            if not bid:
                self.stats.setup_failures += 1
                self.stats.err(f"s{self.idx}: button {a.click!r} not found; "
                               f"buttons={list(self.buttons)}")
                return
            await self.request("click", a.timeout, trigger_id=bid)
        # 3. steady reruns on a fixed clock
        await self.steady()

    async def steady(self) -> None:
        a = self.args
        # fragment_id ("" = full app) -> [interval, next_due]
        timers: dict[str, list[float]] = {}

        def sync_timers() -> None:
            if a.mode in ("auto", "fragment") and self.auto_reruns:
                for fid, iv in self.auto_reruns.items():
                    iv = a.rerun_every or iv
                    if fid not in timers:
                        timers[fid] = [iv, time.monotonic() + iv]
                for fid in list(timers):
                    if fid and fid not in self.auto_reruns:
                        del timers[fid]
                timers.pop("", None)
            elif a.mode != "fragment" and a.rerun_every:
                if "" not in timers:
                    timers[""] = [a.rerun_every, time.monotonic() + a.rerun_every]

        sync_timers()
        if not timers:
            if a.mode == "fragment":
                self.stats.setup_failures += 1
                self.stats.err(f"s{self.idx}: --mode fragment but app sent no auto_rerun")
            return
        while True:
            fid, (iv, due) = min(timers.items(), key=lambda kv: kv[1][1])
            if due >= self.deadline:
                break
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            if self.closed:
                raise ConnectionError("closed")
            timers[fid][1] = due + iv
            if timers[fid][1] < time.monotonic() - iv:  # fell far behind: realign
                timers[fid][1] = time.monotonic() + iv
            if self.pending is not None:
                # previous run still going: check it, else the tick is missed
                if self.finished.is_set():
                    self._complete_pending()
                else:
                    self.stats.missed_ticks += 1
                    if time.monotonic() - self.pending[1] > a.timeout:
                        self.pending = None
                        self.stats.timeouts += 1
                        self.stats.err(f"s{self.idx}: steady rerun timed out")
                    continue
            kind = "fragment" if fid else "full"
            await self.send_rerun(kind, fragment_id=fid, auto=bool(fid))
            # collect the finish asynchronously so the clock keeps ticking (the set keeps the task alive:
            # the event loop holds only a weak reference to it)
            task = asyncio.get_running_loop().create_task(self._collect())
            self.collectors.add(task)
            task.add_done_callback(self.collectors.discard)
            sync_timers()
            if not timers:
                break
        # let the last request finish (bounded)
        if self.pending is not None:
            try:
                await asyncio.wait_for(self.finished.wait(), min(a.timeout, 5.0))
                self._complete_pending()
            except asyncio.TimeoutError:
                self.stats.unfinished_at_end += 1
                self.pending = None

    async def _collect(self) -> None:
        p = self.pending
        if p is None:
            return
        try:
            await asyncio.wait_for(self.finished.wait(), self.args.timeout)
        except asyncio.TimeoutError:
            return  # the tick loop accounts for the timeout
        if self.pending is p:
            self._complete_pending()

    def _complete_pending(self) -> None:
        if self.pending is None or self.closed:
            return
        kind, t0 = self.pending
        self.pending = None
        self.stats.add(kind, self.t_finished - t0)
        self.stats.steady_done += 1


def pct(xs: list[float], q: float) -> float:
    """The q-th percentile (nearest rank), NaN for no data."""
    if not xs:
        return float("nan")
    s = sorted(xs)
    k = min(len(s) - 1, max(0, int(round(q / 100 * (len(s) - 1)))))
    return s[k]


def ws_url_of(url: str) -> tuple[str, str]:
    """The app's websocket URL and the query string a browser at `url` would send."""
    u = urllib.parse.urlsplit(url if "://" in url else "http://" + url)
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}[u.scheme]
    path = u.path.rstrip("/")
    return f"{scheme}://{u.netloc}{path}/_stcore/stream", u.query


async def main_async(args: argparse.Namespace) -> dict:
    """Run every session to its deadline; the JSON summary."""
    ws_url, query = ws_url_of(args.url)
    stats = Stats()
    t0 = time.monotonic()
    ramp = args.ramp if args.ramp is not None else min(5.0, 0.1 * args.sessions)
    deadline = t0 + ramp + args.seconds
    sessions = [Session(i, args, stats, ws_url, query,
                        t0 + (ramp * i / max(1, args.sessions)), deadline)
                for i in range(args.sessions)]
    wall0 = time.time()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    # hard bound: every loop is bounded, this is a backstop
    hard = ramp + args.seconds + 3 * args.timeout + 10
    done, not_done = await asyncio.wait([asyncio.create_task(s.run()) for s in sessions],
                                        timeout=hard)
    for t in not_done:
        t.cancel()
    if not_done:
        stats.err(f"{len(not_done)} sessions cancelled at hard deadline")
    elapsed = time.monotonic() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    steady_s = args.seconds  # every session's steady phase ends at `deadline`
    steady_kinds = ("fragment", "full")
    steady = [x for k in steady_kinds for x in stats.latencies.get(k, [])]
    summary = {
        "url": args.url,
        "sessions": args.sessions,
        "seconds": args.seconds,
        "ramp_s": ramp,
        "rerun_every": args.rerun_every,
        "wall_start": wall0,
        "steady_window": [wall0 + ramp, wall0 + ramp + args.seconds],
        "p50_ms": round(pct(steady, 50) * 1e3, 1),
        "p95_ms": round(pct(steady, 95) * 1e3, 1),
        "max_ms": round(max(steady) * 1e3, 1) if steady else float("nan"),
        "reruns_per_s": round(len(steady) / steady_s, 2),
        "reruns": len(steady),
        "kinds": {k: {"n": len(v), "p50_ms": round(pct(v, 50) * 1e3, 1),
                      "p95_ms": round(pct(v, 95) * 1e3, 1),
                      "max_ms": round(max(v) * 1e3, 1)}
                  for k, v in stats.latencies.items()},
        "sent": stats.sent,
        "missed_ticks": stats.missed_ticks,
        "timeouts": stats.timeouts,
        "unfinished_at_end": stats.unfinished_at_end,
        "early_finishes": stats.early_finishes,
        "app_exceptions": stats.app_exceptions,
        "compile_errors": stats.compile_errors,
        "page_not_found": stats.page_not_found,
        "setup_failures": stats.setup_failures,
        "conn_failures": stats.conn_failures,
        "disconnects": stats.disconnects,
        "msgs_in": stats.msgs_in,
        "mb_in": round(stats.bytes_in / 1e6, 2),
        "client_cpu_s": round((cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime), 2),
        "elapsed_s": round(elapsed, 2),
        "errors": stats.errors,
    }
    return summary


def main(argv: list[str] | None = None) -> int:
    """Run the load; exit 1 when no session could even start, 2 for a non-loopback address."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("url", help="app URL, e.g. http://127.0.0.1:8501 (query string is sent)")
    p.add_argument("--sessions", type=int, default=1)
    p.add_argument("--seconds", type=float, default=20.0, help="steady-phase length")
    p.add_argument("--page", default="",
                   help="page title (loads default page, then switches by hash) or "
                        "/url_path (sent as page_name on the first run)")
    p.add_argument("--click", default="", help="label of a button to press once")
    p.add_argument("--rerun-every", type=float, default=0.0,
                   help="seconds between reruns; for run_every fragments it overrides "
                        "the server's interval (0 = use the server's)")
    p.add_argument("--mode", choices=("auto", "fragment", "full"), default="auto",
                   help="auto: fragment reruns if the app announces run_every "
                        "fragments, else full reruns")
    p.add_argument("--ramp", type=float, default=None,
                   help="spread connects over this many seconds (default min(5, 0.1*N))")
    p.add_argument("--timeout", type=float, default=30.0, help="per-request timeout (s)")
    args = p.parse_args(argv)
    host = urllib.parse.urlsplit(args.url if "://" in args.url else "http://" + args.url).hostname
    if host not in ("127.0.0.1", "localhost", "::1") and not host.startswith("127."):
        print(f"refusing non-loopback host {host!r}: stload loads one's own machine only", file=sys.stderr)
        return 2
    s = asyncio.run(main_async(args))
    print(f"sessions={s['sessions']} steady={s['seconds']}s  reruns={s['reruns']} "
          f"({s['reruns_per_s']}/s)  p50={s['p50_ms']}ms p95={s['p95_ms']}ms max={s['max_ms']}ms")
    for k, v in s["kinds"].items():
        print(f"  {k:12s} n={v['n']:5d} p50={v['p50_ms']}ms p95={v['p95_ms']}ms max={v['max_ms']}ms")
    print(f"  missed_ticks={s['missed_ticks']} timeouts={s['timeouts']} "
          f"app_exceptions={s['app_exceptions']} setup_failures={s['setup_failures']} "
          f"conn_failures={s['conn_failures']} disconnects={s['disconnects']} "
          f"client_cpu={s['client_cpu_s']}s in={s['mb_in']}MB")
    for e in s["errors"][:5]:
        print("  !", e)
    print(json.dumps(s))
    bad = s["conn_failures"] + s["setup_failures"] + s["disconnects"]
    return 1 if bad == s["sessions"] and s["sessions"] else 0


if __name__ == "__main__":
    sys.exit(main())
