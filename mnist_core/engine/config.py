"""The training recipe: one frozen dataclass that the CLI, the pages and the tests all build."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from itertools import pairwise

OPTIMIZERS = ("sgd", "adam")
SCHEDULERS = ("none", "onecycle", "step", "piecewise")
ACTIVATIONS = ("relu", "silu")
# Networks a recipe may train instead of its step's own (``design``): "" is the step's own; the
# others are named in models.DESIGNS, keyed by these names.
DESIGNS = ("", "reference3762", "tiny2924")


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
    scheduler: str = "none"  # "none", "onecycle" (per batch) or "step" (per epoch)
    onecycle_warmup: float = 0.3  # fraction of all batches spent rising to the peak lr
    step_size: int = 5  # "step": epochs between lr cuts
    step_gamma: float = 0.1  # "step": factor of each cut
    # "piecewise": (epoch, lr) corners of a line the lr follows, read once per epoch (epoch 0 is the first);
    # e.g. ((0, 0.05), (2, 0.1), (8, 0.01), (15, 0)). Under it ``lr`` is not used.
    lr_points: tuple[tuple[float, float], ...] = ()
    augment_fraction: float = 1.0  # share of training images that get the rotation/shift/zoom (and, apart, the jitter)
    brightness: float = 0.0  # random brightness change: pixels (0-1) plus an offset in ± brightness
    contrast: float = 0.0  # random contrast change: pixels (0-1) times a factor in 1 ± contrast
    design: str = ""  # "" = the step's own network; or a trial network: "reference3762", "tiny2924" (models.py)
    seed: int = 1  # seeds weights, shuffling, dropout and augmentation
    train_limit: int = 0  # use only the first N training images (0 = all 60,000); for demos and tests
    test_limit: int = 0  # evaluate on the first N test images (0 = all 10,000)
    device: str = "auto"  # "auto" = CUDA, then MPS, then CPU

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
        """Build from a saved dict, ignoring keys this version does not know."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def with_(self, **changes) -> TrainConfig:
        return replace(self, **changes)


def config_problems(config: TrainConfig) -> list[str]:
    """Human-readable reasons a config cannot train; empty when it can."""
    problems = []
    if config.epochs < 1:
        problems.append("epochs must be at least 1")
    if config.batch_size < 1:
        problems.append("batch size must be at least 1")
    if not config.lr > 0:
        problems.append("learning rate must be positive")
    if not 0 <= config.dropout < 1:
        problems.append("dropout must be in [0, 1)")
    if config.optimizer not in OPTIMIZERS:
        problems.append(f"optimizer must be one of {', '.join(OPTIMIZERS)}")
    if config.activation not in ACTIVATIONS:
        problems.append(f"activation must be one of {', '.join(ACTIVATIONS)}")
    if config.scheduler not in SCHEDULERS:
        problems.append(f"scheduler must be one of {', '.join(SCHEDULERS)}")
    if config.rotation_degrees < 0:
        problems.append("rotation must be non-negative")
    if not 0 <= config.translate < 1:
        problems.append("translate must be in [0, 1)")
    if not 0 <= config.scale < 1:
        problems.append("scale must be in [0, 1)")
    if not 0 <= config.label_smoothing < 1:
        problems.append("label smoothing must be in [0, 1)")
    problems += _piecewise_problems(config)
    if not 0 < config.augment_fraction <= 1:
        problems.append("augment fraction must be in (0, 1]")
    if not 0 <= config.brightness < 1:
        problems.append("brightness must be in [0, 1)")
    if not 0 <= config.contrast < 1:
        problems.append("contrast must be in [0, 1)")
    if config.design not in DESIGNS:
        problems.append(f"design must be one of {', '.join(repr(d) for d in DESIGNS)}")
    if config.train_limit < 0 or config.test_limit < 0:
        problems.append("limits must be non-negative")
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
