"""Step 5, beyond the lesson: depthwise-separable blocks and SiLU. Its parameter count by hand
against the 5,000 budget, what its depthwise convolutions do, and its recipe. What Steps 5 and 6
share (their stories, the tables behind them, the shipped checkpoints) is in test_beyond_the_lesson.py."""

from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn.functional as F

from mnist_core.common.paths import ASSETS_DIR
from mnist_core.engine.models import FastDropout, count_parameters
from mnist_core.engine.summary import summarize
from mnist_core.engine.train import training_loss
from mnist_core.lesson.steps import get_step
from mnist_core.lesson.target import BEYOND_LESSON_PARAM_BUDGET, TARGET_ACC

README = Path(__file__).resolve().parent.parent / "README.md"

# Step 5 by hand: (layer, output shape, params); a 3x3 conv has 9 * c_in * c_out weights, a
# depthwise 3x3 9 * c, a 1x1 conv c_in * c_out, a BatchNorm 2 per channel, SiLU none.
HAND_SUMMARY = [
    ("Conv2d-1", (10, 26, 26), 9 * 1 * 10), ("BatchNorm2d-2", (10, 26, 26), 20), ("SiLU-3", (10, 26, 26), 0),
    ("Conv2d-4", (16, 24, 24), 9 * 10 * 16), ("BatchNorm2d-5", (16, 24, 24), 32), ("SiLU-6", (16, 24, 24), 0),
    ("MaxPool2d-7", (16, 12, 12), 0),
    ("Conv2d-8", (16, 10, 10), 9 * 16), ("Conv2d-9", (24, 10, 10), 16 * 24),
    ("BatchNorm2d-10", (24, 10, 10), 48), ("SiLU-11", (24, 10, 10), 0),
    ("Conv2d-12", (24, 8, 8), 9 * 24), ("Conv2d-13", (24, 8, 8), 24 * 24),
    ("BatchNorm2d-14", (24, 8, 8), 48), ("SiLU-15", (24, 8, 8), 0),
    ("Conv2d-16", (24, 6, 6), 9 * 24), ("Conv2d-17", (24, 6, 6), 24 * 24),
    ("BatchNorm2d-18", (24, 6, 6), 48), ("SiLU-19", (24, 6, 6), 0),
    ("Conv2d-20", (24, 4, 4), 9 * 24), ("Conv2d-21", (24, 4, 4), 24 * 24),
    ("BatchNorm2d-22", (24, 4, 4), 48), ("SiLU-23", (24, 4, 4), 0),
    ("AvgPool2d-24", (24, 1, 1), 0), ("Conv2d-25", (10, 1, 1), 24 * 10),
]


def test_parameter_count_matches_the_hand_count_and_is_within_the_5000_budget():
    model = get_step(5).build_model()
    rows = summarize(model)
    assert [(r.layer, r.output_shape, r.params) for r in rows] == HAND_SUMMARY
    assert count_parameters(model) == sum(p for *_, p in HAND_SUMMARY) == 4_918
    assert get_step(5).param_budget == BEYOND_LESSON_PARAM_BUDGET == 5_000
    assert count_parameters(model) <= BEYOND_LESSON_PARAM_BUDGET


def test_depthwise_convolutions_see_each_channel_alone():
    block = get_step(5).build_model().block4
    depthwise, pointwise = block[0], block[1]
    assert depthwise.groups == depthwise.in_channels == depthwise.out_channels == 24
    assert pointwise.kernel_size == (1, 1)
    x = torch.zeros(1, 24, 8, 8)
    x[0, 3] = torch.randn(8, 8)  # only channel 3 carries a signal
    out = depthwise(x)
    assert out[0, 3].abs().sum() > 0 and out[0, [c for c in range(24) if c != 3]].abs().sum() == 0


def test_dropout_is_off_in_the_recipe_but_can_be_turned_on():
    assert get_step(5).recipe.dropout == 0
    assert not any(isinstance(m, FastDropout) for m in get_step(5).build_model().modules())
    with_dropout = get_step(5).build_model(get_step(5).recipe.with_(dropout=0.05))
    assert sum(isinstance(m, FastDropout) for m in with_dropout.modules()) == 4  # one per separable block
    assert count_parameters(with_dropout) == 4_918


def test_recipe_is_step4s_without_dropout_and_with_silu():
    assert get_step(5).recipe == get_step(4).recipe.with_(step=5, dropout=0.0, activation="silu")


def test_label_smoothing_loss_is_cross_entropy_with_smoothing_and_plain_nll_without():
    torch.manual_seed(0)
    logits, labels = torch.randn(32, 10), torch.randint(0, 10, (32,))
    log_probs = F.log_softmax(logits, dim=1)
    assert torch.equal(training_loss(log_probs, labels, 0.0), F.nll_loss(log_probs, labels))
    torch.testing.assert_close(training_loss(log_probs, labels, 0.1),
                               F.cross_entropy(logits, labels, label_smoothing=0.1))


def test_the_readme_claims_no_more_than_the_seeds_show():
    """Issue 12: the README said the target is met "on every seed" while two seeds end at 99.39%."""
    table = json.loads((ASSETS_DIR / get_step(5).evidence.table).with_suffix(".json").read_text())
    lowest = min(row["final_test_acc"] for row in table["rows"])
    intro = README.read_text().split("## ", 1)[0]
    assert "every seed" not in intro or lowest > TARGET_ACC
    assert f"no seed below {lowest:.2f}%" in intro
