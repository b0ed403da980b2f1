"""Trial networks a recipe can name (``--network``): the public 3,762-parameter reference (as we first read it,
and as its notebook builds it), the 2,924-parameter candidate and Step 7's weight-tied trial, their parameters
counted by hand, Step 7's parameter-free trials, and the flags that rebuild the reference's recipe from the
command line."""

from __future__ import annotations

import pytest
import torch

from mnist_core.commands.cli import build_parser, main
from mnist_core.commands.recipe_args import recipe_from_args
from mnist_core.engine.checkpoints import load_checkpoint, save_checkpoint
from mnist_core.engine.config import TrainConfig
from mnist_core.engine.models import ReferenceNet, Shift3x3, TiedSeparableNet, TinyNet, count_parameters
from mnist_core.engine.recipes import build_network
from mnist_core.engine.summary import summarize, summary_records
from mnist_core.lesson.steps import get_step


def _conv(c_in: int, c_out: int, bias: bool) -> int:  # a 3x3 convolution
    return 9 * c_in * c_out + (c_out if bias else 0)


def test_reference_has_the_3762_parameters_the_public_notebook_states():
    # Three stages of three conv(bias) -> BatchNorm (2 per channel) blocks: 4, 8 and 8 channels; a 1x1 head with a bias.
    stage1 = sum(_conv(i, 4, True) + 8 for i in (1, 4, 4))
    stage2 = sum(_conv(i, 8, True) + 16 for i in (4, 8, 8))
    stage3 = 3 * (_conv(8, 8, True) + 16)
    head = 8 * 10 + 10
    model = ReferenceNet()
    assert count_parameters(model) == stage1 + stage2 + stage3 + head == 3_762
    rows = summarize(model)
    assert rows[-1].output_shape == (10, 1, 1)
    assert [r.output_shape for r in rows if r.layer.startswith("MaxPool")] == [(4, 14, 14), (8, 7, 7)]


def test_the_faithful_reference_drops_out_after_its_pools_only_and_starts_from_xavier_weights():
    """Issue 28's audit of the public notebook: dropout 0.01 after its two pools (not after all nine blocks),
    Xavier-uniform weights and zero biases. Same parameters; only where dropout sits and how weights start."""
    ours, faithful = ReferenceNet(), ReferenceNet(faithful=True)
    assert count_parameters(faithful) == count_parameters(ours) == 3_762
    dropouts = [name for name, m in faithful.named_modules() if type(m).__name__ == "FastDropout"]
    assert dropouts == ["pool1.1", "pool2.1"]
    assert len([m for m in ours.modules() if type(m).__name__ == "FastDropout"]) == 9
    convs = [m for m in faithful.modules() if isinstance(m, torch.nn.Conv2d)]
    assert all(torch.count_nonzero(conv.bias) == 0 for conv in convs)
    for conv in convs:  # Xavier-uniform draws within +-sqrt(6 / (fan_in + fan_out))
        fan_in, fan_out = conv.weight[0].numel(), conv.weight.shape[0] * conv.weight[0, 0].numel()
        assert conv.weight.abs().max() <= (6 / (fan_in + fan_out)) ** 0.5
    assert faithful(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    step = get_step(5)
    named = step.build_model(step.recipe.with_(network="reference3762-faithful", dropout=0.01))
    assert isinstance(named, ReferenceNet) and named.pool1[1].p == 0.01


def test_the_tied_trial_uses_one_set_of_weights_three_times_and_counts_it_once(tmp_path):
    """Step 7's weight-tied trial (``tied1908``): blocks 5 and 6 reuse block 4's convolutions, each with its own
    BatchNorm; the one tensor is trained by every use, saved and loaded as one, and every table counts it once."""
    by_hand = 9 * 8 + 16 + 9 * 8 * 10 + 20 + (9 * 10 + 10 * 18 + 36) + (9 * 18 + 18 * 18) + 3 * 36 + 18 * 10
    model = get_step(6).build_model(get_step(6).recipe.with_(network="tied1908"))
    assert isinstance(model, TiedSeparableNet) and count_parameters(model) == by_hand == 1_908
    for use in (model.block5, model.block6):
        assert use[0].weight is model.block4[0].weight and use[1].weight is model.block4[1].weight
        assert use[2] is not model.block4[2]
    before = model.block4[1].weight.detach().clone()
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
    model(torch.randn(8, 1, 28, 28)).sum().backward()
    optimiser.step()
    assert not torch.equal(before, model.block4[1].weight)
    rows = summarize(model)
    assert sum(row.params for row in rows) == 1_908
    assert [(row.layer, row.shares) for row in rows if row.shares] == [
        ("Conv2d-16", "Conv2d-12"), ("Conv2d-17", "Conv2d-13"), ("Conv2d-20", "Conv2d-12"), ("Conv2d-21", "Conv2d-13")]
    assert summary_records(model)[15]["weights"] == "shared with Conv2d-12"
    assert "weights" not in summary_records(get_step(6).build_model())[0]  # no such column where nothing is shared
    path = tmp_path / "model.pt"
    save_checkpoint(path, model, get_step(6).recipe.with_(network="tied1908"))
    loaded, _ = load_checkpoint(path)
    assert loaded.block6[1].weight is loaded.block4[1].weight
    assert torch.equal(loaded.block6[1].weight, model.block4[1].weight)


def test_tiny_candidate_by_hand():
    def separable(c_in: int, c_out: int) -> int:  # depthwise 3x3, pointwise 1x1, BatchNorm
        return 9 * c_in + c_in * c_out + 2 * c_out

    by_hand = _conv(1, 8, False) + 16 + separable(8, 8) + separable(8, 16) + separable(16, 16) \
        + separable(16, 28) + separable(28, 28) + 28 * 10
    model = TinyNet()
    assert count_parameters(model) == by_hand == 2_924 <= 3_000
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)


def test_a_recipe_naming_a_design_builds_that_network_and_the_step_keeps_its_own():
    step = get_step(5)
    assert isinstance(step.build_model(step.recipe.with_(network="reference3762", activation="relu")), ReferenceNet)
    assert isinstance(step.build_model(step.recipe.with_(network="tiny2924")), TinyNet)
    assert count_parameters(step.build_model()) == 4_918
    with pytest.raises(ValueError, match="network must be one of"):
        TrainConfig(network="resnet")


REFERENCE_ARGS = ["seeds", "--step", "5", "--network", "reference3762", "--activation", "relu", "--dropout", "0.01",
                  "--batch-size", "32", "--momentum", "0", "--scheduler", "piecewise", "--lr", "0.05",
                  "--lr-points", "0:0.05", "2:0.1", "8:0.01", "15:0", "--rotation", "7", "--translate", "0.09",
                  "--scale", "0.09", "--augment-fraction", "0.5", "--brightness", "0.2", "--contrast", "0.2"]


def test_the_reference_recipe_from_the_command_line():
    config = recipe_from_args(build_parser().parse_args(REFERENCE_ARGS))
    assert config.lr_points == ((0.0, 0.05), (2.0, 0.1), (8.0, 0.01), (15.0, 0.0))
    assert (config.batch_size, config.momentum, config.augment_fraction, config.brightness, config.contrast) == (
        32, 0.0, 0.5, 0.2, 0.2)
    assert count_parameters(get_step(5).build_model(config)) == 3_762


@pytest.mark.parametrize(("args", "message"), [
    (["--lr-points", "0:0.05", "two:0.1"], "is not EPOCH:LR"),
    (["--scheduler", "piecewise", "--lr-points", "0:0.05"], "needs at least two"),
    (["--augment-fraction", "0"], "augment fraction must be in (0, 1]"),
])
def test_bad_recipe_flags_get_a_message_not_a_traceback(args, message, capsys):
    """In this process (an exception would fail the test); the real entry point is tests/test_cli.py's."""
    try:
        code = main(["train", "--step", "5", "--epochs", "1", *args])
    except SystemExit as refused:  # argparse refuses a value it cannot parse, with its own message
        code = refused.code
    assert code != 0
    assert message in capsys.readouterr().err


STEP7_TRIALS = ("residual1916", "latepool1916", "dwact1916")


def _step7(network: str = "", seed: int = 4) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_network(get_step(7).recipe.with_(network=network, deskew=False))  # as Step 7's first recipe did


@pytest.mark.parametrize("network", STEP7_TRIALS)
def test_step7_trials_add_no_parameter_and_start_from_step7s_own_weights(network):
    """Step 7's screens are compared seed by seed with its table: that holds only if a seed starts both alike."""
    plain, trial = _step7(), _step7(network)
    assert count_parameters(trial) == count_parameters(plain) == 1_916
    assert all(torch.equal(a, b) for a, b in zip(plain.parameters(), trial.parameters(), strict=True))
    assert trial(torch.randn(3, 1, 28, 28)).shape == (3, 10)


def _silence_last_three_blocks(model: torch.nn.Module) -> torch.nn.Module:
    """Zero the scale and shift of blocks 4-6's BatchNorm: each block then outputs SiLU(0) = 0 everywhere."""
    for block in (model.block4, model.block5, model.block6):
        bn = next(m for m in block if isinstance(m, torch.nn.BatchNorm2d))
        torch.nn.init.zeros_(bn.weight)
        torch.nn.init.zeros_(bn.bias)
    return model.eval()


def test_the_residual_trial_carries_each_blocks_input_past_it():
    images = torch.randn(2, 1, 28, 28)
    plain, residual = _silence_last_three_blocks(_step7()), _silence_last_three_blocks(_step7("residual1916"))
    with torch.no_grad():
        assert torch.equal(plain(images)[0], plain(images)[1])  # nothing reaches the head but a constant
        assert not torch.allclose(residual(images)[0], residual(images)[1])  # the shortcuts carry block 3's map


def test_the_late_pool_trial_pools_after_the_first_separable_block():
    rows = summarize(_step7("latepool1916"))
    shapes = [(r.layer.split("-")[0], r.output_shape) for r in rows if r.layer.startswith(("MaxPool", "AvgPool"))]
    assert shapes == [("MaxPool2d", (14, 11, 11)), ("AvgPool2d", (14, 1, 1))]


def test_the_depthwise_activated_trial_activates_between_its_two_convolutions():
    model = _step7("dwact1916")
    for block in (model.block3, model.block4, model.block5, model.block6):
        kinds = [type(m).__name__ for m in block]
        assert kinds == ["Conv2d", "BatchNorm2d", "SiLU", "Conv2d", "BatchNorm2d", "SiLU"]
        assert not block[1].affine and block[4].affine  # the new normalisation adds no parameter


def test_the_shift_trial_spends_the_depthwise_weights_on_width():
    """1,954 by hand: Step 7's stem (66 + 448), then 18 channels after the pool with no depthwise filters:
    block 3, 8 x 18 pointwise + 36 BatchNorm; blocks 4-6, 18 x 18 + 36 each; the head, 18 x 10."""
    model = _step7("shift1954")
    assert count_parameters(model) == sum(p.numel() for p in model.parameters()) == 1_954
    assert count_parameters(model) == 66 + 448 + (8 * 18 + 36) + 3 * (18 * 18 + 36) + 18 * 10
    assert not any("kernel" in name for name in model.state_dict())  # the shifts are rebuilt, never saved
    assert model(torch.randn(3, 1, 28, 28)).shape == (3, 10)


def test_a_shift_moves_each_channel_in_its_own_direction_and_trims_like_a_3x3():
    images = torch.randn(2, 10, 6, 6)
    shifted = Shift3x3(10)(images)
    assert shifted.shape == (2, 10, 4, 4)
    for channel in range(10):
        row, column = divmod(channel % 9, 3)  # channel 4 looks at the centre: the image trimmed a pixel a side
        assert torch.equal(shifted[:, channel], images[:, channel, row:row + 4, column:column + 4])
