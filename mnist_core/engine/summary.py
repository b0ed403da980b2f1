"""A layer-by-layer model summary, numbered like torchsummary's (``Conv2d-1``, ``ReLU-2``).

Forward hooks on every leaf module record each call's output shape while one dummy
image passes through; the parameters are those the module owns.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class SummaryRow:
    layer: str  # e.g. "Conv2d-1": type and 1-based position among all leaf calls
    output_shape: tuple[int, ...]  # without the batch dimension
    params: int


def summarize(model: nn.Module, input_shape: tuple[int, ...] = (1, 28, 28)) -> list[SummaryRow]:
    """Run one zero image through ``model`` and return a row per leaf-module call."""
    rows: list[SummaryRow] = []

    def record(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        params = sum(p.numel() for p in module.parameters(recurse=False) if p.requires_grad)
        name = f"{module.__class__.__name__}-{len(rows) + 1}"
        rows.append(SummaryRow(name, tuple(output.shape[1:]), params))

    leaves = [m for m in model.modules() if not list(m.children())]
    handles = [m.register_forward_hook(record) for m in leaves]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *input_shape, device=next(model.parameters()).device))
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return rows


def summary_records(model: nn.Module) -> list[dict]:
    """The summary as plain dicts, ready for a table: layer, output shape, params."""
    return [
        {"layer": row.layer, "output_shape": " x ".join(map(str, row.output_shape)), "params": row.params}
        for row in summarize(model)
    ]
