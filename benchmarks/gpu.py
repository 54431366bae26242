"""What this project measures on a CUDA GPU, in one go: the trainer against a plain loop, no host sync in a step,
the presets' time to their results on the GPU and the CPU, and (once it exists) the stacked-class ratio.

    python benchmarks/gpu.py [--rounds 8] [--presets NAME ...] [--device cuda|cpu]

Needs only the repository and the engine's requirements: torch (a CUDA build), numpy and pydantic; scikit-learn
for the presets on its bundled datasets (digits, iris), which are skipped with a line without it. Without a CUDA
GPU it says so and exits 0 (`--device cpu` runs the same measurements on the CPU, to try the script anywhere).

1. Bench ratios (`playground/bench.py`): trainer steps/s ÷ a plain PyTorch loop, per case, user-style optimizer
   and the trainer's own; target ≥ 0.95 on CUDA.
2. No host synchronisation in a training step: steady-state steps (inside an epoch, after its first) of every
   bench case under `torch.cuda.set_sync_debug_mode("error")`, which raises on any call that waits for the GPU.
3. Presets: seconds of `Trainer(spec).fit()` for each preset's default epochs (data included) on the CPU (one
   thread) and on the GPU, the ratio, and the result each reaches (benchmarks/presets.py's measurement).
4. The stacked-class ratio (`python -m playground bench --class 30`, issue 11 part 2), once the engine offers it;
   until then a line says it is skipped.

Exit status: 0 when every target is met (or there is no GPU), 1 when one is missed.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]
TARGET_RATIO = 0.95
NO_GPU = "no CUDA GPU here (torch.cuda.is_available() is False): nothing measured; run this on a machine with one"


def bench_ratios(device: str, rounds: int) -> tuple[list[tuple[str, float]], list[str]]:
    """(name, ratio) for every bench case, both ways; the cases skipped, with why."""
    from playground.bench import CASES, compare
    out, skipped = [], []
    for name in CASES:
        for same in (False, True):
            try:
                r = compare(name, device, rounds, same)
            except ModuleNotFoundError as e:  # scikit-learn's datasets (digits) where it is not installed
                skipped.append(f"{name}: needs {e.name}")
                break
            label = f"{name}{'-same-optimizer' if same else ''}"
            out.append((label, r))
            print(f"  {label:32s} ratio {r:.3f}", flush=True)
    return out, skipped


def sync_free(device: str, steps: int = 20) -> dict[str, str]:
    """For each bench case: '' when its steady-state steps never wait for the GPU, else what waited."""
    import torch

    from playground import presets
    from playground.bench import CASES
    from playground.train import Trainer
    found = {}
    for name in CASES:
        try:
            tr = Trainer(presets.get(name), device=device)
        except ModuleNotFoundError as e:
            found[name] = f"skipped: needs {e.name}"
            continue
        tr.run_epoch()  # warm: kernels chosen, allocator filled, the epoch closed (its one sync)
        tr.train_step()  # an epoch's first step draws its order on the host: not steady state
        n = max(0, min(steps, tr.steps_per_epoch - 2))
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("error")
        try:
            for _ in range(n):
                tr.train_step()
            found[name] = "" if n else "skipped: an epoch of fewer than 3 steps"
        except RuntimeError as e:
            found[name] = str(e).splitlines()[0][:200]
        finally:
            torch.cuda.set_sync_debug_mode(0)
        torch.cuda.synchronize()
    return found


def preset_times(names: list[str], devices: list[str]) -> list[dict]:
    """Each preset's default run on each device: seconds (data included) and its result."""
    sys.path.append(str(ROOT / "benchmarks"))
    from presets import run

    from playground import presets
    from playground.train import Trainer
    for device in devices:  # one-off costs (torch.optim's first import, the CUDA context) outside the table
        next(Trainer(presets.get("gauss-mlp"), device=device).fit(1))
    rows = []
    for name in names:
        row = {"preset": name}
        for device in devices:
            try:
                epochs, times, _, data_s, result = run(name, 1, device)
            except ModuleNotFoundError as e:
                row["skipped"] = f"needs {e.name}"
                break
            row.update(epochs=epochs, **{f"{device}_s": times[0], f"{device}_result": result})
        if "skipped" not in row and len(devices) == 2:
            row["ratio"] = row[f"{devices[0]}_s"] / row[f"{devices[1]}_s"]
        rows.append(row)
        print("  " + ", ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()),
              flush=True)
    return rows


def stacked_class(device: str) -> str | None:
    """The stacked-class benchmark's output, or None while `python -m playground bench` has no --class."""
    help_text = subprocess.run([sys.executable, "-m", "playground", "bench", "--help"], capture_output=True,
                               text=True, cwd=ROOT).stdout
    if "--class" not in help_text:
        return None
    r = subprocess.run([sys.executable, "-m", "playground", "bench", "--class", "30", "--device", device],
                       capture_output=True, text=True, cwd=ROOT)
    return r.stdout + r.stderr


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=8, help="alternating rounds per bench case (default 8)")
    ap.add_argument("--presets", nargs="*", default=None, help="presets to time (default: all)")
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"],
                    help="cuda (default); cpu runs the same measurements on the CPU, to try this script anywhere")
    args = ap.parse_args(argv)
    import torch
    if args.device == "cuda" and not torch.cuda.is_available():
        print(NO_GPU, flush=True)
        return 0
    torch.set_num_threads(1)  # the CPU figures are per core, as the app's workers train
    from playground import presets
    from playground.train import device_name, resolve_device
    t0 = time.perf_counter()
    dev = resolve_device(args.device)
    print(f"torch {torch.__version__}, device {device_name(dev)}, scikit-learn "
          f"{'present' if importlib.util.find_spec('sklearn') else 'missing (its datasets are skipped)'}", flush=True)
    ok = True

    print(f"1. trainer ÷ plain loop, {args.rounds} rounds (target >= {TARGET_RATIO} on CUDA)", flush=True)
    ratios, skipped = bench_ratios(args.device, args.rounds)
    for line in skipped:
        print(f"  skipped {line}")
    if ratios:
        low = min(r for _, r in ratios)
        met = low >= TARGET_RATIO or args.device != "cuda"
        ok = ok and met
        verdict = ("ok" if met else "MISSED") if args.device == "cuda" else "(the target is for CUDA)"
        print(f"  min_ratio={low:.3f}   {verdict}", flush=True)

    print("2. host synchronisation in steady-state training steps (torch.cuda.set_sync_debug_mode('error'))")
    if args.device == "cuda":
        for name, what in sync_free(args.device).items():
            fine = what == "" or what.startswith("skipped")
            ok = ok and fine
            print(f"  {name:20s} {'none' if what == '' else what}   {'ok' if fine else 'MISSED'}", flush=True)
    else:
        print("  skipped: CUDA only")

    names = args.presets or presets.names()
    devices = ["cpu", "cuda"] if args.device == "cuda" else ["cpu"]
    print(f"3. presets, default epochs, seconds on {' and '.join(devices)} (data included), ratio cpu ÷ cuda",
          flush=True)
    preset_times(names, devices)

    print("4. stacked class: 30 jobs of one preset as one batched model ÷ one job alone", flush=True)
    out = stacked_class(args.device)
    print("  skipped: this playground has no batched-class training yet (`python -m playground bench --class`, "
          "issue 11 part 2)" if out is None else out, flush=True)
    print(f"done in {time.perf_counter() - t0:.0f} s: {'every target met' if ok else 'a target was MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
