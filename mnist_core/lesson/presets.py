"""Recipes sized for a lesson: each step's full run, its class run, and its quick demo.

A step's full recipe trains 15 epochs on all 60,000 images: minutes per run on a CPU, over
an hour for a class of thirty taking turns. The quick demo (2,560 images per epoch, as the
step page's "Images per epoch" offers it) is quick but ends far below what the step teaches.
The *class* preset sits between: the step's own network and everything the step adds
(BatchNorm, dropout, augmentation, its schedule), on all 60,000 images and the full test
pass, in a few epochs, with the schedule compressed to them: StepLR's cuts come after the
same shares of the run (within an epoch when the run is short), a piecewise line is drawn
over the fewer epochs, and OneCycle, defined over the run's own length, simply spans them.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass

from mnist_core.common.paths import ASSETS_DIR
from mnist_core.engine.config import TrainConfig
from mnist_core.engine.recipes import step_recipe

# Epochs of all 60,000 images in each step's class run: the fewest that reach the step's level (the figures, over
# seeds 1-3, are in assets/class-runs). Steps 1-3 train at a constant rate, so k epochs of their class run are the
# first k of their full run: the skeleton, without BatchNorm, needs three to pass 97% (one ended at 72-80%).
# From Step 4 on, the schedule compressed into one epoch does it: Step 4 ended 98.72-98.85%.
CLASS_EPOCHS = {1: 3, 2: 2, 3: 2, 4: 1, 5: 1, 6: 1, 7: 1}
CLASS_RUNS_DIR = ASSETS_DIR / "class-runs"  # step<N>/seeds.json: each step's class run over seeds 1-3
DEMO_IMAGES = 2_560  # per epoch: the step page's "2,560 (demo)"
PRESETS = ("full", "class", "demo")


def compressed(recipe: TrainConfig, epochs: int) -> TrainConfig:
    """``recipe`` over ``epochs`` epochs, its schedule squeezed (or stretched) to them.

    StepLR's ``step_size`` is scaled by ``epochs / recipe.epochs`` (a share of an epoch when the
    run is short: the cuts then fall within it); the piecewise schedule's corner epochs are
    scaled the same way; OneCycle and a constant rate need nothing (OneCycle is defined over
    the run's own length).
    """
    ratio = epochs / recipe.epochs
    changes: dict = {"epochs": epochs}
    if recipe.scheduler == "step":
        changes["step_size"] = recipe.step_size * ratio
    if recipe.scheduler == "piecewise":
        changes["lr_points"] = tuple((epoch * epochs / recipe.epochs, lr) for epoch, lr in recipe.lr_points)
    return recipe.with_(**changes)


def preset_recipe(step: int, preset: str, epochs: int | None = None) -> TrainConfig:
    """Step ``step``'s recipe for ``preset``: "full" (the lesson's), "class" or "demo".

    ``epochs`` changes the preset's number of epochs; a class run's schedule is compressed to
    them. Raises UnknownStep for a step that is not there, ValueError for a preset that is not.
    """
    recipe = step_recipe(step).recipe
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    if preset == "class":
        class_epochs = min(CLASS_EPOCHS.get(step, 1), recipe.epochs) if epochs is None else epochs
        return compressed(recipe, class_epochs).with_(train_limit=0, test_limit=0)
    if preset == "demo":
        recipe = recipe.with_(train_limit=DEMO_IMAGES)
    return recipe if epochs is None else recipe.with_(epochs=epochs)


@dataclass(frozen=True)
class ClassRunFigures:
    """What a step's class run did over seeds, as ``python -m mnist_core seeds --preset class`` measured it."""

    seeds: tuple[int, ...]
    final_test_accs: tuple[float, ...]

    @property
    def mean_final_test_acc(self) -> float:
        return statistics.fmean(self.final_test_accs)


def class_run_figures(step: int) -> ClassRunFigures | None:
    """The measured class run of ``step`` (``assets/class-runs/step<N>/seeds.json``), or None when there is none,
    it cannot be read, or it measured another recipe than today's class preset (its figures would not be this
    preset's)."""
    try:
        table = json.loads((CLASS_RUNS_DIR / f"step{step}" / "seeds.json").read_text())
        measured = TrainConfig.from_dict(table["recipe"]).with_(seed=1)
        rows = [(int(row["seed"]), float(row["final_test_acc"])) for row in table["rows"]]
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None
    if not rows or measured != preset_recipe(step, "class").with_(seed=1):
        return None
    if not all(math.isfinite(acc) for _, acc in rows):
        return None
    return ClassRunFigures(seeds=tuple(seed for seed, _ in rows), final_test_accs=tuple(acc for _, acc in rows))
