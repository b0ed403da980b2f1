"""*Inside the network*: the sections of the page, each drawing what the core computed for one input.

Heavy results are cached per (checkpoint, input) with ``st.cache_data``; each computation
works on its own copy of the model (``inside_sources.model_copy``).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from mnist_core.explain import activations, attribution, filters, readout
from mnist_core.explain.inference import normalize_field
from mnist_core.explain.sheet import MAP_KINDS  # drawn as maps; the GAP is a vector

from . import inside_charts as charts
from .inside_sources import InputDigit, ModelChoice, _load, model_copy
from .presentation import plot, presenting

PAGE_ROW_PX, PROJECTOR_ROW_PX = 84, 120  # height of one row of feature maps (presentation mode adds a quarter)


@st.cache_data(show_spinner=False, max_entries=64)
def _explain(key: tuple[str, int], pixels: np.ndarray):
    """Feature maps and readout of one input (the model is named by ``key``, its file and mtime)."""
    import copy

    model = copy.deepcopy(_load(*key))
    image = normalize_field(pixels)
    views = activations.layer_views(model)
    return activations.feature_maps(model, image, views), readout.readout(model, image)


@st.cache_data(show_spinner=False, max_entries=64)
def _attributions(key: tuple[str, int], pixels: np.ndarray, target: int) -> attribution.Attributions:
    import copy

    return attribution.attributions(copy.deepcopy(_load(*key)), pixels, target)


def explain(choice: ModelChoice, digit: InputDigit):
    return _explain(choice.key, digit.pixels)


def verdict(digit: InputDigit, result: readout.Readout) -> str:
    p = result.probabilities
    said = f"The model says **{result.predicted}** ({p[result.predicted]:.1%})"
    if digit.true is None:
        return said + "."
    if digit.true == result.predicted:
        return said + f": right, it is a {digit.true}."
    return said + f", but it is a **{digit.true}** (which gets {p[digit.true]:.1%}): a mistake."


def header(choice: ModelChoice, digit: InputDigit, result: readout.Readout) -> None:
    left, right = st.columns([1, 3], gap="large")
    with left:
        # Two lines: on one, the projector's type cut the title at the narrow column's edge.
        plot(charts.input_figure(digit.pixels, "What the model sees<br>(28×28)", height=290),
             key="inside_input_figure", config={"displayModeBar": False})
    with right:
        st.markdown(f"**{choice.label}** on {digit.label}. " + verdict(digit, result))
        order = np.argsort(-result.probabilities)[:3]
        st.caption("Top three: " + ", ".join(f"{d}: {result.probabilities[d]:.1%}" for d in order))
        st.markdown(
            "Below, in the order the network computes them: what each layer makes of this digit, one unit's "
            "field, the filters, how the last layer reads the answer out, where the model looks, and where "
            "this digit sits among thousands of others.")


def feature_maps(maps: list[activations.FeatureMap]) -> None:
    st.markdown("Each small square is one channel's map after the layer, drawn with **one colour scale per "
                "layer** (the bar on its right), so channels of a layer can be compared; hover for values. "
                "*Field* is how many input pixels one unit of the layer sees.")
    for fmap in maps:
        view = fmap.view
        title = f"<b>{view.label}</b> — {view.description}"
        if view.kind in MAP_KINDS:
            # The gutters between rows are sized for the channel numbers at the projector's type size.
            # Taller rows on a projector: the maps are drawn as tall as the rows allow, and at the page's
            # height they sat small in the middle of a wide screen.
            rows_px = PROJECTOR_ROW_PX if presenting() else PAGE_ROW_PX
            plot(charts.feature_map_figure(fmap.values, title, height_per_row=rows_px), key=f"inside_map_{view.name}")
        elif view.kind == "gap":
            plot(charts.vector_figure(fmap.values[:, 0, 0], title + " (one number per channel)"), key="inside_map_gap")


def unit_picker(choice: ModelChoice, digit: InputDigit, maps: list[activations.FeatureMap]) -> None:
    st.markdown("Choose a layer, a channel and a position: the dashed box is the unit's **receptive field** (the "
                "analytic one, as on *Receptive field*), the colours are its **gradient with respect to each input "
                "pixel** (red: more ink there would raise the unit, blue: lower it). Where a ReLU upstream is "
                "off, the gradient is zero even inside the box.")
    shown = [m for m in maps if m.view.kind in MAP_KINDS]
    names = [m.view.name for m in shown]
    default = names.index("block4") if "block4" in names else 0
    cols = st.columns(4)
    name = cols[0].selectbox("Layer", names, index=default, key="inside_unit_layer",
                             format_func=lambda n: shown[names.index(n)].view.label)
    fmap = shown[names.index(name)]
    c, h, w = fmap.values.shape
    strongest = np.unravel_index(fmap.values.argmax(), fmap.values.shape)
    channel = cols[1].number_input(f"Channel (0-{c - 1})", 0, c - 1, int(strongest[0]), key=f"inside_unit_c_{name}")
    best_y, best_x = np.unravel_index(fmap.values[channel].argmax(), (h, w))
    y = cols[2].number_input(f"Row (0-{h - 1})", 0, h - 1, int(best_y), key=f"inside_unit_y_{name}_{channel}")
    x = cols[3].number_input(f"Column (0-{w - 1})", 0, w - 1, int(best_x), key=f"inside_unit_x_{name}_{channel}")
    unit = activations.unit_field(model_copy(choice), normalize_field(digit.pixels), fmap.view, int(channel),
                                  int(y), int(x))
    top, left, bottom, right = unit.box
    inside = f"rows {max(top, 0)}-{min(bottom, 27)}, columns {max(left, 0)}-{min(right, 27)}"
    st.markdown(f"**{name}, channel {channel}, unit ({y}, {x})**: activation **{unit.activation:.3f}**; "
                f"receptive field {fmap.view.receptive_field}×{fmap.view.receptive_field} ({inside} of the input).")
    a, b = st.columns(2, gap="large")
    with a:
        if unit.straightened is None:
            background, title = digit.pixels, "Its field on the input, and its gradient"
        else:  # the convolutions see the deskewed digit: the field and the gradient lie on it
            background, title = unit.straightened, "Its field on the straightened digit, and its gradient"
        plot(charts.input_figure(background, title, unit.box, unit.gradient, "d unit / d ink", height=380),
             key="inside_unit_field")
    with b:
        values = fmap.values[channel]
        fig = charts.feature_map_figure(values[None], f"Channel {channel} of {name}: the unit is ringed")
        fig.add_shape(type="rect", x0=x - 0.5, y0=y - 0.5, x1=x + 0.5, y1=y + 0.5, line=dict(color="#ff1744", width=3))
        fig.update_layout(height=380)
        plot(fig, key="inside_unit_map")


def filter_section(choice: ModelChoice) -> None:
    sets = filters.filter_sets(_load(*choice.key))  # reading weights only: no hooks, no copy needed
    st.markdown("The **first layer's 3×3 kernels** look at the pixels themselves: red weights add the ink under "
                "them, blue ones subtract it, so each kernel is a small stroke or edge detector. A **depthwise** "
                "kernel does the same on one channel. A **1×1 (pointwise)** convolution has no picture: it is a "
                "matrix saying how much of each input channel goes into each output channel.")
    for found in sets:
        if found.weights.ndim == 3:
            plot(charts.kernels_figure(found.weights, f"<b>{found.name}</b>: {found.kind} kernels, one per channel"),
                 key=f"inside_filter_{found.name}")
        else:
            rows, cols = found.weights.shape
            plot(charts.matrix_figure(found.weights, f"<b>{found.name}</b>: {found.kind} mixing matrix "
                                                     f"({rows} out × {cols} in)", "out channel", "in channel"),
                 key=f"inside_filter_{found.name}")


def readout_section(digit: InputDigit, result: readout.Readout) -> None:
    c = len(result.pooled)
    st.markdown(f"The global average pool turns the last block's {c} maps into **{c} numbers**. The classifier, "
                f"a 1×1 convolution, is a 10×{c} matrix: each digit's **logit** is the sum, over channels, of "
                "weight × pooled value, and the softmax turns the ten logits into probabilities. Read a row of the "
                "matrix against the pooled vector above it: a large pooled value under a red weight votes for "
                "that digit. Red bars: the model's answer; green: the true digit.")
    plot(charts.readout_figure(result.pooled, result.weights, result.logits, result.probabilities,
                               result.predicted, digit.true), key="inside_readout")
    votes = {f"votes for {result.predicted} (the answer)": result.contributions(result.predicted)}
    if digit.true is not None and digit.true != result.predicted:
        votes[f"votes for {digit.true} (the true digit)"] = result.contributions(digit.true)
    plot(charts.contributions_figure(votes), key="inside_votes")
    lines = []
    for label, values in votes.items():
        top = np.argsort(-values)[:3]
        lines.append(f"- {label.split(' (')[0].capitalize()}: logit {values.sum():+.2f}; strongest channels "
                     + ", ".join(f"{k} ({values[k]:+.2f})" for k in top))
    st.markdown("\n".join(lines))


def attribution_section(choice: ModelChoice, digit: InputDigit, result: readout.Readout) -> None:
    targets = [result.predicted] + ([digit.true] if digit.true is not None and digit.true != result.predicted else [])
    if len(targets) == 1:  # the answer is right (or the truth unknown): nothing to choose between
        target = targets[0]
        st.markdown(f"Explaining the class **{target}** (the answer).")
    else:
        target = st.radio("Explain the class", targets, horizontal=True, key="inside_attr_target",
                          format_func=lambda d: f"{d} (the answer)" if d == result.predicted
                          else f"{d} (the true digit)")
    maps = _attributions(choice.key, digit.pixels, int(target))
    h, w = maps.grad_cam_layer.shape
    grad_cam_title = f"Grad-CAM on {maps.layer} ({h}×{w}, upsampled)"
    plot(charts.attribution_figure({
        grad_cam_title: (maps.grad_cam, "logit"),
        "gradient × input": (maps.gradient_x_input, "score per ink"),
        f"occlusion ({attribution.OCCLUSION_PATCH}×{attribution.OCCLUSION_PATCH} patch)": (maps.occlusion,
                                                                                          "probability drop"),
    }, digit.pixels, outlines=None if maps.straightened is None else {grad_cam_title: maps.straightened}),
        key="inside_attr")
    st.caption(
        f"One legend for all three: **red argues for {target}, blue against, white neither**; each map keeps its own "
        f"raw scale (bar beside it), nothing is rescaled to 0-1. Grad-CAM (Captum's LayerGradCam, without the final "
        f"ReLU so evidence against shows too): {maps.layer}'s channels weighted by the mean gradient of {target}'s "
        f"logit, in logit units, range {maps.grad_cam_layer.min():+.3f} to {maps.grad_cam_layer.max():+.3f}. "
        f"Gradient × input: ink times the gradient of {target}'s score, range {maps.gradient_x_input.min():+.3f} to "
        f"{maps.gradient_x_input.max():+.3f}. Occlusion (Captum): a blank {attribution.OCCLUSION_PATCH}-pixel patch "
        f"slides in steps of {attribution.OCCLUSION_STRIDE}; each pixel shows the mean drop in {target}'s "
        f"probability over the patches that cover it, largest {maps.occlusion.max():.1%}."
        + ("" if maps.straightened is None else
           " This network deskews each digit first, so its blocks work on the straightened digit: Grad-CAM is drawn "
           "on that outline, the other two on the digit as it came in."))
