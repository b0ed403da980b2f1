"""The weight average (``--ema-decay``): its arithmetic, and that a run evaluates and returns the average."""

import pytest
import torch
from torch import nn

from mnist_core.engine.averaging import WeightAverage
from mnist_core.engine.config import TrainConfig
from mnist_core.engine.evaluate import evaluate
from mnist_core.engine.train import train


def test_each_update_moves_the_average_a_share_of_the_way_and_copies_counters():
    model = nn.Sequential(nn.Linear(2, 1, bias=False), nn.BatchNorm1d(1))
    with torch.no_grad():
        model[0].weight.fill_(0.0)
    average = WeightAverage(model, decay=0.9)
    for step, new in enumerate((10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0), start=1):
        before = average.model[0].weight.clone()
        with torch.no_grad():
            model[0].weight.fill_(new)
            model[1].num_batches_tracked.fill_(step)
        average.update()
        share = 1 - min(0.9, (1 + step) / (10 + step))  # larger early, 0.1 once warmed up
        assert torch.allclose(average.model[0].weight, before + share * (new - before))
        assert average.model[1].num_batches_tracked.item() == step
    assert not average.model[0].weight.requires_grad  # the average is never trained itself


def test_a_run_with_a_weight_average_grades_and_returns_the_average(mnist):
    # On the CPU, where the evaluation below runs (a GPU machine would otherwise train there).
    config = TrainConfig(step=2, epochs=2, batch_size=64, lr=0.05, train_limit=320, test_limit=200, seed=3,
                         device="cpu")
    plain, averaged = train(config, mnist), train(config.with_(ema_decay=0.99), mnist)
    # Same seed, same batches: the trained weights are the same, the returned network is not.
    assert any(not torch.equal(a, b) for a, b in zip(plain.model.state_dict().values(),
                                                     averaged.model.state_dict().values(), strict=True))
    again = evaluate(averaged.model, mnist.test_images[:200], mnist.test_labels[:200], torch.device("cpu"))
    assert again.accuracy == averaged.history[-1].test_acc == averaged.final_eval.accuracy
    assert plain.history[-1].train_loss == averaged.history[-1].train_loss


@pytest.mark.parametrize("bad", [-0.1, 1.0, float("nan")])
def test_the_decay_is_checked(bad):
    with pytest.raises(ValueError, match="EMA decay|ema_decay"):
        TrainConfig(ema_decay=bad)
