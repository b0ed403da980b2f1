"""Receptive-field arithmetic, layer by layer: sizes, jumps, fields, channels and parameters.

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
field measured in the network itself, to check this arithmetic, is ``explain/rf.py``'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from torch import nn

from mnist_core.engine.specs import (
    INPUT_SIZE,
    KINDS,
    POINTWISE_KINDS,
    LayerSpec,
    LeafCall,
    leaf_calls,
    spec_from_module,
)


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
    if kind == "deskew" and (index != 0 or in_channels != 1):
        # It measures the slant of the ink of one grey image: on feature maps there is no ink to measure.
        return _problem_row(index, spec, "a deskew straightens the digit itself, so it can only be the first layer, "
                                         "on the 1-channel image", blocked_by,
                            in_channels=in_channels, out_channels=in_channels, params=0)
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


def model_table(model: nn.Module, input_size: int = INPUT_SIZE, in_channels: int = 1) -> RFTable:
    """The table for a model. A note says when the forward is not one straight chain of its leaf
    modules (one layer's input is not the previous layer's output), since the arithmetic assumes it."""
    return calls_table(leaf_calls(model, input_size, in_channels), input_size, in_channels)


def calls_table(calls: Sequence[LeafCall], input_size: int = INPUT_SIZE, in_channels: int = 1) -> RFTable:
    """``model_table`` for leaf calls already made (``specs.leaf_calls``), one row per call, in their order."""
    notes = []
    for before, after in zip(calls, calls[1:], strict=False):
        if before.out_shape != after.in_shape:
            notes.append(f"between {before.name} and {after.name} the shape changes from {before.out_shape} to "
                         f"{after.in_shape} outside any layer: the table may not describe this model")
    return rf_table([spec_from_module(c.name, c.module) for c in calls], input_size, in_channels, notes)

