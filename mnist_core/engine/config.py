"""The training recipe: one frozen dataclass that the CLI, the pages and the tests all build."""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, fields, replace
from itertools import pairwise

from mnist_core.engine.design import DesignError, parse_design
from mnist_core.engine.models import ACTIVATION_LAYERS, NAMED_NETWORKS

OPTIMIZERS = ("sgd", "adam")
SCHEDULERS = ("none", "onecycle", "step", "piecewise")
ACTIVATIONS = tuple(ACTIVATION_LAYERS)  # the nonlinearities the networks know: "relu", "silu"
DEVICE_NAME = re.compile(r"auto|cpu|mps|cuda(:[0-9]+)?")  # the names pick_device understands
MAX_LR = 10.0  # far above any rate that trains these networks; a bigger one is a typo
MAX_TEMPERATURE = 100.0  # past this a teacher's answers are flat: nothing is left to learn from them
MAX_ROTATION = 180.0  # degrees: a turn beyond that is the same as a smaller one the other way
# Networks of ours a recipe may name instead of its step's own (``network``): "" is the step's own;
# models.NAMED_NETWORKS builds the others.
NETWORKS = ("", *NAMED_NETWORKS)


@dataclass(frozen=True)
class TrainConfig:
    step: int = 4  # which lesson step's network to build (see steps.py)
    epochs: int = 15  # the lesson's budget
    batch_size: int = 128  # images per SGD step
    optimizer: str = "sgd"  # "sgd" (with momentum) or "adam"
    lr: float = 0.01  # constant lr; the peak lr under "onecycle"; the starting lr under "step"
    momentum: float = 0.9  # SGD momentum; OneCycle cycles it between 0.85 and 0.95 instead
    weight_decay: float = 0.0  # L2 penalty; dropout and BatchNorm regularise enough here
    dropout: float = 0.0  # drop probability after each 3x3 block that has dropout
    activation: str = "relu"  # the nonlinearity of every block: "relu", or "silu" (x * sigmoid(x))
    rotation_degrees: float = 0.0  # random rotation of each training image, in ±degrees
    translate: float = 0.0  # random shift of each training image, in ± fractions of its side (0.1 = ±2.8 px)
    scale: float = 0.0  # random zoom of each training image, by a factor in 1 ± scale
    label_smoothing: float = 0.0  # share of the target probability spread evenly over all ten digits
    scheduler: str = "none"  # "none", "onecycle" (per batch), "step" (cuts every step_size epochs) or "piecewise"
    onecycle_warmup: float = 0.3  # fraction of all batches spent rising to the peak lr
    # "step": epochs between lr cuts; a share of one (a schedule fitted to a short run) cuts within an epoch
    step_size: float = 5.0
    step_gamma: float = 0.1  # "step": factor of each cut
    # "piecewise": (epoch, lr) corners of a line the lr follows, read once per epoch (epoch 0 is the first);
    # e.g. ((0, 0.05), (2, 0.1), (8, 0.01), (15, 0)). Under it ``lr`` is not used.
    lr_points: tuple[tuple[float, float], ...] = ()
    augment_fraction: float = 1.0  # share of training images that get the rotation/shift/zoom (and, apart, the jitter)
    # The last N epochs train on the images as they are, no augmentation: the network's last, low-lr
    # steps are spent on digits as the test set draws them.
    clean_epochs: int = 0
    brightness: float = 0.0  # random brightness change: pixels (0-1) plus an offset in ± brightness
    contrast: float = 0.0  # random contrast change: pixels (0-1) times a factor in 1 ± contrast
    # Evaluate and keep an exponential moving average of the weights (0 = the trained weights themselves);
    # 0.999 averages about the last thousand steps (engine/averaging.py).
    ema_decay: float = 0.0
    # Before the last epoch's test pass, recompute BatchNorm's statistics over the clean training images
    # (they were collected on augmented ones); see engine/bn_recalibration.py. No weight changes.
    bn_recalibrate: bool = False
    # Knowledge distillation: 0 = none; N = also learn from the answers of Step N's shipped network
    # (assets/step<N>/model.pt) on the same augmented batch (engine/distillation.py).
    distill_from: int = 0
    distill_weight: float = 0.9  # the teacher's share of the loss, the rest the labels' (0.9 with T=4 is usual)
    distill_temperature: float = 4.0  # both networks' answers are softened by this before they are compared
    # Straighten and centre each digit before the network's first layer (engine/deskew.py): a layer
    # with no weights, part of the step's own network, so drawn digits are deskewed too.
    deskew: bool = False
    network: str = ""  # "" = the step's own network; or a named trial network (models.NAMED_NETWORKS)
    seed: int = 1  # seeds weights, shuffling, dropout and augmentation
    train_limit: int = 0  # use only the first N training images (0 = all 60,000); for demos and tests
    test_limit: int = 0  # evaluate on the first N test images (0 = all 10,000)
    device: str = "auto"  # "auto" = CUDA, then MPS, then CPU
    # A network of the user's own as design JSON (data, never code; see engine/design.py) that
    # replaces the step's network; "" trains the step's own. The step still names the base recipe.
    design: str = ""

    def __post_init__(self) -> None:
        # JSON gives lists back: store the points as tuples so a saved recipe equals the one that ran.
        try:
            points = tuple(tuple(float(v) for v in point) for point in self.lr_points)
        except (TypeError, ValueError):
            points = None
        if points is not None:
            object.__setattr__(self, "lr_points", points)
        problems = config_problems(self)
        if problems:
            raise ValueError("; ".join(problems))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        """Build from a saved dict, ignoring keys this version does not know.

        Raises TypeError when ``values`` is not a dict, ValueError (saying which field) for a
        value of the wrong type or out of range.
        """
        if not isinstance(values, dict):
            raise TypeError(f"a config must be a JSON object, not {type(values).__name__}")
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def with_(self, **changes) -> TrainConfig:
        return replace(self, **changes)


def _type_problems(config: TrainConfig) -> list[str]:
    """Fields whose value is not of the field's type (a saved file or a caller can hold anything)."""
    problems = []
    for f in fields(config):
        value, kind = getattr(config, f.name), type(f.default)
        if kind is bool:
            wrong = not isinstance(value, bool)
        else:  # True is an int to Python, never a number of epochs
            wrong = isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else kind)
        if wrong:
            wanted = {int: "a whole number", float: "a number", str: "a string", bool: "true or false"}[kind]
            problems.append(f"{f.name} must be {wanted}, not {value!r}"[:120])
    return problems


def config_problems(config: TrainConfig) -> list[str]:
    """Human-readable reasons a config cannot train; empty when it can."""
    problems = _type_problems(config)
    if problems:  # the range checks below would compare values of the wrong type
        return problems
    not_finite = [f.name for f in fields(config) if isinstance(getattr(config, f.name), float)
                  and not math.isfinite(getattr(config, f.name))]
    if not_finite:
        return [f"{name} must be a finite number" for name in not_finite]
    if config.epochs < 1:
        problems.append("epochs must be at least 1")
    if config.batch_size < 1:
        problems.append("batch size must be at least 1")
    if not 0 < config.lr <= MAX_LR:
        problems.append(f"learning rate must be positive and at most {MAX_LR:g}")
    if not 0 <= config.momentum < 1:
        problems.append("momentum must be in [0, 1)")
    if not 0 <= config.weight_decay < 1:
        problems.append("weight decay must be in [0, 1)")
    if not 0 <= config.ema_decay < 1:
        problems.append("EMA decay must be in [0, 1)")
    if not 0 <= config.dropout < 1:
        problems.append("dropout must be in [0, 1)")
    if config.optimizer not in OPTIMIZERS:
        problems.append(f"optimizer must be one of {', '.join(OPTIMIZERS)}")
    if config.activation not in ACTIVATIONS:
        problems.append(f"activation must be one of {', '.join(ACTIVATIONS)}")
    if config.scheduler not in SCHEDULERS:
        problems.append(f"scheduler must be one of {', '.join(SCHEDULERS)}")
    if not 0 <= config.rotation_degrees <= MAX_ROTATION:
        problems.append(f"rotation must be in [0, {MAX_ROTATION:g}] degrees")
    if not 0 <= config.translate < 1:
        problems.append("translate must be in [0, 1)")
    if not 0 <= config.scale < 1:
        problems.append("scale must be in [0, 1)")
    if not 0 <= config.label_smoothing < 1:
        problems.append("label smoothing must be in [0, 1)")
    if not 0 < config.onecycle_warmup < 1:
        problems.append("warmup must be in (0, 1): a fraction of all batches")
    if not config.step_size > 0:
        problems.append("step size must be a positive number of epochs")
    if not 0 < config.step_gamma <= 1:
        problems.append("step gamma must be in (0, 1]")
    if not 0 <= config.seed < 2**63:
        problems.append("seed must be a non-negative whole number below 2**63")
    problems += _piecewise_problems(config)
    if not 0 < config.augment_fraction <= 1:
        problems.append("augment fraction must be in (0, 1]")
    if not 0 <= config.clean_epochs <= max(config.epochs, 0):  # too few epochs is said once, above
        problems.append("clean epochs must be a whole number from 0 to the number of epochs")
    if not 0 <= config.brightness < 1:
        problems.append("brightness must be in [0, 1)")
    if not 0 <= config.contrast < 1:
        problems.append("contrast must be in [0, 1)")
    if config.distill_from < 0:
        problems.append("distill from must be 0 (no teacher) or the number of a step whose network teaches")
    if not 0 < config.distill_weight <= 1:
        problems.append("distill weight must be in (0, 1]")
    if not 0 < config.distill_temperature <= MAX_TEMPERATURE:
        problems.append(f"distill temperature must be positive and at most {MAX_TEMPERATURE:g}")
    if config.network not in NETWORKS:
        problems.append(f"network must be one of {', '.join(repr(n) for n in NETWORKS)}"[:200])
    if config.network and config.design:
        problems.append("a recipe trains a named network or a design, not both")
    if config.deskew and (config.network or config.design):
        problems.append("deskew is a layer of a step's own network: a design puts a deskew layer first, and a "
                        "named network is built as it is")
    if config.train_limit < 0 or config.test_limit < 0:
        problems.append("limits must be non-negative")
    if not DEVICE_NAME.fullmatch(config.device):
        problems.append(f"device must be auto, cpu, cuda, cuda:N or mps, not {config.device!r}"[:120])
    if config.design and config.batch_size >= 1:
        try:  # memory included, at this recipe's batch size: refused before any tensor is made
            parse_design(config.design, batch_size=config.batch_size)
        except DesignError as exc:
            problems.append(f"the design cannot be built: {exc}")
    return problems


def _piecewise_problems(config: TrainConfig) -> list[str]:
    """What is wrong with ``lr_points``: needed (and only sensible) under the piecewise schedule."""
    points = config.lr_points
    if config.scheduler != "piecewise":
        return ["lr points are only used by the piecewise schedule"] if points else []
    if not isinstance(points, tuple) or len(points) < 2 or any(len(p) != 2 for p in points):
        return ["the piecewise schedule needs at least two (epoch, lr) points"]
    epochs = [e for e, _ in points]
    problems = []
    if epochs[0] != 0:
        problems.append("the first lr point must be at epoch 0")
    if any(b <= a for a, b in pairwise(epochs)):
        problems.append("lr points must be in order of epoch, each later than the last")
    if any(not lr >= 0 for _, lr in points) or not any(lr > 0 for _, lr in points):
        problems.append("lr points must be non-negative, and not all zero")
    return problems
