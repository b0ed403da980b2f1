"""Step 2's story: the spread of every block's output for the shipped Step 1 and Step 2 models.

Drawn from one batch of test digits (the bundled ten when MNIST is not on disk), so the
Analysis' point, that without normalisation each layer works at whatever scale the one
before it produced, can be seen and not only read. Every number in the text is measured here.
"""

from __future__ import annotations

import streamlit as st

from mnist_core.common.paths import shipped_run_path
from mnist_core.engine.checkpoints import CheckpointError, load_checkpoint
from mnist_core.explain.digits import test_digits
from mnist_core.explain.spread import block_spreads, shared_histograms

from . import presentation
from .charts import readable
from .inside_charts import spread_figure

BATCH = 512  # test digits: enough for smooth histograms, a fraction of a second per model
PAIR = (1, 2)


@st.cache_data(show_spinner="Measuring the activations…")
def _spreads(mtimes: tuple[int, ...]):
    digits = test_digits()
    images = digits.normalised(slice(0, BATCH))
    measured = {}
    for step in PAIR:
        model, _ = load_checkpoint(shipped_run_path(step) / "model.pt")
        measured[step] = block_spreads(model, images)
    return measured, len(images), digits.source


def render() -> None:
    paths = [shipped_run_path(step) / "model.pt" for step in PAIR]
    if not all(path.is_file() for path in paths):
        return
    try:
        measured, count, source = _spreads(tuple(path.stat().st_mtime_ns for path in paths))
    except CheckpointError as exc:
        st.warning(f"The activation histograms cannot be drawn: {exc}")
        return
    plain, normed = measured[PAIR[0]], measured[PAIR[1]]
    st.subheader("What BatchNorm does to each layer's output")
    names = [spread.name for spread in plain]
    edges_and_hists = {}
    hists: dict[str, list] = {"Step 1 (no BatchNorm)": [], "Step 2 (BatchNorm)": []}
    for a, b in zip(plain, normed, strict=True):
        edges, (ha, hb) = shared_histograms([a, b])
        edges_and_hists[a.name] = edges
        hists["Step 1 (no BatchNorm)"].append(ha)
        hists["Step 2 (BatchNorm)"].append(hb)
    low_1, high_1 = min(s.std for s in plain), max(s.std for s in plain)
    low_2, high_2 = min(s.std for s in normed), max(s.std for s in normed)
    st.markdown(
        f"Every value each 3×3 block hands to the next layer, over {count} test digits, for the shipped "
        f"Step 1 and Step 2 networks. Without BatchNorm the spread (standard deviation) of a block's output "
        f"ranges from **{low_1:.2f} to {high_1:.2f}** across the six blocks, so each layer must work at a scale "
        f"the one before it happened to produce; with BatchNorm it stays between **{low_2:.2f} and {high_2:.2f}**.")
    figure = spread_figure([edges_and_hists[name] for name in names], hists, names)
    presentation.plot(readable(figure), key="step2_spread_histograms")
    rows = ["| block | Step 1 spread (std) | Step 2 spread (std) | Step 1 exact zeros | Step 2 exact zeros |",
            "|---|---:|---:|---:|---:|"]
    rows += [f"| {a.name} | {a.std:.2f} | {b.std:.2f} | {a.zero_share:.0%} | {b.zero_share:.0%} |"
             for a, b in zip(plain, normed, strict=True)]
    st.markdown("\n".join(rows))
    st.caption(f"Measured on {source}, model in eval mode (dropout off, BatchNorm with its running statistics). "
               "Histograms on a log scale, as shares of all the block's values; each panel's bins are shared by "
               "the two models and span the middle 99% of their values. Step 1's spike at zero "
               "is its ReLUs' output; Step 2 normalises after the ReLU, which moves it.")
