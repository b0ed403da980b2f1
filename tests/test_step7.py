"""Step 7, under 2,000 parameters: its network counted by hand, its recipe, and its Results held to its table.

Whether its seeds meet the target is not assumed here: the step's page, Home and the leaderboard say what
``assets/step7-seeds`` shows, through ``target.recipe_verdict`` (tests/test_target_pages.py holds them to it).
"""

from __future__ import annotations

from mnist_core.engine.deskew import Deskew
from mnist_core.engine.models import SeparableNet, count_parameters
from mnist_core.lesson.seed_tables import recipe_seed_summary
from mnist_core.lesson.steps import get_step
from mnist_core.lesson.target import STRETCH_PARAM_BUDGET, recipe_verdict, seed_floor

# Step 7 by hand: Step 6's plan at 6, 8 and 14 channels, after a deskew that has no weights. A 3x3 conv has
# 9 * c_in * c_out weights, a depthwise 3x3 9 * c, a 1x1 conv c_in * c_out, a BatchNorm 2 per channel; no bias.
HAND_COUNT = (
    9 * 1 * 6 + 2 * 6  # block 1: 3x3 conv, BatchNorm
    + 9 * 6 * 8 + 2 * 8  # block 2 (still the most expensive layer)
    + 9 * 8 + 8 * 14 + 2 * 14  # separable block 3: depthwise, pointwise, BatchNorm
    + 3 * (9 * 14 + 14 * 14 + 2 * 14)  # separable blocks 4-6
    + 14 * 10  # the 1x1 convolution to the ten digits after global average pooling
)


def test_parameter_count_matches_the_hand_count_and_is_within_the_2000_budget():
    model = get_step(7).build_model()
    assert isinstance(model, SeparableNet)
    assert count_parameters(model) == HAND_COUNT == 1_916
    assert get_step(7).param_budget == STRETCH_PARAM_BUDGET == 2_000


def test_recipe_is_step_6s_with_deskewed_digits_and_more_varied_augmentation():
    """Its network against its trial design, and its seed table against this recipe: tests/test_beyond_the_lesson.py.

    Deskewing takes the slant out of every digit, so the augmentation turns them further (±12° instead of ±7°)
    and zooms them too (±10%): neither change helped alone on the screening seeds, both together did."""
    step = get_step(7)
    assert step.recipe == get_step(6).recipe.with_(step=7, seed=step.recipe.seed, deskew=True, rotation_degrees=12.0,
                                                   scale=0.1)
    assert isinstance(step.build_model().deskew, Deskew)


def test_the_story_quotes_its_own_seed_table():
    """The Results give the verdict the table gives, in its own words, whichever way it falls."""
    seeds = recipe_seed_summary(7)
    verdict = recipe_verdict(seeds.finals, seed_floor(7))
    results = " ".join(get_step(7).results)
    assert results.startswith("Met" if verdict.met else "Not met")
    assert verdict.reason in results
