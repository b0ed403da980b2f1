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
