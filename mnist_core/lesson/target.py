"""The lesson's target, defined once: what "higher than 99.40%" means for a run and for a recipe.

The source lesson asks for a test accuracy *higher than* 99.40%. Percentages are floats and a
mean of them can print as 99.40 on either side of the bar, so every verdict here is counted in
test images: a run meets the target when at least 9,941 of the 10,000 test images are right at
its final epoch. A run scored on fewer test images (a demo's quick test pass) cannot claim the
target, whatever its percentage: the lesson's figure is over all 10,000, and on 2,000 images one
lucky digit moves the figure by 0.05 points. A recipe meets the target when the mean over its
seeds is higher than 99.40% (more than 9,940 right images per seed on average) and no seed ends
below its step's floor.

The parameter and epoch budgets are separate rules (``within_param_budget`` here,
``EPOCH_BUDGET`` in ``mnist_core.engine.recipes``): a verdict here is about accuracy only.
Home, the step pages, the leaderboard, the Analysis of a run and the CLI all ask this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

TARGET_ACC = 99.40  # percent test accuracy the final epoch must be higher than
TEST_IMAGES = 10_000  # the MNIST test set: the target is counted on all of it
TARGET_CORRECT = 9_941  # the fewest right test images of 10,000 that are higher than 99.40%
TARGET_WORDS = f"higher than {TARGET_ACC:.2f}%"  # the lesson's own words, for every sentence that states the target

PARAM_BUDGET = 10_000  # the lesson's parameter limit (strictly fewer)
BEYOND_LESSON_PARAM_BUDGET = 5_000  # the limit (at most) Step 5 is held to: half the lesson's
FRONTIER_PARAM_BUDGET = 3_000  # the limit (at most) Step 6 is held to: under a third of the lesson's
STRETCH_PARAM_BUDGET = 2_000  # the limit (at most) Step 7 is held to: a fifth of the lesson's
SEED_FLOOR_ACC = 99.30  # a recipe measured over seeds: besides the mean, no seed may end below this (percent)
STEP_SEED_FLOORS = {5: SEED_FLOOR_ACC, 6: SEED_FLOOR_ACC, 7: SEED_FLOOR_ACC}  # steps whose Target names a floor


def seed_floor(step: int) -> float:
    """The floor no seed of ``step``'s recipe may end below, in percent."""
    return STEP_SEED_FLOORS.get(step, SEED_FLOOR_ACC)


def within_param_budget(params: int, budget: int) -> bool:
    """Whether ``params`` fits ``budget``: the lesson's 10,000 is "fewer than", the budgets beyond it "at most"."""
    return params < budget if budget == PARAM_BUDGET else params <= budget


def correct_images(percent: float, test_images: int = TEST_IMAGES) -> int:
    """The number of right test images behind an accuracy of ``percent`` on ``test_images`` images."""
    return round(percent * test_images / 100)


def mean_percent(percents: Sequence[float]) -> float:
    """The mean of percentages given to two decimals, summed exactly as hundredths of a percent.

    ``statistics.fmean`` of 99.32 and 99.27 is 99.29499..., which prints as 99.29 where the seeds'
    right images (19,859 of 20,000) make 99.295, printed 99.30; summing hundredths gives the same float
    the image count does, so a seed table's mean row and its verdict print the same figure.
    """
    return sum(round(p * 100) for p in percents) / (100 * len(percents))


def above_target_line(percent: float, test_images: int = TEST_IMAGES) -> bool:
    """Whether ``percent`` on ``test_images`` images is higher than 99.40%, compared in images, not floats.

    This is the line on a chart; a run only *meets* the target on the whole test set (``run_verdict``).
    """
    return correct_images(percent, test_images) * 10_000 > round(TARGET_ACC * 100) * test_images


def percent_text(percent: float) -> str:
    """A percentage with the decimals it needs to show its side of the bar: two, or more for a mean
    such as 99.4033 (three seeds with one right image over 99.40% on average), never '99.40' for it."""
    for decimals in range(2, 7):
        text = f"{percent:.{decimals}f}"
        if abs(float(text) - percent) < 1e-9 or float(text) != TARGET_ACC:
            return text
    return f"{percent:.6f}"


@dataclass(frozen=True)
class TargetVerdict:
    """Whether a run or a recipe meets the target, its figures, and why, in words."""

    met: bool
    mean: float  # percent: the run's final test accuracy, or the mean over the recipe's seeds
    seeds: int  # 1 for a lone run
    lowest: float  # percent: the lowest seed's final test accuracy (a lone run's own)
    reason: str  # the why, without the verdict: "the mean is exactly 99.40%, not higher"

    @property
    def why(self) -> str:
        """The verdict and its reason in one sentence: 'met: ...' or 'not met: ...'."""
        return f"{'met' if self.met else 'not met'}: {self.reason}"

    @property
    def mean_text(self) -> str:
        """The mean as a page shows it, with the decimals that keep it on its side of the bar ('99.403')."""
        return percent_text(self.mean)


def _subset_reason(test_images: int) -> str:
    return (f"scored on {test_images:,} of the {TEST_IMAGES:,} test images (a demo), so it cannot claim the "
            f"target, which is counted on all {TEST_IMAGES:,}")


def run_verdict(final_test_acc: float, test_images: int = TEST_IMAGES) -> TargetVerdict:
    """A run's verdict from its final test accuracy (percent) on ``test_images`` test images.

    Met when at least 9,941 of the 10,000 test images are right; never on fewer test images.
    """
    verdict = TargetVerdict(met=False, mean=final_test_acc, seeds=1, lowest=final_test_acc, reason="")
    if test_images < TEST_IMAGES:
        return replace(verdict, reason=_subset_reason(test_images))
    right = correct_images(final_test_acc, test_images)
    if right >= TARGET_CORRECT:
        return replace(verdict, met=True, reason=f"{right:,} of {TEST_IMAGES:,} test images right "
                                               f"({final_test_acc:.2f}%), {TARGET_WORDS}")
    if right == TARGET_CORRECT - 1:
        return replace(verdict, reason=f"exactly {TARGET_ACC:.2f}% ({right:,} of {TEST_IMAGES:,}), not higher")
    short = TARGET_CORRECT - right
    return replace(verdict, reason=f"{final_test_acc:.2f}% ({right:,} of {TEST_IMAGES:,}), {short:,} images short "
                                 f"of the {TARGET_CORRECT:,} that are {TARGET_WORDS}")


def run_meets_target(final_test_acc: float, test_images: int = TEST_IMAGES) -> bool:
    """Whether a run with this final test accuracy (percent, on ``test_images`` images) meets the target."""
    return run_verdict(final_test_acc, test_images).met


def recipe_verdict(seed_accs: Sequence[float], floor: float = SEED_FLOOR_ACC,
                   test_images: int = TEST_IMAGES) -> TargetVerdict:
    """A recipe's verdict from its seeds' final test accuracies (percent, on ``test_images`` images each).

    Met when the mean is higher than 99.40% (counted in right images over all the seeds) and no seed
    ends below ``floor``. Raises ValueError for no seeds: a recipe with none has no verdict.
    """
    if not seed_accs:
        raise ValueError("a recipe's verdict needs at least one seed")
    rights = [correct_images(acc, test_images) for acc in seed_accs]
    seeds, lowest = len(rights), min(seed_accs)
    mean = 100 * sum(rights) / (seeds * test_images)
    verdict = TargetVerdict(met=False, mean=mean, seeds=seeds, lowest=lowest, reason="")
    measured = f"{seeds} seeds, lowest {lowest:.2f}%" if seeds > 1 else f"one seed, at {lowest:.2f}%"
    if test_images < TEST_IMAGES:
        return replace(verdict, reason=_subset_reason(test_images))
    bar = round(TARGET_ACC * 100) * test_images  # right images per seed times 10,000, at exactly 99.40%
    if sum(rights) * 10_000 <= bar * seeds:
        if sum(rights) * 10_000 == bar * seeds:
            return replace(verdict, reason=f"the mean is exactly {TARGET_ACC:.2f}%, not higher: {measured}")
        return replace(verdict, reason=f"the mean is {percent_text(mean)}%, not {TARGET_WORDS}: {measured}")
    below = [acc for acc, right in zip(seed_accs, rights, strict=True)
             if right * 10_000 < round(floor * 100) * test_images]
    if below:
        seeds_below = "a seed ends" if len(below) == 1 else f"{len(below)} seeds end"
        return replace(verdict, reason=f"the mean is {percent_text(mean)}%, but {seeds_below} below the "
                                       f"{floor:.2f}% floor: {measured}")
    return replace(verdict, met=True, reason=f"the mean is {percent_text(mean)}%, {TARGET_WORDS}, and no seed is "
                                             f"below the {floor:.2f}% floor: {measured}")
