"""Notebook export: the exported script as cells, valid nbformat, and (slow) executed headless in a fresh
kernel it trains like the app on the same seed."""

from __future__ import annotations

import json
import os
import re
import runpy
import subprocess
import sys

import matplotlib
import nbformat
import pytest

from playground import presets
from playground.data import load
from playground.export import to_python
from playground.notebook import PLOT, epochs_from, history_of, keep_printed, notebook_text, to_notebook
from playground.registry import PlaygroundError
from playground.spec import from_dict
from playground.train import Trainer

# The stated margin: the notebook's final validation loss within 1 % of the app's, its validation accuracy
# within 0.01 (measured: equal to the 6 decimals the script prints).
LOSS_MARGIN, ACCURACY_MARGIN = 0.01, 0.01


def exportable() -> list[str]:
    """Presets the Python export can write (the notebook is made from that script)."""
    names = []
    for name in presets.names():
        try:
            to_python(presets.get(name))
        except PlaygroundError:
            continue
        names.append(name)
    return names


@pytest.mark.parametrize("name", exportable())
def test_every_exportable_preset_makes_a_valid_notebook_of_its_script(name):
    spec = presets.get(name)
    nb = nbformat.reads(notebook_text(spec), as_version=4)
    nbformat.validate(nb)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    heads = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "markdown"]
    assert heads[1:] == ["## Settings", "## The model", "## The data", "## The training loop", "## Train it",
                         "## The losses"]
    assert "class Model(nn.Module)" in code[1] and "def load_data(" in code[2] and "def train(" in code[3]
    assert "argparse" not in "".join(code) and "args." not in "".join(code)  # no command line in a notebook
    assert "WEIGHTS = None" in code[0] and "with keep_printed() as printed:" in code[-2]
    for c in code:
        compile(c, name, "exec")  # every cell is Python
    script = to_python(spec)  # nothing of the script's definitions is lost on the way
    for line in script.splitlines():
        if line.startswith(("def ", "class ")):
            assert any(line in c for c in code), line
    assert nb.metadata.kernelspec.name == "python3"


def test_a_spec_name_is_text_in_the_notebook():
    d = presets.get("gauss-mlp").to_dict()
    d["name"] = "<img src=x onerror=alert(1)> *bold* [link](http://x)"
    title = to_notebook(from_dict(d)).cells[0].source.splitlines()[0]
    assert not re.search(r"(?<!\\)[<>*\[\]()]", title) and "\\<img" in title  # every markup character escaped


def test_epoch_lines_are_read_back_and_printing_is_kept():
    text = "hello\nepoch 1: train_loss 0.6931  val_loss 0.7000  val_accuracy 0.500\nepoch 2: train_loss 1e-05  " \
           "val_loss nan\nepochs are over: 3\n"
    assert epochs_from(text) == [{"epoch": 1, "train_loss": 0.6931, "val_loss": 0.7, "val_accuracy": 0.5},
                                 {"epoch": 2, "train_loss": 1e-05, "val_loss": pytest.approx(float("nan"),
                                                                                             nan_ok=True)}]
    with keep_printed() as printed:
        print("epoch 1: train_loss 0.5  val_loss 0.25")
    assert epochs_from(printed[0]) == [{"epoch": 1, "train_loss": 0.5, "val_loss": 0.25}]


HISTORY = [{"epoch": 1, "train_loss": 0.9, "val_loss": 1.0, "val_accuracy": 0.5},
           {"epoch": 2, "train_loss": 0.4, "val_loss": 0.5, "val_accuracy": 0.8}]


def test_the_loss_plot_has_labelled_axes_where_matplotlib_is_installed():
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.close("all")
    exec(PLOT, {"history": HISTORY})  # noqa: S102 -- our own cell's code
    ax = plt.gcf().axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("epoch", "loss")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train loss", "validation loss"]
    assert list(ax.lines[1].get_ydata()) == [1.0, 0.5]
    plt.close("all")


def test_without_matplotlib_the_losses_are_a_table():
    code = (f"import sys, json; sys.modules['matplotlib'] = None; history = json.loads({json.dumps(HISTORY)!r})\n"
            + PLOT)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["epoch", "train_loss", "val_loss", "val_accuracy"]
    assert lines[2].split() == ["2", "0.4000", "0.5000", "0.8000"]


@pytest.mark.slow
@pytest.mark.parametrize("name,epochs", [("spiral-mlp", 5), ("digits-cnn", 3)])
def test_the_notebook_run_headless_in_a_fresh_kernel_trains_like_the_app(name, epochs, tmp_path):
    from nbclient import NotebookClient
    d = presets.get(name).to_dict()
    d["train"].update(epochs=epochs, device="cpu")
    spec = from_dict(d)
    nb = nbformat.reads(notebook_text(spec), as_version=4)
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}  # set under pytest: Agg would draw no plot
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute(
        env=env)
    ran = history_of(nb)
    app = list(Trainer(spec, data=load(spec.data)).fit())
    assert [h["epoch"] for h in ran] == list(range(1, epochs + 1))
    assert ran[-1]["val_loss"] == pytest.approx(app[-1]["val_loss"], rel=LOSS_MARGIN)
    assert ran[-1]["val_accuracy"] == pytest.approx(app[-1]["val_accuracy"], abs=ACCURACY_MARGIN)
    shown = [o.output_type for o in nb.cells[-1].outputs]
    assert shown == ["display_data"] and "image/png" in nb.cells[-1].outputs[0].data  # the plot (matplotlib here)


def test_weights_downloaded_from_the_app_load_into_the_exported_model(tmp_path):
    """The app's safetensors download (runs.weights_bytes of a run's weights) is what the notebook's and the
    script's WEIGHTS setting reads: the exported Model then computes what the trained model computes."""
    import torch

    from playground.runs import weights_bytes
    d = presets.get("digits-cnn").to_dict()
    d["train"].update(epochs=1, device="cpu")
    spec = from_dict(d)
    data = load(spec.data)
    trainer = Trainer(spec, data=data)
    list(trainer.fit())
    weights = {k: v.detach().cpu().numpy() for k, v in trainer.model.state_dict().items()}  # as a worker sends
    path = tmp_path / "model.safetensors"
    path.write_bytes(weights_bytes(weights))
    (tmp_path / "model.py").write_text(to_python(spec))
    script = runpy.run_path(str(tmp_path / "model.py"), run_name="exported")  # not "__main__": it does not train
    model = script["Model"]()
    script["load_playground_weights"](model, str(path))
    x = data.x_val[:16]
    with torch.no_grad():
        assert torch.allclose(model.eval()(x), trainer.model.eval()(x), atol=1e-6)
