"""How spread out each block's outputs are over a batch of test digits: what BatchNorm changes.

Each block hands its output to the next one. Without normalisation (Step 1) the scale of
that output is whatever the weights happened to make it, and it differs from block to
block; with BatchNorm after each block (Step 2) every block's output is rescaled to a
learned, steady spread. ``block_spreads`` collects, for one model and one batch, every
3x3 block's outputs as a histogram on shared bins plus their standard deviation, so two
models can be drawn on the same axes. No Streamlit here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from mnist_core.explain.activations import capture, layer_views

HISTOGRAM_BINS = 60


@dataclass(frozen=True)
class BlockSpread:
    name: str  # "block1" ... "block6"
    values: np.ndarray  # every output value of the block over the batch, flattened (float32)

    @property
    def std(self) -> float:
        return float(self.values.std())

    @property
    def mean(self) -> float:
        return float(self.values.mean())

    @property
    def zero_share(self) -> float:
        """The share of exact zeros: a ReLU's output that no later layer can use."""
        return float((self.values == 0).mean())


def block_spreads(model: nn.Module, images: torch.Tensor) -> list[BlockSpread]:
    """Each 3x3 block's outputs for normalised ``images`` (B, 1, 28, 28), in call order."""
    names = [view.name for view in layer_views(model) if view.kind == "block"]
    outputs, _ = capture(model, images, names)
    return [BlockSpread(name, outputs[name].flatten().numpy().astype(np.float32)) for name in names]


def shared_histograms(spreads: list[BlockSpread], bins: int = HISTOGRAM_BINS) -> tuple[np.ndarray, list[np.ndarray]]:
    """Bin edges covering every spread's 0.5th to 99.5th percentile, and each spread's share per bin (the share
    of all its values, so the few outside the edges are left out rather than piled into the end bins)."""
    every = np.concatenate([spread.values for spread in spreads])
    low, high = np.percentile(every, [0.5, 99.5])
    if high <= low:
        high = low + 1.0
    edges = np.linspace(low, high, bins + 1)
    return edges, [np.histogram(s.values, edges)[0] / s.values.size for s in spreads]
