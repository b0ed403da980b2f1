"""Recipes sized for a lesson: each step's full run, its class run, and its quick demo.

A step's full recipe trains 15 epochs on all 60,000 images: minutes per run on a CPU, over
an hour for a class of thirty taking turns. The quick demo (2,560 images per epoch, as the
step page's "Images per epoch" offers it) is quick but ends far below what the step teaches.
The *class* preset sits between: the step's own network and everything the step adds
(BatchNorm, dropout, augmentation, its schedule), on all 60,000 images and the full test
pass, in a few epochs, with the schedule compressed to them: StepLR's cut comes after the
same share of the run (at least one epoch), a piecewise line is drawn over the fewer epochs,
and OneCycle, defined over the run's own length, simply spans the fewer epochs.
"""

from __future__ import annotations

import math

from mnist_core.engine.config import TrainConfig
from mnist_core.engine.recipes import step_recipe

CLASS_EPOCHS = 2  # of all 60,000 images each: a class run
DEMO_IMAGES = 2_560  # per epoch: the step page's "2,560 (demo)"
PRESETS = ("full", "class", "demo")


def compressed(recipe: TrainConfig, epochs: int) -> TrainConfig:
    """``recipe`` over ``epochs`` epochs, its schedule squeezed (or stretched) to them.

    StepLR's ``step_size`` is scaled by ``epochs / recipe.epochs`` (at least 1 epoch); the
    piecewise schedule's corner epochs are scaled the same way; OneCycle and a constant rate
    need nothing (OneCycle is defined over the run's own length).
    """
    ratio = epochs / recipe.epochs
    changes: dict = {"epochs": epochs}
    if recipe.scheduler == "step":
        changes["step_size"] = max(1, math.floor(recipe.step_size * ratio + 0.5))
    if recipe.scheduler == "piecewise":
        changes["lr_points"] = tuple((epoch * epochs / recipe.epochs, lr) for epoch, lr in recipe.lr_points)
    return recipe.with_(**changes)


def preset_recipe(step: int, preset: str) -> TrainConfig:
    """Step ``step``'s recipe for ``preset``: "full" (the lesson's), "class" or "demo".

    Raises UnknownStep for a step that is not there, ValueError for a preset that is not.
    """
    recipe = step_recipe(step).recipe
    if preset == "full":
        return recipe
    if preset == "class":
        return compressed(recipe, min(CLASS_EPOCHS, recipe.epochs)).with_(train_limit=0, test_limit=0)
    if preset == "demo":
        return recipe.with_(train_limit=DEMO_IMAGES)
    raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
