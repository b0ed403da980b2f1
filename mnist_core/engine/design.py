"""A network of the student's own design, as data: parsed from JSON, checked row by row, built as a module.

A design is the Receptive field page's layer list: convolutions (with groups and
dilation), max and average pools, a global average pool, BatchNorm, ReLU or SiLU, dropout
and identity rows, applied in order to a 1x28x28 digit. It must end in 10 channels at 1x1,
which become the 10 log-probabilities, so the same trainer, checkpoints and pages that
serve the lesson's steps serve it too. It travels as JSON::

    {"format": "mnist-design/1", "layers": [{"type": "conv", "out_channels": 12, "kernel": 3},
                                             {"type": "relu"}, ...]}

Loading reads that JSON and nothing else: no field is ever evaluated, every value must be
a whole number, and a design that is not one (an unknown layer type, negative channels, an
expression where a number belongs, a network too big to build) raises ``DesignError``
naming every bad row before any module is made. Dropout rows drop with the recipe's
``dropout`` probability, as the steps' networks do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from mnist_core.engine.deskew import Deskew
from mnist_core.engine.fields import RFRow, RFTable, rf_table
from mnist_core.engine.memory import memory_problem
from mnist_core.engine.models import FastDropout
from mnist_core.engine.specs import KINDS, LayerSpec

DESIGN_FORMAT = "mnist-design/1"
NUM_CLASSES = 10
# The cells each layer type reads; any other key in a layer is an error, not silently ignored.
FIELDS_OF = {
    "conv": ("out_channels", "kernel", "stride", "padding", "dilation", "groups"),
    "maxpool": ("kernel", "stride", "padding", "dilation"),
    "avgpool": ("kernel", "stride", "padding"),
}
MINIMUM = {"out_channels": 1, "kernel": 1, "stride": 1, "padding": 0, "dilation": 1, "groups": 1}
# Limits that keep a tampered or mistyped design from asking for gigabytes; no sensible MNIST
# network comes near them.
MAX_LAYERS = 200
MAX_FIELD_VALUE = 1024  # any one number: channels, kernel, stride, padding, dilation, groups
MAX_PARAMS = 2_000_000
MAX_ACTIVATION_SIDE = 256  # the largest feature map, in pixels a side


class DesignError(ValueError):
    """A design that cannot be built; the message names every row that is wrong and why."""


@dataclass(frozen=True)
class Design:
    """A checked layer list (``LayerSpec`` rows, in order)."""

    layers: tuple[LayerSpec, ...]

    def to_dict(self) -> dict:
        return {"format": DESIGN_FORMAT, "layers": [layer_record(spec) for spec in self.layers]}

    def to_json(self, pretty: bool = False) -> str:
        """Canonical JSON: the same design always gives the same text (a run's config compares equal).

        ``pretty`` puts one layer on each line, for a file a person reads and edits.
        """
        if not pretty:
            return json.dumps(self.to_dict(), separators=(",", ":"))
        layers = ",\n".join(f"  {json.dumps(layer)}" for layer in self.to_dict()["layers"])
        return f'{{"format": "{DESIGN_FORMAT}", "layers": [\n{layers}\n]}}\n'


    def table(self) -> RFTable:
        return rf_table(self.layers)

    @property
    def params(self) -> int:
        return self.table().total_params


def layer_record(spec: LayerSpec) -> dict:
    """One layer as JSON data: its type and the cells that type reads, leaving out empty ones and
    PyTorch's defaults (stride 1 for a conv and the kernel for a pool, padding 0, dilation 1, groups 1),
    so a design stays short enough for a link."""
    defaults = {"stride": spec.kernel if spec.kind in ("maxpool", "avgpool") else 1, "padding": 0, "dilation": 1,
                "groups": 1}
    record = {"type": spec.kind}
    for name in FIELDS_OF.get(spec.kind, ()):
        value = getattr(spec, name)
        if value is not None and value != defaults.get(name):
            record[name] = value
    return record


def _spec_of(index: int, layer) -> tuple[LayerSpec | None, list[str]]:
    """A LayerSpec from one JSON layer, or the reasons it is not one. Values are taken only as ints."""
    where = f"layer {index}"
    if not isinstance(layer, Mapping):
        return None, [f"{where}: must be an object like {{\"type\": \"conv\", ...}}, not {type(layer).__name__}"]
    kind = layer.get("type")
    if not isinstance(kind, str) or kind not in KINDS:
        return None, [f"{where}: unknown layer type {kind!r}; choose one of {', '.join(KINDS)}"]
    where = f"layer {index} ({kind})"
    allowed = FIELDS_OF.get(kind, ())
    problems = [f"{where}: {key!r} is not a field of a {kind} layer"
                + (f" (it takes {', '.join(allowed)})" if allowed else " (it takes none)")
                for key in layer if key != "type" and key not in allowed]
    values = {}
    for name in allowed:
        value = layer.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{where}: {name.replace('_', ' ')} must be a whole number, not {value!r}")
        elif value < MINIMUM[name]:
            problems.append(f"{where}: {name.replace('_', ' ')} must be at least {MINIMUM[name]} (got {value})")
        elif value > MAX_FIELD_VALUE:
            problems.append(f"{where}: {name.replace('_', ' ')} {value:,} is more than this tool builds "
                            f"({MAX_FIELD_VALUE:,})")
        else:
            values[name] = value
    if problems:
        return None, problems
    return LayerSpec(kind, name=f"layer {index} ({kind})", **values), []


def network_problems(layers: Sequence[LayerSpec], batch_size: int | None = None) -> list[str]:
    """Why this layer list is not a trainable network (empty when it is): every invalid row,
    then what the whole must satisfy (10 channels at 1x1 at the end, a size this tool builds)
    and, given a ``batch_size``, the memory training it at that batch takes (engine/memory.py)."""
    if not layers:
        return ["the design has no layers"]
    if len(layers) > MAX_LAYERS:
        return [f"the design has {len(layers):,} layers; this tool builds at most {MAX_LAYERS}"]
    table = rf_table(layers)
    problems = [f"{row.name}: {row.problem}" for row in table.problems]
    if problems:
        return problems
    big = [row for row in table.rows if row.out_size > MAX_ACTIVATION_SIDE]
    if big:
        problems.append(f"{big[0].name}: its output is {big[0].out_size}x{big[0].out_size}, more than this tool "
                        f"builds ({MAX_ACTIVATION_SIDE}x{MAX_ACTIVATION_SIDE})")
    if table.total_params > MAX_PARAMS:
        problems.append(f"the design has {table.total_params:,} parameters; this tool builds at most {MAX_PARAMS:,}")
    too_big = memory_problem(table, batch_size) if batch_size is not None and not big else None
    if too_big:
        problems.append(too_big)
    last = table.rows[-1]
    if last.out_channels != NUM_CLASSES or last.out_size != 1:
        problems.append(f"the last layer gives {last.out_channels} channel(s) at {last.out_size}x{last.out_size}; a "
                        f"network must end in {NUM_CLASSES} channels at 1x1, one per digit (a global average "
                        "pool, then a 1x1 conv to 10, for example)")
    return problems


def parse_design(source: str | bytes | Mapping, batch_size: int | None = None) -> Design:
    """A checked Design from JSON text or an already-decoded object; raises DesignError otherwise.

    Only ``json.loads`` ever reads the text: nothing in it is evaluated or imported. Given a
    ``batch_size``, a design that training at that batch would take more memory than one run may
    use is refused too (a recipe checks its own batch size; reading a saved run's network does not).
    """
    if isinstance(source, (str, bytes)):
        try:
            source = json.loads(source)
        except (ValueError, UnicodeDecodeError) as exc:
            raise DesignError(f"the design is not valid JSON ({exc})") from None
        except RecursionError:  # Python's JSON reader gives up on a few thousand nested brackets
            raise DesignError("the design's JSON is nested too deeply to read; a design is one list of "
                              "layers") from None
    if not isinstance(source, Mapping):
        raise DesignError(f"a design is a JSON object with \"format\" and \"layers\", not {type(source).__name__}")
    if source.get("format") != DESIGN_FORMAT:
        raise DesignError(f"not a design: its \"format\" is {source.get('format')!r}, expected {DESIGN_FORMAT!r}")
    unknown = sorted(set(source) - {"format", "layers"})
    if unknown:
        raise DesignError(f"a design has only \"format\" and \"layers\"; unknown key(s): {', '.join(unknown)}")
    layers = source.get("layers")
    if not isinstance(layers, list):
        raise DesignError("a design's \"layers\" must be a list")
    if len(layers) > MAX_LAYERS:
        raise DesignError(f"the design has {len(layers):,} layers; this tool builds at most {MAX_LAYERS}")
    specs, problems = [], []
    for index, layer in enumerate(layers):
        spec, reasons = _spec_of(index, layer)
        specs.append(spec)
        problems += reasons
    if not problems:
        problems = network_problems(specs, batch_size)
    if problems:
        raise DesignError("; ".join(problems))
    return Design(tuple(specs))


def design_from_specs(specs: Sequence[LayerSpec]) -> Design:
    """A checked Design from the page's rows (names and spare cells dropped); raises DesignError."""
    return parse_design({"format": DESIGN_FORMAT, "layers": [layer_record(spec) for spec in specs]})


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
    if spec.kind == "deskew":
        return Deskew()
    return {"relu": nn.ReLU, "silu": nn.SiLU}.get(spec.kind, nn.Identity)()


class DesignNet(nn.Module):
    """A design as a network: its layers in order, then the 10 channels at 1x1 as log-probabilities."""

    def __init__(self, design: Design, dropout: float = 0.0) -> None:
        super().__init__()
        self.layers = model_from_specs(design.layers, dropout=dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 1, 28, 28)
        x = self.layers(x)  # (B, 10, 1, 1)
        return F.log_softmax(x.flatten(1), dim=1)  # (B, 10)


def build_design(design: Design | str | Mapping, dropout: float = 0.0) -> DesignNet:
    """The network of ``design`` (a Design, or JSON to parse); dropout rows drop with ``dropout``."""
    if not isinstance(design, Design):
        design = parse_design(design)
    return DesignNet(design, dropout=dropout)
