"""The LR schedules as pure functions, checked against PyTorch's own schedulers."""

from __future__ import annotations

import pytest
import torch

from mnist_core.engine.config import TrainConfig
from mnist_core.engine.schedule import lr_and_momentum


def torch_onecycle(epochs: int, steps_per_epoch: int, max_lr: float) -> list[tuple[float, float]]:
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=max_lr, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, epochs=epochs,
                                                    steps_per_epoch=steps_per_epoch)
    values = []
    for _ in range(epochs * steps_per_epoch):
        values.append((optimizer.param_groups[0]["lr"], optimizer.param_groups[0]["momentum"]))
        optimizer.step()
        scheduler.step()
    return values


@pytest.mark.parametrize("epochs, steps_per_epoch, max_lr", [(15, 469, 0.05), (3, 7, 0.1), (1, 20, 0.02)])
def test_onecycle_matches_torch(epochs, steps_per_epoch, max_lr):
    config = TrainConfig(epochs=epochs, lr=max_lr, scheduler="onecycle")
    ours = [lr_and_momentum(config, step, steps_per_epoch) for step in range(epochs * steps_per_epoch)]
    expected = torch_onecycle(epochs, steps_per_epoch, max_lr)
    for (lr, momentum), (lr_torch, momentum_torch) in zip(ours, expected, strict=True):
        assert lr == pytest.approx(lr_torch, rel=1e-6, abs=1e-12)
        assert momentum == pytest.approx(momentum_torch, rel=1e-6)


def test_step_decay_cuts_every_step_size_epochs():
    config = TrainConfig(epochs=15, lr=0.1, scheduler="step", step_size=5, step_gamma=0.1)
    lrs = [lr_and_momentum(config, epoch * 10, 10)[0] for epoch in range(15)]
    assert lrs == pytest.approx([0.1] * 5 + [0.01] * 5 + [0.001] * 5)


def test_step_decay_matches_torch_steplr_stepped_every_epoch():
    """Whole epochs: the same lr as torch's StepLR stepped once an epoch, at every batch of every epoch."""
    config = TrainConfig(epochs=15, lr=0.05, scheduler="step", step_size=5, step_gamma=0.1)
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=config.lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.1)
    for epoch in range(15):
        expected = optimizer.param_groups[0]["lr"]
        lrs = [lr_and_momentum(config, epoch * 7 + batch, 7)[0] for batch in range(7)]
        assert lrs == pytest.approx([expected] * 7)
        optimizer.step()
        scheduler.step()


def test_a_step_size_below_one_epoch_cuts_within_the_epoch():
    """A schedule fitted to a one-epoch class run: cuts after a third and two thirds of its 9 batches."""
    config = TrainConfig(epochs=1, lr=0.05, scheduler="step", step_size=1 / 3, step_gamma=0.1)
    lrs = [lr_and_momentum(config, step, 9)[0] for step in range(9)]
    assert lrs == pytest.approx([0.05] * 3 + [0.005] * 3 + [0.0005] * 3)


def test_constant_lr_without_a_scheduler():
    config = TrainConfig(lr=0.01, momentum=0.9)
    assert {lr_and_momentum(config, step, 100) for step in range(0, 1500, 37)} == {(0.01, 0.9)}


# The 3,762-parameter reference's schedule: lr 0.05 rising to 0.1 at epoch 2, down to 0.01 at
# epoch 8 and to 0 at epoch 15, read once per epoch. numpy.interp is the independent source.
REFERENCE_POINTS = ((0.0, 0.05), (2.0, 0.1), (8.0, 0.01), (15.0, 0.0))


def test_piecewise_follows_the_line_through_its_points_once_per_epoch():
    import numpy as np

    config = TrainConfig(epochs=15, scheduler="piecewise", lr_points=REFERENCE_POINTS)
    steps_per_epoch = 7
    expected = np.interp(np.arange(15), [e for e, _ in REFERENCE_POINTS], [lr for _, lr in REFERENCE_POINTS])
    for epoch in range(15):
        for batch in (0, steps_per_epoch - 1):  # constant within an epoch
            lr, momentum = lr_and_momentum(config, epoch * steps_per_epoch + batch, steps_per_epoch)
            assert lr == pytest.approx(expected[epoch]) and momentum == config.momentum
    assert lr_and_momentum(config.with_(epochs=20), 19 * steps_per_epoch, steps_per_epoch)[0] == 0.0  # past the end


@pytest.mark.parametrize(("points", "message"), [
    ((), "needs at least two"),
    (((0, 0.1),), "needs at least two"),
    (((1, 0.1), (5, 0.0)), "epoch 0"),
    (((0, 0.1), (5, 0.2), (5, 0.0)), "in order of epoch"),
    (((0, 0.1), (5, -0.2)), "non-negative"),
    (((0, 0.0), (5, 0.0)), "not all zero"),
])
def test_piecewise_points_that_make_no_schedule_are_refused(points, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(scheduler="piecewise", lr_points=points)


def test_points_need_the_piecewise_schedule_and_survive_a_json_round_trip():
    import json

    with pytest.raises(ValueError, match="only used by the piecewise"):
        TrainConfig(scheduler="step", lr_points=REFERENCE_POINTS)
    config = TrainConfig(scheduler="piecewise", lr_points=REFERENCE_POINTS)
    assert TrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
