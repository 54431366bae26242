"""How live is the GAN lab? Redraws a second, in headless Chromium against `streamlit run app.py`.

    python benchmarks/gan.py [--seconds 10] [--preset gan-ring] [--workers N]

Opens /gan with the preset in the link (gan-ring: G and D 128-128 MLPs, batch 256), presses "Train both",
then reads the canvas's redraw counter (`data-draws`: frames drawn, each a new view from the worker: the
made samples, the discriminator's surface, the arrows, the manifold) and the generator's step count twice,
`--seconds` apart. Also prints the same training without any UI (the engine's ceiling here), the CPU each
process used and the load average, since other work on the host skews every figure.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

TARGET_REDRAWS = 10.0  # a second, while training (issue 10)

COUNTERS = """() => {
    for (const el of document.querySelectorAll('*')) {
        const r = el.shadowRoot, gl = r && r.querySelector('.gl');
        if (!gl) continue;
        const c = r.querySelector(gl.dataset.kind === 'images' ? 'canvas.grid' : 'canvas.surface');
        const grid = r.querySelector('canvas.grid');
        return [Math.max(+r.querySelector('canvas.surface').dataset.draws, +grid.dataset.draws),
                +r.querySelector('.gsteps').textContent, gl.dataset.covered, gl.dataset.mode];
    }
    return [-1, -1, '', '']; }"""


def engine_steps_per_second(name: str, seconds: float = 3.0) -> float:
    """Generator steps a second of the bare trainer in this process (one thread), no views, no UI."""
    import torch

    from playground import presets
    from playground.trainers import make_trainer
    torch.set_num_threads(1)
    d = presets.get(name).to_dict()
    d["train"]["device"] = "cpu"
    from playground.spec import from_dict
    tr = make_trainer(from_dict(d))
    for _ in range(20):
        tr.train_step()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        tr.train_step()
        n += 1
    return n / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="measuring window (default 10)")
    ap.add_argument("--preset", default="gan-ring", help="the GAN preset to open (default gan-ring)")
    ap.add_argument("--workers", type=int, default=0, help="training worker processes (default: one per core)")
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from appserver import CHROMIUM_ARGS, READY, need_chromium, streamlit_server
    from playground2d import cpu_seconds, processes
    from playwright.sync_api import sync_playwright

    from playground import presets
    from playground.spec import encode

    print(f"host: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} before the run", flush=True)
    engine = engine_steps_per_second(args.preset)
    with streamlit_server(env={"PLAYGROUND_WORKERS": str(args.workers)}) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=need_chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/gan?s={encode(presets.get(args.preset))}")
        page.wait_for_selector(READY, timeout=90_000)
        page.get_by_role("button", name="Train both").click()
        t0 = time.time()
        while page.evaluate(COUNTERS)[1] < 50:
            if time.time() - t0 > 60:
                raise SystemExit("training did not start within a minute")
            time.sleep(0.05)
        time.sleep(1.0)  # past the start-up
        procs = processes()
        cpu0 = {k: cpu_seconds(v) for k, v in procs.items()}
        (d0, s0, *_), t0 = page.evaluate(COUNTERS), time.perf_counter()
        time.sleep(args.seconds)
        (d1, s1, covered, mode), t1 = page.evaluate(COUNTERS), time.perf_counter()
        cpu1 = {k: cpu_seconds(v) for k, v in procs.items()}
        (ROOT / "test-artifacts").mkdir(exist_ok=True)
        page.screenshot(path=str(ROOT / "test-artifacts" / f"gan-bench-{args.preset}.png"))
        browser.close()
    dt = t1 - t0
    redraws, steps = (d1 - d0) / dt, (s1 - s0) / dt
    print(f"redraws/s  {redraws:6.1f}   (target >= {TARGET_REDRAWS}, view {mode or 'not drawn'})   "
          f"{'ok' if redraws >= TARGET_REDRAWS else 'BELOW'}")
    print(f"generator steps/s while drawn {steps:6.1f}; engine alone {engine:.1f} (one thread, no views, no UI)")
    if covered:
        print(f"modes covered at the end: {covered}")
    print("CPU share while training: " + ", ".join(f"{k} {(cpu1[k] - cpu0[k]) / dt:.0%}" for k in cpu0)
          + f" (of one core; {os.cpu_count()} cores)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0 if redraws >= TARGET_REDRAWS else 1


if __name__ == "__main__":
    sys.exit(main())
