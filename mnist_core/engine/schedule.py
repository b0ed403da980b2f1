"""Learning-rate schedules as pure functions of the optimisation step.

``lr_and_momentum(config, step, steps_per_epoch)`` returns what the optimizer should use
for batch number ``step`` (0-based, counted over the whole run). The OneCycle branch
reproduces ``torch.optim.lr_scheduler.OneCycleLR`` with its defaults (cosine annealing,
start at peak/25, end at start/1e4, momentum cycled 0.95 -> 0.85 -> 0.95); a test holds
it to that. The piecewise branch draws a line through the recipe's (epoch, lr) points
and reads it once per epoch, at the epoch's number (0 for the first), the way a per-epoch
``LambdaLR`` over ``numpy.interp`` does; past the last point the lr stays at its value.
"""

from __future__ import annotations

import math
from itertools import pairwise

from mnist_core.engine.config import TrainConfig

ONECYCLE_DIV = 25.0  # start lr = peak / 25
ONECYCLE_FINAL_DIV = 1e4  # final lr = start lr / 1e4
ONECYCLE_MOMENTUM = (0.85, 0.95)  # momentum is low while lr is high, and back


def _cosine(start: float, end: float, fraction: float) -> float:
    return end + (start - end) / 2.0 * (1 + math.cos(math.pi * fraction))


def piecewise_lr(points: tuple[tuple[float, float], ...], epoch: float) -> float:
    """The lr at ``epoch`` on the line through ``points`` ((epoch, lr) pairs in order of epoch)."""
    if epoch <= points[0][0]:
        return points[0][1]
    for (e0, lr0), (e1, lr1) in pairwise(points):
        if epoch <= e1:
            return lr0 + (lr1 - lr0) * (epoch - e0) / (e1 - e0)
    return points[-1][1]


def lr_and_momentum(config: TrainConfig, step: int, steps_per_epoch: int) -> tuple[float, float]:
    """(lr, momentum) for batch ``step`` of a run of ``config.epochs * steps_per_epoch`` batches."""
    if config.scheduler == "piecewise":
        return piecewise_lr(config.lr_points, step // steps_per_epoch), config.momentum
    if config.scheduler == "step":
        # Cuts after every ``step_size * steps_per_epoch`` batches: once per ``step_size`` epochs (the same as
        # counting whole epochs when it is a whole number), or within an epoch when it is a share of one.
        cuts = math.floor(step / (config.step_size * steps_per_epoch))
        return config.lr * config.step_gamma ** cuts, config.momentum
    if config.scheduler != "onecycle":
        return config.lr, config.momentum

    total = config.epochs * steps_per_epoch
    peak = config.lr
    start = peak / ONECYCLE_DIV
    final = start / ONECYCLE_FINAL_DIV
    low_m, high_m = ONECYCLE_MOMENTUM
    warmup_end = float(config.onecycle_warmup * total) - 1
    if step <= warmup_end:
        fraction = step / warmup_end if warmup_end > 0 else 1.0
        return _cosine(start, peak, fraction), _cosine(high_m, low_m, fraction)
    fraction = (step - warmup_end) / (total - 1 - warmup_end)
    return _cosine(peak, final, min(fraction, 1.0)), _cosine(low_m, high_m, min(fraction, 1.0))


def apply_schedule(optimizer, config: TrainConfig, step: int, steps_per_epoch: int) -> float:
    """Set the optimizer's lr (and momentum, where it has one) for batch ``step``; return the lr.

    ``optimizer`` is anything with torch.optim's ``param_groups``: our SGD or a torch.optim one.
    """
    lr, momentum = lr_and_momentum(config, step, steps_per_epoch)
    for group in optimizer.param_groups:
        group["lr"] = lr
        if "momentum" in group:
            group["momentum"] = momentum
    return lr
