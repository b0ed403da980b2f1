"""A receptive field measured in the network itself, compared with the arithmetic, and the table as text.

The arithmetic lives in ``engine/fields.py``. Here the field is measured as the input pixels
whose gradient to one output unit is non-zero, in a copy of the network whose weights are all
positive, so that no path cancels.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from mnist_core.common.wording import count as count_words
from mnist_core.engine.fields import RFRow, RFTable
from mnist_core.engine.specs import INPUT_SIZE, POINTWISE_KINDS, leaf_calls, spec_from_module


def _probe(module: nn.Module, in_channels: int) -> nn.Module:
    """A copy of ``module`` that passes a gradient along every path its real self could use.

    Convolutions keep their geometry with all weights equal and positive (1 / fan-in, so
    values stay near 1 through many layers); pointwise layers become the identity, since
    they can only close a path, never open one; a max-pool becomes an all-ones depthwise
    convolution of the same geometry, because max-pool's own gradient goes to the one
    winner of each window and would measure which pixel won, not which pixels could.
    """
    spec = spec_from_module("", module)
    if spec.problem:
        raise ValueError(f"cannot measure through {type(module).__name__}: {spec.problem}")
    if spec.kind in POINTWISE_KINDS:
        return nn.Identity()
    if spec.kind == "conv":
        probe = copy.deepcopy(module).double()
        fan_in = probe.weight[0].numel()
        with torch.no_grad():
            probe.weight.fill_(1.0 / fan_in)
            if probe.bias is not None:
                probe.bias.zero_()
        return probe
    if spec.kind == "maxpool":
        probe = nn.Conv2d(in_channels, in_channels, spec.kernel, spec.stride, spec.padding, spec.dilation,
                          groups=in_channels, bias=False).double()
        with torch.no_grad():
            probe.weight.fill_(1.0 / spec.kernel**2)
        return probe
    return copy.deepcopy(module)  # average pools: already equal positive weights


def measure_field(model: nn.Module, layer: int, y: int, x: int, input_size: int = INPUT_SIZE,
                  in_channels: int = 1) -> np.ndarray:
    """|d unit / d input| for output unit (y, x) of leaf layer ``layer`` (an index into
    ``specs_from_model``), summed over the unit's channels and the input channels.

    Returns a float64 (input_size, input_size) array; the measured receptive field is where it
    is non-zero. The model itself is not changed.
    """
    calls = leaf_calls(model, input_size, in_channels)
    if not 0 <= layer < len(calls):
        raise ValueError(f"layer {layer} does not exist; the model has {len(calls)} layers")
    probes = [_probe(call.module, call.in_shape[1]) for call in calls[: layer + 1]]
    image = torch.ones(1, in_channels, input_size, input_size, dtype=torch.float64, requires_grad=True)
    out = image
    for probe in probes:
        out = probe(out)
    _, _, height, width = out.shape
    if not (0 <= y < height and 0 <= x < width):
        raise ValueError(f"unit ({y}, {x}) is outside layer {layer}'s {height}x{width} output")
    out[0, :, y, x].sum().backward()
    return image.grad[0].abs().sum(0).numpy()


def box_of(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """Bounding box (top, left, bottom, right) of the True pixels, or None if there are none."""
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        return None
    return int(rows.min()), int(cols.min()), int(rows.max()), int(cols.max())


def clip_box(box: tuple[int, int, int, int], size: int) -> tuple[int, int, int, int]:
    top, left, bottom, right = box
    return max(top, 0), max(left, 0), min(bottom, size - 1), min(right, size - 1)


@dataclass(frozen=True)
class FieldComparison:
    """The analytic field of one unit against the measured one, with the difference explained."""

    analytic: tuple[int, int, int, int]  # unclipped
    inside: tuple[int, int, int, int]  # the analytic box clipped to the image
    measured: tuple[int, int, int, int] | None
    measured_pixels: int
    explanation: str

    @property
    def agree(self) -> bool:
        return self.measured == self.inside


def compare_fields(row: RFRow, heat: np.ndarray, y: int, x: int) -> FieldComparison:
    """Compare ``row``'s analytic field of unit (y, x) with a ``measure_field`` result."""
    n = heat.shape[0]
    analytic = row.field_box(y, x)
    inside = clip_box(analytic, n)
    mask = heat > 0
    measured = box_of(mask)
    pixels = int(mask.sum())
    top, left, bottom, right = analytic
    size = row.rf_out
    parts = []
    if measured == inside:
        if inside == analytic:
            parts.append(f"The measured field is the analytic {size}x{size} box exactly.")
        else:
            h, w = inside[2] - inside[0] + 1, inside[3] - inside[1] + 1
            parts.append(
                f"The analytic field is {size}x{size} (rows {top}..{bottom}, columns {left}..{right}), but part of it "
                f"lies outside the {n}x{n} image, in the zero padding. Padding pixels are not inputs, so the "
                f"measured field is the part inside the image: {h}x{w}.")
    else:
        parts.append(f"The measured field {measured} differs from the analytic box {inside} (clipped to the image).")
    box_area = (inside[2] - inside[0] + 1) * (inside[3] - inside[1] + 1)
    if measured == inside and pixels < box_area:
        parts.append(f"Only {pixels} of the {box_area} pixels in the box reach this unit: dilation or a stride "
                     "larger than the kernel leaves gaps, so the field is a sparse grid, not a solid square.")
    return FieldComparison(analytic, inside, measured, pixels, " ".join(parts))



_COLUMNS = (("#", "index"), ("layer", "name"), ("n_in", "in_size"), ("k", "kernel"), ("s", "stride"),
            ("p", "padding"), ("d", "dilation"), ("n_out", "out_size"), ("j_in", "jump_in"), ("j_out", "jump_out"),
            ("r_in", "rf_in"), ("r_out", "rf_out"), ("start", "start_out"), ("ch", "out_channels"),
            ("params", "params"))


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int):
        return f"{value:,}" if value >= 10_000 else str(value)
    return str(value)


def shown_rows(table: RFTable, pointwise: bool = True) -> list[RFRow]:
    """The rows to show; without ``pointwise``, only layers that change the geometry (and rows with
    a problem), like the lesson's calculation sheet."""
    return [row for row in table.rows if pointwise or row.kind not in POINTWISE_KINDS or not row.ok]


def format_table(table: RFTable, pointwise: bool = True) -> str:
    """The table as fixed-width text, followed by the summary and any problems."""
    grid = [[header for header, _ in _COLUMNS]]
    grid += [[_cell(getattr(row, attr)) for _, attr in _COLUMNS] for row in shown_rows(table, pointwise)]
    widths = [max(len(line[i]) for line in grid) for i in range(len(_COLUMNS))]
    lines = ["  ".join(cell.ljust(w) if i == 1 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths,
                                                                                                    strict=True)))
             for line in grid]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    lines.append(f"Input {table.input_size}x{table.input_size}, {count_words(table.in_channels, 'channel')}; "
                 f"start = input pixel index of the centre of the first output's field.")
    lines.append(f"Parameters: {table.total_params:,} (all layers, shown or not)")
    lines.append(table.summary())
    lines += [f"Layer {row.index} ({row.name}): {row.problem}" for row in table.problems]
    lines += [f"Note: {note}" for note in table.notes]
    return "\n".join(lines)

