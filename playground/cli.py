"""`python -m playground …`: the command line of CONTRACT.md. Exit 0 ok, 2 bad input, 1 training failed."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from . import memory, presets, uploads
from .registry import PlaygroundError
from .spec import MAX_TEXT, Spec, SpecError, from_json

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2


def read_spec(source: str, allow_preset: bool = True) -> Spec:
    """A spec from a JSON file path, '-' (stdin), a run directory, or (where allowed) a preset name."""
    if source == "-":
        text = sys.stdin.read(MAX_TEXT + 1)  # a bounded read: the limit is checked by from_json
        return from_json(text)
    p = Path(source)
    if p.is_dir() and (p / "spec.json").is_file():
        p = p / "spec.json"
    if p.exists():
        raw = uploads.read_file(p, MAX_TEXT * 4, "spec file", error=SpecError)
        try:
            return from_json(raw.decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise SpecError(f"{p} is not a text file") from None
    if allow_preset and source in presets.names():
        return presets.get(source)
    hint = " or a preset name (python -m playground presets)" if allow_preset else ""
    raise SpecError(f"no such file: {source}; give a JSON spec path, '-' for stdin{hint}")


def cmd_presets(args) -> int:
    for name, title in presets.listing():
        print(f"{name}\t{title}")
    return EXIT_OK


def cmd_datasets(args) -> int:
    from .data import DATASETS, describe
    for name, d in DATASETS.items():
        print(f"{name}\t{d.task}\t{describe(name)}")
    return EXIT_OK


def cmd_show(args) -> int:
    print(presets.get(args.preset).to_json())
    return EXIT_OK


def checked(spec: Spec):
    """Validate `spec` and estimate its memory under the caps in effect; (summary, estimate) or an error."""
    from .data import check_size
    from .train import validate
    sketch = check_size(spec.data)
    summary = validate(spec, sketch.info)
    return summary, memory.check(spec, sketch)


def cmd_validate(args) -> int:
    spec = read_spec(args.spec)
    summary, est = checked(spec)
    print(summary.table())
    cap = memory.caps().job_bytes
    print(f"estimated memory: about {memory.fmt(est.total)} (batch of {est.batch})"
          + (f"; the limit is {memory.fmt(cap)} (--no-limits lifts it)" if cap else ""))
    return EXIT_OK


def cmd_train(args) -> int:
    from . import runs
    from .data import load
    from .train import TrainingError
    from .trainers import make_trainer
    spec = read_spec(args.spec)
    # `is not None`: --seed 0 (or --epochs 0, refused by the spec's check) is a value, not "no override"
    overrides = {k: v for k, v in (("epochs", args.epochs), ("seed", args.seed), ("device", args.device))
                 if v is not None}
    if overrides:
        d = spec.to_dict()
        d["train"].update(overrides)
        from .spec import from_dict
        spec = from_dict(d)
    checked(spec)
    if args.backend == "ray":
        return _train_on_ray(spec, args)
    trainer = make_trainer(spec, data=load(spec.data))  # the task's trainer (a GAN has its own)
    bar = _Progress(spec.train.epochs) if sys.stderr.isatty() else None
    metrics: list[dict] = []
    try:
        for m in trainer.fit():
            metrics.append(m)
            print(json.dumps(m), flush=True)
            if bar:
                bar.update(m)
    except TrainingError as e:
        if bar:
            bar.close()
        print(f"training failed: {e.message}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if args.out:
            runs.save(args.out, spec, trainer.model.state_dict(), metrics)
    if bar:
        bar.close()
    return EXIT_OK


def _train_on_ray(spec: Spec, args) -> int:
    """`train --backend ray`: the same run as a job on a Ray cluster (the app's job path, backends/ray_cluster.py);
    the same JSON lines, printed as each epoch's metrics come back. A CSV path is read here and travels as bytes."""
    from . import backends, runs
    from .jobs import JobPool, Limits
    from .memory import MB
    cfg = backends.settings()
    d = spec.to_dict()
    store = uploads.Store()
    if d["data"].get("file") is not None:  # the cluster cannot read this machine's files: send the bytes
        raw, name = uploads.current().file(d["data"]["file"])
        d["data"] = {k: v for k, v in d["data"].items() if k != "file"} | {"upload": store.put(raw, "cli", name)}
    caps = memory.caps()
    limits = Limits(max_params=1 << 62, max_epochs=spec.train.epochs, max_seconds=float("inf"), jobs_per_owner=1,
                    max_memory_mb=caps.job_bytes / MB if caps.job_bytes else float("inf"),
                    max_data_mb=caps.data_bytes / MB if caps.data_bytes else float("inf"))
    from .backends.ray_cluster import RayBackend
    backend = RayBackend(args.address or cfg.address, gpus=cfg.gpus, spare=0)
    pool = JobPool(limits=limits, store=store, backend=backend, nice=0)
    bar = _Progress(spec.train.epochs) if sys.stderr.isatty() else None
    try:
        if not backend.connected():
            print(f"error: {backend.lost}", file=sys.stderr)
            return EXIT_FAILED
        job = pool.submit(d, owner="cli", final_weights=bool(args.out))
        cursor = 0
        while True:
            job.wait_for(lambda seen=cursor: len(job.metrics) > seen or job.finished, 1.0)
            finished = job.finished  # read before the metrics: none can come after the end
            metrics, cursor = job.events_since(cursor)
            for m in metrics:
                print(json.dumps(m), flush=True)
                if bar:
                    bar.update(m)
            if finished:
                break
        if bar:
            bar.close()
        if args.out:
            runs.save(args.out, spec, job.snapshot(timeout=0) if job.state == "done" else None, job.metrics)
        if job.state != "done":
            print(f"training failed: {job.message}", file=sys.stderr)
            return EXIT_FAILED
        return EXIT_OK
    finally:
        pool.shutdown()
        store.forget("cli")  # its temporary copy of a CSV


def cmd_export(args) -> int:
    from .export import export
    if args.format == "notebook":  # the Python script as a Jupyter notebook (playground/notebook.py)
        from .notebook import export_notebook
        path = export_notebook(read_spec(args.source), args.o)
    else:
        path = export(args.source, args.format, args.o)
    print(f"wrote {path}", file=sys.stderr)
    return EXIT_OK


def cmd_bench(args) -> int:
    if args.klass is not None:
        if not 1 <= args.klass <= 256:
            raise PlaygroundError(f"--class {args.klass}: use 1 to 256 jobs")
        from .bench import run_class
        presets.get(args.preset)  # an unknown name is refused with a suggestion
        run_class(args.klass, args.preset, args.device, args.rounds if args.rounds is not None else 4)
        return EXIT_OK
    from .bench import run
    run(device=args.device, rounds=args.rounds if args.rounds is not None else 8)
    return EXIT_OK


def cmd_lessons(args) -> int:
    from . import lessons
    for lesson in lessons.course():
        print(f"{lesson.name}\t{lesson.claim}")
    return EXIT_OK


def cmd_lesson(args) -> int:
    from . import lessons
    lesson = lessons.get(args.name)
    result = lessons.run_here(lesson, args.seed)
    print(json.dumps(result))
    return EXIT_OK if result["holds"] else EXIT_FAILED


class _Progress:
    """A one-line progress bar on stderr (only when stderr is a terminal: stdout stays pure JSONL)."""

    def __init__(self, total: int) -> None:
        self.total, self.t0 = total, time.perf_counter()

    def update(self, m: dict) -> None:
        done = m["epoch"] / self.total
        eta = (time.perf_counter() - self.t0) * (1 - done) / max(done, 1e-9)
        bar = "█" * int(30 * done) + "·" * (30 - int(30 * done))
        acc = f" val_acc {m['val_accuracy']:.3f}" if "val_accuracy" in m else ""
        sys.stderr.write(f"\r{bar} epoch {m['epoch']}/{self.total} loss {m['train_loss']:.4f}{acc} ETA {eta:4.0f}s")
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")


def parser() -> argparse.ArgumentParser:
    """The argument parser, with a --help for every command."""
    p = argparse.ArgumentParser(prog="python -m playground", description="Build, train and export neural networks "
                                "described as JSON specs. SPEC is a JSON file path or '-' for stdin.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("presets", help="list presets: name<TAB>title").set_defaults(fn=cmd_presets)
    sub.add_parser("datasets", help="list datasets: name<TAB>task<TAB>description").set_defaults(fn=cmd_datasets)
    s = sub.add_parser("show", help="print a preset's spec as JSON")
    s.add_argument("preset", help="preset name (see `presets`)")
    s.set_defaults(fn=cmd_show)
    s = sub.add_parser("validate", help="check a spec; print layers, output shapes, parameters and memory")
    s.add_argument("spec", help="spec JSON path, '-' for stdin, or a preset name")
    _no_limits(s)
    s.set_defaults(fn=cmd_validate)
    s = sub.add_parser("train", help="train; print one JSON line of metrics per epoch")
    s.add_argument("spec", help="spec JSON path, '-' for stdin, or a preset name")
    s.add_argument("--epochs", type=int, help="override train.epochs")
    s.add_argument("--seed", type=int, help="override train.seed")
    s.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], help="override train.device")
    s.add_argument("--out", help="write spec.json, model.safetensors and metrics.jsonl to this directory")
    s.add_argument("--backend", choices=["local", "ray"], default="local",
                   help="local: train in this process (default); ray: train as a job on a Ray cluster (pip install "
                        "'playground[ray]'), the same path as the app's PLAYGROUND_BACKEND=ray")
    s.add_argument("--address", help="with --backend ray: the cluster (ray://host:10001, or auto on a cluster node); "
                                     "default RAY_ADDRESS, else a cluster started for this run")
    _no_limits(s)
    s.set_defaults(fn=cmd_train)
    s = sub.add_parser("export", help="write the model as a standalone Python script, a Jupyter notebook or an "
                                      "ONNX file")
    s.add_argument("source", help="spec JSON path, '-', a preset name, or a run directory (with weights)")
    s.add_argument("--format", choices=["python", "notebook", "onnx"], required=True)
    s.add_argument("-o", required=True, metavar="FILE", help="output file")
    _no_limits(s)
    s.set_defaults(fn=cmd_export)
    sub.add_parser("lessons", help="list lessons in course order: name<TAB>claim").set_defaults(fn=cmd_lessons)
    s = sub.add_parser("lesson", help="run a lesson's experiment; print one JSON object with claim, measured, holds")
    s.add_argument("name", help="lesson name (see `lessons`)")
    s.add_argument("--seed", type=int, default=0, help="seed of the runs and of the data (default 0)")
    s.set_defaults(fn=cmd_lesson)
    s = sub.add_parser("bench", help="trainer vs. a plain PyTorch loop: `NAME ratio=R` lines, then min_ratio; with "
                                    "--class N: N jobs of one preset trained stacked in one worker ÷ one job alone")
    s.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda", "mps"])
    s.add_argument("--rounds", type=int, help="alternating rounds per benchmark (default 8; 4 with --class)")
    s.add_argument("--class", dest="klass", type=int, metavar="N",
                   help="a class of N jobs of --preset (learning rates spread over 16x, seeds 0..N-1): total "
                        "job-steps/s stacked, and one by one, ÷ one job alone; prints class_ratio=R last")
    s.add_argument("--preset", default="spiral-mlp", help="with --class: the preset (default spiral-mlp)")
    s.set_defaults(fn=cmd_bench)
    return p


def _no_limits(s: argparse.ArgumentParser) -> None:
    s.add_argument("--no-limits", action="store_true",
                   help="lift the memory caps the app applies (a run's estimated memory, a dataset's size; "
                        "PLAYGROUND_MAX_MEMORY_MB, PLAYGROUND_MAX_DATA_MB) on your own machine")


def main(argv: list[str] | None = None) -> int:
    """Run one command; never shows a traceback for bad input.

    The command line runs on the user's own machine: a spec's data.file names a CSV there, read with the
    checks of uploads.read_file, and the app's memory caps apply unless --no-limits lifts them."""
    args = parser().parse_args(argv)
    if "OMP_NUM_THREADS" not in os.environ:
        import torch
        # These models are small: a second thread costs more in synchronisation than it gains,
        # and on a busy host many times more (measured 5-15x slower on this project's 2-core machines).
        torch.set_num_threads(1)
    caps = memory.NO_CAPS if getattr(args, "no_limits", False) else memory.caps()
    try:
        with uploads.using(uploads.LocalFiles()), memory.using(caps):
            return args.fn(args)
    except PlaygroundError as e:
        print(f"error: {e.message}", file=sys.stderr)
        return EXIT_INVALID
    except BrokenPipeError:
        return EXIT_OK
