"""BatchNorm recalibration (``--bn-recalibrate``): its arithmetic, and where a run applies it."""

import argparse
import copy

import pytest
import torch
from torch import nn

from mnist_core.commands.recipe_args import add_recipe_arguments, recipe_from_args
from mnist_core.engine.bn_recalibration import recalibrate_batchnorm
from mnist_core.engine.config import TrainConfig
from mnist_core.engine.evaluate import evaluate
from mnist_core.engine.train import train


def test_the_statistics_become_the_plain_mean_and_variance_of_the_layer_s_inputs():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2), nn.Dropout(0.5))
    model[1].momentum = 0.1
    images = torch.randn(3000, 3) * 4 + 1
    weights = {name: value.clone() for name, value in model.state_dict().items() if "running" not in name
               and "num_batches" not in name}
    random_state = torch.get_rng_state()
    assert recalibrate_batchnorm(model, images, batch_size=1000) == 1
    inputs = model[0](images).detach()
    assert torch.allclose(model[1].running_mean, inputs.mean(0), atol=1e-5)
    # The average over the three batches of each batch's (unbiased) variance.
    parts = [inputs[i:i + 1000].var(0, unbiased=True) for i in range(0, 3000, 1000)]
    assert torch.allclose(model[1].running_var, sum(parts) / 3, rtol=1e-4)
    assert not model.training and model[1].momentum == 0.1  # left graded as before, momentum restored
    assert all(torch.equal(value, model.state_dict()[name]) for name, value in weights.items())  # no weight moved
    assert torch.equal(torch.get_rng_state(), random_state)  # dropout stayed off: a seeded run is unchanged



def test_the_average_is_batchnorm_s_own_cumulative_one_to_the_last_bit():
    """The factor is given as a number, so a GPU never waits, and the statistics are momentum=None's exactly."""
    torch.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4))
    images = torch.randn(2500, 1, 8, 8) * 3 + 2
    reference = copy.deepcopy(model)
    reference[1].reset_running_stats()
    reference[1].momentum = None  # PyTorch's cumulative average: 1 / (batches so far), read from its counter
    with torch.no_grad():
        for start in range(0, 2500, 1000):
            reference(images[start:start + 1000])
    recalibrate_batchnorm(model, images, batch_size=1000)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        assert torch.equal(getattr(model[1], name), getattr(reference[1], name)), name

def test_a_run_recalibrates_only_before_its_last_test_pass_and_trains_the_same(mnist):
    # On the CPU, where the evaluation below runs (a GPU machine would otherwise train there).
    config = TrainConfig(step=2, epochs=2, batch_size=64, lr=0.05, rotation_degrees=10.0, train_limit=320,
                         test_limit=200, seed=3, device="cpu")  # 5 batches an epoch: enough to move the statistics
    plain, recalibrated = train(config, mnist), train(config.with_(bn_recalibrate=True), mnist)
    # Same batches, same weights: training never reads the running statistics.
    assert [h.train_loss for h in plain.history] == [h.train_loss for h in recalibrated.history]
    assert plain.history[0].test_acc == recalibrated.history[0].test_acc  # the first epoch graded as trained
    plain_stats = [m.running_mean for m in plain.model.modules() if isinstance(m, nn.BatchNorm2d)]
    new_stats = [m.running_mean for m in recalibrated.model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert any(not torch.allclose(a, b) for a, b in zip(plain_stats, new_stats, strict=True))
    again = evaluate(recalibrated.model, mnist.test_images[:200], mnist.test_labels[:200], torch.device("cpu"))
    assert again.accuracy == recalibrated.history[-1].test_acc == recalibrated.final_eval.accuracy


def test_the_command_line_turns_it_on_alone_or_with_yes_and_off_with_no():
    parser = argparse.ArgumentParser()
    add_recipe_arguments(parser)
    on = recipe_from_args(parser.parse_args(["--step", "5", "--bn-recalibrate"]))
    off = recipe_from_args(parser.parse_args(["--step", "5", "--bn-recalibrate", "no"]))
    assert on.bn_recalibrate is True and off.bn_recalibrate is False
    with pytest.raises(SystemExit):
        parser.parse_args(["--step", "5", "--bn-recalibrate", "maybe"])
