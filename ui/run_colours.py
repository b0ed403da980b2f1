"""One colour per run, the same on every page: a shipped run by its step, a user's run by its id."""

from __future__ import annotations

import zlib

from mnist_core.common.paths import ASSETS_DIR
from mnist_core.runs.store import Run

# Shipped Steps 1-7, in the lesson's order, each a colour no user's run is drawn in.
SHIPPED_COLOURS = {1: "#7f7f7f", 2: "#1f77b4", 3: "#2ca02c", 4: "#9467bd", 5: "#111111", 6: "#b8860b", 7: "#556b2f"}
# Users' runs: colours no shipped run uses, picked by a stable hash of the run id.
USER_COLOURS = ("#d62728", "#ff7f0e", "#e377c2", "#17becf", "#8c564b", "#bcbd22", "#f0027f", "#1b9e77")


def is_shipped(run: Run) -> bool:
    return run.path.resolve().parent == ASSETS_DIR


def run_colour(run: Run) -> str:
    if is_shipped(run):
        return SHIPPED_COLOURS.get(run.config.step, "#444444")
    return USER_COLOURS[zlib.crc32(run.run_id.encode()) % len(USER_COLOURS)]


def colours_of(runs: dict[str, Run]) -> dict[str, str]:
    """label -> colour for a dict of labelled runs, ready for ui.charts."""
    return {label: run_colour(run) for label, run in runs.items()}
