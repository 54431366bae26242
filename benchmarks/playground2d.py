"""How live is the 2-D playground? Redraws and epochs a second, in headless Chromium against `streamlit run app.py`.

    python benchmarks/playground2d.py [--seconds 10] [--workers N]

Opens /playground with TensorFlow Playground's own spiral setting in the link (all 7 features, two
hidden layers of 8 tanh, batch 10, 500 points with half for training, SGD at 0.03), presses Play, then
reads the canvas's redraw counter (`data-draws`) and the epoch counter twice, `--seconds` apart. Also
prints the same training without any UI (the engine's ceiling on this machine), the CPU each process
used and the load average, since other work on the host skews every figure.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

TARGET_REDRAWS = 5.0  # a second, while training
TARGET_EPOCHS = 33.6  # TensorFlow Playground on this setting, measured here (one redraw per epoch)
TF_SPIRAL = dict(dataset="spiral", noise=0, train_ratio=50, batch_size=10, n_samples=500,
                 features=("x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"), hidden=(8, 8),
                 activations=("Tanh", "Tanh"), lr=0.03, optimizer="SGD")


def tf_spiral_spec() -> dict:
    from playground import tfplay
    return tfplay.to_spec(tfplay.Settings(**TF_SPIRAL), tfplay.default_spec())


def engine_epochs_per_second(spec: dict, seconds: float = 3.0) -> float:
    """Epochs a second of the bare Trainer in this process (one thread), no views, no UI."""
    import torch

    from playground.spec import from_dict
    from playground.train import Trainer
    torch.set_num_threads(1)
    tr = Trainer(from_dict(spec), device="cpu")
    for _ in range(3):
        tr.run_epoch()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        tr.run_epoch()
        n += 1
    return n / (time.perf_counter() - t0)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes (Linux /proc)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            pass
    return total


def processes() -> dict[str, list[int]]:
    """This benchmark's server, training workers and browser processes (its descendants), by role."""
    out: dict[str, list[int]] = {"streamlit": [], "workers": [], "chromium": []}
    me = os.getpid()
    for p in Path("/proc").iterdir():
        if not p.name.isdigit() or not _descends(int(p.name), me):
            continue
        try:
            cmd = (p / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "streamlit run app.py" in cmd:
            out["streamlit"].append(int(p.name))
        elif "multiprocessing" in cmd and "spawn_main" in cmd:
            out["workers"].append(int(p.name))
        elif "chromium" in cmd or "chrome" in cmd:
            out["chromium"].append(int(p.name))
    return out


def _descends(pid: int, ancestor: int) -> bool:
    for _ in range(12):
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return False
        if pid == ancestor:
            return True
        if pid in (0, 1):
            return False
    return False


def open_playground(browser, url: str):
    """A page at `url`, once the script has run and the live view is on it."""
    from appserver import READY
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    page.wait_for_selector(READY, timeout=60_000)
    page.wait_for_selector("canvas.surface", state="attached", timeout=60_000)
    return page


def counters(page) -> tuple[int, int]:
    """(redraws of the surface canvas, epoch shown) read from the page."""
    return page.evaluate("""() => {
        const c = document.querySelector('*') && [...document.querySelectorAll('*')].map(e => e.shadowRoot)
            .filter(Boolean).map(r => r.querySelector('canvas.surface')).find(Boolean);
        const pg = c && c.getRootNode().querySelector('.pg');
        return c ? [+c.dataset.draws, +pg.dataset.epoch] : [-1, -1]; }""")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="measuring window (default 10)")
    ap.add_argument("--workers", type=int, default=0, help="training worker processes (default: one per core)")
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from appserver import CHROMIUM_ARGS, need_chromium, streamlit_server
    from playwright.sync_api import sync_playwright

    from playground.spec import encode, from_dict

    spec = tf_spiral_spec()
    print(f"host: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} before the run", flush=True)
    engine = engine_epochs_per_second(spec)
    env = {"PLAYGROUND_WORKERS": str(args.workers)}  # 0: one per core
    with streamlit_server(env=env) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=need_chromium(), args=CHROMIUM_ARGS)
        page = open_playground(browser, f"{url}/playground?s={encode(from_dict(spec))}")
        page.get_by_role("button", name="Play").click()
        t0 = time.time()
        while counters(page)[1] < 3:
            if time.time() - t0 > 60:
                raise SystemExit("training did not start within a minute")
            time.sleep(0.05)
        time.sleep(1.0)  # past the start-up
        procs = processes()
        cpu0 = {k: cpu_seconds(v) for k, v in procs.items()}
        (d0, e0), t0 = counters(page), time.perf_counter()
        time.sleep(args.seconds)
        (d1, e1), t1 = counters(page), time.perf_counter()
        cpu1 = {k: cpu_seconds(v) for k, v in procs.items()}
        page.screenshot(path=str(ROOT / "test-artifacts" / "playground2d-bench.png"))
        browser.close()
    dt = t1 - t0
    redraws, epochs = (d1 - d0) / dt, (e1 - e0) / dt
    print(f"redraws/s  {redraws:6.1f}   (target >= {TARGET_REDRAWS})   "
          f"{'ok' if redraws >= TARGET_REDRAWS else 'BELOW'}")
    print(f"epochs/s   {epochs:6.1f}   (target >= {TARGET_EPOCHS}, TensorFlow Playground here)   "
          f"{'ok' if epochs >= TARGET_EPOCHS else 'BELOW'}")
    print(f"engine alone: {engine:.1f} epochs/s (same setting, one thread, no views, no UI)")
    print("CPU share while training: " + ", ".join(f"{k} {(cpu1[k] - cpu0[k]) / dt:.0%}" for k in cpu0)
          + f" (of one core; {os.cpu_count()} cores)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0 if redraws >= TARGET_REDRAWS and epochs >= TARGET_EPOCHS else 1


if __name__ == "__main__":
    sys.exit(main())
