"""One picture of everything *Inside the network* shows for one digit, for a teacher's slides.

A fixed-size PNG (``SHEET_SIZE`` pixels, whatever the step): along the top the input as
the model sees it, the read-out (pooled vector, the 10 x C classifier weights, the ten
probabilities) and the Grad-CAM of the answer on the last block; below, one strip per
layer with every channel's map on that layer's own colour scale, named with its shape and
receptive field. Drawn with matplotlib's Agg backend, so no display is needed. No Streamlit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from torch import nn

from mnist_core.explain.activations import feature_maps, layer_views, mosaic
from mnist_core.explain.attribution import Logits, grad_cam, last_block
from mnist_core.explain.inference import normalize_field, straightened
from mnist_core.explain.readout import readout

SHEET_INCHES = (16.0, 20.0)
SHEET_DPI = 100
SHEET_SIZE = (int(SHEET_INCHES[0] * SHEET_DPI), int(SHEET_INCHES[1] * SHEET_DPI))  # (width, height) in pixels
# The layers drawn as maps, here and on the page (the GAP is a vector).
MAP_KINDS = ("deskew", "block", "depthwise", "maxpool", "transition")


def _strip(values: np.ndarray) -> np.ndarray:
    """All channels in one row: a wide strip for a wide page."""
    return mosaic(values, values.shape[0])[0]


def write_sheet(model: nn.Module, pixels: np.ndarray, title: str, out: Path | str, true: int | None = None) -> Path:
    """Draw the sheet for ``pixels`` ((28, 28) ink in [0, 1]) and write it to ``out`` as a PNG."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    image = normalize_field(pixels)
    model.eval()
    views = layer_views(model)
    maps = [m for m in feature_maps(model, image, views) if m.view.kind in MAP_KINDS]
    result = readout(model, image)
    cam_layer = last_block(views)
    _, cam = grad_cam(Logits(model), model.get_submodule(cam_layer), image, result.predicted)

    fig = plt.figure(figsize=SHEET_INCHES, dpi=SHEET_DPI)
    verdict = f"answer {result.predicted} ({result.probabilities[result.predicted]:.1%})"
    if true is not None:
        verdict += ", right" if true == result.predicted else f", but it is a {true}: a mistake"
    fig.suptitle(f"{title}: {verdict}", fontsize=16, x=0.02, ha="left", y=0.99)

    top, band = 0.955, 0.2  # the top band: input, read-out, Grad-CAM
    ax = fig.add_axes((0.02, top - band, 0.14, band))
    ax.imshow(pixels, cmap="gray", vmin=0, vmax=1)
    ax.set_title("input (28×28)", fontsize=11)
    ax.axis("off")

    c = len(result.pooled)
    ax = fig.add_axes((0.21, top - 0.03, 0.36, 0.025))
    ax.imshow(result.pooled[None, :], cmap="viridis", aspect="auto")
    ax.set_title(f"pooled vector ({c}) → classifier weights (10×{c}) → probabilities", fontsize=11)
    ax.set_yticks([])
    ax.set_xticks(range(c))
    ax.tick_params(labelsize=7)
    ax = fig.add_axes((0.21, top - band, 0.36, band - 0.045))
    peak = float(np.abs(result.weights).max()) or 1.0
    shown = ax.imshow(result.weights, cmap="RdBu_r", vmin=-peak, vmax=peak, aspect="auto")
    ax.set_yticks(range(10))
    ax.set_xticks(range(c))
    ax.tick_params(labelsize=7)
    ax.set_ylabel("digit")
    ax.set_xlabel("channel")
    fig.colorbar(shown, ax=ax, fraction=0.04, pad=0.01).ax.tick_params(labelsize=7)

    ax = fig.add_axes((0.62, top - band, 0.13, band))
    colours = ["#d62728" if d == result.predicted else ("#2ca02c" if d == true else "#9aa5b1") for d in range(10)]
    ax.barh(range(10), result.probabilities, color=colours)
    ax.set_yticks(range(10))
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_title("softmax", fontsize=11)
    ax.tick_params(labelsize=8)

    ax = fig.add_axes((0.79, top - band, 0.19, band))
    straight = straightened(model, pixels)  # a network that deskews: its last block works on the straightened digit
    ax.imshow(pixels if straight is None else straight, cmap="gray", vmin=0, vmax=1)
    limit = float(np.abs(cam).max()) or 1.0
    shown = ax.imshow(cam, cmap="RdBu_r", vmin=-limit, vmax=limit, alpha=0.6)
    ax.set_title(f"Grad-CAM of {result.predicted} on {cam_layer} (logit units)"
                 + ("" if straight is None else ",\non the straightened digit"), fontsize=11)
    ax.axis("off")
    fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.02).ax.tick_params(labelsize=7)

    rows_top, rows_bottom = top - band - 0.04, 0.01  # one strip per layer below
    height = (rows_top - rows_bottom) / len(maps)
    for k, fmap in enumerate(maps):
        y = rows_top - (k + 1) * height
        ax = fig.add_axes((0.02, y, 0.9, height * 0.72))
        values = fmap.values
        shown = ax.imshow(_strip(values), cmap="viridis", vmin=float(values.min()),
                          vmax=float(values.max()) if values.max() > values.min() else float(values.min()) + 1)
        ax.set_anchor("W")
        ax.axis("off")
        ax.set_title(f"{fmap.view.label} — {fmap.view.description}", fontsize=10, loc="left")
        bar = fig.add_axes((0.935, y, 0.01, height * 0.72))
        fig.colorbar(shown, cax=bar).ax.tick_params(labelsize=7)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png", dpi=SHEET_DPI)
    plt.close(fig)
    return out
