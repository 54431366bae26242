"""Export a spec as a Jupyter notebook: the exported Python script (export.py) laid out as cells to read and run.

The notebook is the script, cut where it changes subject: settings, the model, the data, the training loop;
then the script's main block as a cell that trains (its epoch lines kept as they print), and a plot of the
losses (matplotlib where the kernel has it, else a table). The script stays the one place where a spec
becomes code: whatever it reproduces of the app (data, initial weights, batch order), the notebook does too.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import io
import re
import sys
import textwrap
from pathlib import Path

from .data import DataInfo, load_cached
from .registry import PlaygroundError
from .spec import Spec

SECTIONS = {  # heading of each part of the script, in the order they come
    "settings": "## Settings\nWhat the spec fixed: seeds, epochs, batch size and the data's options.",
    "model": "## The model\nThe spec's layers as a plain `torch.nn.Module`, every size written out.",
    "data": "## The data\nThe same samples, split and scaling as in the playground.",
    "train": "## The training loop\nThe spec's loss and optimizer, one line printed per epoch.",
}
_NUMBER = re.compile(r"([A-Za-z_][A-Za-z0-9_]*) (-?(?:\d+(?:\.\d*)?(?:e[-+]?\d+)?|nan|inf))")
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def epochs_from(text: str) -> list[dict]:
    """The epoch lines a training run printed ("epoch 3: train_loss 0.41  val_loss 0.44 …") as dicts."""
    out = []
    for line in text.splitlines():
        head, _, rest = line.partition(":")
        if head.startswith("epoch ") and head[6:].strip().isdigit():
            values = {k: float(v) for k, v in _NUMBER.findall(rest)}
            out.append({"epoch": int(head[6:]), **values})
    return out


@contextlib.contextmanager
def keep_printed():
    """Print as usual and keep a copy: after the block, the list it gave holds everything printed."""
    kept, real = io.StringIO(), sys.stdout

    class Both(io.TextIOBase):
        def write(self, s):
            kept.write(s)
            return real.write(s)

        def flush(self):
            real.flush()

    text: list[str] = []
    sys.stdout = Both()
    try:
        yield text
    finally:
        sys.stdout = real
        text.append(kept.getvalue())


PLOT = '''\
# The losses per epoch: a plot where matplotlib is installed, else a table.
try:
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
epochs = [h["epoch"] for h in history]
if plt is not None:
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(epochs, [h["train_loss"] for h in history], color="#0072B2", label="train loss")
    ax.plot(epochs, [h["val_loss"] for h in history], color="#E69F00", linestyle="--", label="validation loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title("Loss per epoch")
    ax.legend()
    plt.show()
else:
    names = [k for k in history[-1] if k != "epoch"] if history else []
    print("epoch  " + "  ".join(f"{n:>14}" for n in names))
    for h in history:
        print(f"{h['epoch']:5d}  " + "  ".join(f"{h.get(n, float('nan')):14.4f}" for n in names))
'''


def _markdown(text: object, limit: int = 80) -> str:
    """User text (a spec's name) for a Markdown cell: one line, every Markdown and HTML character escaped."""
    s = re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+", " ", str(text)[:4 * limit]).strip()
    s = s if len(s) <= limit else s[:limit - 1] + "…"
    return _PUNCTUATION.sub(r"\\\1", s)


def _parts(source: str) -> tuple[list[tuple[str, str]], ast.If]:
    """The script cut into (part, source text) in order, comments and blank lines kept, and its main block."""
    tree = ast.parse(source)
    lines = source.splitlines()
    body = tree.body
    first = 0
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        first, body = body[0].end_lineno, body[1:]  # the script's docstring: the notebook's introduction says it
    main = body[-1] if body and isinstance(body[-1], ast.If) and "__main__" in ast.unparse(body[-1].test) else None
    names = [n.name for n in body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    if main is None or "Model" not in names or "train" not in names:
        raise PlaygroundError("the exported script has no Model, train() or main block to make a notebook of")
    model_end = max(names.index("Model"), names.index("load_playground_weights")
                    if "load_playground_weights" in names else 0)
    out: list[tuple[str, list[str]]] = []
    start, seen = first, -1
    for node in body[:-1]:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            seen = names.index(node.name)
        # a statement between definitions (a helper's constant) goes with the definitions before it
        part = ("settings" if seen < 0 else "model" if seen <= model_end and not (
            seen == model_end and not isinstance(node, (ast.FunctionDef, ast.ClassDef)))
            else "train" if seen >= names.index("train") else "data")
        text = [line for line in lines[start:node.end_lineno] if line.strip() != "import argparse"]  # no CLI
        if out and out[-1][0] == part:
            out[-1][1].extend(text)
        else:
            out.append((part, text))
        start = node.end_lineno
    return [(p, "\n".join(text).strip("\n")) for p, text in out], main


def _run_cell(source: str, main: ast.If) -> str:
    """The script's main block as notebook code: no command line (its options become the settings EPOCHS
    and WEIGHTS), the training call's printed lines kept as `history`."""
    lines = source.splitlines()
    keep, call = [], False
    for node in main.body:
        text = textwrap.dedent("\n".join(lines[node.lineno - 1:node.end_lineno]))
        if "parser" in text:
            continue  # argparse: a notebook has no command line
        text = text.replace("args.epochs", "EPOCHS").replace("args.weights", "WEIGHTS")
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and ast.unparse(node.value.func) == "train":
            call, text = True, "with keep_printed() as printed:\n" + textwrap.indent(text, "    ")
        keep.append(text)
    if not call:
        raise PlaygroundError("the exported script's main block does not call train()")
    return "\n".join(keep) + "\nhistory = epochs_from(printed[0])  # one dict an epoch, for the plot below"


def to_notebook(spec: Spec, info: DataInfo | None = None, script: str | None = None):
    """The spec as an nbformat v4 notebook (built from `script`, default: export's Python script)."""
    import nbformat.v4 as nbf

    if script is None:
        from .export import to_python
        script = to_python(spec, info or load_cached(spec.data).info)
    parts, main = _parts(script)
    doc = ast.get_docstring(ast.parse(script)) or ""
    needs = re.search(r"it needs ([^.]*)\.", doc)
    cells = [nbf.new_markdown_cell(
        f"# {_markdown(spec.name)}\n"
        "Exported from the playground: run the cells in order to train this setup on the same data, from the "
        "same initial weights, with the same batch order as the app"
        + (f" (it needs {_markdown(needs.group(1), 120)})" if needs else "") + ".\n\n"
        "Set `WEIGHTS` in the next cell to a `model.safetensors` downloaded from the app (or a run folder of "
        "`python -m playground train --out`) to start from trained weights.")]
    for part, text in parts:
        cells.append(nbf.new_markdown_cell(SECTIONS[part]))
        cells.append(nbf.new_code_cell(text + ("\nWEIGHTS = None  # a model.safetensors (or run folder) to start from"
                                               if part == "settings" else "")))
    helpers = "\n\n".join(inspect.getsource(f) for f in (keep_printed, epochs_from))
    cells += [nbf.new_markdown_cell("## Train it\nThe printed lines are kept as `history` for the plot."),
              nbf.new_code_cell(f"import contextlib\nimport io\nimport re\nimport sys\n\n_NUMBER = re.compile("
                                f"{_NUMBER.pattern!r})\n\n\n{helpers}"),
              nbf.new_code_cell(_run_cell(script, main)),
              nbf.new_markdown_cell("## The losses"),
              nbf.new_code_cell(PLOT)]
    nb = nbf.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})
    return nb


def notebook_text(spec: Spec, info: DataInfo | None = None) -> str:
    """The notebook as .ipynb JSON text."""
    import nbformat
    nb = to_notebook(spec, info)
    nbformat.validate(nb)
    return nbformat.writes(nb)


def export_notebook(spec: Spec, out: str | Path) -> Path:
    """Write the spec's notebook to `out`."""
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(notebook_text(spec))
    except OSError as e:
        raise PlaygroundError(f"cannot write {out}: {e}") from None
    return out


def history_of(nb) -> list[dict]:
    """The epochs an executed notebook printed while it trained (for checking one against the app)."""
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")
    return epochs_from(text)


