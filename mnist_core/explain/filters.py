"""The learned filters: the first layer's 3x3 kernels, the depthwise kernels and the 1x1 mixing matrices.

The first convolution sees the image itself, so its kernels can be drawn as tiny pictures
(one per output channel). A depthwise convolution (Step 5) also has one 3x3 kernel per
channel. A 1x1 (pointwise) convolution has no picture: it is a matrix that says how much
of each input channel goes into each output channel. Deeper full 3x3 convolutions mix many
channels with 9 weights each and are not listed: there is no honest single picture of them.
No Streamlit here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import nn


@dataclass(frozen=True)
class FilterSet:
    name: str  # the module's path, e.g. "block1.0"
    kind: str  # "first 3x3", "depthwise 3x3" or "pointwise 1x1"
    weights: np.ndarray  # (C, k, k) kernels, or (C_out, C_in) for a mixing matrix


def filter_sets(model: nn.Module) -> list[FilterSet]:
    """The model's drawable filters, in the order the modules were registered (the forward's order here)."""
    found: list[FilterSet] = []
    first = True
    for name, module in model.named_modules():
        if not isinstance(module, nn.Conv2d):
            continue
        weights = module.weight.detach().numpy().astype(np.float32)  # (C_out, C_in / groups, k, k)
        k = module.kernel_size[0]
        if first:
            first = False
            if module.in_channels == 1:
                found.append(FilterSet(name, f"first {k}x{k}", weights[:, 0]))
                continue
        if module.groups > 1 and module.groups == module.in_channels:
            found.append(FilterSet(name, f"depthwise {k}x{k}", weights[:, 0]))
        elif k == 1 and module.groups == 1:
            found.append(FilterSet(name, "pointwise 1x1", weights[:, :, 0, 0]))
    return found
