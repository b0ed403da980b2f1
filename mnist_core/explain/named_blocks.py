"""A design read as the explainers read the lesson's networks: its layers grouped into named blocks.

A step's network names its parts (``block1`` ... ``block6``, ``pool``, ``gap``, ``classifier``),
and *Inside the network* follows those names. A design from the designer is one unnamed list of
layers (``DesignNet.layers``). ``named_blocks`` groups that list the way the lesson builds its
blocks: a convolution with the BatchNorm, activation and dropout after it is a block (a depthwise
3x3 and the 1x1 right after it are one separable block), a pool is a pool, a pool to 1x1 is the
``gap``, and a last 1x1 convolution to the ten digits after it is the ``classifier``. The groups hold
the design's own modules (the same weights, nothing copied), so the grouped network computes
exactly what the design does. No Streamlit here.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mnist_core.engine.design import DesignNet
from mnist_core.engine.deskew import Deskew
from mnist_core.engine.specs import INPUT_SIZE, leaf_calls
from mnist_core.explain.activations import is_depthwise

_POOLS = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)


class NamedBlocks(nn.Module):
    """The groups of a design, called in order, then the log-probabilities, as ``DesignNet`` returns them."""

    def __init__(self, groups: list[tuple[str, nn.Module]]) -> None:
        super().__init__()
        for name, module in groups:
            self.add_module(name, module)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 1, 28, 28)
        for block in self.children():
            x = block(x)
        return F.log_softmax(x.flatten(1), dim=1)  # (B, 10)


def _is_pointwise_conv(module: nn.Module) -> bool:
    return isinstance(module, nn.Conv2d) and module.kernel_size == (1, 1) and module.groups == 1


def named_blocks(model: nn.Module) -> nn.Module:
    """``model`` itself, or for a design its layers grouped into named blocks (see the module's docstring)."""
    if not isinstance(model, DesignNet):
        return model
    calls = leaf_calls(model, INPUT_SIZE, 1)
    groups: list[tuple[str, list[nn.Module], tuple[int, ...]]] = []  # (kind, modules, output shape)
    for call in calls:
        module, kind = call.module, None
        if isinstance(module, Deskew):
            kind = "deskew"
        elif isinstance(module, nn.Conv2d):
            current = groups[-1][1] if groups and groups[-1][0] == "block" else []
            if len(current) == 1 and is_depthwise(current[0]) and _is_pointwise_conv(module):
                current.append(module)  # the 1x1 of a separable block joins its depthwise 3x3
                groups[-1] = ("block", current, call.out_shape)
                continue
            kind = "block"
        elif isinstance(module, _POOLS):
            kind = "gap" if call.out_shape[-2:] == (1, 1) else "pool"
        if kind is None and groups:  # BatchNorm, an activation, dropout: part of the block before it
            kind_before, modules, _ = groups[-1]
            groups[-1] = (kind_before, [*modules, module], call.out_shape)
            continue
        groups.append((kind or "block", [module], call.out_shape))
    # The last group is the classifier when it is one 1x1 convolution to the ten digits after the global pool.
    if (len(groups) >= 2 and groups[-2][0] == "gap" and len(groups[-1][1]) == 1
            and _is_pointwise_conv(groups[-1][1][0]) and groups[-1][2][1:] == (10, 1, 1)):
        groups[-1] = ("classifier", groups[-1][1], groups[-1][2])
    counts = {kind: sum(g[0] == kind for g in groups) for kind in ("block", "pool")}
    seen = {"block": 0, "pool": 0}
    named: list[tuple[str, nn.Module]] = []
    for kind, modules, _ in groups:
        if kind in seen:
            seen[kind] += 1
            name = f"{kind}{seen[kind]}" if kind == "block" or counts[kind] > 1 else kind
        else:
            name = kind if kind not in (n for n, _ in named) else f"{kind}{len(named)}"
        single = len(modules) == 1 and kind != "block"
        named.append((name, modules[0] if single else nn.Sequential(*modules)))
    return NamedBlocks(named)
