"""Issue 8's memory attacks against the real app: the peak resident memory of the server and its workers.

    python benchmarks/memory_attacks.py [--bound-mb 1536] [--measure rss|pss] [--workers 2]

Starts `streamlit run app.py` with the default settings (only PLAYGROUND_WORKERS is set, to the host's
default of one worker per core unless --workers says otherwise), samples the resident memory of the
Streamlit process plus every process under it (its job workers) every 50 ms from /proc, warms it up as a
student would (a small CSV uploaded on Build, a 1-epoch digits-cnn run, a small picture on Inspect), and
then plays each attack of the security issue in headless Chromium (Debian's, never a download), each from
its own browser context (another student; the contexts stay open to the end, as a class's tabs would):

  dev-zero        a link whose data is {"name": "csv", "file": "/dev/zero"} (grew the server to 4.3 GB),
                  opened on Build and Train
  shapes-64       four links of `shapes` with 20,000 samples of 64×64 (took the server to 2.9 GB), opened
                  on Build and Train, Train pressed
  shapes-16       four links of `shapes` with 20,000 samples of 16×16 (40 MB each: under the data cap, so
                  they are built: a few samples for the preview, the whole in the workers), Train pressed
                  on each (not an attack: the heaviest load the default caps allow a dataset)
  upsample        the 8-parameter model of two Upsample ×16 on 64×64 shapes (asked a worker for 34 GB),
                  Train pressed
  csv-5mb         a 5 MB CSV (the upload limit) uploaded on Build from four sessions (a load at the limits)
  png-13000       a ~200 kB PNG of 13,000×13,000 pixels (took the server to 2.4 GB) uploaded on Inspect
                  by the warm-up's student
  deep, long      a link nested 100,000 deep and one with a 999,000-character name

Each attack must end with the app's message on the page (a refusal, or for the loads the uploads accepted
and the runs finished), never a traceback. Prints the peak memory during each attack, as summed RSS and as
PSS (shared pages split between the processes that map them: summed RSS counts torch's shared library pages
once per process, ~250 MB each here, so PSS is the closer figure of what the host spends). Exits 1 when an
attack was not refused as expected, when the attacks grew the warm baseline's PSS by more than
--attack-growth-mb, or when the overall peak exceeds --bound-mb (on PSS unless --measure rss).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request
import zlib
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playground.spec import encode, from_dict  # noqa: E402

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
READY = "[data-testid='stApp'][data-test-script-state='notRunning']"
MB = 2**20


# ---- the server and its memory -------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit(workers: int):
    """`streamlit run app.py` on a free port with default limits; yields (url, pid); kills it all after."""
    port = free_port()
    log = open(ROOT / "test-artifacts" / f"memory-attacks-{port}.log", "w") \
        if (ROOT / "test-artifacts").is_dir() else subprocess.DEVNULL
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLAYGROUND_")}  # the defaults
    env["PLAYGROUND_WORKERS"] = str(workers)
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("streamlit did not start")
            time.sleep(0.3)
        yield url, proc.pid
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        if log is not subprocess.DEVNULL:
            log.close()


def tree(pid: int) -> list[int]:
    """`pid` and every process under it (from /proc's parent links)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def memory(pids: list[int]) -> tuple[int, int]:
    """(RSS, PSS) bytes of these processes together, from /proc/PID/smaps_rollup."""
    rss = pss = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
        except OSError:
            pass
    return rss, pss


class Sampler(threading.Thread):
    """Samples the server tree's memory every 50 ms: (RSS, PSS) now, peaks since the last `mark`, overall."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.now = self.peak = self.overall = (0, 0)
        self.stopped = threading.Event()

    def run(self) -> None:
        pids, last = tree(self.pid), 0.0
        while not self.stopped.is_set():
            if time.monotonic() - last > 0.5:  # new workers (a replaced one) join the tree
                pids, last = tree(self.pid), time.monotonic()
            self.now = memory(pids)
            self.peak = tuple(map(max, self.peak, self.now))
            self.overall = tuple(map(max, self.overall, self.now))
            time.sleep(0.05)

    def mark(self) -> None:
        self.peak = self.now


# ---- the attacks ---------------------------------------------------------------------------------

def link(spec: dict) -> str:
    return encode(from_dict(spec))


def raw_link(text: str) -> str:
    return base64.urlsafe_b64encode(zlib.compress(text.encode(), 9)).decode().rstrip("=")


def shapes(size: int, seed: int, layers: list | None = None) -> dict:
    return {"name": f"shapes {size}", "data": {"name": "shapes", "n_samples": 20000, "size": size, "seed": seed},
            "model": {"layers": layers or [{"type": "Flatten"}, {"type": "Linear", "out_features": 3}]},
            "train": {"epochs": 1, "batch_size": 64}}


UPSAMPLE = {"name": "upsample", "data": {"name": "shapes", "size": 64, "n_samples": 200},
            "model": {"layers": [{"type": "Upsample", "scale_factor": 16}, {"type": "Upsample", "scale_factor": 16},
                                 {"type": "Conv2d", "out_channels": 1, "kernel_size": 1},
                                 {"type": "AdaptiveAvgPool2d", "output_size": 1}, {"type": "Flatten"},
                                 {"type": "Linear", "out_features": 3}]},
            "train": {"batch_size": 32}}


def big_png(side: int = 13_000) -> bytes:
    """A 1-bit grey PNG of side×side black pixels, built row by row (~200 kB)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    z, row = zlib.compressobj(9), b"\0" * (1 + (side + 7) // 8)
    body = b"".join(z.compress(row) for _ in range(side)) + z.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", body) + chunk(b"IEND", b""))


def big_csv(limit: int = 4_900_000) -> bytes:
    """A CSV just under the 5 MB upload limit: 200 numeric columns, the last a class."""
    head = ",".join(f"f{j}" for j in range(199)) + ",y\n"
    row = ",".join("1.5" for _ in range(199))
    lines, size, i = [head], len(head), 0
    while size < limit - 1000:
        line = f"{row},{i % 3}\n"
        lines.append(line)
        size += len(line)
        i += 1
    return "".join(lines).encode()


class Run:
    """One benchmark run: a browser, the server's URL, and a record of what each attack showed."""

    def __init__(self, browser, url: str, sampler: Sampler) -> None:
        self.browser, self.url, self.sampler = browser, url, sampler
        self.failed = False

    def page(self, path: str, height: int = 1000):
        ctx = self.browser.new_context(viewport={"width": 1400, "height": height})  # a student of their own
        page = ctx.new_page()
        page.goto(f"{self.url}/{path}")
        page.wait_for_selector(READY, timeout=120_000)
        return page

    def expect(self, page, text: str, timeout: float = 90) -> bool:
        try:
            page.get_by_text(text).first.wait_for(timeout=timeout * 1000)
        except Exception:
            return False
        return page.locator("[data-testid='stException']").count() == 0

    def attack(self, name: str, fn) -> tuple[int, int]:
        """Play one attack (or load); print and return its peak (RSS, PSS)."""
        self.sampler.mark()
        t0 = time.monotonic()
        try:
            outcome = fn()
        except Exception as e:  # an attack that could not be played is a failure, reported
            outcome = f"FAILED ({type(e).__name__}: {str(e)[:120]})"
        time.sleep(1.0)  # let the memory settle into the sample
        if outcome.startswith("FAILED"):
            self.failed = True
        rss, pss = self.sampler.peak
        print(f"{name:12s} peak RSS {rss / MB:6.0f} MB  PSS {pss / MB:6.0f} MB  {outcome} "
              f"({time.monotonic() - t0:.0f} s)", flush=True)
        return rss, pss

    def check(self, ok: bool, what: str) -> str:
        return what if ok else f"FAILED: {what} not shown"

    def train(self, page) -> None:
        page.get_by_role("button", name="Train", exact=True).click()

    def done(self, page, timeout: float = 300) -> bool:
        """Wait until the page's live chart says its run is done."""
        try:
            page.wait_for_function("""() => [...document.querySelectorAll('*')].some(el => el.shadowRoot &&
                el.shadowRoot.querySelector('canvas.chart[data-state="done"]'))""", timeout=timeout * 1000)
        except Exception:
            return False
        return True

    # -- the attacks --
    def dev_zero(self) -> str:
        s = link({"name": "zero", "data": {"name": "csv", "file": "/dev/zero"},
                  "model": {"layers": [{"type": "Linear", "out_features": 2}]}})
        ok = all(self.expect(self.page(f"{p}?s={s}"), "cannot read files on the server") for p in ("build", "train"))
        return self.check(ok, "refused: cannot read files on the server")

    def shapes_64(self) -> str:
        ok = True
        for seed in range(4):
            s = link(shapes(64, seed))
            ok &= self.expect(self.page(f"build?s={s}"), "this server allows 64 MB a dataset")
            page = self.page(f"train?s={s}")
            self.train(page)
            ok &= self.expect(page, "Not started: data (shapes)")
        return self.check(ok, "refused: over the 64 MB data cap (Build and Train)")

    def shapes_16(self) -> str:
        pages = []
        for seed in range(4):
            s = link(shapes(16, seed))
            self.page(f"build?s={s}")  # the preview: a few samples, not the 40 MB
            page = self.page(f"train?s={s}")
            self.train(page)
            pages.append(page)
        done = sum(self.done(p) for p in pages)
        return self.check(done == 4, f"{done}/4 runs of 40 MB datasets done")

    def upsample(self) -> str:
        page = self.page(f"train?s={link(UPSAMPLE)}")
        self.train(page)
        return self.check(self.expect(page, "Not started: layer 2 (Upsample): output 1×16384×16384"),
                          "refused: layer 2 (Upsample) named")

    def csv_5mb(self) -> str:
        raw, ok = big_csv(), True
        for _ in range(4):
            ok &= self.upload_csv(self.page("build"), raw)
        return self.check(ok, f"4 uploads of {len(raw) / 1e6:.1f} MB accepted")

    def warm_up(self):
        """A student uses every page the attacks touch, the way the app is meant to be used: uploads a small
        CSV on Build, trains digits-cnn for an epoch, uploads a small picture on Inspect. What this costs (page
        code imported, a model loaded) is the baseline; the attacks are measured from there."""
        build = self.page("build")
        self.upload_csv(build, b"height,weight,kind\n1,2,cat\n2,3,dog\n3,1,cat\n4,4,dog\n5,1,cat\n6,5,dog\n")
        spec = _preset("digits-cnn")
        spec["train"]["epochs"] = 1
        page = self.page(f"train?s={link(spec)}", height=1500)
        self.train(page)
        if not self.done(page):
            raise RuntimeError("the warm-up run of digits-cnn did not finish")
        page.get_by_role("link", name="Inspect").click()
        page.get_by_text("uploaded image", exact=True).click()
        self.upload_png(page, small_png())
        page.get_by_text("your image").first.wait_for(timeout=60_000)
        self.inspect = page

    def upload_png(self, page, raw: bytes) -> None:
        upload = page.locator("[data-testid='stFileUploader'] input[type='file']")
        upload.wait_for(state="attached", timeout=60_000)
        upload.set_input_files({"name": "picture.png", "mimeType": "image/png", "buffer": raw})

    def upload_csv(self, page, raw: bytes) -> bool:
        page.get_by_role("tab", name="Data").click()
        page.wait_for_selector(READY, timeout=60_000)
        upload = (page.locator("[data-testid='stFileUploader']").filter(has_text="Or upload your own CSV")
                  .locator("input[type='file']"))
        upload.set_input_files({"name": "data.csv", "mimeType": "text/csv", "buffer": raw})
        return self.expect(page, "Uploaded CSV", timeout=180)

    def png_13000(self) -> str:
        self.upload_png(self.inspect, big_png())  # the warm-up's student, with a trained model, on Inspect
        return self.check(self.expect(self.inspect, "pixels; upload a smaller picture"), "refused from its header")

    def deep_and_long(self) -> str:
        deep = raw_link('{"data": {"name": "xor"}, "name": ' + "[" * 100_000 + "]" * 100_000 + "}")
        name = raw_link(json.dumps({"data": {"name": "xor"}, "name": "A" * 999_000}))
        ok = self.expect(self.page(f"train?s={deep}"), "more than 12 levels deep")
        ok &= self.expect(self.page(f"train?s={name}"), "999,000 characters long")
        return self.check(ok, f"refused: links of {len(deep)} and {len(name)} characters")


def _preset(name: str) -> dict:
    from playground import presets
    return presets.get(name).to_dict()


def small_png() -> bytes:
    """A 60×80 picture of a dark stroke on light paper (a 1)."""
    rows = [b"\0" + bytes(20 if 27 <= x < 34 and 10 <= y < 70 else 250 for x in range(60)) for y in range(80)]
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 60, 80, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bound-mb", type=float, default=1536, help="peak memory allowed, server + workers (MB)")
    ap.add_argument("--measure", choices=("rss", "pss"), default="pss",
                    help="what the bound applies to: PSS (shared pages shared out between the processes) or summed "
                         "RSS (counts torch's shared library pages once per process: ~250 MB each here)")
    ap.add_argument("--attack-growth-mb", type=float, default=128,
                    help="how much the refused attacks may grow the warm baseline's PSS (MB)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="PLAYGROUND_WORKERS for the app")
    args = ap.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("chromium is not installed (apt-get install -y chromium)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright
    with streamlit(args.workers) as (url, pid), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        sampler = Sampler(pid)
        sampler.start()
        run = Run(browser, url, sampler)
        run.page("")  # the first page run imports torch and starts the workers
        time.sleep(3)
        print(f"started      RSS {sampler.now[0] / MB:6.0f} MB  PSS {sampler.now[1] / MB:6.0f} MB  (server + "
              f"{args.workers} workers, after the first page)", flush=True)
        run.warm_up()
        time.sleep(3)
        baseline = sampler.now
        print(f"warm         RSS {baseline[0] / MB:6.0f} MB  PSS {baseline[1] / MB:6.0f} MB  (a student's "
              "CSV upload, a digits-cnn run, a picture on Inspect: the baseline)", flush=True)
        attacks = [run.attack(name, fn) for name, fn in (
            ("dev-zero", run.dev_zero), ("shapes-64", run.shapes_64), ("upsample", run.upsample),
            ("deep, long", run.deep_and_long), ("png-13000", run.png_13000))]
        growth = max(pss for _, pss in attacks) - baseline[1]
        print(f"the attacks grew the warm baseline's PSS by {growth / MB:.0f} MB at most; then the heaviest loads "
              "the default limits allow:", flush=True)
        for name, fn in (("csv-5mb", run.csv_5mb), ("shapes-16", run.shapes_16)):
            run.attack(name, fn)
        sampler.stopped.set()
        browser.close()
    peak, pss = sampler.overall[0] / MB, sampler.overall[1] / MB
    within = (pss if args.measure == "pss" else peak) <= args.bound_mb
    quiet = growth / MB <= args.attack_growth_mb
    print(f"peak RSS of server + workers: {peak:.0f} MB (warm baseline {baseline[0] / MB:.0f} MB); "
          f"peak PSS {pss:.0f} MB (warm baseline {baseline[1] / MB:.0f} MB)")
    print(f"bound {args.bound_mb:.0f} MB on the peak {args.measure.upper()}: {'OK' if within else 'OVER'}; "
          f"attacks' growth {growth / MB:.0f} MB (at most {args.attack_growth_mb:.0f}): {'OK' if quiet else 'OVER'}; "
          f"attacks: {'FAILED' if run.failed else 'all refused as expected'}")
    return 0 if within and quiet and not run.failed else 1


if __name__ == "__main__":
    sys.exit(main())
