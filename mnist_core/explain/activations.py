"""What every layer of a step's network makes of one input: feature maps, one unit's field and gradient.

The lesson's networks are a straight chain of named blocks (``block1`` ... ``block6``, a
max-pool, maybe a 1x1 ``transition``, a global average pool and the 1x1 ``classifier``).
``layer_views`` lists them in the order the forward pass calls them, each with its
receptive-field row from ``fields.model_table`` (so the size, jump and start of its units are
the analytic ones the Receptive field page shows) and its position in the model summary.
A separable block (Step 5) also shows its depthwise convolution on its own, before the
pointwise one mixes the channels. ``capture`` runs the model with forward hooks on the
named modules and removes them before it returns, even when the forward fails, so a
model that is called again does not collect twice. No Streamlit here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from mnist_core.engine.data import MNIST_STD, denormalize
from mnist_core.engine.deskew import Deskew, deskew_layer
from mnist_core.engine.fields import RFRow, calls_table
from mnist_core.engine.models import FastDropout
from mnist_core.engine.specs import INPUT_SIZE, leaf_calls


@dataclass(frozen=True)
class LayerView:
    """One layer the page draws: where it is in the model, what it is, and how far its units see."""

    name: str  # the module's path in the model: "block3", or "block3.0" for a depthwise conv inside it
    kind: str  # "block", "depthwise", "maxpool", "transition", "gap" or "classifier"
    description: str  # what it computes, e.g. "conv 3x3 (1→12) → ReLU → BatchNorm → dropout"
    row: RFRow  # the receptive-field row of its last leaf: output size, jump, field size and start
    summary_index: int  # index of its last leaf among the model summary's rows (engine.summary)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(C, H, W) of its output for one 28x28 digit."""
        return self.row.out_channels, self.row.out_size, self.row.out_size

    @property
    def receptive_field(self) -> int:
        return self.row.rf_out

    @property
    def label(self) -> str:
        c, h, w = self.shape
        return f"{self.name} · {c}×{h}×{w} · field {self.receptive_field}×{self.receptive_field}"


def _leaf_text(module: nn.Module) -> str:
    if isinstance(module, nn.Conv2d):
        k = module.kernel_size[0]
        c_in, c_out = module.in_channels, module.out_channels
        if module.groups > 1 and module.groups == c_in:
            return f"depthwise {k}x{k} ({c_in} channels)"
        return f"{'pointwise ' if k == 1 else ''}conv {k}x{k} ({c_in}→{c_out})"
    if isinstance(module, nn.BatchNorm2d):
        return "BatchNorm"
    if isinstance(module, (nn.Dropout, FastDropout)):
        return "dropout (off when testing)"
    if isinstance(module, nn.MaxPool2d):
        return f"max-pool {module.kernel_size}x{module.kernel_size}"
    if isinstance(module, (nn.AvgPool2d, nn.AdaptiveAvgPool2d)):
        return "global average pool"
    if isinstance(module, Deskew):
        return "the digit straightened and centred (no weights)"
    return type(module).__name__


def is_depthwise(module: nn.Module) -> bool:
    """A convolution with one filter per channel (depthwise): the first half of a separable block."""
    return isinstance(module, nn.Conv2d) and module.groups > 1 and module.groups == module.in_channels


def _kind(name: str, module: nn.Module) -> str:
    if name == "classifier":
        return "classifier"
    if isinstance(module, nn.MaxPool2d):
        return "maxpool"
    if isinstance(module, (nn.AvgPool2d, nn.AdaptiveAvgPool2d)):
        return "gap" if name == "gap" else "maxpool"  # a pool that keeps a map (a design may have one) is drawn
    if isinstance(module, nn.Conv2d):
        return "transition"  # a lone 1x1 between the stages
    if isinstance(module, Deskew):
        return "deskew"
    return "block"


class UnfollowableModel(ValueError):
    """A model with a layer the receptive-field calculator does not know (a trial network's own, such as a shift)."""


def layer_views(model: nn.Module) -> list[LayerView]:
    """Every top-level layer of ``model`` in call order (plus the depthwise half of a separable block).

    Raises UnfollowableModel (a ValueError) for a model whose layers the receptive-field calculator
    cannot follow.
    """
    calls = leaf_calls(model, INPUT_SIZE, 1)
    table = calls_table(calls)
    if not table.ok:
        raise UnfollowableModel(f"cannot follow this model's layers: {table.problems[0].problem}")
    if not all(isinstance(getattr(model, name, None), nn.Module) for name in ("gap", "classifier")):
        # The read-out, Grad-CAM's logits and the class map all start from these two (a design is named so by
        # named_blocks.named_blocks when it ends this way).
        raise UnfollowableModel("it does not end in a global average pool and a 1x1 convolution to the ten digits, "
                                "where this page reads the answer out")
    rows = list(table.rows)
    times_called = Counter(call.name for call in calls)
    views: list[LayerView] = []
    for name, child in model.named_children():
        inside = [i for i, call in enumerate(calls) if call.child == name]  # the calls made while it ran
        if not inside:
            continue  # a module the forward pass never calls
        for i in inside:
            # A module called more than once (weights shared between blocks) gets no view of its own: a hook on
            # it would see every call's output, and the page would show the last one as if it were the first.
            if is_depthwise(calls[i].module) and times_called[calls[i].name] == 1:
                views.append(LayerView(calls[i].name, "depthwise", _leaf_text(calls[i].module), rows[i], i))
        description = " → ".join(_leaf_text(calls[i].module) for i in inside)
        views.append(LayerView(name, _kind(name, child), description, rows[inside[-1]], inside[-1]))
    # In the order the forward pass calls them, which registration order need not be (a trial network may
    # register its pool before the block it calls first).
    return sorted(views, key=lambda view: view.summary_index)


@contextmanager
def hooked(model: nn.Module, names: Sequence[str]) -> Iterator[dict[str, torch.Tensor]]:
    """Within the block, every forward of ``model`` stores the named modules' outputs in the yielded dict.

    The hooks are removed on leaving the block, whatever happened inside it.
    """
    modules = dict(model.named_modules())
    missing = [name for name in names if name not in modules]
    if missing:
        raise ValueError(f"the model has no layer named {', '.join(missing)}")
    outputs: dict[str, torch.Tensor] = {}

    def keep(name: str):
        def hook(module, inputs, output):
            outputs[name] = output
        return hook

    handles = [modules[name].register_forward_hook(keep(name)) for name in names]
    try:
        yield outputs
    finally:
        for handle in handles:
            handle.remove()


def capture(model: nn.Module, images: torch.Tensor, names: Sequence[str]) -> tuple[dict[str, torch.Tensor],
                                                                                    torch.Tensor]:
    """Run ``model`` (eval mode, no gradients) on normalised ``images`` (B, 1, 28, 28).

    Returns the named layers' outputs and the model's own output (B, 10 log-probabilities).
    """
    model.eval()
    with torch.no_grad(), hooked(model, names) as outputs:
        result = model(images)
    return dict(outputs), result


@dataclass(frozen=True)
class FeatureMap:
    view: LayerView
    values: np.ndarray  # (C, H, W) float32, the layer's output for the one input


def feature_maps(model: nn.Module, image: torch.Tensor, views: Sequence[LayerView] | None = None) -> list[FeatureMap]:
    """Each view's output for one normalised input (1, 28, 28) or (1, 1, 28, 28)."""
    views = list(views if views is not None else layer_views(model))
    batch = image.reshape(1, 1, *image.shape[-2:])
    outputs, _ = capture(model, batch, [view.name for view in views])
    return [FeatureMap(view, outputs[view.name][0].numpy().astype(np.float32)) for view in views]


@dataclass(frozen=True)
class UnitField:
    """One unit (layer, channel, row, column): its activation, its analytic field and its input gradient."""

    view: LayerView
    channel: int
    y: int
    x: int
    activation: float
    box: tuple[int, int, int, int]  # analytic field (top, left, bottom, right), inclusive, may leave the image
    gradient: np.ndarray  # (28, 28) d activation / d pixel (pixels in [0, 1], not normalised)
    # For a network that deskews: the straightened digit (pixels in [0, 1]) the field and gradient lie on.
    straightened: np.ndarray | None = None

    @property
    def gradient_box(self) -> tuple[int, int, int, int] | None:
        """Bounding box of the pixels with a non-zero gradient: inside ``box``, often smaller (a dead ReLU)."""
        rows, cols = np.nonzero(self.gradient)
        if rows.size == 0:
            return None
        return int(rows.min()), int(cols.min()), int(rows.max()), int(cols.max())


def unit_field(model: nn.Module, image: torch.Tensor, view: LayerView, channel: int, y: int, x: int) -> UnitField:
    """The activation of one unit of ``view`` for a normalised input, and its gradient with respect to the input.

    ``torch.autograd.grad`` leaves the parameters' ``.grad`` alone, so a shared model is not changed.
    """
    c, h, w = view.shape
    if not (0 <= channel < c and 0 <= y < h and 0 <= x < w):
        raise ValueError(f"unit (channel {channel}, row {y}, column {x}) is outside {view.name}'s {c}x{h}x{w} output")
    model.eval()
    batch = image.reshape(1, 1, *image.shape[-2:]).clone()
    # The gradient is taken on the image the first convolution sees, where the analytic field lies: for a
    # network that deskews, the straightened digit (the deskew's output is replaced by that leaf tensor).
    deskew = deskew_layer(model)
    with torch.no_grad():
        seen = (batch if deskew is None else deskew(batch)).clone().requires_grad_(True)
    handle = deskew.register_forward_hook(lambda module, inputs, output: seen) if deskew is not None else None
    try:
        with hooked(model, [view.name]) as outputs:
            model(seen if deskew is None else batch)
    finally:
        if handle is not None:
            handle.remove()
    unit = outputs[view.name][0, channel, y, x]
    (gradient,) = torch.autograd.grad(unit, seen)
    pixel_gradient = gradient[0, 0].numpy() / MNIST_STD  # d/d(pixel) = d/d(normalised) / std
    straightened = None if deskew is None else denormalize(seen.detach())[0, 0].numpy()
    return UnitField(view, channel, y, x, float(unit.detach()), view.row.field_box(y, x),
                     pixel_gradient.astype(np.float32), straightened)


def mosaic(values: np.ndarray, columns: int, row_gap: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(C, H, W) maps -> one (rows*(H+row_gap)-row_gap, columns*(W+1)-1) image with NaN gutters between the
    tiles (``row_gap`` cells high between rows: room for a label), and each cell's (channel, row, column) as
    an int array of the same height and width (-1 in the gutters)."""
    c, h, w = values.shape
    rows = -(-c // columns)
    image = np.full((rows * (h + row_gap) - row_gap, columns * (w + 1) - 1), np.nan, dtype=np.float32)
    where = np.full((*image.shape, 3), -1, dtype=np.int32)
    ys, xs = np.mgrid[0:h, 0:w]
    for channel in range(c):
        top, left = (channel // columns) * (h + row_gap), (channel % columns) * (w + 1)
        image[top:top + h, left:left + w] = values[channel]
        where[top:top + h, left:left + w] = np.stack([np.full_like(ys, channel), ys, xs], axis=-1)
    return image, where
