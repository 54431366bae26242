"""End-of-run reports drawn by kind (each task's report, playground/reports.py and gan.py, says its kind)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ui import keys
from ui.components.live_chart import PALETTE
from ui.text import short
from ui.views import described, images
from ui.views.described import shown
from ui.views.detect_report import report as boxes  # a detector's

FIGURE = {"height": 360, "margin": {"l": 60, "r": 10, "t": 50, "b": 50}}
REAL, FAKE = "#009E73", "#CC79A7"  # Okabe–Ito bluish green and reddish purple (the GAN lab's colours)
MASK = (0, 114, 178)  # Okabe–Ito blue: a predicted mask over an image


def confusion(r: dict, key: str) -> None:
    names = [short(n, 24) for n in r["classes"]]
    fig = go.Figure(go.Heatmap(z=r["matrix"], x=names, y=names, colorscale="Cividis", showscale=False,
                               text=r["matrix"], texttemplate="%{text}", hovertemplate=
                               "true %{y}, predicted %{x}: %{z}<extra></extra>"))
    fig.update_layout(title=f"Confusion matrix<br><sup>validation, accuracy {r['accuracy']:.1%}</sup>",
                      xaxis_title="predicted", yaxis_title="true", yaxis_autorange="reversed", **FIGURE)
    st.plotly_chart(fig, width="stretch", key=keys.RUN("cm", key))
    shown(*described.confusion(np.asarray(r["matrix"]), names), keys.RUN("cm", key))


def reconstruction(r: dict, key: str) -> None:
    """Validation images (top) and what the network rebuilt from them (below), same grey scale."""
    with st.container(key=keys.RUN("rec", key)):
        st.markdown(f"**Reconstructions** (validation, MSE {r['mse']:.4g})")
        st.image(images.grey_rows([r["inputs"], r["outputs"]]),
                 caption="Top: validation images. Below each: what the network rebuilt from it.",
                 alt="validation images above the network's reconstructions of them")


def regression(r: dict, key: str) -> None:
    lo, hi = min(r["true"] + r["pred"]), max(r["true"] + r["pred"])
    fig = go.Figure([go.Scatter(x=r["true"], y=r["pred"], mode="markers", name="validation samples",
                                marker={"color": PALETTE["train"], "size": 5, "opacity": 0.6}),
                     go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", name="perfect (predicted = true)",
                                line={"color": PALETTE["other"], "dash": "dash"})])
    fig.update_layout(title=f"Predicted vs. true<br><sup>validation, MSE {r['mse']:.4g}</sup>", xaxis_title="true",
                      yaxis_title="predicted", legend={"orientation": "h", "y": -0.2, "x": 0}, **FIGURE)
    st.plotly_chart(fig, width="stretch", key=keys.RUN("pvt", key))
    if r.get("figures"):  # a recommender's (playground/recommend.py): RMSE and recall@10, and the item-mean baseline's
        st.caption("Validation: " + ", ".join(f"{k} {v:.3g}" for k, v in r["figures"].items()))


def forecast(r: dict, key: str) -> None:
    """A few validation windows, each followed by the true next value and the predicted one."""
    fig = go.Figure()
    for i, (w, t, p) in enumerate(zip(r["windows"], r["next_true"], r["next_pred"], strict=True)):
        x = list(range(len(w)))
        first = i == 0
        fig.add_scatter(x=x, y=w, mode="lines", line={"color": PALETTE["other"], "width": 1.5}, xaxis=f"x{i + 1}",
                        yaxis=f"y{i + 1}", name="the window it reads", showlegend=first, legendgroup="w")
        fig.add_scatter(x=[len(w)], y=[t], mode="markers", marker={"color": PALETTE["train"], "size": 9},
                        xaxis=f"x{i + 1}", yaxis=f"y{i + 1}", name="true next value", showlegend=first,
                        legendgroup="t")
        fig.add_scatter(x=[len(w)], y=[p], mode="markers", marker={"color": PALETTE["val"], "size": 9,
                                                                   "symbol": "x"},
                        xaxis=f"x{i + 1}", yaxis=f"y{i + 1}", name="predicted", showlegend=first, legendgroup="p")
    n = len(r["windows"])
    layout = {f"xaxis{i + 1}": {"domain": [i / n + 0.01, (i + 1) / n - 0.01], "title": "step"} for i in range(n)}
    layout.update({f"yaxis{i + 1}": {"anchor": f"x{i + 1}"} for i in range(n)})
    fig.update_layout(title=f"Forecasts<br><sup>validation windows and the next value, MSE {r['mse']:.4g}</sup>",
                      legend={"orientation": "h", "y": -0.25, "x": 0}, **layout, **FIGURE)
    st.plotly_chart(fig, width="stretch", key=keys.RUN("fc", key))


def masks(r: dict, key: str) -> None:
    """Validation images with the true mask's outline and the predicted mask laid over them."""
    tiles = []
    for img, true, pred in zip(r["images"], r["true"], r["pred"], strict=True):
        rgb = images.grey(img).astype(np.float32)
        rgb[pred > 0.5] = rgb[pred > 0.5] * 0.45 + np.array(MASK) * 0.55
        edge = (true > 0.5) & ~_eroded(true > 0.5)
        rgb[edge] = (230, 159, 0)  # Okabe–Ito orange: the true mask's outline
        tiles.append(rgb.astype(np.uint8))
    side = images.scale_for(*tiles[0].shape[:2], target=96)
    row = np.concatenate([np.pad(images.upscale(t, side), ((2, 2), (2, 2), (0, 0)), constant_values=255)
                          for t in tiles], 1)
    with st.container(key=keys.RUN("masks", key)):
        st.markdown(f"**Predicted masks** (validation, mean IoU {r['mean_iou']:.3f}; the shape's own IoU "
                    f"{r['foreground_iou']:.3f})")
        st.image(images.png(row), caption="Blue: the pixels the network calls the shape; orange: the true outline.",
                 alt="validation images with the predicted mask in blue and the true outline in orange")


def _eroded(m: np.ndarray) -> np.ndarray:
    """A mask less its border pixels (4-neighbourhood)."""
    p = np.pad(m, 1)
    return m & p[:-2, 1:-1] & p[2:, 1:-1] & p[1:-1, :-2] & p[1:-1, 2:]


def gan_points(r: dict, key: str) -> None:
    """Made samples beside real ones, with the modes (filled where covered) when the data has them."""
    real, fake = np.asarray(r["real"]), np.asarray(r["fake"])
    fig = go.Figure([go.Scatter(x=real[:, 0], y=real[:, 1], mode="markers", name="real",
                                marker={"color": REAL, "size": 4, "opacity": 0.5}),
                     go.Scatter(x=fake[:, 0], y=fake[:, 1], mode="markers", name="generated",
                                marker={"color": FAKE, "size": 4, "opacity": 0.6})])
    sub = "validation samples and as many generated"
    if "centres" in r:
        c = np.asarray(r["centres"])
        covered = r["covered"]
        fig.add_scatter(x=c[:, 0], y=c[:, 1], mode="markers", name="modes (filled: covered)",
                        marker={"size": 14, "color": ["rgba(0,0,0,0.25)" if k else "rgba(0,0,0,0)" for k in covered],
                                "line": {"color": "#000", "width": 1.5}})
        sub = f"{r['modes_covered']} of {r['modes']} modes covered, {r['high_quality']:.0%} of samples near a mode"
    lim = r.get("range", 3)
    fig.update_layout(title=f"Generated vs. real<br><sup>{sub}</sup>", xaxis={"range": [-lim, lim], "title": "x₁"},
                      yaxis={"range": [-lim, lim], "title": "x₂", "scaleanchor": "x"},
                      legend={"orientation": "h", "y": -0.2, "x": 0}, **FIGURE)
    st.plotly_chart(fig, width="stretch", key=keys.RUN("gan", key))


def gan_images(r: dict, key: str) -> None:
    """A grid of generated images over a row of real ones."""
    fake, real = np.asarray(r["samples"]), np.asarray(r["real"])
    with st.container(key=keys.RUN("gan-images", key)):
        st.markdown("**Generated samples** (from fixed noise) and, below, real ones")
        st.image(images.grey_rows([fake[i:i + 8] for i in range(0, min(len(fake), 32), 8)] + [real[:8]], tile=36),
                 alt="four rows of generated digits above one row of real digits")


def sequences(r: dict, key: str) -> None:
    """A few validation sequences: input, target and predicted tokens (as text), and the split's scores."""
    st.markdown(f"**Sequences** (validation: exact match {r['exact_match']:.1%}, tokens right "
                f"{r['token_accuracy']:.1%})")
    st.dataframe([{k: short(v, 120) for k, v in row.items()} for row in r["rows"]], hide_index=True,
                 width="stretch", key=keys.RUN("seq", key))


KINDS = {"confusion": confusion, "reconstruction": reconstruction, "regression": regression, "forecast": forecast,
         "masks": masks, "gan_points": gan_points, "gan_images": gan_images, "boxes": boxes,
         "sequences": sequences}


def draw(r: dict, key: str) -> None:
    """The report `r` by its kind; a report that failed says so."""
    fn = KINDS.get(r.get("kind"))
    if fn is not None:
        fn(r, key)
    elif r.get("error"):
        st.caption(f"The end-of-run report could not be made: {short(str(r['error']), 200)}")
