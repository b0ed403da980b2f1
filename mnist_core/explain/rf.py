"""Receptive-field arithmetic, layer by layer, and a check of it against the network itself.

The analytic side follows the usual receptive-field recurrences: for a layer with kernel
``k``, stride ``s``, padding ``p`` and dilation ``d`` (effective kernel ``k_eff = d(k-1)+1``)
the output size is ``n_out = floor((n_in + 2p - k_eff) / s) + 1``, the jump (distance in
input pixels between neighbouring outputs) is ``j_out = j_in * s``, the receptive field is
``r_out = r_in + (k_eff - 1) * j_in`` and the centre of the first output's field moves to
``start_out = start_in + ((k_eff - 1) / 2 - p) * j_in``. Positions are input pixel indices:
pixel ``i`` is centred on ``i``, so a field of size ``r`` centred on ``c`` spans pixels
``c - (r-1)/2 .. c + (r-1)/2``. The layers come either from a model (its leaf modules in the
order its forward pass calls them) or from a plain list of ``LayerSpec``; rows that make no
sense, or layers the calculator does not know, carry a ``problem`` instead of numbers. The
empirical side measures the field as the input pixels whose gradient to one output unit is
non-zero, in a copy of the network whose weights are all positive, so that no path cancels.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from mnist_core.engine.models import FastDropout
from mnist_core.engine.wording import count as count_words

INPUT_SIZE = 28  # MNIST digits are 28x28
# Layer types, as the editor and the tables name them.
KINDS = ("conv", "maxpool", "avgpool", "gap", "relu", "silu", "batchnorm", "dropout", "identity")
POINTWISE_KINDS = frozenset({"relu", "silu", "batchnorm", "dropout", "identity"})  # never change geometry
SAMPLE_DIGITS = Path(__file__).resolve().parents[2] / "assets" / "samples" / "mnist_test_digits.npz"

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
class RFRow:
    """One layer of the table: geometry in, geometry out, channels and parameters.

    Sizes, jumps and receptive fields are in input pixels; ``start_*`` is the input pixel
    index of the centre of the first output's field. Every number is ``None`` when
    ``problem`` says why the row could not be computed.
    """

    index: int
    name: str
    kind: str | None
    in_size: int | None = None
    kernel: int | None = None
    stride: int | None = None
    padding: int | None = None
    dilation: int | None = None
    out_size: int | None = None
    jump_in: int | None = None
    jump_out: int | None = None
    rf_in: int | None = None
    rf_out: int | None = None
    start_in: float | None = None
    start_out: float | None = None
    in_channels: int | None = None
    out_channels: int | None = None
    params: int | None = None
    problem: str | None = None  # what is wrong with this row itself
    blocked_by: int | None = None  # the invalid row above, which leaves this row's input unknown

    @property
    def ok(self) -> bool:
        return self.problem is None and self.blocked_by is None

    @property
    def check(self) -> str:
        """The row's verdict in a few words, as the designer's check column shows it."""
        if self.problem:
            return f"✗ {self.problem}"
        if self.blocked_by is not None:
            return f"… input unknown until row {self.blocked_by} is fixed"
        return "✓"

    def field_box(self, y: int, x: int) -> tuple[int, int, int, int]:
        """Analytic field of output unit (y, x) as (top, left, bottom, right), inclusive pixel
        indices, not clipped to the image (padding can put part of it outside)."""
        if not self.ok:
            raise ValueError(f"layer {self.index} has no receptive field: {self.problem}")
        if not (0 <= y < self.out_size and 0 <= x < self.out_size):
            raise ValueError(f"unit ({y}, {x}) is outside layer {self.index}'s {self.out_size}x{self.out_size} output")
        half = (self.rf_out - 1) / 2
        top, left = self.start_out + y * self.jump_out - half, self.start_out + x * self.jump_out - half
        return round(top), round(left), round(top) + self.rf_out - 1, round(left) + self.rf_out - 1


@dataclass(frozen=True)
class RFTable:
    """Every layer's row, plus what a student asks first: how far does the last layer see?"""

    rows: tuple[RFRow, ...]
    input_size: int
    in_channels: int
    notes: tuple[str, ...] = field(default=())  # things worth knowing that are no row's fault

    @property
    def ok(self) -> bool:
        return bool(self.rows) and all(row.ok for row in self.rows)

    @property
    def problems(self) -> list[RFRow]:
        """The rows that are invalid themselves (not those only waiting for a row above)."""
        return [row for row in self.rows if row.problem is not None]

    def budget_verdict(self, budget: int) -> tuple[bool | None, str]:
        """(True, False or None for unknown, the sentence) for "fewer than ``budget`` parameters".

        With any invalid row there is no verdict: a broken row's parameters, or those of the
        rows below it, may be unknown, and the design cannot be built as it stands.
        """
        total = self.total_params
        if self.problems:
            names = [row.name for row in self.problems]
            listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
            return None, (f"parameters unknown until {listed} {'is' if len(names) == 1 else 'are'} fixed "
                          f"(at least {total:,} counted so far).")
        within = total < budget
        return within, f"{total:,} parameters: {'within' if within else 'over'} the budget of fewer than {budget:,}."

    @property
    def last(self) -> RFRow | None:
        """The last row that could be computed."""
        good = [row for row in self.rows if row.ok]
        return good[-1] if good else None

    @property
    def final_rf(self) -> int | None:
        return self.last.rf_out if self.ok else None

    @property
    def total_params(self) -> int:
        return sum(row.params or 0 for row in self.rows)

    @property
    def covers_input(self) -> bool:
        """True when every output unit of the last layer sees every input pixel."""
        if not self.ok:
            return False
        last, m = self.last, self.last.out_size
        # The last unit's field starts furthest right and the first unit's ends furthest left,
        # so every field covers the image when those two do.
        return last.field_box(m - 1, m - 1)[0] <= 0 and last.field_box(0, 0)[2] >= self.input_size - 1

    def summary(self) -> str:
        """The answer in plain words."""
        n = self.input_size
        if not self.rows:
            return "There are no layers yet: add one to see its receptive field."
        if not self.ok:
            first = self.problems[0]
            return f"{first.name} cannot be computed ({first.problem}), so the final receptive field is unknown."
        last = self.last
        r = last.rf_out
        if self.covers_input:
            return (f"The last layer's receptive field is {r}x{r} pixels, so each of its outputs sees the whole "
                    f"{n}x{n} digit.")
        if r >= n:
            return (f"The last layer's receptive field is {r}x{r} pixels, at least the {n}x{n} input, but with "
                    f"padding its {last.out_size}x{last.out_size} outputs are centred in different places, so those "
                    "near a border see part of the digit plus zero padding, not the whole digit.")
        return (f"The last layer's receptive field is only {r}x{r} pixels: each output sees a {r}x{r} patch of the "
                f"{n}x{n} digit, not the whole digit. Add layers (or pooling) until it reaches {n}.")


def _problem_row(index: int, spec: LayerSpec, problem: str | None, blocked_by: int | None = None,
                 **known) -> RFRow:
    return RFRow(index=index, name=spec.name or spec.kind or "?", kind=spec.kind, problem=problem,
                 blocked_by=blocked_by, **known)


def _check_whole(value, label: str, minimum: int) -> str | None:
    if value is None:
        return f"{label} is empty"
    if isinstance(value, bool) or not isinstance(value, int):
        return f"{label} must be a whole number (got {value!r})"
    if value < minimum:
        return f"{label} must be at least {minimum} (got {value})"
    return None


def _window(spec: LayerSpec) -> tuple[int | None, int | None, int | None, int | None]:
    """(k, s, p, d) of a conv or pool with PyTorch's defaults filled in; ``k`` is None for a gap."""
    if spec.kind == "gap":
        return None, None, 0, 1
    default_stride = 1 if spec.kind == "conv" else spec.kernel
    return (spec.kernel, default_stride if spec.stride is None else spec.stride,
            0 if spec.padding is None else spec.padding, 1 if spec.dilation is None else spec.dilation)


def own_problem(spec: LayerSpec) -> str | None:
    """What is wrong with this row by itself, whatever comes before it (None when nothing is).

    Only the fit to its input (channels that groups must divide, a kernel larger than the
    input) needs the rows above; everything else is the row's own and is reported even when
    a row above is broken too.
    """
    if spec.problem:
        return spec.problem
    kind = spec.kind
    if kind not in KINDS:
        shown = "empty" if kind is None else repr(kind)
        return f"layer type is {shown}; choose one of {', '.join(KINDS)}"
    if kind in POINTWISE_KINDS or kind == "gap":
        return None
    k, s, p, d = _window(spec)
    for value, label, minimum in ((k, "kernel", 1), (s, "stride", 1), (p, "padding", 0), (d, "dilation", 1)):
        reason = _check_whole(value, label, minimum)
        if reason:
            return reason
    if kind == "avgpool" and d != 1:
        return "an average pool has no dilation (PyTorch's AvgPool2d); set it to 1"
    if kind in ("maxpool", "avgpool") and 2 * p > d * (k - 1) + 1:
        return f"padding {p} is more than half the kernel; PyTorch's pools refuse that"
    if kind == "conv":
        reason = _check_whole(spec.out_channels, "out channels", 1) or _check_whole(spec.groups, "groups", 1)
        if reason:
            return reason
    return None


def _channels_out(spec: LayerSpec, in_channels: int | None) -> int | None:
    """Channels leaving a row whose own cells are valid: a conv's own count, else its input's."""
    return spec.out_channels if spec.kind == "conv" else in_channels


def _params(spec: LayerSpec, in_channels: int | None) -> int | None:
    """Trainable parameters of a row whose own cells are valid; None when they depend on unknown channels."""
    if spec.kind == "conv":
        if in_channels is None:
            return None
        return in_channels // spec.groups * spec.out_channels * spec.kernel ** 2 + (spec.out_channels if spec.bias
                                                                                     else 0)
    if spec.kind == "batchnorm" and spec.bias is not False:
        return None if in_channels is None else 2 * in_channels
    return 0


def rf_row(index: int, spec: LayerSpec, in_size: int | None, in_channels: int | None, jump: int | None,
           rf: int | None, start: float | None, blocked_by: int | None = None,
           largest_in: int | None = None) -> RFRow:
    """One layer's row, from the geometry entering it.

    ``in_size`` (with ``jump``, ``rf`` and ``start``) is None below an invalid row, and
    ``blocked_by`` names that row: the row's own cells are still checked, and its channels
    and parameters still computed where they do not depend on the input's size (a conv's
    weights never do). A row that makes no sense by itself, or does not fit its input, gets
    ``problem``. ``largest_in``, the largest input size the rows above could give, still
    catches a kernel too large for any input below an invalid row.
    """
    reason = own_problem(spec)
    if reason:  # the rows below still learn this row's channels when its own cells give them
        if spec.kind == "conv":
            out = spec.out_channels if _check_whole(spec.out_channels, "", 1) is None else None
        else:
            out = in_channels if spec.kind in KINDS else None
        return _problem_row(index, spec, reason, blocked_by, in_channels=in_channels, out_channels=out)
    kind = spec.kind
    if kind == "conv" and (spec.out_channels % spec.groups or (in_channels or 0) % spec.groups):
        need = f"both {in_channels} in and " if in_channels is not None else "the "
        return _problem_row(index, spec, f"groups {spec.groups} must divide {need}{spec.out_channels} out channels",
                            blocked_by)
    known = dict(in_channels=in_channels, out_channels=_channels_out(spec, in_channels),
                 params=_params(spec, in_channels))
    if in_size is None:  # a row above is invalid: this row's input, hence its geometry, is unknown
        if kind in ("conv", "maxpool", "avgpool") and largest_in is not None:
            k, _, p, d = _window(spec)
            if d * (k - 1) + 1 > largest_in + 2 * p:
                return _problem_row(index, spec, f"output would be smaller than 1x1: the kernel spans "
                                                 f"{d * (k - 1) + 1} pixels but no input here can be more than "
                                                 f"{largest_in}{' before padding' if p else ''}", blocked_by, **known)
        return _problem_row(index, spec, None, blocked_by, **known)
    common = dict(index=index, name=spec.name or kind, kind=kind, in_size=in_size, jump_in=jump, rf_in=rf,
                  start_in=start, **known)
    if kind in POINTWISE_KINDS:
        return RFRow(**common, kernel=1, stride=1, padding=0, dilation=1, out_size=in_size, jump_out=jump,
                     rf_out=rf, start_out=start)
    k, s, p, d = _window(spec)
    if kind == "gap":
        k, s = in_size, in_size  # one window over the whole input
    k_eff = d * (k - 1) + 1
    padded = in_size + 2 * p
    if padded < k_eff:
        return _problem_row(index, spec, f"output would be smaller than 1x1: the kernel spans {k_eff} pixels but "
                                         f"the {'padded ' if p else ''}input is only {padded}", **known)
    out_size = (padded - k_eff) // s + 1
    return RFRow(**common, kernel=k, stride=s, padding=p, dilation=d, out_size=out_size, jump_out=jump * s,
                 rf_out=rf + (k_eff - 1) * jump, start_out=start + ((k_eff - 1) / 2 - p) * jump)


def _largest_out(spec: LayerSpec, largest_in: int | None) -> int | None:
    """An upper bound on a row's output size: no window shrinks it by less than nothing, so only
    padding can make it larger. None (no bound) after a row whose padding is unreadable."""
    if largest_in is None or spec.kind in POINTWISE_KINDS:
        return largest_in
    if spec.kind == "gap":
        return 1
    padding = 0 if spec.padding is None else spec.padding
    if spec.kind not in KINDS or isinstance(padding, bool) or not isinstance(padding, int):
        return None
    return largest_in + 2 * max(padding, 0)


def rf_table(specs: Sequence[LayerSpec], input_size: int = INPUT_SIZE, in_channels: int = 1,
             notes: Iterable[str] = ()) -> RFTable:
    """The layer-by-layer table for ``specs`` applied to an ``input_size`` square input.

    Every row gets its own reason when it makes no sense; below the first invalid row the
    geometry is unknown (``blocked_by`` names that row), but each row's own cells are still
    checked and its channels and parameters still counted where they can be.
    """
    rows: list[RFRow] = []
    size, channels, jump, rf, start = input_size, in_channels, 1, 1, 0.0
    blocked_by: int | None = None  # the index of the first invalid row
    largest = input_size  # the largest size the next row's input can have (exact while nothing is broken)
    for index, spec in enumerate(specs):
        row = rf_row(index, spec, size, channels, jump, rf, start, blocked_by, largest)
        rows.append(row)
        largest = _largest_out(spec, largest)
        if row.ok:
            size, channels, jump, rf, start = row.out_size, row.out_channels, row.jump_out, row.rf_out, row.start_out
            largest = size
            continue
        if blocked_by is None:
            blocked_by = index
        size = jump = rf = start = None
        channels = row.out_channels
    return RFTable(rows=tuple(rows), input_size=input_size, in_channels=in_channels, notes=tuple(notes))


# --- from a model ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Call:
    name: str
    module: nn.Module
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]


def _walk(model: nn.Module, input_size: int, in_channels: int) -> list[_Call]:
    """The leaf modules in the order one forward pass calls them, with their input and output shapes.

    Registration order is not enough (a forward may call modules in another order), so a
    zero image goes through the model in eval mode with a hook on every leaf.
    """
    leaves = [(name or type(module).__name__, module) for name, module in model.named_modules()
              if not list(module.children())]
    calls: list[_Call] = []

    def hook_for(name: str):
        def hook(module, inputs, output):
            calls.append(_Call(name, module, tuple(inputs[0].shape), tuple(output.shape)))
        return hook

    handles = [module.register_forward_hook(hook_for(name)) for name, module in leaves]
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
    return [spec_from_module(call.name, call.module) for call in _walk(model, input_size, in_channels)]


def model_table(model: nn.Module, input_size: int = INPUT_SIZE, in_channels: int = 1) -> RFTable:
    """The table for a model. A note says when the forward is not one straight chain of its leaf
    modules (one layer's input is not the previous layer's output), since the arithmetic assumes it."""
    calls = _walk(model, input_size, in_channels)
    notes = []
    for before, after in zip(calls, calls[1:], strict=False):
        if before.out_shape != after.in_shape:
            notes.append(f"between {before.name} and {after.name} the shape changes from {before.out_shape} to "
                         f"{after.in_shape} outside any layer: the table may not describe this model")
    return rf_table([spec_from_module(c.name, c.module) for c in calls], input_size, in_channels, notes)


def model_from_specs(specs: Sequence[LayerSpec], in_channels: int = 1, dropout: float = 0.05) -> nn.Sequential:
    """A real network for a valid spec list (raises ValueError naming the first bad row)."""
    table = rf_table(specs, in_channels=in_channels)
    if not table.ok:
        bad = table.problems[0]
        raise ValueError(f"layer {bad.index} ({bad.name}): {bad.problem}")
    return nn.Sequential(*(_layer_for(spec, row, dropout) for spec, row in zip(specs, table.rows, strict=True)))


def _layer_for(spec: LayerSpec, row: RFRow, dropout: float) -> nn.Module:
    c_in, k, s, p, d = row.in_channels, row.kernel, row.stride, row.padding, row.dilation
    if spec.kind == "conv":
        return nn.Conv2d(c_in, row.out_channels, k, s, p, d, groups=spec.groups, bias=bool(spec.bias))
    if spec.kind == "maxpool":
        return nn.MaxPool2d(k, s, p, d)
    if spec.kind == "avgpool":
        return nn.AvgPool2d(k, s, p)
    if spec.kind == "gap":
        return nn.AdaptiveAvgPool2d(1)
    if spec.kind == "batchnorm":
        return nn.BatchNorm2d(c_in, affine=spec.bias is not False)
    if spec.kind == "dropout":
        return FastDropout(dropout)
    return {"relu": nn.ReLU, "silu": nn.SiLU}.get(spec.kind, nn.Identity)()


# --- the measured field ---------------------------------------------------------------------------------

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
    calls = _walk(model, input_size, in_channels)
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


# --- text and sample digits -----------------------------------------------------------------------------

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


def sample_digits(data_dir: Path | str | None = None, count: int = 10) -> tuple[np.ndarray, np.ndarray, str]:
    """A few test digits to draw fields on: (uint8 (N, 28, 28), labels (N,), where they came from).

    Reads only the test images when the real data is there (nothing is ever fetched), else the
    bundled sample in ``assets/samples``.
    """
    from mnist_core.engine.data import mnist_is_ready, raw_dir, read_idx

    if mnist_is_ready(data_dir):
        folder = raw_dir(data_dir)
        images = read_idx(folder / "t10k-images-idx3-ubyte")[:count]
        labels = read_idx(folder / "t10k-labels-idx1-ubyte")[:count]
        return images, labels.astype(np.int64), "the MNIST test set"
    with np.load(SAMPLE_DIGITS) as bundled:
        return bundled["images"][:count], bundled["labels"][:count].astype(np.int64), \
            "a bundled sample of MNIST test digits (the full data set is not downloaded)"


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
