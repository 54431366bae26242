"""Export: the generated script's model and the ONNX file must compute what the engine's model computes."""

from __future__ import annotations

import io
import math
import subprocess
import sys
import textwrap
import types

import numpy as np
import onnxruntime as ort
import pytest
import torch
from torch import nn

from playground import data, presets, runs, tasks
from playground.build import build
from playground.data import info as data_info
from playground.data import load_cached
from playground.export import export, render, to_onnx, to_python
from playground.layers import LAYERS
from playground.modules import Network
from playground.registry import PlaygroundError
from playground.spec import Spec, from_dict
from playground.train import Trainer
from playground.uploads import LocalFiles, using

L = lambda type, **kw: {"type": type, **kw}  # noqa: E731 - one layer of a spec, briefly

SPECS = {
    "mlp": {"data": {"name": "spiral", "n_samples": 200, "features": ["x1", "x2", "x1*x2"]},
            "model": {"layers": [L("Linear", out_features=16), L("BatchNorm1d", momentum=0.2), L("ReLU"),
                                 L("LeakyReLU", negative_slope=0.1), L("ELU"), L("GELU"), L("SiLU"),
                                 L("Dropout", p=0.3), L("Linear", out_features=8, bias=False), L("LayerNorm"),
                                 L("Sigmoid"), L("Tanh"), L("Softplus"), L("Softmax"), L("Identity"),
                                 L("Linear", out_features=2)]}},
    "cnn": {"data": {"name": "digits", "n_samples": 100},
            "model": {"layers": [L("Conv2d", out_channels=4, padding=1), L("BatchNorm2d"), L("ReLU"),
                                 L("MaxPool2d", kernel_size=2), L("Conv2d", out_channels=6, kernel_size=[3, 2],
                                                                  bias=False),
                                 L("AvgPool2d", kernel_size=2, stride=1), L("Flatten"), L("Dropout"),
                                 L("Linear", out_features=10)]}},
    "rnn": {"data": {"name": "sine", "n_samples": 100, "seq_len": 12},
            "model": {"layers": [L("LSTM", hidden_size=6, num_layers=2, bidirectional=True, dropout=0.2,
                                   return_sequences=True),
                                 L("GRU", hidden_size=5, return_sequences=True), L("RNN", hidden_size=4),
                                 L("Linear", out_features=1)]},
            "train": {"loss": "mse", "optimizer": {"type": "RMSprop", "lr": 0.005}}},
    "transformer": {"data": {"name": "sentiment", "n_samples": 100, "seq_len": 12},
                    "model": {"layers": [L("Embedding", embedding_dim=8), L("PositionalEncoding"),
                                         L("TransformerEncoderLayer", nhead=2, dim_feedforward=16,
                                           activation="gelu", norm_first=True),
                                         L("MultiheadAttention", num_heads=4, bias=False), L("LayerNorm"),
                                         L("Flatten"), L("Linear", out_features=2)]}},
    "decoder": {"data": {"name": "shapes", "n_samples": 60, "target": "input"},
                "model": {"layers": [L("Conv2d", out_channels=4, stride=2, padding=1), L("Flatten"),
                                     L("Linear", out_features=32), L("Unflatten", dim=1, unflattened_size=[2, 4, 4]),
                                     L("ConvTranspose2d", out_channels=3, kernel_size=4, stride=2, padding=1),
                                     L("Upsample", scale_factor=2, mode="bilinear"), L("Flatten", start_dim=2),
                                     L("Conv1d", out_channels=4, kernel_size=3, padding=1),
                                     L("Unflatten", dim=2, unflattened_size=[16, 16]),
                                     L("AdaptiveAvgPool2d", output_size=16), L("AdaptiveMaxPool2d", output_size=16),
                                     L("Conv2d", out_channels=1, padding=1)]},
                "train": {"loss": "mse"}},
    "blocks": {"data": {"name": "shapes", "n_samples": 60, "size": 8},
               "model": {"layers": [
                   L("Conv2d", out_channels=4, padding=1),
                   L("Residual", layers=[L("Conv2d", out_channels=4, padding=1), L("ReLU"),
                                         L("Conv2d", out_channels=4, padding=1)]),
                   L("Residual", projection=True, layers=[L("Conv2d", out_channels=6, stride=2, padding=1)]),
                   L("Parallel", merge="concat", branches=[
                       [], [L("MaxPool2d"), L("Parallel", merge="add", branches=[
                           [L("Conv2d", out_channels=6, padding=1)], [], [L("Sigmoid")]]), L("Upsample")]]),
                   L("Select", columns=[0, 3, 5, 7]),
                   L("Parallel", merge="multiply", branches=[[L("Tanh")], [L("Sigmoid")]]),
                   L("Flatten"), L("Residual", projection=True, layers=[L("Linear", out_features=10)]),
                   L("Linear", out_features=3)]}},
}


def spec_of(name: str) -> Spec:
    return from_dict(SPECS[name])


def randomized(spec: Spec) -> tuple[Network, torch.Tensor]:
    """The engine's model in eval mode with every weight and running statistic random, and a batch of inputs."""
    torch.manual_seed(1)
    ds = load_cached(spec.data)
    model = build(spec, ds.info)
    with torch.no_grad():
        for key, v in model.state_dict().items():
            if v.is_floating_point():  # running_var must stay positive
                v.copy_(torch.rand_like(v) + 0.5 if key.endswith("running_var") else torch.randn_like(v) * 0.5)
    return model.eval(), ds.x_val[:5]


def exec_script(src: str) -> dict:
    """The script's names, imported as a module would be (not __main__: define everything, train nothing)."""
    module = types.ModuleType("exported")
    sys.modules["exported"] = module  # dataclasses look their module up while the class is made
    try:
        exec(compile(src, "model.py", "exec"), module.__dict__)
    finally:
        del sys.modules["exported"]
    return module.__dict__


def exportable(name: str) -> bool:
    """Whether export writes the preset (a GAN's two networks it refuses: tests/test_gan.py; a detector's loss,
    which torch.nn.functional lacks: tests/test_detection.py)."""
    spec = presets.get(name)
    return tasks.of(spec, data_info(spec.data)).loss_option == "train.loss" and spec.train.loss != "detection"


@pytest.mark.parametrize("name", [*SPECS, *(f"preset:{p}" for p in presets.names() if exportable(p))])
def test_python_model_matches_engine(name, tmp_path):
    spec = presets.get(name[7:]) if name.startswith("preset:") else spec_of(name)
    engine, x = randomized(spec)
    runs.save(tmp_path, spec, engine.state_dict())
    src = to_python(spec)
    assert "playground" not in "".join(line for line in src.splitlines() if "import" in line)
    ns = exec_script(src)
    model = ns["Model"]()
    ns["load_playground_weights"](model, str(tmp_path))  # the run directory, keys "0.weight" → "layer1.weight"
    with torch.no_grad():
        want, got = engine(x), model.eval()(x)
    assert got.shape == want.shape
    torch.testing.assert_close(got, want, atol=1e-5, rtol=0)
    assert len([line for line in src.splitlines() if line.startswith("        x = self.layer")]) == len(engine)


def test_python_writes_sizes_and_shapes_out():
    src = to_python(spec_of("mlp"))
    assert "self.layer1 = nn.Linear(3, 16)" in src
    assert "self.layer2 = nn.BatchNorm1d(16, momentum=0.2)" in src
    assert "self.layer9 = nn.Linear(16, 8, bias=False)" in src
    assert "x = self.layer16(x)  # (B, 2)" in src
    src = to_python(spec_of("rnn"))
    assert "Recurrent('LSTM', 1, 6, num_layers=2, bidirectional=True, dropout=0.2, return_sequences=True)" in src
    assert "x = self.layer1(x)  # (B, 12, 12)" in src
    assert "class Recurrent(nn.Module):" in src and "class SelfAttention" not in src
    assert "opt = torch.optim.RMSprop(model.parameters(), lr=0.005, weight_decay=0.0)\n" in src  # torch's defaults
    src = to_python(spec_of("transformer"))
    assert "PositionalEncoding(12, 8)" in src and "class PositionalEncoding(nn.Module):" in src
    assert "make_data = _sentiment" in src and "def _sentiment(n, noise, rng, seq_len, negation):" in src
    assert "DATA_OPTIONS = {'seq_len': 12, 'negation': 0.3}" in src and "randint" not in src  # no random tokens
    assert exec_script(src)["VOCAB"] == load_cached(spec_of("transformer").data).info.vocab


def layer_types(layers: list[dict]) -> set[str]:
    """Every type in a layer list, the layers inside blocks included."""
    out = set()
    for layer in layers:
        out.add(layer["type"])
        for inner in [layer.get("layers", []), *layer.get("branches", [])]:
            out |= layer_types(inner)
    return out


def test_specs_cover_every_layer_type():
    used = set().union(*(layer_types(s["model"]["layers"]) for s in SPECS.values()))
    assert {"Residual", "Parallel"} <= used
    assert set(LAYERS.names()) <= used  # a new layer type needs a place in SPECS, so both exports get checked


def test_script_model_starts_from_playgrounds_initial_weights():
    spec = spec_of("transformer")
    rng = torch.get_rng_state()
    src = to_python(spec)
    assert torch.equal(rng, torch.get_rng_state())  # exporting leaves the caller's random stream alone
    ns = exec_script(src)
    torch.manual_seed(3)
    model = ns["Model"]()
    torch.manual_seed(3)
    engine = build(spec, load_cached(spec.data).info)
    want = {f"layer{int(k.split('.', 1)[0]) + 1}.{k.split('.', 1)[1]}": v for k, v in engine.state_dict().items()}
    got = model.state_dict()
    assert got.keys() == want.keys()
    assert all(torch.equal(got[k], want[k]) for k in want)


@pytest.mark.parametrize("data_spec, outputs, loss", [
    ({"name": "spiral", "features": ["x1", "x2^2", "sin(x2)"], "noise": 0.3, "classes": 3, "seed": 4}, 3,
     "cross_entropy"),
    ({"name": "multigauss", "n_samples": 300, "val_fraction": 0.3}, 1, "mse"),
    ({"name": "iris"}, 3, "cross_entropy"),
])
def test_script_loads_playgrounds_own_data(data_spec, outputs, loss):
    spec = from_dict({"data": data_spec, "model": {"layers": [L("Linear", out_features=outputs)]},
                      "train": {"loss": loss}})
    ds = data.load(spec.data)
    ns = exec_script(to_python(spec, ds.info))
    x_train, y_train, x_val, y_val = ns["split"](*ns["load_data"]())
    torch.testing.assert_close(x_train, ds.x_train, atol=1e-5, rtol=0)
    torch.testing.assert_close(x_val, ds.x_val, atol=1e-5, rtol=0)
    assert torch.equal(y_train, ds.y_train) and torch.equal(y_val, ds.y_val)


def test_script_runs_standalone(tmp_path):
    spiral = from_dict({"data": {"name": "spiral", "n_samples": 200},
                        "model": {"layers": [L("Linear", out_features=8), L("Tanh"), L("Linear", out_features=1)]},
                        "train": {"loss": "bce_with_logits", "init": "kaiming", "grad_clip": 1.0, "l1": 1e-4,
                                  "scheduler": {"type": "CosineAnnealingLR"},
                                  "optimizer": {"type": "SGD", "lr": 0.1, "momentum": 0.9, "nesterov": True}}})
    text = spec_of("transformer")
    engine, _ = randomized(text)
    runs.save(tmp_path / "run", text, engine.state_dict())
    (tmp_path / "spiral.py").write_text(to_python(spiral))
    (tmp_path / "text.py").write_text(to_python(text))
    # Both scripts in one interpreter (torch imports once), with playground made unimportable.
    driver = textwrap.dedent(f"""
        import runpy, sys
        sys.modules["playground"] = None
        weights = {str(tmp_path / "run")!r}
        for argv in (["spiral.py", "--epochs", "2"], ["text.py", "--epochs", "1", "--weights", weights]):
            sys.argv = argv
            print("RUN", argv[0])
            runpy.run_path(argv[0], run_name="__main__")
    """)
    r = subprocess.run([sys.executable, "-c", driver], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    spiral_out, text_out = r.stdout.split("RUN text.py")
    assert "epoch 2: train_loss" in spiral_out and "val_accuracy" in spiral_out
    assert "epoch 1: train_loss" in text_out and "epoch 2" not in text_out


@pytest.mark.parametrize("name", list(SPECS))
def test_onnx_matches_engine(name, tmp_path):
    spec = spec_of(name)
    engine, x = randomized(spec)
    path = to_onnx(engine, load_cached(spec.data).info, tmp_path / "model.onnx")
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    assert inp.type == ("tensor(int64)" if name == "transformer" else "tensor(float)")
    assert isinstance(inp.shape[0], str)  # a named, dynamic batch dimension
    for batch in (x, x[:1]):  # neither is the batch of 2 the export traced
        got = sess.run(None, {inp.name: batch.numpy()})[0]
        with torch.no_grad():
            want = engine(batch).numpy()
        np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)


def test_export_run_directory_uses_trained_weights(tmp_path):
    spec = spec_of("cnn")
    engine, x = randomized(spec)
    runs.save(tmp_path / "run", spec, engine.state_dict())
    out = export(str(tmp_path / "run"), "onnx", str(tmp_path / "out" / "model.onnx"))
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    got = sess.run(None, {"input": x.numpy()})[0]
    with torch.no_grad():
        np.testing.assert_allclose(got, engine(x).numpy(), atol=1e-4, rtol=0)
    out = export(str(tmp_path / "run"), "python", str(tmp_path / "model.py"))
    assert "self.layer1 = nn.Conv2d(1, 4, 3, padding=1)" in out.read_text()


def test_export_sources_and_errors(tmp_path, monkeypatch):
    spec = spec_of("mlp")
    (tmp_path / "spec.json").write_text(spec.to_json())
    assert export(str(tmp_path / "spec.json"), "python", str(tmp_path / "a.py")).read_text() == to_python(spec)
    monkeypatch.setattr(sys, "stdin", io.StringIO(spec.to_json()))
    assert export("-", "python", str(tmp_path / "b.py")).read_text() == to_python(spec)
    out = export(str(tmp_path / "spec.json"), "onnx", str(tmp_path / "c.onnx"))
    assert ort.InferenceSession(str(out), providers=["CPUExecutionProvider"]).get_inputs()[0].shape[1] == 3
    with pytest.raises(PlaygroundError, match="not a spec file, a run directory or a preset"):
        export("no-such-preset", "python", str(tmp_path / "d.py"))
    with pytest.raises(PlaygroundError, match="not a spec file"):
        export(str(tmp_path / "missing.json"), "onnx", str(tmp_path / "d.onnx"))
    with pytest.raises(PlaygroundError, match="unknown export format 'pyhton'; did you mean 'python'"):
        export(str(tmp_path / "spec.json"), "pyhton", str(tmp_path / "d.py"))
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(PlaygroundError, match="not valid JSON"):
        export(str(tmp_path / "bad.json"), "python", str(tmp_path / "d.py"))


class Cummax(nn.Module):
    """A layer ONNX has no operator for."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cummax(x, 1).values


def test_unexportable_layer_is_named(tmp_path):
    info = load_cached(spec_of("mlp").data).info
    model = Network(nn.Linear(3, 4), nn.ReLU(), Cummax())
    with pytest.raises(PlaygroundError, match=r"layer 3 \(Cummax\): cannot be exported to ONNX: .*cummax"):
        to_onnx(model, info, tmp_path / "m.onnx")
    with pytest.raises(PlaygroundError, match="Cummax has no Python form"):
        render(Cummax())


EPOCHS = 2  # enough to see the same data, batches, dropout masks and updates twice


@pytest.mark.slow
def test_every_presets_script_trains_as_the_app_does(tmp_path, one_torch_thread):
    """Each preset's exported script, run on its own (playground not importable), prints the same losses as the
    engine's Trainer on the same seed: same data, same split, same batches, same updates."""
    specs = {}
    for name in [p for p in presets.names() if exportable(p)]:
        d = presets.get(name).to_dict()
        d["train"].update(epochs=EPOCHS, device="cpu")  # a schedule anneals over the spec's epochs: both see 2
        specs[name] = from_dict(d)
        (tmp_path / f"{name}.py").write_text(to_python(specs[name]))
    driver = textwrap.dedent(f"""
        import runpy, sys, torch
        sys.modules["playground"] = None
        torch.set_num_threads(1)
        for name in {list(specs)!r}:
            sys.argv = [name + ".py"]
            print("RUN", name, flush=True)
            runpy.run_path(name + ".py", run_name="__main__")
    """)
    r = subprocess.run([sys.executable, "-c", driver], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    printed = {}
    for block in r.stdout.split("RUN ")[1:]:
        name, *lines = block.strip().splitlines()
        printed[name] = [dict(zip(*[iter(line.split(": ", 1)[1].split())] * 2, strict=True)) for line in lines]
    for name, spec in specs.items():
        want = list(Trainer(spec, device="cpu").fit())
        got = printed[name]
        assert len(got) == EPOCHS, (name, got)
        for w, g in zip(want, got, strict=True):
            for key in ("train_loss", "val_loss", "val_accuracy"):
                if key in w:
                    assert float(g[key]) == pytest.approx(w[key], rel=1e-4, abs=1e-3 if key.endswith("accuracy")
                                                          else 1e-6), (name, w["epoch"], key)


def test_a_missing_data_package_or_unknown_data_stop_the_script_loudly(tmp_path):
    digits = presets.get("digits-mlp")
    (tmp_path / "digits.py").write_text(to_python(digits))
    assert "it needs torch and numpy, and scikit-learn for its data" in to_python(digits)
    driver = 'import runpy, sys; sys.modules["sklearn"] = None; sys.argv = ["digits.py", "--epochs", "1"]; ' \
             'runpy.run_path("digits.py", run_name="__main__")'
    r = subprocess.run([sys.executable, "-c", driver], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "epoch 1" not in r.stdout  # never trains on other data
    assert "the digits data comes from scikit-learn, which is not installed" in r.stderr
    assert "pip install scikit-learn" in r.stderr
    assert "it needs only torch and numpy" in to_python(presets.get("sentiment-gru"))  # its generator is copied


@pytest.mark.parametrize("name, target", [(n, t) for n, kind in data.DATASETS.items() for t in kind.targets
                                          if not kind.user_file])  # a user's file: see the test below
def test_script_makes_every_registry_datasets_samples(name, target):
    """The script's load_data and split give the app's very tensors, for every dataset and target it offers."""
    d = {"name": name, **({"target": target} if target != "label" else {})}
    info = data.load_cached(from_dict({"data": d, "model": {"layers": [L("Flatten")]}}).data).info
    shape = info.target_shape
    select = [L("Select", field=next(iter(info.field_ids)))] if info.field_ids else []  # ids of several fields
    layers = select + ([L("Embedding", embedding_dim=2)] if info.tokens else []) + [
        L("Flatten"), L("Linear", out_features=info.n_classes or math.prod(shape))] + (
        [L("Unflatten", dim=1, unflattened_size=list(shape))] if len(shape) > 1 else [])
    loss = "detection" if info.task == "detection" else "cross_entropy" if info.classification else "mse"
    spec = from_dict({"data": d, "model": {"layers": layers}, "train": {"loss": loss}})
    if loss == "detection":  # its loss has no torch form to write: export says so (tests/test_detection.py)
        with pytest.raises(PlaygroundError, match="no torch.nn.functional form to export"):
            to_python(spec, info)
        return
    ds = data.load(spec.data)
    ns = exec_script(to_python(spec, ds.info))
    x_train, y_train, x_val, y_val = ns["split"](*ns["load_data"]())
    for got, want in ((x_train, ds.x_train), (y_train, ds.y_train), (x_val, ds.x_val), (y_val, ds.y_val)):
        assert got.dtype == want.dtype and torch.equal(got, want), name


def test_an_uploaded_file_is_refused_by_the_script_not_replaced(tmp_path):
    csv = tmp_path / "pets.csv"
    csv.write_text("height,weight,kind\n" + "".join(f"{i},{i % 7},{'cat' if i % 2 else 'dog'}\n" for i in range(40)))
    spec = from_dict({"data": {"name": "csv", "file": str(csv)}, "model": {"layers": [L("Linear", out_features=2)]}})
    with using(LocalFiles()):  # the command line on the user's machine reads the file named
        ns = exec_script(to_python(spec))
    with pytest.raises(SystemExit, match="the 'csv' data is the file you uploaded, which the script does not carry"):
        ns["load_data"]()
