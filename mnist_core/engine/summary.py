"""A layer-by-layer model summary, numbered like torchsummary's (``Conv2d-1``, ``ReLU-2``).

Forward hooks on every leaf module record each call's output shape while one dummy
image passes through; the parameters are those the module owns. A module called more than
once (Step 7's weight-tied trial network uses one block's weights three times) owns its parameters
once: its later calls show 0 and name the row that counts them, so the rows add up to the
network's parameters.
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
    shares: str = ""  # a later call of a module already counted: the row that counts its parameters


def summarize(model: nn.Module, input_shape: tuple[int, ...] = (1, 28, 28)) -> list[SummaryRow]:
    """Run one zero image through ``model`` and return a row per leaf-module call."""
    rows: list[SummaryRow] = []
    first_call: dict[int, str] = {}  # id(module) -> the row of its first call

    def record(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        name = f"{module.__class__.__name__}-{len(rows) + 1}"
        shares = first_call.setdefault(id(module), name)
        params = 0 if shares != name else sum(p.numel() for p in module.parameters(recurse=False)
                                                if p.requires_grad)
        rows.append(SummaryRow(name, tuple(output.shape[1:]), params, "" if shares == name else shares))

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
    """The summary as plain dicts, ready for a table: layer, output shape, params, and, for a network that
    uses a layer's weights again, which row's weights each later use shares."""
    rows = summarize(model)
    shared = any(row.shares for row in rows)
    return [
        {"layer": row.layer, "output_shape": " x ".join(map(str, row.output_shape)), "params": row.params,
         **({"weights": f"shared with {row.shares}" if row.shares else ""} if shared else {})}
        for row in rows
    ]
