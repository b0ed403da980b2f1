"""The layer-spec language: one layer as plain data, shared by the designer, the receptive-field
calculator and the models.

A ``LayerSpec`` says what a layer is (kind, channels, kernel, stride, padding, dilation, groups)
and nothing about weights. Specs come from a network's leaf modules in the order its forward
pass calls them, or from the rows of an editable table, and go back to table rows; the
arithmetic on them lives in ``engine/fields.py`` and the networks built from them in
``engine/design.py``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from mnist_core.engine.deskew import Deskew
from mnist_core.engine.models import FastDropout

INPUT_SIZE = 28  # MNIST digits are 28x28
# Layer types, as the editor and the tables name them.
KINDS = ("conv", "maxpool", "avgpool", "gap", "relu", "silu", "batchnorm", "dropout", "identity", "deskew")
# Kinds that never change geometry. A deskew moves the image's pixels but keeps its grid, so the
# fields after it are counted (and measured) in pixels of the straightened image.
POINTWISE_KINDS = frozenset({"deskew", "relu", "silu", "batchnorm", "dropout", "identity"})

_ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Sigmoid, nn.Tanh)
_NORMS = (nn.BatchNorm2d, nn.GroupNorm, nn.InstanceNorm2d, nn.LayerNorm)
_DROPOUTS = (nn.Dropout, nn.Dropout2d, FastDropout)


@dataclass(frozen=True)
class LayerSpec:
    """One layer as the calculator sees it; ``None`` means "not given".

    ``kernel`` is ignored for ``gap`` (its kernel is its input) and everything but the kind
    is ignored for pointwise layers. An empty ``stride`` means 1 for a conv and the kernel
    for a pool (PyTorch's defaults); empty ``padding`` / ``dilation`` mean 0 / 1. ``bias``
    is a conv's bias or a batchnorm's scale-and-shift; ``None`` takes the lesson's choice
    (no conv bias, affine batchnorm). ``problem`` is set by whoever built the spec when a
    cell could not be read.
    """

    kind: str | None
    out_channels: int | None = None
    kernel: int | None = None
    stride: int | None = None
    padding: int | None = None
    dilation: int | None = None
    name: str = ""
    bias: bool | None = None
    groups: int = 1
    problem: str | None = None



@dataclass(frozen=True)
class LeafCall:
    name: str
    module: nn.Module
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    # The model's top-level child that was running when the leaf was called: a module two blocks share
    # (a weight-tied trial) belongs to the block that called it, each time, whatever its name says.
    child: str = ""



def leaf_calls(model: nn.Module, input_size: int, in_channels: int) -> list[LeafCall]:
    """The leaf modules in the order one forward pass calls them, with their input and output shapes.

    Registration order is not enough (a forward may call modules in another order), so a
    zero image goes through the model in eval mode with a hook on every leaf.
    """
    leaves = [(name or type(module).__name__, module) for name, module in model.named_modules()
              if not list(module.children())]
    calls: list[LeafCall] = []
    running = [""]  # the top-level child being called

    def hook_for(name: str):
        def hook(module, inputs, output):
            calls.append(LeafCall(name, module, tuple(inputs[0].shape), tuple(output.shape), running[0]))
        return hook

    def enter(name: str):
        return lambda module, inputs: running.__setitem__(0, name)

    # Leaf hooks first, so a child that is itself a leaf records its call before it is left.
    handles = [module.register_forward_hook(hook_for(name)) for name, module in leaves]
    for name, child in model.named_children():
        handles += [child.register_forward_pre_hook(enter(name)),
                    child.register_forward_hook(lambda module, inputs, output: running.__setitem__(0, ""))]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(1, in_channels, input_size, input_size))
    except Exception as exc:  # noqa: BLE001 - any failure means the model does not take this input
        raise ValueError(f"the model cannot take a {in_channels}x{input_size}x{input_size} input: {exc}") from exc
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return calls


def _square(value, label: str) -> tuple[int | None, str | None]:
    """An int from an int or a square tuple; else a reason."""
    if isinstance(value, int):
        return value, None
    values = tuple(value)
    if len(set(values)) == 1:
        return int(values[0]), None
    return None, f"{label} {values} is not square; the calculator treats height and width alike"


def spec_from_module(name: str, module: nn.Module) -> LayerSpec:
    """The LayerSpec of one leaf module; unknown or unsupported modules get a ``problem``."""
    label = f"{name} ({type(module).__name__})"
    if isinstance(module, Deskew):
        return LayerSpec("deskew", name=label)
    if isinstance(module, _ACTIVATIONS):
        kind = "relu" if isinstance(module, nn.ReLU) else "silu" if isinstance(module, nn.SiLU) else "identity"
        return LayerSpec(kind, name=label)
    if isinstance(module, _DROPOUTS):
        return LayerSpec("dropout", name=label)
    if isinstance(module, nn.Identity):
        return LayerSpec("identity", name=label)
    if isinstance(module, _NORMS):
        if isinstance(module, nn.BatchNorm2d):
            return LayerSpec("batchnorm", name=label, bias=module.affine)
        return LayerSpec(None, name=label, problem=f"{type(module).__name__}: only BatchNorm2d is counted")
    if isinstance(module, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        size, reason = _square(module.output_size, "output size")
        if size == 1:
            return LayerSpec("gap", name=label)
        return LayerSpec(None, name=label, problem=reason or f"adaptive pool to {size}x{size}: only a global pool "
                                                             "(output 1x1) has a fixed receptive field")
    if isinstance(module, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
        if getattr(module, "ceil_mode", False):
            return LayerSpec(None, name=label, problem="ceil_mode=True is not supported")
        kind = {nn.Conv2d: "conv", nn.MaxPool2d: "maxpool", nn.AvgPool2d: "avgpool"}.get(type(module))
        if kind is None:
            return LayerSpec(None, name=label, problem=f"{type(module).__name__}: a subclass the calculator "
                                                       "does not know")
        padding = module.padding
        if isinstance(padding, str):
            if padding == "valid":
                padding = 0
            else:  # "same": symmetric only when the effective kernel is odd
                k_eff = [d * (k - 1) + 1 for k, d in zip(module.kernel_size, module.dilation, strict=True)]
                if any(e % 2 == 0 for e in k_eff):
                    return LayerSpec(None, name=label, problem="padding='same' with an even kernel pads unevenly")
                padding = tuple((e - 1) // 2 for e in k_eff)
        values = {}
        for attr, value in (("kernel", module.kernel_size), ("stride", module.stride), ("padding", padding),
                            ("dilation", getattr(module, "dilation", 1))):
            values[attr], reason = _square(value, attr)
            if reason:
                return LayerSpec(None, name=label, problem=reason)
        if kind == "conv":
            if module.padding_mode != "zeros":
                return LayerSpec(None, name=label, problem=f"padding_mode={module.padding_mode!r} is not supported")
            return LayerSpec("conv", out_channels=module.out_channels, name=label, bias=module.bias is not None,
                             groups=module.groups, **values)
        return LayerSpec(kind, name=label, **values)
    return LayerSpec(None, name=label, problem=f"{type(module).__name__} is not a layer the calculator knows, "
                                               "so its effect on the receptive field is unknown")


def specs_from_model(model: nn.Module, input_size: int = INPUT_SIZE, in_channels: int = 1) -> list[LayerSpec]:
    """One LayerSpec per leaf module, in the order the forward pass calls them."""
    return [spec_from_module(call.name, call.module) for call in leaf_calls(model, input_size, in_channels)]


def spec_from_record(record: Mapping, name: str = "") -> LayerSpec | None:
    """A LayerSpec from one row of an editable table (keys: type, out_channels, kernel, stride, padding,
    dilation, groups). Cells may be None, NaN, floats or text; a cell that is not a whole number becomes
    the row's ``problem``; an empty groups cell means 1, an ordinary convolution. ``name`` labels the row
    in tables and messages (default: its type). Returns None for a row with every cell empty."""
    def empty(value) -> bool:
        if value is None:
            return True
        if isinstance(value, str):
            return not value.strip()
        try:
            return bool(value != value)  # only NaN differs from itself
        except TypeError:  # pandas' NA refuses to become a bool; it is an empty cell too
            return True

    keys = ("type", "out_channels", "kernel", "stride", "padding", "dilation", "groups")
    if all(empty(record.get(key)) for key in keys):
        return None
    kind = None if empty(record.get("type")) else str(record["type"]).strip().lower()
    values: dict[str, int | None] = {}
    problem = None
    for key in keys[1:]:
        value = record.get(key)
        if empty(value):
            values[key] = None
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if math.isnan(number) or not number.is_integer():
            problem = problem or f"{key.replace('_', ' ')} must be a whole number (got {value!r})"
            values[key] = None
        else:
            values[key] = int(number)
    if kind in POINTWISE_KINDS or kind == "gap":
        problem = None  # their numeric cells are ignored
    if values["groups"] is None:
        del values["groups"]  # LayerSpec's default: 1
    return LayerSpec(kind, name=name or kind or "?", problem=problem, **values)


def records_from_specs(specs: Iterable[LayerSpec], keep_pointwise: Iterable[str] = ("batchnorm",)) -> list[dict]:
    """Editable rows for a spec list, leaving out pointwise layers other than ``keep_pointwise``
    (a ReLU or dropout changes neither geometry nor parameter count)."""
    keep = set(keep_pointwise)
    records = []
    for spec in specs:
        if spec.kind in POINTWISE_KINDS and spec.kind not in keep:
            continue
        shaped = spec.kind in ("conv", "maxpool", "avgpool")
        records.append({
            "type": spec.kind,
            "out_channels": spec.out_channels if spec.kind == "conv" else None,
            "kernel": spec.kernel if shaped else None,
            "stride": spec.stride if shaped else None,
            "padding": spec.padding if shaped else None,
            "dilation": spec.dilation if shaped else None,
            "groups": spec.groups if spec.kind == "conv" else None,
        })
    return records


def insert_copy(records: Sequence[Mapping], after: int) -> list[dict]:
    """The editable rows with a copy of row ``after`` inserted below it (``after`` -1: a copy of
    the first row above it). A copy of its neighbour is a row that fits where it lands (same
    channels in and out for a conv that keeps them, a pointwise layer anywhere), unlike a
    fixed default such as a 3x3 conv after the 1x1 output layer."""
    rows = [dict(record) for record in records]
    if not rows:
        return [{"type": "conv", "out_channels": 10, "kernel": 1}]
    source = rows[max(after, 0)]
    rows.insert(after + 1, dict(source))
    return rows
