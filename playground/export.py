"""Export a spec or a trained run: a standalone PyTorch script (`python`) or an ONNX file (`onnx`)."""

from __future__ import annotations

import importlib.util
import inspect
import io
import json
import sys
import textwrap
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from . import data as datasets
from .build import build, build_layers
from .data import DataInfo, load_cached
from .export_data import DataCode, data_code
from .export_template import DROP, SCRIPT
from .losses import LOSSES
from .modules import Parallel, PositionalEncoding, Recurrent, Residual, Select, SelfAttention, label
from .registry import PlaygroundError, check_options, suggest
from .runs import WEIGHTS, load_model, load_run
from .spec import Spec, from_json, load
from .train import INITS, SCHEDULERS, make_optimizer

FORMATS = ("python", "onnx")
OPSET = 17  # old enough for every current onnxruntime (web and mobile too), new enough for LayerNormalization
INIT_CODE = {"xavier": "nn.init.xavier_uniform_(m.weight)", "zeros": "nn.init.zeros_(m.weight)",
             "kaiming": 'nn.init.kaiming_normal_(m.weight, nonlinearity="relu")'}
SIZES = {"kernel_size", "stride", "padding", "dilation", "output_padding", "output_size"}


def _args(*args, **kw) -> str:
    return ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kw.items()])


def _call(name: str, *args, **kw) -> str:
    return f"{name}({_args(*args, **kw)})"


def _changed(**pairs: tuple) -> dict:
    """Keyword arguments whose value differs from torch's default: `name=(value, default)`."""
    return {k: v for k, (v, default) in pairs.items() if v != default}


def _size(v):
    """(3, 3) → 3, so sizes read as they would by hand; (2, 3) stays a pair."""
    v = tuple(v) if isinstance(v, (list, tuple)) else v
    return v[0] if isinstance(v, tuple) and len(set(v)) == 1 else v


def _leaf(m: nn.Module) -> str:
    """A leaf torch.nn module's constructor call from its attributes: sizes positional, then changed options."""
    args, kw = [], {}
    for p in inspect.signature(type(m)).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name in ("device", "dtype") or not hasattr(m, p.name):
            continue
        v = getattr(m, p.name)
        v = v is not None if p.name == "bias" else _size(v) if p.name in SIZES else v  # bias: a tensor or None
        if p.default is p.empty:
            args.append(v)
        elif not isinstance(v, torch.Tensor) and v != p.default and not (
                p.name == "stride" and p.default is None and v == _size(m.kernel_size)):  # pools: stride=kernel_size
            kw[p.name] = v
    return _call(f"nn.{type(m).__name__}", *args, **kw)


def render(m: nn.Module) -> str:
    """Python source constructing a module like `m`: same class, every size a literal."""
    if isinstance(m, Recurrent):
        r = m.rnn
        return _call("Recurrent", type(r).__name__, r.input_size, r.hidden_size, **_changed(
            num_layers=(r.num_layers, 1), bidirectional=(r.bidirectional, False), dropout=(r.dropout, 0.0),
            return_sequences=(m.return_sequences, False)))
    if isinstance(m, SelfAttention):
        a = m.attn
        return _call("SelfAttention", a.embed_dim, a.num_heads,
                     **_changed(dropout=(a.dropout, 0.0), bias=(a.in_proj_bias is not None, True)))
    if isinstance(m, PositionalEncoding):
        return _call("PositionalEncoding", *m.pe.shape)  # (seq_len, embed_dim)
    if isinstance(m, Select):
        return _call("Select", m.columns, **_changed(dim=(m.dim, 1)))
    if isinstance(m, (Residual, Parallel)):
        return "\n".join(_block(m, ()))
    if isinstance(m, nn.TransformerEncoderLayer):
        a = m.self_attn
        return _call("nn.TransformerEncoderLayer", a.embed_dim, a.num_heads, dim_feedforward=m.linear1.out_features,
                     dropout=m.dropout.p, activation="gelu" if m.activation is F.gelu else "relu", batch_first=True,
                     **_changed(norm_first=(m.norm_first, False)))
    if type(m).__module__.startswith("torch.nn.modules.") and not list(m.children()):
        return _leaf(m)
    raise PlaygroundError(f"{type(m).__name__} has no Python form in export yet")


def _block(m: nn.Module, path: tuple[int, ...], shapes: dict | None = None, indent: str = "") -> list[str]:
    """Source lines constructing block `m` (the first line unindented, the others under `indent`), every layer
    inside it on a line of its own with its number and output shape as a comment where `shapes` has them."""
    inner = indent + "    "

    def items(seq: nn.Sequential, prefix: tuple[int, ...]) -> list[str]:
        out = []
        for k, child in enumerate(seq):
            p = (*prefix, k)
            lines = _block(child, p, shapes, inner + "    ") if isinstance(child, (Residual, Parallel)) \
                else [render(child)]
            shape = f": {_shape(shapes[p])}" if shapes and p in shapes else ""
            lines[0] = f"{inner}    {lines[0]}"
            lines[-1] += f",  # layer {label(p)}{shape}" if len(lines) == 1 else ","
            if len(lines) > 1:
                lines[0] += f"  # layer {label(p)}{shape}"
            out += lines
        return out

    def sequential(seq: nn.Sequential, prefix: tuple[int, ...], note: str = "") -> list[str]:
        if not len(seq):
            return [f"{inner}nn.Sequential(),{note or '  # nothing: the input as it is'}"]
        return [f"{inner}nn.Sequential({note}", *items(seq, prefix), f"{inner}),"]

    if isinstance(m, Residual):
        lines = ["Residual(", *sequential(m.body, path)]
        if m.skip is not None:
            lines.append(f"{inner}skip={render(m.skip)},  # the input, reshaped to be added")
        return [*lines, f"{indent})"]
    merge = _args(merge=m.merge, **_changed(dim=(m.dim, 1)))
    lines = ["Parallel(["]
    for b, branch in enumerate(m.branches):
        lines += sequential(branch, (*path, b), f"  # branch {b + 1}" + ("" if len(branch) else ": the input as it is"))
    return [*lines, f"{indent}], {merge})"]


def _shape(shape: tuple[int, ...], batch: str = "B") -> str:
    return f"({batch},)" if not shape else "(" + ", ".join([batch, *map(str, shape)]) + ")"


def _data_code(spec: Spec, info: DataInfo) -> tuple[DataCode, list[str]]:
    """The generator's code and the body of `load_data()`: playground's own data, made as the app makes it,
    or (data outside the registry, or code export cannot copy) a loud refusal instead of other data."""
    kind = datasets.DATASETS.entries.get(spec.data.name)
    why = f"{spec.data.name!r} is not in playground's dataset registry"
    if kind is not None and kind.user_file:
        why = f"the {spec.data.name!r} data is the file you uploaded, which the script does not carry"
    elif kind is not None:
        try:
            code = data_code(kind.make)
        except PlaygroundError as e:
            why = f"{spec.data.name!r} cannot be copied: {e.message}"
        else:
            opts = datasets.options(spec.data)
            target = opts.get("target", "label")
            y = {"label": "s.y", "input": "s.x.copy()"}.get(target, f"s.extras[{target!r}]")
            make = "s = make_data(N_SAMPLES, NOISE, np.random.default_rng(DATA_SEED), **DATA_OPTIONS)"
            body = ["rng = np.random.default_rng(DATA_SEED)",
                    make.replace("np.random.default_rng(DATA_SEED)", "rng")]
            if code.packages:
                need = " ".join(code.packages)
                body[1:] = ["try:", f"    {body[1]}",
                            "except ImportError as e:  # never other data: say what is missing",
                            f'    raise SystemExit(f"the {spec.data.name} data comes from {need}, which is not "',
                            f'                     f"installed ({{e}}): pip install {need}") from None']
            body += ["if len(s.x) > N_SAMPLES:  # a fixed-size set: the same seeded subset as playground takes",
                     "    keep = np.sort(rng.permutation(len(s.x))[:N_SAMPLES])",
                     "    s = Samples(s.x[keep], s.y[keep], {k: v[keep] for k, v in s.extras.items()}, s.info)",
                     f"return s.x, {y}, bool(s.info.get(\"standardize\"))  # the target: {target}"]
            return code, body
    return DataCode(), [f"# {why}: this script cannot make its data.",
                        f'raise SystemExit("load_data(): {why.replace(chr(34), chr(39))}; write code here that '
                        f'returns (inputs, targets, standardize) as numpy arrays of the shapes above")']


def _optimizer_code(spec: Spec) -> str:
    """The optimizer playground makes (its registry entry, on a stand-in parameter), as a constructor call:
    the learning rate and weight decay, and every setting that differs from torch's default (fused Adam …)."""
    o = spec.train.optimizer
    made = make_optimizer(spec, [nn.Parameter(torch.zeros(1))])
    cls = type(made)
    if getattr(torch.optim, cls.__name__, None) is not cls:
        raise PlaygroundError(f"train.optimizer: {o.type} has no torch.optim form to export", path="train.optimizer")
    plain = cls([nn.Parameter(torch.zeros(1))]).defaults
    changed = {k: v for k, v in made.defaults.items() if k not in ("lr", "weight_decay") and v != plain.get(k)}
    return f"torch.optim.{cls.__name__}(model.parameters(), {_args(lr=o.lr, weight_decay=o.weight_decay, **changed)})"


def _train_code(spec: Spec, info: DataInfo, out: tuple[int, ...]) -> dict[str, str]:
    """Template values for the loss, targets, optimizer, schedule, init and extras of the training loop."""
    t = spec.train
    loss = LOSSES.get(t.loss, "train.loss")
    if getattr(F, loss.fn.__name__, None) is not loss.fn:
        raise PlaygroundError(f"train.loss: {t.loss} has no torch.nn.functional form to export", path="train.loss")
    v = {"loss": f"F.{loss.fn.__name__}", "scheduler": DROP, "step": DROP, "acc": DROP, "init": DROP,
         "optimizer": _optimizer_code(spec),
         "clip": f"nn.utils.clip_grad_norm_(model.parameters(), {t.grad_clip!r})" if t.grad_clip else DROP,
         "l1": (f"loss = loss + {t.l1!r} * sum(p.abs().sum() for n, p in model.named_parameters() "
                "if n.endswith('weight'))  # train.l1" if t.l1 else DROP)}
    v["target"] = "y  # class ids" if loss.kind == "labels" else "y.float()"
    if info.classification and loss.kind != "labels":
        v["target"] = ("y.float().unsqueeze(-1)  # (N, 1) of 0/1, one output per sample" if out == (1,)
                       else f"F.one_hot(y, {info.n_classes}).float()  # (N, {info.n_classes}) one-hot")
    if info.classification:
        hit = ("out.argmax(1) == y_val" if loss.kind == "labels" else "out.argmax(1) == y_val.argmax(1)"
               if out != (1,) else f"(out[:, 0] > {0.0 if loss.kind == 'binary' else 0.5}).float() == y_val[:, 0]")
        v["acc"] = f'line += f"  val_accuracy {{({hit}).float().mean():.3f}}"'
    if t.scheduler is not None:
        s = t.scheduler
        sopts = check_options(SCHEDULERS.get(s.type, "train.scheduler.type").params, s.options(),
                              f"train.scheduler ({s.type})")
        t_max = "max(1, epochs), " if s.type == "CosineAnnealingLR" else ""  # playground anneals over all epochs
        v["scheduler"] = f"sched = torch.optim.lr_scheduler.{s.type}(opt, {t_max}{_args(**sopts)})"
        v["step"] = "sched.step(val_loss)" if s.type == "ReduceLROnPlateau" else "sched.step()"
    if t.init != "default":
        if INITS.get(t.init, "train.init") and t.init not in INIT_CODE:
            raise PlaygroundError(f"train.init: {t.init} has no Python form in export yet", path="train.init")
        v["init"] = (f"for m in model.modules():  # train.init = {t.init!r}\n"
                     "        if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d)):\n"
                     f"            {INIT_CODE[t.init]}\n"
                     "            if m.bias is not None:\n                nn.init.zeros_(m.bias)")
    return v


def _vocab(vocab: list[str]) -> str:
    """The vocabulary as wrapped words when every token is one plain word, else as a list."""
    if all(t.split() == [t] and "\\" not in t and '"' not in t for t in vocab):
        return 'VOCAB = """\\\n' + textwrap.fill(" ".join(vocab), 110) + '""".split()  # token id i is VOCAB[i]'
    return f"VOCAB = {vocab!r}  # token id i is VOCAB[i]"


def to_python(spec: Spec, info: DataInfo | None = None) -> str:
    """A standalone script (torch + numpy): the model as a plain nn.Module, its data and its training loop."""
    info = info or load_cached(spec.data).info
    with torch.device("meta"):  # sizes only: no memory, no initialisation, the caller's RNG untouched
        modules, summary = build_layers(spec, info)
    layers, shapes = [], {r.path: r.output_shape for r in summary.rows}
    for row, m in zip(summary.top, modules, strict=True):
        try:
            if isinstance(m, (Residual, Parallel)):
                lines = _block(m, row.path, shapes, "        ")
                layers += [f"        self.layer{row.index} = {lines[0]}  # {_shape(row.output_shape)}", *lines[1:]]
                continue
            line = f"        self.layer{row.index} = {render(m)}"
            layers.append(line if len(line) <= 120 else line.replace("(", "(\n            ", 1))
        except PlaygroundError as e:
            raise PlaygroundError(f"layer {row.index} ({row.type}): {e.message}", layer=row.index - 1) from None
    used = {type(x) for m in modules for x in m.modules()}
    helpers = [c for c in (Recurrent, SelfAttention, PositionalEncoding, Select, Residual, Parallel) if c in used]
    opts = {"n_samples": 500, "noise": 0.0, "val_fraction": 0.2, "seed": 0}  # for data outside the registry
    known = spec.data.name in datasets.DATASETS and not datasets.DATASETS.get(spec.data.name).user_file
    opts.update(datasets.options(spec.data) if known else {k: v for k, v in spec.data.options().items() if k in opts})
    code, load_body = _data_code(spec, info)
    extra = {k: v for k, v in opts.items() if k not in ("n_samples", "noise", "val_fraction", "seed", "target")}
    text = SCRIPT.substitute(
        _train_code(spec, info, summary.output_shape), name=json.dumps(spec.name),
        spec="\n".join(textwrap.wrap(f"data {json.dumps(spec.data.model_dump(mode='json'))}, train "
                                     f"{json.dumps(spec.train.model_dump(mode='json', exclude_none=True))}", 116,
                                     initial_indent="#   ", subsequent_indent="#   ")),
        needs="torch and numpy" + "".join(f", and {p} for its data" for p in code.packages)
              if code.packages else "only torch and numpy",
        data_imports="\n".join(code.imports) or DROP,
        seed=spec.train.seed, epochs=spec.train.epochs, batch_size=spec.train.batch_size,
        data_seed=opts["seed"], n_samples=opts["n_samples"], noise=opts["noise"], val_fraction=opts["val_fraction"],
        data_options=repr(extra), vocab=_vocab(info.vocab) if info.vocab else DROP,
        helpers="".join(f"\n\n{inspect.getsource(c)}" for c in helpers),
        layers="\n".join(layers), input=_shape(info.input_shape) + (" token ids" if info.tokens else ""),
        steps="\n".join(f"        x = self.layer{r.index}(x)  # {_shape(r.output_shape)}" for r in summary.top),
        data_helpers="\n\n\n".join([*code.definitions, code.make]) + "\n\n" if code.make else "",
        data_note=f"playground's own {spec.data.name!r} data" if code.make else "data you supply",
        shapes=f"Inputs {_shape(info.input_shape, 'N')} {'int64 token ids' if info.tokens else 'float32'}, "
               f"targets {_shape(info.target_shape, 'N')} "
               + (f"class ids 0…{info.n_classes - 1}." if info.classification else "float32."),
        load_data="\n".join("    " + line for line in load_body))
    lines = [line for line in text.splitlines() if line.strip() != DROP]
    if not any("math." in line for line in lines if not line.startswith("#")):
        lines.remove("import math")  # only the copied helpers use it
    return "\n".join(lines) + "\n"


def _onnx(model: nn.Module, x: torch.Tensor, f) -> None:
    with warnings.catch_warnings():  # the legacy exporter warns that it is legacy, and about traced shapes
        warnings.simplefilter("ignore")
        # The TorchScript exporter: fast and dependable for these small models, needs only the onnx package.
        torch.onnx.export(model, (x,), f, dynamo=False, opset_version=OPSET, input_names=["input"],
                          output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})


def to_onnx(model: nn.Module, info: DataInfo, path: str | Path) -> Path:
    """Write `model` as ONNX with a dynamic batch dimension (int64 input for token ids)."""
    if importlib.util.find_spec("onnx") is None:
        raise PlaygroundError("ONNX export needs the onnx package: pip install onnx")
    shape = (2, *info.input_shape)  # a batch of 2: a batch of 1 lets the tracer bake in squeezes
    x = (torch.zeros(shape, dtype=torch.int64) if info.tokens  # id 0 is in every vocabulary
         else torch.randn(shape, generator=torch.Generator().manual_seed(0)))  # the caller's RNG untouched
    x = x.to(next(model.parameters(), x).device)  # a model still on the GPU exports from there
    path, was_training = Path(path), model.training
    model.eval()
    try:
        _onnx(model, x, str(path))
    except Exception as e:  # torch raises many types here; the user needs the layer and the first line
        raise PlaygroundError(f"{_culprit(model, x)}cannot be exported to ONNX: "
                              f"{(str(e).strip() or type(e).__name__).splitlines()[0]}") from None
    finally:
        model.train(was_training)
    return path


def _culprit(model: nn.Module, x: torch.Tensor) -> str:
    """'layer N (Type): ' for the first layer that will not export on its own, or ''."""
    if not isinstance(model, nn.Sequential):
        return ""
    with torch.no_grad():
        for i, m in enumerate(model, 1):
            try:
                _onnx(m, x, io.BytesIO())
            except Exception:
                what = type(m.rnn if isinstance(m, Recurrent) else m.attn if isinstance(m, SelfAttention) else m)
                return f"layer {i} ({what.__name__}): "
            x = m(x)
    return ""


def _source(source: str) -> tuple[Spec, Path | None]:
    """The spec, and the run directory when `source` is one."""
    if source == "-":
        return from_json(sys.stdin.read()), None
    p = Path(source)
    if p.is_dir():
        return load_run(p)[0], p
    if p.is_file():
        return load(p), None
    hint = ""
    if p.suffix != ".json" and "/" not in source:
        try:
            from .presets import get
            return get(source), None
        except ImportError:  # a build without presets
            pass
        except PlaygroundError as e:
            hint = e.message.split(";", 1)[1].strip() if ";" in e.message else ""
    raise PlaygroundError(f"cannot export {source!r}: it is not a spec file, a run directory or a preset"
                          + (f"; {hint}" if hint else ""))


def export(source: str, fmt: str, out: str | Path) -> Path:
    """Export a spec file, `-` (stdin), a preset or a run directory as `python` or `onnx` to `out`."""
    if fmt not in FORMATS:
        raise PlaygroundError(f"unknown export format {fmt!r}{suggest(fmt, list(FORMATS))} (formats: python, onnx)")
    spec, run = _source(source)
    info = load_cached(spec.data).info
    from .tasks import of
    task = of(spec, info)
    if task.loss_option != "train.loss":  # a task that trains otherwise (a GAN: two networks, no train.loss)
        raise PlaygroundError(f"export writes one network trained on its data with train.loss; this spec's task, "
                              f"{task.name}, trains otherwise, and export cannot write it yet", path="train.task")
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "python":
            out.write_text(to_python(spec, info))
            return out
    except OSError as e:
        raise PlaygroundError(f"cannot write {out}: {e}") from None
    if run is not None and (run / WEIGHTS).is_file():
        model, spec, info = load_model(run)  # the trained weights
    else:
        with torch.random.fork_rng(devices=[]):  # the weights training would start from; caller's RNG untouched
            torch.manual_seed(spec.train.seed)
            model = build(spec, info)
            INITS.get(spec.train.init, "train.init").make(model)
    return to_onnx(model, info, out)
