"""Step 6, under 3,000 parameters: its network counted by hand, and its recipe.

Its shipped run is seed 5, the seed that ends at the five-seed mean (not seed 1, which ends lowest). Its network
against the trial design it was measured as, and its seed table against this recipe: test_beyond_the_lesson.py.
"""

from __future__ import annotations

from mnist_core.engine.models import SeparableNet, count_parameters
from mnist_core.lesson.steps import get_step
from mnist_core.lesson.target import FRONTIER_PARAM_BUDGET

# Step 6 by hand: Step 5's plan at 8, 10 and 18 channels. A 3x3 conv has 9 * c_in * c_out weights, a depthwise 3x3
# 9 * c, a 1x1 conv c_in * c_out, a BatchNorm 2 per channel; no layer has a bias.
HAND_COUNT = (
    9 * 1 * 8 + 2 * 8  # block 1: 3x3 conv, BatchNorm
    + 9 * 8 * 10 + 2 * 10  # block 2 (the most expensive layer)
    + 9 * 10 + 10 * 18 + 2 * 18  # separable block 3: depthwise, pointwise, BatchNorm
    + 3 * (9 * 18 + 18 * 18 + 2 * 18)  # separable blocks 4-6
    + 18 * 10  # the 1x1 convolution to the ten digits after global average pooling
)


def test_parameter_count_matches_the_hand_count_and_is_within_the_3000_budget():
    model = get_step(6).build_model()
    assert isinstance(model, SeparableNet)
    assert count_parameters(model) == HAND_COUNT == 2_880
    assert get_step(6).param_budget == FRONTIER_PARAM_BUDGET == 3_000


def test_recipe_is_step5s_with_onecycle_half_rotated_averaged_and_recalibrated():
    """Its network against its trial design, and its seed table against this recipe: tests/test_beyond_the_lesson.py."""
    assert get_step(6).recipe == get_step(5).recipe.with_(step=6, scheduler="onecycle", lr=0.1, bn_recalibrate=True,
                                                          augment_fraction=0.5, ema_decay=0.999, seed=5)
