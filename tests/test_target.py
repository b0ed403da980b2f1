"""The lesson's target, defined once (mnist_core/lesson/target.py): counted in test images, hand-checked.

Every expected value below is worked out by hand from the lesson's words, "higher than 99.40%":
9,941 of 10,000 test images or more for a run; for a recipe, more than 9,940 right images per seed
on average and no seed under its floor.
"""

from __future__ import annotations

import pytest

from mnist_core.lesson.target import (
    PARAM_BUDGET,
    above_target_line,
    percent_text,
    recipe_verdict,
    run_meets_target,
    run_verdict,
    seed_floor,
    within_param_budget,
)


@pytest.mark.parametrize(("final", "test_images", "met"), [
    (99.41, 10_000, True),  # 9,941 right: the fewest that are higher than 99.40%
    (99.40, 10_000, False),  # 9,940: exactly on the bar, not higher
    (100 * 9_940 / 10_000, 10_000, False),  # the same, as the trainer computes it
    (99.39, 10_000, False),
    (99.95, 2_000, False),  # 1,999 of 2,000: a demo on a subset cannot claim the target
    (100.0, 500, False),
])
def test_a_run_meets_the_target_with_at_least_9941_of_10000_and_never_on_a_subset(final, test_images, met):
    assert run_meets_target(final, test_images) is met
    assert run_verdict(final, test_images).met is met


@pytest.mark.parametrize(("final", "test_images", "why"), [
    (99.40, 10_000, "not met: exactly 99.40% (9,940 of 10,000), not higher"),
    (99.46, 10_000, "met: 9,946 of 10,000 test images right (99.46%), higher than 99.40%"),
    (99.37, 10_000, "not met: 99.37% (9,937 of 10,000), 4 images short of the 9,941 that are higher than 99.40%"),
    (99.90, 2_000, "not met: scored on 2,000 of the 10,000 test images (a demo), so it cannot claim the target, "
                   "which is counted on all 10,000"),
])
def test_a_runs_verdict_says_why(final, test_images, why):
    assert run_verdict(final, test_images).why == why


def test_the_line_on_a_chart_is_counted_in_images_on_any_test_set():
    assert above_target_line(99.41) and not above_target_line(99.40)
    assert above_target_line(99.45, 2_000) and not above_target_line(99.40, 2_000)  # 1,989 > 1,988 of 2,000


@pytest.mark.parametrize(("finals", "met", "mean_text", "reason"), [
    # Step 6's shipped five seeds: 9,937 + 9,946 + 9,938 + 9,939 + 9,940 = 49,700 = 5 x 9,940: on the bar.
    ((99.37, 99.46, 99.38, 99.39, 99.40), False, "99.40",
     "the mean is exactly 99.40%, not higher: 5 seeds, lowest 99.37%"),
    # 29,821 of 30,000 = 99.4033%: one image above the bar over three seeds; two decimals would print 99.40.
    ((99.42, 99.44, 99.35), True, "99.403",
     "the mean is 99.403%, higher than 99.40%, and no seed is below the 99.30% floor: 3 seeds, lowest 99.35%"),
    # 29,819 of 30,000 = 99.3967%: one image under; two decimals would print 99.40 here too.
    ((99.42, 99.42, 99.35), False, "99.397", "the mean is 99.397%, not higher than 99.40%: 3 seeds, lowest 99.35%"),
    # Mean 99.4825% (two decimals are enough away from the bar), but 99.25% is under the floor.
    ((99.60, 99.60, 99.48, 99.25), False, "99.48",
     "the mean is 99.48%, but a seed ends below the 99.30% floor: 4 seeds, lowest 99.25%"),
    ((99.30, 99.60), True, "99.45",  # at the floor is not below it
     "the mean is 99.45%, higher than 99.40%, and no seed is below the 99.30% floor: 2 seeds, lowest 99.30%"),
])
def test_a_recipe_meets_the_target_by_its_seed_mean_and_its_floor(finals, met, mean_text, reason):
    verdict = recipe_verdict(finals, floor=99.30)
    assert (verdict.met, verdict.mean_text, verdict.reason) == (met, mean_text, reason)
    assert verdict.seeds == len(finals) and verdict.lowest == min(finals)
    assert verdict.why == ("met: " if met else "not met: ") + reason


def test_the_exact_bar_reads_as_the_lesson_words_it():
    assert recipe_verdict((99.40, 99.40)).why.startswith("not met: the mean is exactly 99.40%, not higher")


def test_a_recipe_with_no_seed_has_no_verdict_and_a_demo_recipe_cannot_claim_the_target():
    with pytest.raises(ValueError):
        recipe_verdict(())
    assert not recipe_verdict((99.90, 99.90), test_images=2_000).met


@pytest.mark.parametrize(("percent", "text"), [(99.4, "99.40"), (99.5, "99.50"), (99.42666, "99.43"),
                                               (99.40333, "99.403"), (99.39667, "99.397"), (99.40002, "99.40002")])
def test_a_percentage_keeps_the_decimals_that_show_its_side_of_the_bar(percent, text):
    assert percent_text(percent) == text


def test_budgets_and_floors():
    assert within_param_budget(9_999, PARAM_BUDGET) and not within_param_budget(10_000, PARAM_BUDGET)  # fewer than
    assert within_param_budget(3_000, 3_000) and not within_param_budget(3_001, 3_000)  # at most
    assert seed_floor(6) == seed_floor(5) == 99.30
