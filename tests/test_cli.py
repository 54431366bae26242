"""The command line of CONTRACT.md: every command, its output format and its exit codes."""

import json
import subprocess
import sys

import pytest

from playground import presets
from playground.cli import main
from playground.spec import MAX_DEPTH

SPIRAL = {"version": 1, "name": "tiny", "data": {"name": "spiral", "n_samples": 100, "noise": 0.1},
          "model": {"layers": [{"type": "Linear", "out_features": 8}, {"type": "Tanh"},
                               {"type": "Linear", "out_features": 2}]},
          "train": {"loss": "cross_entropy", "optimizer": {"type": "Adam", "lr": 0.03}, "batch_size": 16,
                    "epochs": 3, "seed": 0, "device": "cpu"}}


def run(capsys, *argv, stdin: str | None = None, monkeypatch=None):
    if stdin is not None:
        import io
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path, spec, name="spec.json"):
    p = tmp_path / name
    p.write_text(json.dumps(spec))
    return str(p)


def test_presets_lists_name_tab_title(capsys):
    code, out, _ = run(capsys, "presets")
    lines = out.strip().splitlines()
    assert code == 0
    assert [line.split("\t")[0] for line in lines] == presets.names()
    assert all(len(line.split("\t")) == 2 and line.split("\t")[1] for line in lines)
    for name in ("spiral-mlp", "digits-cnn", "sine-lstm", "sentiment-gru", "sentiment-transformer",
                 "digits-autoencoder", "shapes-cnn", "plane-regression"):
        assert name in out


def test_datasets_lists_name_task_description(capsys):
    code, out, _ = run(capsys, "datasets")
    rows = [line.split("\t") for line in out.strip().splitlines()]
    assert code == 0 and all(len(r) == 3 for r in rows)
    names = {r[0] for r in rows}
    assert {"circle", "xor", "gauss", "spiral", "moons", "plane", "multigauss", "digits", "iris", "wine",
            "breast_cancer", "shapes", "sine", "sentiment"} <= names


def test_show_prints_the_preset_json_and_refuses_unknown(capsys):
    code, out, _ = run(capsys, "show", "spiral-mlp")
    assert code == 0 and json.loads(out)["data"]["name"] == "spiral"
    code, _, err = run(capsys, "show", "spiral-mpl")
    assert code == 2 and "spiral-mlp" in err  # suggests the close name


def test_validate_prints_table_with_total(capsys, tmp_path):
    code, out, _ = run(capsys, "validate", write(tmp_path, SPIRAL))
    assert code == 0
    assert "Linear" in out and "(N, 8)" in out and "(N, 2)" in out
    assert "total parameters: 42" in out  # 2*8+8 + 8*2+2


@pytest.mark.parametrize("layers, needle", [
    ([{"type": "Conv2d", "out_channels": 4}, {"type": "Linear", "out_features": 10}],
     "layer 2 (Linear): got input of shape (N, 4, 6, 6); add Flatten before it"),
    ([{"type": "Flatten"}, {"type": "Linear", "out_features": 7}], "layer 2 (Linear)"),
    ([{"type": "Linaer", "out_features": 10}], "did you mean 'Linear'"),
    ([{"type": "Flatten"}, {"type": "Linear", "out_feature": 10}], "layer 2 (Linear): unknown option 'out_feature'"),
])
def test_validate_invalid_exits_2_with_one_message(capsys, tmp_path, layers, needle):
    spec = {"data": {"name": "digits"}, "model": {"layers": layers}}
    code, out, err = run(capsys, "validate", write(tmp_path, spec))
    assert code == 2 and out == ""
    assert needle in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_validate_names_json_field_path(capsys, tmp_path):
    spec = dict(SPIRAL, train=dict(SPIRAL["train"], optimizer={"type": "Adam", "lr": -1}))
    code, _, err = run(capsys, "validate", write(tmp_path, spec))
    assert code == 2 and "train.optimizer.lr" in err


def test_validate_reads_stdin(capsys, monkeypatch):
    code, out, _ = run(capsys, "validate", "-", stdin=json.dumps(SPIRAL), monkeypatch=monkeypatch)
    assert code == 0 and "total parameters" in out
    code, _, err = run(capsys, "validate", "-", stdin="{not json", monkeypatch=monkeypatch)
    assert code == 2 and "line 1" in err


def test_train_prints_jsonl_and_writes_run_dir(capsys, tmp_path):
    out_dir = tmp_path / "run"
    code, out, _ = run(capsys, "train", write(tmp_path, SPIRAL), "--epochs", "2", "--out", str(out_dir))
    lines = [json.loads(line) for line in out.strip().splitlines()]
    assert code == 0 and [m["epoch"] for m in lines] == [1, 2]
    for key in ("epoch", "train_loss", "val_loss", "seconds", "val_accuracy"):
        assert key in lines[0]
    assert {p.name for p in out_dir.iterdir()} == {"spec.json", "model.safetensors", "metrics.jsonl"}
    assert len((out_dir / "metrics.jsonl").read_text().splitlines()) == 2


def test_train_same_seed_same_losses(capsys, tmp_path):
    path = write(tmp_path, SPIRAL)
    first = [json.loads(x) for x in run(capsys, "train", path, "--seed", "3")[1].splitlines()]
    second = [json.loads(x) for x in run(capsys, "train", path, "--seed", "3")[1].splitlines()]
    assert [m["train_loss"] for m in first] == [m["train_loss"] for m in second]
    assert [m["val_loss"] for m in first] == [m["val_loss"] for m in second]


def test_train_overrides_are_kept_even_when_zero(capsys, tmp_path):
    path = write(tmp_path, dict(SPIRAL, train=dict(SPIRAL["train"], seed=3)))
    code, out, _ = run(capsys, "train", path, "--seed", "0", "--epochs", "2", "--out", str(tmp_path / "run"))
    assert code == 0
    assert json.loads((tmp_path / "run" / "spec.json").read_text())["train"]["seed"] == 0  # not the file's 3
    seed0 = [json.loads(x)["train_loss"] for x in run(capsys, "train", write(tmp_path, SPIRAL, "zero.json"),
                                                      "--epochs", "2")[1].splitlines()]
    assert [json.loads(x)["train_loss"] for x in out.splitlines()] == seed0
    code, _, err = run(capsys, "train", path, "--epochs", "0")
    assert code == 2 and "train.epochs" in err  # refused, not silently the file's 3


def test_train_nan_exits_1_with_epoch_and_hint(capsys, tmp_path):
    spec = dict(SPIRAL, model={"layers": [{"type": "Linear", "out_features": 64}, {"type": "ReLU"},
                                          {"type": "Linear", "out_features": 2}]},
                train=dict(SPIRAL["train"], optimizer={"type": "SGD", "lr": 10.0, "momentum": 0.99}, epochs=30))
    code, _, err = run(capsys, "train", write(tmp_path, spec))
    assert code == 1 and "epoch" in err and "learning rate" in err


def test_train_invalid_exits_2(capsys, tmp_path):
    code, _, err = run(capsys, "train", str(tmp_path / "missing.json"))
    assert code == 2 and "no such file" in err
    code, _, err = run(capsys, "train", write(tmp_path, dict(SPIRAL, data={"name": "spirals"})))
    assert code == 2 and "did you mean 'spiral'" in err


def test_train_accepts_a_preset_name(capsys):
    code, out, _ = run(capsys, "train", "gauss-mlp", "--epochs", "1", "--device", "cpu")
    assert code == 0 and json.loads(out)["epoch"] == 1


def test_train_missing_cuda_is_a_clear_error(capsys, tmp_path):
    import torch
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    code, _, err = run(capsys, "train", write(tmp_path, SPIRAL), "--device", "cuda")
    assert code == 2 and "cuda" in err


def test_export_python_writes_a_script(capsys, tmp_path):
    out = tmp_path / "model.py"
    code, _, _ = run(capsys, "export", write(tmp_path, SPIRAL), "--format", "python", "-o", str(out))
    assert code == 0 and "nn.Module" in out.read_text()


def test_export_bad_input_exits_2(capsys, tmp_path):
    code, _, err = run(capsys, "export", str(tmp_path / "nope"), "--format", "python", "-o", str(tmp_path / "x.py"))
    assert code == 2 and err


def test_every_command_has_help():
    for cmd in ("presets", "datasets", "show", "validate", "train", "export", "bench"):
        r = subprocess.run([sys.executable, "-m", "playground", cmd, "--help"], capture_output=True, text=True)
        assert r.returncode == 0 and "usage" in r.stdout


def test_module_entry_point_exit_codes(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"data": {"name": "digits"}, "model": {"layers": [{"type": "Conv2d"},
                                                                                {"type": "Linear"}]}}))
    r = subprocess.run([sys.executable, "-m", "playground", "validate", str(bad)], capture_output=True, text=True)
    assert r.returncode == 2 and "layer 2 (Linear)" in r.stderr and "Traceback" not in r.stderr


def test_bench_prints_ratio_lines(capsys, monkeypatch):
    import playground.bench as bench
    monkeypatch.setattr(bench, "CASES", ("gauss-mlp",))
    code, out, _ = run(capsys, "bench", "--rounds", "1")
    lines = out.strip().splitlines()
    assert code == 0 and lines[-1].startswith("min_ratio=")
    assert all(" ratio=" in line for line in lines[:-1]) and len(lines) == 3


def test_bench_class_trains_the_class_stacked_and_prints_its_ratio(capsys):
    code, out, _ = run(capsys, "bench", "--class", "3", "--rounds", "1", "--preset", "xor-mlp")
    lines = out.strip().splitlines()
    assert code == 0 and lines[-1].startswith("class_ratio=") and float(lines[-1].split("=")[1]) > 0
    assert "3 jobs stacked (stacks of 3)" in out and "one job alone" in out and "one by one, unstacked" in out
    code, _, err = run(capsys, "bench", "--class", "0")
    assert code == 2 and "--class 0: use 1 to 256 jobs" in err


# ---- bad input from a file: one message, exit 2, never a traceback (issue 8) ------------------------

def test_validate_a_spec_nested_100000_deep_exits_2_with_one_message(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text('{"data": {"name": "xor"}, "name": ' + "[" * 100_000 + "]" * 100_000 + "}")
    r = subprocess.run([sys.executable, "-m", "playground", "validate", str(deep)], capture_output=True, text=True)
    assert r.returncode == 2 and f"more than {MAX_DEPTH} levels deep" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("change, needle", [
    (lambda d: d.update(name="x\ud800"), "name: holds invalid Unicode"),
    (lambda d: d.update(name="A" * 999_000), "name: 999,000 characters long"),
    (lambda d: d["data"].update(noise=float("nan")), "data.noise: must be a finite number"),
])
def test_invalid_strings_and_numbers_exit_2(capsys, tmp_path, change, needle):
    spec = json.loads(json.dumps(SPIRAL))
    change(spec)
    p = tmp_path / "spec.json"
    p.write_text(json.dumps(spec))  # the surrogate is written as the escape \ud800, as JSON allows
    code, out, err = run(capsys, "validate", str(p))
    assert code == 2 and out == "" and needle in err and len(err.strip().splitlines()) == 1


def test_a_spec_file_that_is_a_device_or_too_large_is_refused(capsys, tmp_path):
    code, _, err = run(capsys, "validate", "/dev/zero")
    assert code == 2 and "not a regular file" in err
    big = tmp_path / "big.json"
    big.write_bytes(b" " * 4_000_001)
    code, _, err = run(capsys, "validate", str(big))
    assert code == 2 and "the limit is 4.0 MB" in err


CSV = "height,weight,kind\n" + "".join(f"{i},{(i * 7) % 5},{'cat' if i % 3 else 'dog'}\n" for i in range(40))


def test_the_command_line_reads_a_csv_path_the_user_gives(capsys, tmp_path):
    data = tmp_path / "pets.csv"
    data.write_text(CSV)
    spec = {"data": {"name": "csv", "file": str(data), "target": "kind"},
            "model": {"layers": [{"type": "Linear", "out_features": 2}]},
            "train": {"epochs": 2, "batch_size": 8, "device": "cpu"}}
    code, out, _ = run(capsys, "train", write(tmp_path, spec))
    assert code == 0 and [json.loads(line)["epoch"] for line in out.strip().splitlines()] == [1, 2]
    spec["data"]["file"] = "/dev/zero"
    code, _, err = run(capsys, "validate", write(tmp_path, spec))
    assert code == 2 and "data.file: '/dev/zero' is not a regular file" in err
    spec["data"] = {"name": "csv", "upload": "A" * 32}
    code, _, err = run(capsys, "validate", write(tmp_path, spec))
    assert code == 2 and "works only in the app" in err


def test_memory_caps_apply_by_default_and_no_limits_lifts_them(capsys, tmp_path):
    spec = {"data": {"name": "shapes", "n_samples": 200, "size": 64},
            "model": {"layers": [{"type": "Upsample", "scale_factor": 16}, {"type": "AdaptiveAvgPool2d",
                                                                          "output_size": 1},
                                 {"type": "Flatten"}, {"type": "Linear", "out_features": 3}]},
            "train": {"epochs": 1, "batch_size": 64, "device": "cpu"}}
    path = write(tmp_path, spec)
    code, out, err = run(capsys, "validate", path)
    assert code == 2 and out == "" and err.startswith("error: layer 1 (Upsample): output 1×1024×1024 per sample, "
                                                      "× 64 batch")
    code, out, _ = run(capsys, "validate", path, "--no-limits")
    assert code == 0 and "estimated memory: about" in out and "limit" not in out
    code, out, err = run(capsys, "validate", write(tmp_path, dict(SPIRAL)))
    assert code == 0 and "the limit is 512 MB (--no-limits lifts it)" in out
    big = dict(spec, model={"layers": [{"type": "Flatten"}, {"type": "Linear", "out_features": 3}]},
               data={"name": "shapes", "n_samples": 20000, "size": 64})
    code, _, err = run(capsys, "validate", write(tmp_path, big))
    assert code == 2 and "this server allows 64 MB a dataset" in err
    code, out, _ = run(capsys, "validate", write(tmp_path, big), "--no-limits")
    assert code == 0  # only the sketch is built to validate: no 625 MB
