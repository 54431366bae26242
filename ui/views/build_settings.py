"""The Build page's data and training settings, the dataset preview, CSV upload, and spec import and export."""

from __future__ import annotations

import json
import re

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from playground import data as datasets
from playground import edit, presets, tasks
from playground.data import DATASETS, DataInfo
from playground.registry import Param, PlaygroundError
from playground.spec import DataSpec, SpecError, from_dict, from_json
from playground.tabular import MAX_BYTES, CSVError, header, parse_csv
from playground.train import INITS, LOSSES, OPTIMIZERS, SCHEDULERS
from playground.uploads import Access, UploadError, user_file, using
from ui import keys, state
from ui.text import message, plain, short
from ui.views.builder import Check, apply, param_widget

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
TRAIN_PARAMS = (  # the spec's TrainSpec fields as Params, so their widgets come from the same generator
    Param("lr", "float", 0.01, 1e-6, 10.0, help="Learning rate: the size of each step."),
    Param("weight_decay", "float", 0.0, 0.0, 1.0, help="L2 penalty: shrinks weights a little every step."),
    Param("batch_size", "int", 32, 1, 65536, help="Samples per step."),
    Param("epochs", "int", 20, 1, 100000, help="Passes over the training set."),
    Param("grad_clip", "float", None, 1e-6, 1e6, optional=True,
          help="Clip the gradient norm to this value (empty: off)."),
    Param("l1", "float", 0.0, 0.0, 1.0, help="L1 penalty on the weights: pushes many to exactly zero."),
    Param("seed", "int", 0, 0, 2**31 - 1, help="Same seed, same initial weights and batches."),
    Param("device", "choice", "auto", choices=("auto", "cpu", "cuda", "mps"), help="Where to train."),
)
LABELS = {"lr": "Learning rate (lr)", "weight_decay": "Weight decay (L2)", "batch_size": "Batch size",
          "epochs": "Epochs", "grad_clip": "Gradient clipping (max norm)", "l1": "L1 penalty", "seed": "Seed",
          "device": "Device"}
CSV, IMPORT, PRESET = keys.BUILD("csv"), keys.BUILD("import"), keys.BUILD("preset")  # widgets read in callbacks


def _notice(level: str, text: str) -> None:
    state.get().build.notice(level, text)


def messages() -> None:
    """Show (once) what the last action reported: an import refused, a loss switched, a CSV accepted."""
    icons = {"error": ":material/error:", "info": ":material/info:", "success": ":material/check_circle:"}
    for level, text in state.get().build.take_messages():
        getattr(st, level)(message(text), icon=icons.get(level))  # they quote file names and columns


# ---- data --------------------------------------------------------------------------------------

def fitting_loss(spec: dict) -> dict:
    """`spec` with a loss that suits its dataset (cross_entropy for classes, mse otherwise) if the current cannot."""
    try:
        info = datasets.info(DataSpec.model_validate(spec["data"]), state.uploads())
    except Exception:  # bad data options are reported by the builder's check
        return spec
    try:
        LOSSES.get(spec["train"].get("loss", "cross_entropy")).shapes(info)
        return spec
    except PlaygroundError:
        task = tasks.for_data(info)
        if task.loss_option != "train.loss":  # a task that picks its loss elsewhere (a GAN's train.gan.loss)
            return spec
        new = task.losses[0]
        _notice("info", f"Loss set to {new}, which suits {info.name} ({task.name}).")
        return edit.set_path(spec, ("train", "loss"), new)


def _dataset(key: str) -> None:
    spec = state.get().spec
    name = state.widget(key)
    keep = {k: spec["data"][k] for k in ("seed", "val_fraction") if k in spec["data"]}
    apply(fitting_loss(edit.set_path(spec, ("data",), {"name": name, **keep})))


def data_settings() -> None:
    """Pick a dataset and set its options (widgets generated from the dataset's Params)."""
    s = state.get()
    data = s.spec["data"]
    name = data.get("name")
    # a dataset read from the user's file is offered once one is uploaded (the uploader below)
    names = datasets.builtin() + ([name] if name in DATASETS and DATASETS.get(name).user_file else [])
    key = state.bind(keys.BUILD("data"), name if name in names else None)
    st.selectbox("Dataset", names, key=key, on_change=_dataset, args=(key,), placeholder="Choose a dataset…",
                 format_func=lambda n: f"your {n.upper()}" if DATASETS.get(n).user_file else
                 f"{n} ({DATASETS.get(n).task}, {DATASETS.get(n).modality})")
    if name in DATASETS and DATASETS.get(name).user_file:
        csv_options(data)
    elif name in DATASETS:
        kind = DATASETS.get(name)
        st.caption(kind.description)
        for p in kind.params:
            param_widget(p, data.get(p.name), ("data", p.name), f"data ({name})")
    st.divider()
    st.file_uploader(f"Or upload your own CSV (≤ {MAX_BYTES // 1_000_000} MB)", type=["csv"], key=CSV,
                     on_change=_csv_uploaded, max_upload_size=MAX_BYTES // 1_000_000,
                     help="A header row, numeric feature columns and one target column (numbers or class names).")


def accept_csv(raw: bytes) -> str:
    """Check an uploaded CSV; returns the target column (the last, else one that leaves every other numeric)."""
    if len(raw) > MAX_BYTES:
        raise CSVError(f"the file is {len(raw) / 1e6:.1f} MB; the limit is {MAX_BYTES / 1e6:.0f} MB")
    columns = header(raw)
    candidates = columns[-1:] + [h for h in reversed(columns[:-1])]
    first_error = None
    for target in candidates[:20]:
        try:
            parse_csv(raw, target)
            return target
        except CSVError as e:
            first_error = first_error or e
            if "not numeric" not in e.message:
                raise e from None
    raise first_error or CSVError("the file has no usable target column")



def _csv_uploaded() -> None:
    f = state.widget(CSV)
    if f is None:
        return
    raw = f.getvalue()
    try:
        target = accept_csv(raw)
        upload = state.uploads().store.put(raw, state.owner().id, f.name)
    except (CSVError, UploadError) as e:
        _notice("error", f"{f.name} cannot be used: {e.message}")
        return
    # the spec carries only the upload's id, which resolves in this browser session alone
    spec = edit.set_path(state.get().spec, ("data",), {"name": "csv", "upload": upload, "target": target})
    apply(fitting_loss(spec))
    _notice("success", f"Using {f.name}: predicting column '{target}'. Change the target below.")


def csv_options(data: dict) -> None:
    """Target column, task and split of an uploaded CSV (or why it cannot be read here)."""
    kind = DATASETS.get(data["name"])
    try:
        raw, label = user_file(data, state.uploads())
        columns = header(raw)
    except PlaygroundError as e:
        st.caption(message(f"The CSV cannot be read: {e.message}"))
        columns = []
    else:
        st.caption(message(f"Uploaded CSV ({label})"))
    target = data.get("target") or (columns[-1] if columns else None)
    if columns:
        s = state.get()
        key = keys.BUILD("csv-target", s.edits)
        st.selectbox("Target column", columns, index=columns.index(target) if target in columns else None, key=key,
                     format_func=short,
                     help="The column the model predicts; the others are its inputs.",
                     on_change=lambda: apply(fitting_loss(edit.set_path(
                         state.get().spec, ("data", "target"), state.widget(key)))))
    for p in kind.params:
        if p.name not in ("upload", "file", "target"):
            param_widget(p, data.get(p.name), ("data", p.name), f"data ({data['name']})")


def data_preview(spec: dict, result: Check) -> None:
    """A look at the data: points, images, a sequence, reviews or a table."""
    if result.data_error:
        st.error(message(result.data_error), icon=":material/error:")
        return
    try:
        ds, whole = datasets.preview(from_dict(spec).data, state.uploads())
    except PlaygroundError as e:
        st.error(message(e.message), icon=":material/error:")
        return
    info = ds.info
    classes = f", {info.n_classes} classes" if info.classification else ""
    some = "" if len(ds.x_train) == whole.n_train else " · shown: a few of the same kind"
    st.caption(f"{info.task}{classes} · {whole.n_train:,} training and {whole.n_val:,} validation samples · "
               f"input (N, {', '.join(map(str, info.input_shape))}){some}")
    n = 400
    if "points" in ds.extras_train:
        st.plotly_chart(scatter(ds.extras_train["points"][:n].numpy(), ds.y_train[:n].numpy(), info),
                        width="stretch", key=keys.BUILD("preview"))
    elif info.modality == "image":
        images = [_pixels(x) for x in ds.x_train[:24].numpy()]
        captions = [info.class_names[int(y)] for y in ds.y_train[:24]] if info.classification else None
        alts = [f"sample {i + 1}" + (f" of class {short(c)}" if captions else "") for i, c in
                enumerate(captions or images)]
        st.image(images, caption=captions, width=72, clamp=True, alt=alts)
    elif info.modality == "sequence":
        st.plotly_chart(sequence_plot(ds.x_train[:3].numpy(), ds.y_train[:3].numpy()), width="stretch",
                        key=keys.BUILD("preview"))
    elif info.tokens:
        st.dataframe({"review": [decode(x, info.vocab) for x in ds.x_train[:10].tolist()],
                      "label": [_label(y, info) for y in ds.y_train[:10].tolist()]}, hide_index=True)
    else:
        names = info.feature_names or [f"x{k + 1}" for k in range(ds.x_train.shape[1])]
        table = {name: ds.x_train[:10, k].numpy().round(3) for k, name in enumerate(names[:12])}
        table["target"] = [_label(y, info) for y in ds.y_train[:10].tolist()]
        st.dataframe(table, hide_index=True)
        if info.feature_names and info.modality == "tabular":
            st.caption("Features are standardised with the training set's mean and deviation.")


def scatter(points: np.ndarray, y: np.ndarray, info: DataInfo) -> go.Figure:
    """2-D points coloured by class (Okabe–Ito) or by value, on axes x1 and x2."""
    fig = go.Figure()
    if info.classification:
        for k, name in enumerate(info.class_names):
            m = y == k
            fig.add_scatter(x=points[m, 0], y=points[m, 1], mode="markers", name=name,
                            marker={"color": OKABE_ITO[k % len(OKABE_ITO)], "size": 6, "line": {"width": 0}})
    else:
        fig.add_scatter(x=points[:, 0], y=points[:, 1], mode="markers", name="target",
                        marker={"color": y.reshape(-1), "colorscale": [[0, "#E69F00"], [0.5, "#F7F7F7"],
                                                                       [1, "#0072B2"]],
                                "size": 6, "colorbar": {"title": "target"}})
    fig.update_layout(height=380, margin={"l": 10, "r": 10, "t": 10, "b": 10}, legend={"orientation": "h"},
                      xaxis_title="x1", yaxis_title="x2")
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return fig


def sequence_plot(x: np.ndarray, y: np.ndarray) -> go.Figure:
    """A few input windows (N, T, 1) with the value each should predict next."""
    fig = go.Figure()
    for k in range(len(x)):
        steps = list(range(len(x[k])))
        color = OKABE_ITO[k % len(OKABE_ITO)]
        fig.add_scatter(x=steps, y=x[k, :, 0], mode="lines", name=f"window {k + 1}", line={"color": color})
        fig.add_scatter(x=[len(steps)], y=[float(y[k].reshape(-1)[0])], mode="markers",
                        marker={"color": color, "size": 10, "symbol": "star"}, showlegend=k == 0,
                        legendgroup="next", name="★ value to predict")
    fig.update_layout(height=300, margin={"l": 10, "r": 10, "t": 10, "b": 10}, xaxis_title="step",
                      yaxis_title="value", legend={"orientation": "h"})
    return fig


def decode(ids: list[int], vocab: list[str]) -> str:
    """Token ids back to words, without padding."""
    return " ".join(vocab[i] if 0 <= i < len(vocab) else "<unk>" for i in ids if i != 0)


def _label(y, info: DataInfo) -> str:
    if info.classification and isinstance(y, int) and y < len(info.class_names):
        return info.class_names[y]
    return str(np.round(np.asarray(y, dtype=float), 3).tolist())


def _pixels(x: np.ndarray, side: int = 72) -> np.ndarray:
    """The first channel of a (C, H, W) image, enlarged with square pixels (no blur)."""
    img = x[0]
    k = max(1, side // max(img.shape))
    return np.kron(img, np.ones((k, k), dtype=img.dtype))


# ---- training ----------------------------------------------------------------------------------

def _choose(key: str, path: tuple, make) -> None:
    apply(edit.set_path(state.get().spec, path, make(state.widget(key))))


def _registry_select(label: str, registry, value: str | None, path: tuple, make, none: str | None = None) -> None:
    options = ([none] if none else []) + registry.names()
    key = state.bind(keys.BUILD(*path), value if value in options else none)
    st.selectbox(label, options, key=key, on_change=_choose, args=(key, path, make),
                 help=" · ".join(f"{n}: {e.description}" for n, e in registry.items()))
    if value in registry:
        st.caption(registry.get(value).description)
    elif value is not None:
        st.error(f"{'.'.join(path)}: unknown {registry.what} '{plain(value)}'; choose one above.",
                 icon=":material/error:")


def training_settings() -> None:
    """Loss, optimizer (with its options), schedule, init and the run's numbers."""
    t = state.get().spec.get("train") or {}
    opt = t.get("optimizer") or {"type": "Adam"}
    sched = t.get("scheduler")
    left, middle, right = st.columns(3, gap="large")
    with left:
        _registry_select("Loss", LOSSES, t.get("loss", "cross_entropy"), ("train", "loss"), lambda v: v)
        _registry_select("Optimizer", OPTIMIZERS, opt.get("type", "Adam"), ("train", "optimizer"),
                         lambda v: {"type": v, "lr": opt.get("lr", 0.01), "weight_decay": opt.get("weight_decay", 0.0)})
        for p in TRAIN_PARAMS[:2]:
            param_widget(p, opt.get(p.name), ("train", "optimizer", p.name), "train.optimizer", LABELS[p.name],
                         slider=False)
        if opt.get("type") in OPTIMIZERS:
            for p in OPTIMIZERS.get(opt["type"]).params:
                param_widget(p, opt.get(p.name), ("train", "optimizer", p.name), f"train.optimizer ({opt['type']})")
    with middle:
        _registry_select("Learning-rate schedule", SCHEDULERS, sched.get("type") if sched else None,
                         ("train", "scheduler"), lambda v: None if v == "none" else {"type": v}, none="none")
        if sched and sched.get("type") in SCHEDULERS:
            for p in SCHEDULERS.get(sched["type"]).params:
                param_widget(p, sched.get(p.name), ("train", "scheduler", p.name), f"train.scheduler ({sched['type']})")
        _registry_select("Weight init", INITS, t.get("init", "default"), ("train", "init"), lambda v: v)
    with right:
        for p in TRAIN_PARAMS[2:]:
            param_widget(p, t.get(p.name), ("train", p.name), "train", LABELS[p.name], slider=False)


# ---- import and export -------------------------------------------------------------------------

def import_json(raw: bytes, name: str = "the file") -> dict:
    """A spec dict from an uploaded JSON file, or a PlaygroundError naming the file and the field."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpecError(f"{name} is not UTF-8 text; is it a spec saved from here?") from None
    try:
        return from_json(text).to_dict()
    except SpecError as e:
        raise SpecError(f"{name}: {e.message}", path=e.path, layer=e.layer) from None


def _imported() -> None:
    f = state.widget(IMPORT)
    if f is None:
        return
    try:
        spec = import_json(f.getvalue(), f.name)
    except PlaygroundError as e:
        _notice("error", f"Not opened: {e.message}. Your current setup is unchanged.")
        return
    apply(spec, select=None)
    _notice("success", f"Opened {f.name}. Undo goes back to the setup you had.")


def _preset() -> None:
    name = state.widget(PRESET)
    if name:
        apply(presets.get(name).to_dict(), select=None)
        state.set_widget(PRESET, None)


def slug(spec: dict) -> str:
    """A file name stem from the spec's name."""
    return re.sub(r"[^a-z0-9]+", "-", str(spec.get("name", "")).lower()).strip("-")[:60] or "playground"


def python_code(spec: dict, access: Access | None = None) -> str:
    """The standalone PyTorch script for `spec` (a comment with the reason when it cannot be written)."""
    try:
        from playground.export import to_python
        with using(access or Access()):  # the session's own uploads (read while the page draws: Streamlit may
            return to_python(from_dict(spec))  # call this later, outside the script's thread)
    except PlaygroundError as e:
        return f"# This setup cannot be exported yet: {e.message}\n"
    except Exception as e:  # a download must never end in a traceback
        return f"# This setup could not be exported ({type(e).__name__}: {e})\n"


def toolbar(result: Check) -> None:
    """Name, undo and redo, open (a file or a preset), and download as JSON or Python."""
    s = state.get()
    row = st.columns([3, 1, 1, 1.1, 1.1, 1.2], vertical_alignment="bottom", gap="small")
    key = state.bind(keys.BUILD("name"), short(s.spec.get("name", ""), 120))
    row[0].text_input("Name", key=key, max_chars=120,
                      on_change=lambda: apply(edit.set_path(state.get().spec, ("name",),
                                                            state.widget(key) or "Untitled")))
    row[1].button("Undo", key=keys.BUILD("undo"), icon=":material/undo:", disabled=not s.history, on_click=state.undo,
                  width="stretch")
    row[2].button("Redo", key=keys.BUILD("redo"), icon=":material/redo:", disabled=not s.future, on_click=state.redo,
                  width="stretch")
    with row[3].popover("Open", icon=":material/folder_open:", width="stretch"):
        st.file_uploader("A spec saved as JSON", type=["json"], key=IMPORT, on_change=_imported,
                         max_upload_size=1)
        names = dict(presets.listing())
        st.selectbox("Or start from a preset", list(names), index=None, format_func=names.get, key=PRESET,
                     placeholder="Choose a preset…", on_change=_preset)
    spec = s.spec
    row[4].download_button("JSON", json.dumps(spec, indent=2), file_name=f"{slug(spec)}.json",
                           mime="application/json", key=keys.BUILD("dl-json"), icon=":material/download:",
                           on_click="ignore", width="stretch", help="Download this setup as a spec file")
    access = state.uploads()
    row[5].download_button("Python", lambda: python_code(spec, access), file_name=f"{slug(spec)}.py",
                           mime="text/x-python", key=keys.BUILD("dl-py"), icon=":material/code:", on_click="ignore",
                           width="stretch", disabled=not result.ok, help="A standalone PyTorch script of this model"
                           if result.ok else "Available once the setup builds")
