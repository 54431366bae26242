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
    from .train import Trainer, TrainingError
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
    trainer = Trainer(spec, data=load(spec.data))
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


def cmd_export(args) -> int:
    from .export import export
    path = export(args.source, args.format, args.o)
    print(f"wrote {path}", file=sys.stderr)
    return EXIT_OK


def cmd_bench(args) -> int:
    from .bench import run
    run(device=args.device, rounds=args.rounds)
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
    _no_limits(s)
    s.set_defaults(fn=cmd_train)
    s = sub.add_parser("export", help="write the model as a standalone Python script or an ONNX file")
    s.add_argument("source", help="spec JSON path, '-', a preset name, or a run directory (with weights)")
    s.add_argument("--format", choices=["python", "onnx"], required=True)
    s.add_argument("-o", required=True, metavar="FILE", help="output file")
    _no_limits(s)
    s.set_defaults(fn=cmd_export)
    sub.add_parser("lessons", help="list lessons in course order: name<TAB>claim").set_defaults(fn=cmd_lessons)
    s = sub.add_parser("lesson", help="run a lesson's experiment; print one JSON object with claim, measured, holds")
    s.add_argument("name", help="lesson name (see `lessons`)")
    s.add_argument("--seed", type=int, default=0, help="seed of the runs and of the data (default 0)")
    s.set_defaults(fn=cmd_lesson)
    s = sub.add_parser("bench", help="trainer vs. a plain PyTorch loop: `NAME ratio=R` lines, then min_ratio")
    s.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda", "mps"])
    s.add_argument("--rounds", type=int, default=8, help="alternating rounds per benchmark")
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
