"""*Inside the network*: where the classes separate, two models side by side.

Each model's pooled features of the first N test digits (plus the digit being looked at,
ringed in black) are projected to 2-D: PCA at once, t-SNE on request, after which the
result is read from a file beside the run. Mistakes are crosses; hovering a point shows
the digit itself (Vega-Lite draws a tooltip field named ``image`` as a picture).
"""

from __future__ import annotations

import copy
import time

import numpy as np
import pandas as pd
import streamlit as st

from mnist_core.explain import projection
from mnist_core.explain.digits import TestDigits

from . import inside_charts as charts
from .inside_sources import InputDigit, ModelChoice, _load, digits, run_choices, shipped_choices
from .presentation import font_px

COUNTS = (500, 1_000, 2_000, 5_000, 10_000)
DEFAULT_PAIR = (1, 4)  # the lesson's first network and its last: the clusters tighten in between


@st.cache_data(show_spinner=False, max_entries=16)
def _features(key: tuple[str, int], count: int, extra: int | None) -> tuple[projection.PooledFeatures, np.ndarray]:
    collection = digits()
    positions = _positions(collection, count, extra)
    model = copy.deepcopy(_load(*key))
    return projection.pooled_features(model, collection.normalised(positions)), positions


def _positions(collection: TestDigits, count: int, extra: int | None) -> np.ndarray:
    """The first ``count`` digits, and the digit being looked at if it is not among them."""
    positions = np.arange(min(count, len(collection)))
    if extra is not None and extra not in positions:
        positions = np.append(positions, extra)
    return positions


@st.cache_data(show_spinner=False, max_entries=32)
def _image_urls(count: int, extra: int | None) -> list[str]:
    collection = digits()
    return [charts.digit_data_url(collection.images[p]) for p in _positions(collection, count, extra)]


def _frame(collection: TestDigits, positions: np.ndarray, coordinates: np.ndarray, predictions: np.ndarray,
           urls: list[str], current: int | None) -> pd.DataFrame:
    labels = collection.labels[positions]
    return pd.DataFrame({
        "x": coordinates[:, 0], "y": coordinates[:, 1], "digit": labels.astype(str),
        "mistake": np.where(predictions == labels, "right", "mistake"),
        "label": [f"#{collection.indices[p]}: a {t}" + ("" if t == q else f", taken for a {q}")
                  for p, t, q in zip(positions, labels, predictions, strict=True)],
        "image": urls, "current": positions == current if current is not None else np.zeros(len(positions), bool),
    })


def _one_side(choice: ModelChoice, count: int, method: str, current: int | None, column) -> None:
    collection = digits()
    started = time.perf_counter()
    pooled, positions = _features(choice.key, count, current)
    if method == "PCA":
        result = projection.pca_2d(pooled.features)
        took = time.perf_counter() - started
        axes = (f"PC 1 ({result.explained[0]:.0%} of the variance)", f"PC 2 ({result.explained[1]:.0%})")
        note = f"Features and PCA in {took:.2f} s."
    else:
        indices = collection.indices[positions]
        cache_file = projection.tsne_cache_file(choice.cache_dir, choice.checkpoint, indices)
        if not cache_file.is_file() and not st.session_state.get("inside_tsne_go"):
            column.info(f"t-SNE of {len(positions):,} digits has not been computed for {choice.label} yet.")
            return
        with column, st.spinner(f"t-SNE of {len(positions):,} digits for {choice.label} (once; then it is "
                                "read from disk)…"):
            result, cached = projection.cached_tsne(pooled.features, cache_file)
        took = time.perf_counter() - started
        axes = ("t-SNE 1", "t-SNE 2")
        note = f"t-SNE {'read from the cache' if cached else 'computed and cached'} in {took:.1f} s."
    wrong = int((pooled.predictions != collection.labels[positions]).sum())
    frame = _frame(collection, positions, result.coordinates, pooled.predictions, _image_urls(count, current),
                   current)
    with column:
        spec = charts.projection_spec(f"{choice.label}: {method}", *axes, font_px=font_px())
        st.vega_lite_chart(frame, spec, width="stretch", key=f"inside_projection_{choice.label}_{method}")
        st.caption(f"{len(positions):,} digits, {wrong} of them mistakes (crosses). {note}")


def projection_section(choice: ModelChoice, digit: InputDigit) -> None:
    collection = digits()
    st.markdown("The classifier only sees the pooled vector, so a network that separates the digits well puts "
                "each class in its own region of that space. Each dot is one test digit's pooled vector "
                "projected to 2-D, coloured by its true digit; **crosses are the model's mistakes**; the digit you "
                "are looking at is **ringed in black**; hover a dot to see the digit.")
    if not collection.full:
        st.warning(f"The MNIST data set is not on disk, so this map uses only {collection.source}. With the data "
                   "(`python -m mnist_core train` downloads it) it shows up to 10,000 test digits.")
    options = {**{c.label: c for c in shipped_choices().values()}, **{c.label: c for c in run_choices().values()}}
    labels = list(options)
    by_step = {c.step: label for label, c in options.items() if c.shipped}
    cols = st.columns([2, 2, 2, 3])
    left_label = cols[0].selectbox("Left", labels, index=labels.index(by_step.get(DEFAULT_PAIR[0], labels[0])),
                                   key="inside_proj_left")
    right_label = cols[1].selectbox("Right", labels, index=labels.index(by_step.get(DEFAULT_PAIR[1], labels[-1])),
                                    key="inside_proj_right")
    count = cols[2].select_slider("Test digits", COUNTS, value=projection.DEFAULT_COUNT, key="inside_proj_count",
                                  disabled=not collection.full)
    method = cols[3].radio("Projection", ("PCA", "t-SNE"), horizontal=True, key="inside_proj_method",
                           help="PCA: the two directions of largest spread, exact and instant. t-SNE keeps "
                                "neighbours together, which shows clusters better; it takes a while once per "
                                "model and number of digits, then it is read from disk.")
    if method == "t-SNE":
        st.button("Compute t-SNE where it is missing", key="inside_tsne_go")
    current = collection.position(digit.test_index) if digit.test_index is not None else None
    if digit.test_index is not None and current is None:
        st.caption(f"Test digit #{digit.test_index} is not among the digits on disk, so it cannot be ringed.")
    left, right = st.columns(2, gap="large")
    for label, column in ((left_label, left), (right_label, right)):
        _one_side(options[label], count if collection.full else len(collection), method, current, column)
