"""Run summaries and the Analysis the dashboard writes from a run's numbers."""

from __future__ import annotations

import pytest

from mnist_core.lesson.report import analyse, shipped_seeds_summary, summarize
from mnist_core.lesson.steps import get_step


def history(test_accs, train_accs=None):
    train_accs = train_accs or [acc - 0.5 for acc in test_accs]
    return [
        {"epoch": i + 1, "train_loss": 0.1, "train_acc": tr, "test_loss": 0.05, "test_acc": te, "lr": 0.01,
         "seconds": 10.0 + i}
        for i, (tr, te) in enumerate(zip(train_accs, test_accs, strict=True))
    ]


def test_summary_has_best_and_final_and_the_first_epoch_past_the_target():
    s = summarize(history([98.0, 99.45, 99.38, 99.50, 99.47]))
    assert (s.best_test_acc, s.best_epoch, s.final_test_acc) == (99.50, 4, 99.47)
    assert s.first_target_epoch == 2 and s.epochs_above_target == 3
    assert s.seconds_per_epoch == pytest.approx(12.0)
    assert summarize([]) is None


@pytest.mark.parametrize("train_gap, phrase", [
    (+1.0, "first sign of overfitting"),
    (-1.0, "not overfitting and has room to learn more"),
    (0.1, "no sign of overfitting"),
])
def test_analysis_reads_the_train_test_gap(train_gap, phrase):
    tests = [99.0, 99.2]
    lines = analyse(history(tests, [t + train_gap for t in tests]), params=9_436, config=get_step(4).recipe)
    assert any(phrase in line for line in lines)


@pytest.mark.parametrize("step, named, not_named", [
    (1, [], ["dropout", "augmentation"]),  # neither: the sentence must not blame them
    (2, ["dropout (5%)"], ["augmentation"]),  # issue 12: Step 2 was told augmentation made training harder
    (3, ["dropout (5%)", "augmentation (±7° rotation)"], []),
])
def test_the_sentence_about_test_above_train_names_only_what_the_recipe_has(step, named, not_named):
    tests = [99.0, 99.2]
    text = " ".join(analyse(history(tests, [t - 1.0 for t in tests]), 9_436, config=get_step(step).recipe))
    assert "not overfitting" in text
    assert all(word in text for word in named), text
    assert not any(word in text for word in not_named), text


def test_a_one_epoch_class_run_blames_the_epochs_running_average_not_only_the_handicaps():
    """A class run (98.79% test, 94.87% train: Step 4's first seed): its training accuracy includes the untrained
    network's first batches; dropout and rotation alone do not explain four points."""
    config = get_step(4).recipe.with_(epochs=1)
    text = " ".join(analyse(history([98.79], [94.87]), 9_436, config=config))
    assert "began with an untrained network" in text and "One epoch cannot show overfitting" in text
    assert "dropout (5%) and augmentation (±7° rotation) also make training harder" in text
    assert "has room to learn more" not in text  # the many-epoch sentence is not the one said


def test_a_quick_run_says_how_many_images_its_numbers_come_from():
    config = get_step(2).recipe.with_(train_limit=2_560, test_limit=2_000)
    text = " ".join(analyse(history([90.0, 95.0]), 9_436, config=config))
    assert "first 2,000 test images" in text and "2,560 of the 60,000 training images" in text
    assert "the 10,000 test images" in " ".join(analyse(history([90.0]), 9_436, config=get_step(2).recipe))


def test_analysis_says_whether_the_target_was_reached_and_held():
    held = " ".join(analyse(history([99.1, 99.45, 99.5]), params=9_436))
    assert "first passed 99.40% at epoch 2" in held and "held it to the end" in held
    lost = " ".join(analyse(history([99.45, 99.3]), params=9_436))
    assert "lost it by the final epoch" in lost
    never = " ".join(analyse(history([98.0, 98.5]), params=12_000))
    assert "never passed 99.40%" in never and "over the 10,000 budget" in never
    assert analyse([], 9_436) == ["No epoch has finished yet, so there is nothing to analyse."]


def test_shipped_seed_summaries_are_read_where_a_step_ships_them_and_none_elsewhere():
    assert shipped_seeds_summary(1) is None  # Step 1 ships one run, no seed table
    summary = shipped_seeds_summary(5)
    assert summary["seeds"] == 6 and summary["min_final_test_acc"] <= summary["mean_final_test_acc"]


# Issue 29, item 5: every sentence of "Analysis of your run" follows from the run's numbers. One run made for each
# kind of sentence; the histories are written by hand, no training.

def run_of(test_accs, train_accs):
    return history(test_accs, train_accs)


def test_a_short_demo_run_far_below_the_bar_is_underfit_not_overfit():
    """The issue's run: Step 2, 2 epochs on 2,560 images, ending at 65.70% with training accuracy above test
    accuracy. The old Analysis called it "a first sign of overfitting" (this test failed on it)."""
    config = get_step(2).recipe.with_(epochs=2, train_limit=2_560)
    text = " ".join(analyse(run_of([52.30, 65.70], [45.00, 75.00]), 9_436, config=config))
    assert "first sign of overfitting" not in text and "is overfitting" not in text
    assert "At 65.70% the network is underfit, not overfit" in text
    assert "only 2 epochs of 15 and only 2,560 of the 60,000 training images" in text
    assert "still rising at the last epoch (+13.40 points)" in text
    assert "9.30-point gap between training and test accuracy says nothing about overfitting" in text
    assert "More epochs and all the training images come first." in text


def test_a_full_run_that_stays_low_is_underfit_and_blames_neither_epochs_nor_images():
    tests = [96.0 + 0.1 * i for i in range(15)]  # ends at 97.40%, below where every shipped run ends
    text = " ".join(analyse(run_of(tests, [t - 0.2 for t in tests]), 9_436, config=get_step(1).recipe))
    assert "underfit" in text and "even after a full run: training accuracy ends at 97.20%" in text
    assert "only" not in text and "overfitting" not in text and "come first" not in text


def test_a_short_run_at_a_good_level_that_is_still_rising_says_more_epochs_would_help():
    tests = [98.5, 98.8, 99.0, 99.1, 99.3]
    text = " ".join(analyse(run_of(tests, [t - 0.1 for t in tests]), 9_436, config=get_step(4).recipe.with_(epochs=5)))
    assert "underfit" not in text and "no sign of overfitting" in text
    assert "still rising at the last epoch (+0.20 points): more epochs, up to the 15" in text
    flat = [99.0] * 14 + [99.3]  # rising too, but it has used the 15 epochs the lesson allows
    assert "more epochs" not in " ".join(analyse(run_of(flat, flat), 9_436, config=get_step(4).recipe))


def test_test_accuracy_falling_while_training_accuracy_rises_is_overfitting():
    text = " ".join(analyse(run_of([99.0, 99.3, 99.5, 99.3], [99.0, 99.6, 99.8, 99.9]), 9_436,
                            config=get_step(4).recipe))
    assert "fell 0.20 points from its best (epoch 3) while training accuracy kept rising: the network is " \
           "overfitting" in text
    assert "first sign" not in text


def test_a_gap_without_a_fall_is_only_a_first_sign():
    text = " ".join(analyse(run_of([99.0, 99.2], [99.8, 100.0]), 9_436, config=get_step(4).recipe))
    assert "a first sign of overfitting, though test accuracy has not fallen from its best" in text


@pytest.mark.parametrize(("tests", "test_limit", "phrases"), [
    ([99.45, 99.40], 0, ["lost it by the final epoch",
                         "Target not met: exactly 99.40% (9,940 of 10,000), not higher."]),
    ([99.30, 99.46], 0, ["held it to the end", "Target met: 9,946 of 10,000 test images right (99.46%)"]),
    ([99.50, 99.60], 2_000, ["first passed 99.40% on the first 2,000 test images (a quick test pass) at epoch 1",
                             "Target not met: scored on 2,000 of the 10,000 test images (a demo), so it cannot "
                             "claim the target"]),
])
def test_the_target_sentence_is_the_one_verdict(tests, test_limit, phrases):
    config = get_step(4).recipe.with_(test_limit=test_limit)
    text = " ".join(analyse(run_of(tests, tests), 9_436, config=config))
    assert all(phrase in text for phrase in phrases), text


@pytest.mark.parametrize(("step", "params", "changes", "phrase"), [
    (6, 2_880, {}, "2,880 parameters: within Step 6's 3,000 budget; 2 of 15 epochs."),
    (6, 3_001, {}, "3,001 parameters: over Step 6's 3,000 budget"),
    (4, 10_000, {}, "10,000 parameters: over the 10,000 budget"),  # the lesson's is "fewer than"
])
def test_the_budget_sentence_holds_a_run_to_its_steps_budget(step, params, changes, phrase):
    text = " ".join(analyse(run_of([99.0, 99.1], [99.0, 99.1]), params, config=get_step(step).recipe.with_(**changes)))
    assert phrase in text


def test_a_run_past_the_epoch_budget_says_so():
    tests = [99.0] * 16
    text = " ".join(analyse(run_of(tests, tests), 9_436, config=get_step(4).recipe.with_(epochs=16)))
    assert "16 epochs, over the 15-epoch budget" in text
