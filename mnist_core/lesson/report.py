"""Numbers about a run, and the plain-words Analysis the dashboard writes from them."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from mnist_core.common.paths import ASSETS_DIR, shipped_run_path
from mnist_core.common.wording import count
from mnist_core.engine.config import TrainConfig
from mnist_core.engine.recipes import EPOCH_BUDGET
from mnist_core.lesson.steps import get_step
from mnist_core.lesson.target import (
    PARAM_BUDGET,
    TARGET_ACC,
    TEST_IMAGES,
    above_target_line,
    run_verdict,
    within_param_budget,
)
from mnist_core.runs.store import DamagedRun, Run, inspect_run, read_run

TRAIN_IMAGES = 60_000  # the MNIST training set
# Every step's shipped 15-epoch run ends above this (Step 1, the weakest, at 98.71%): a run below it has not
# learned what a network of this kind can, so its train-test gap says nothing about overfitting yet.
FULL_RUN_LEVEL = 98.0  # percent test accuracy
GAP_POINTS = 0.3  # a train-test gap under this many points is within what one epoch's noise moves
FALL_POINTS = 0.1  # test accuracy this far under its best at the end, while training accuracy rose: overfitting
STILL_RISING_POINTS = 0.1  # test accuracy gained at least this much in the last epoch: still learning


def shipped_run(step: int) -> Run | None:
    """The run this project ships for ``step`` (made by ``python -m mnist_core reproduce``)."""
    return read_run(shipped_run_path(step))


def shipped_run_problem(step: int) -> str | None:
    """Why the shipped run of ``step`` cannot be trusted as the step's result, or None when it can.

    A damaged file, or a run that never finished (an interrupted ``reproduce`` of an older
    version): a page says so instead of showing its numbers as the step's results.
    """
    run = inspect_run(shipped_run_path(step))
    if isinstance(run, DamagedRun):
        return f"damaged: {run.problem}"
    if run is not None and run.state != "finished":
        return f"{run.state}, not finished: {len(run.history)} of {run.config.epochs} epochs. " \
               f"{run.status.get('message', '')}".strip()
    return None


def shipped_seeds_summary(step: int) -> dict | None:
    """The summary of the seed table behind ``step``'s Analysis (``python -m mnist_core seeds``), if it has one.

    One shipped run is one seed; where the recipe was also run over several seeds, this
    says what the recipe does, not what one lucky (or unlucky) seed did.
    """
    evidence = get_step(step).evidence
    if evidence is None:
        return None
    try:  # seeds writes seeds.json beside seeds.md; another kind of table has no such summary
        summary = json.loads((ASSETS_DIR / evidence.table).with_suffix(".json").read_text())["summary"]
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None
    mean = summary.get("mean_final_test_acc") if isinstance(summary, dict) else None
    if isinstance(mean, bool) or not isinstance(mean, (int, float)) or not math.isfinite(mean):
        return None  # a summary without the figure the pages show is no summary
    return summary


@dataclass(frozen=True)
class RunSummary:
    epochs: int
    best_test_acc: float
    best_epoch: int
    final_test_acc: float
    best_train_acc: float
    final_train_acc: float
    final_gap: float  # final train acc - final test acc, in points
    first_target_epoch: int | None  # first epoch whose test accuracy is above the 99.40% line (target.py)
    epochs_above_target: int
    seconds_per_epoch: float


def summarize(history: list[dict], test_images: int = TEST_IMAGES) -> RunSummary | None:
    """Best and final figures of a per-epoch history scored on ``test_images`` images; None with no epoch yet."""
    if not history:
        return None
    best = max(history, key=lambda h: h["test_acc"])
    final = history[-1]
    above = [h["epoch"] for h in history if above_target_line(h["test_acc"], test_images)]
    return RunSummary(
        epochs=len(history),
        best_test_acc=best["test_acc"],
        best_epoch=best["epoch"],
        final_test_acc=final["test_acc"],
        best_train_acc=max(h["train_acc"] for h in history),
        final_train_acc=final["train_acc"],
        final_gap=final["train_acc"] - final["test_acc"],
        first_target_epoch=above[0] if above else None,
        epochs_above_target=len(above),
        seconds_per_epoch=sum(h["seconds"] for h in history) / len(history),
    )


def _training_handicaps(config: TrainConfig | None) -> list[str]:
    """What in the recipe makes training harder than testing: only what this run really had."""
    if config is None:
        return []
    handicaps = []
    if config.dropout > 0:
        handicaps.append(f"dropout ({config.dropout:.0%})")
    moves = [f"±{config.rotation_degrees:g}° rotation" if config.rotation_degrees > 0 else "",
             f"±{config.translate:.0%} shifts" if config.translate > 0 else "",
             f"±{config.scale:.0%} zoom" if config.scale > 0 else ""]
    if any(moves):
        handicaps.append("augmentation (" + ", ".join(m for m in moves if m) + ")")
    if config.label_smoothing > 0:
        handicaps.append(f"label smoothing ({config.label_smoothing:g})")
    return handicaps


def images_scored(config: TrainConfig | None) -> int:
    """How many test images a run with ``config`` was scored on: its quick test pass's, or all 10,000."""
    return config.test_limit if config is not None and 0 < config.test_limit < TEST_IMAGES else TEST_IMAGES


def images_trained(config: TrainConfig | None) -> int:
    """How many training images a run with ``config`` saw per epoch: its demo limit's, or all 60,000."""
    return config.train_limit if config is not None and 0 < config.train_limit < TRAIN_IMAGES else TRAIN_IMAGES


def test_set_words(config: TrainConfig | None) -> str:
    """'the 10,000 test images', or 'the first 2,000 test images' for a quick test pass."""
    if images_scored(config) < TEST_IMAGES:
        return f"the first {config.test_limit:,} test images (a quick test pass)"
    return "the 10,000 test images"


def _underfit_sentence(s: RunSummary, config: TrainConfig | None, rising: float) -> str:
    """A run far below where every full run ends: what held it back, from its own numbers."""
    held_back = []
    if s.epochs < EPOCH_BUDGET:
        held_back.append(f"only {count(s.epochs, 'epoch')} of {EPOCH_BUDGET}")
    if images_trained(config) < TRAIN_IMAGES:
        held_back.append(f"only {images_trained(config):,} of the {TRAIN_IMAGES:,} training images")
    sentence = (f"At {s.final_test_acc:.2f}% the network is underfit, not overfit: it has not learned what it can "
                f"yet (every step's full run ends above {FULL_RUN_LEVEL:.0f}%)")
    if held_back:
        sentence += f", after {' and '.join(held_back)}."
    else:
        sentence += (f", even after a full run: training accuracy ends at {s.final_train_acc:.2f}%, so the network "
                     "or its recipe, not a lack of regularisation, holds it back.")
    if rising >= STILL_RISING_POINTS:
        sentence += f" Test accuracy was still rising at the last epoch (+{rising:.2f} points)."
    if abs(s.final_gap) > GAP_POINTS:
        sentence += (f" At this level the {abs(s.final_gap):.2f}-point gap between training and test accuracy "
                     "says nothing about overfitting.")
    if held_back:
        more = [w for w, short in (("more epochs", s.epochs < EPOCH_BUDGET),
                                   ("all the training images", images_trained(config) < TRAIN_IMAGES)) if short]
        sentence += f" {' and '.join(more).capitalize()} come first."
    return sentence


def _gap_sentence(s: RunSummary, history: list[dict], config: TrainConfig | None) -> str:
    """What the gap between training and test accuracy says, for a run that has learned what it can."""
    if s.final_gap > GAP_POINTS:
        best = next(h for h in history if h["epoch"] == s.best_epoch)
        fallen = s.best_test_acc - s.final_test_acc
        if fallen >= FALL_POINTS and s.final_train_acc > best["train_acc"]:
            return (f"Training accuracy ends {s.final_gap:.2f} points above test accuracy, and test accuracy fell "
                    f"{fallen:.2f} points from its best (epoch {s.best_epoch}) while training accuracy kept rising: "
                    "the network is overfitting. More regularisation or augmentation helps.")
        return (f"Training accuracy ends {s.final_gap:.2f} points above test accuracy: the network fits the training "
                "images better than it generalises, a first sign of overfitting, though test accuracy has not "
                "fallen from its best. More regularisation or augmentation helps.")
    if s.final_gap < -GAP_POINTS:
        handicaps = _training_handicaps(config)
        if s.epochs == 1:  # a class run: its training accuracy includes the network's first, untrained batches
            also = f" ({' and '.join(handicaps)} also make training harder)" if handicaps else ""
            return (f"Test accuracy ends {-s.final_gap:.2f} points above training accuracy: in a single epoch, "
                    "training accuracy is averaged over batches that began with an untrained network, while the "
                    f"test pass scores the weights at the epoch's end{also}. One epoch cannot show overfitting; "
                    "more epochs would take the network further.")
        if handicaps:
            why = (f"{' and '.join(handicaps)} make{'s' if len(handicaps) == 1 else ''} training harder than testing, "
                   "so the network is not overfitting and has room to learn more.")
        else:
            why = ("training accuracy is averaged over the epoch while the weights still improve, and the test pass "
                   "scores the weights at its end, so the network is not overfitting and is still learning.")
        return f"Test accuracy ends {-s.final_gap:.2f} points above training accuracy: {why}"
    return f"Train and test accuracy end within {abs(s.final_gap):.2f} points of each other: no sign of overfitting."


def _target_sentences(s: RunSummary, config: TrainConfig | None) -> list[str]:
    """Whether the run passed the 99.40% line, kept it, and meets the target (the one verdict, target.py)."""
    test_images = images_scored(config)
    on = "" if test_images == TEST_IMAGES else f" on {test_set_words(config)}"
    if s.first_target_epoch is None:
        passed = f"The run never passed {TARGET_ACC:.2f}% test accuracy{on}."
    else:
        held = ("and held it to the end" if above_target_line(s.final_test_acc, test_images)
                else "but lost it by the final epoch")
        passed = (f"It first passed {TARGET_ACC:.2f}%{on} at epoch {s.first_target_epoch} "
                  f"({count(s.epochs_above_target, 'epoch')} above the line) {held}.")
    return [passed, f"Target {run_verdict(s.final_test_acc, test_images).why}."]


def _budget_sentence(s: RunSummary, params: int, config: TrainConfig | None) -> str:
    """Parameters against the budget the run is held to (its step's; a design's is the lesson's), and epochs."""
    budget, whose = PARAM_BUDGET, "the"
    if config is not None and not config.design:
        budget = get_step(config.step).param_budget
        whose = "the" if budget == PARAM_BUDGET else f"Step {config.step}'s"
    fits = "within" if within_param_budget(params, budget) else "over"
    epochs = f"{s.epochs} of {EPOCH_BUDGET} epochs" if s.epochs <= EPOCH_BUDGET else \
        f"{s.epochs} epochs, over the {EPOCH_BUDGET}-epoch budget"
    return f"{params:,} parameters: {fits} {whose} {budget:,} budget; {epochs}."


def analyse(history: list[dict], params: int, config: TrainConfig | None = None) -> list[str]:
    """A few sentences about a run, each following from its numbers (the train-test gap, the level reached,
    the epochs run, the images used) and, when given, its recipe."""
    s = summarize(history, images_scored(config))
    if s is None:
        return ["No epoch has finished yet, so there is nothing to analyse."]
    lines = [
        f"Best test accuracy {s.best_test_acc:.2f}% at epoch {s.best_epoch}; "
        f"final test accuracy {s.final_test_acc:.2f}% after {count(s.epochs, 'epoch')}, on {test_set_words(config)}."
    ]
    rising = history[-1]["test_acc"] - history[-2]["test_acc"] if len(history) > 1 else 0.0
    if s.final_test_acc < FULL_RUN_LEVEL:
        lines.append(_underfit_sentence(s, config, rising))
    else:
        lines.append(_gap_sentence(s, history, config))
        if rising >= STILL_RISING_POINTS and s.epochs < EPOCH_BUDGET:
            lines.append(f"Test accuracy was still rising at the last epoch (+{rising:.2f} points): more epochs, "
                         f"up to the {EPOCH_BUDGET} the lesson allows, would take it further.")
    lines += _target_sentences(s, config)
    lines.append(_budget_sentence(s, params, config))
    if images_trained(config) < TRAIN_IMAGES:
        lines.append(f"Trained on {images_trained(config):,} of the {TRAIN_IMAGES:,} training images per epoch "
                     "(a demonstration): the full lesson's numbers need all of them.")
    return lines
