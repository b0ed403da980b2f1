"""Names for runs that tell them apart: when each started, and how its recipe differs from its step's.

Two runs of one step with the same seed used to read the same ("Step 2 · seed 1 ·
2,560 img/epoch", twice). A run's label now says when it started and every recipe value
that differs from the step's own recipe, so the newest run and a changed learning rate
are both visible in a list.
"""

from __future__ import annotations

import time
from dataclasses import fields

from mnist_core.engine.config import TrainConfig
from mnist_core.engine.design import DesignError, parse_design
from mnist_core.lesson.steps import get_step

FULL_TEST_SET = 10_000
# Recipe fields in the order a person reads them; fields that never differ between runs of a step come last.
FIELD_ORDER = ("epochs", "train_limit", "test_limit", "lr", "scheduler", "dropout", "activation", "rotation_degrees",
               "batch_size", "seed")
# Which network is built (the step's own, or a design) is named apart; the device changes no result.
NOT_RECIPE = ("step", "device", "design")
FIELD_NAMES = {
    "epochs": "epochs", "train_limit": "images per epoch", "test_limit": "test images", "lr": "learning rate",
    "scheduler": "LR schedule", "dropout": "dropout", "activation": "activation",
    "rotation_degrees": "rotation", "batch_size": "batch size", "seed": "seed",
    "ema_decay": "weight average (EMA decay)", "augment_fraction": "share of images augmented",
    "clean_epochs": "last epochs without augmentation",
    "bn_recalibrate": "BatchNorm recalibrated", "deskew": "digits deskewed", "scale": "zoom (± share)",
}


def recipe_fields() -> list[str]:
    names = [f.name for f in fields(TrainConfig) if f.name not in NOT_RECIPE]
    return [*(n for n in FIELD_ORDER if n in names), *(n for n in names if n not in FIELD_ORDER)]


def field_name(name: str) -> str:
    return FIELD_NAMES.get(name, name.replace("_", " "))


def format_value(name: str, value) -> str:
    """One recipe value as a person reads it."""
    if name == "design":
        return _design_words(value)
    if name == "train_limit":
        return "all 60,000" if not value else f"{value:,}"
    if name == "test_limit":
        return f"all {FULL_TEST_SET:,}" if not value or value >= FULL_TEST_SET else f"{value:,}"
    if name == "rotation_degrees":
        return f"±{value:g}°" if value else "none"
    if name == "activation":
        return {"relu": "ReLU", "silu": "SiLU"}.get(value, str(value))
    if name == "scheduler":
        return {"none": "constant", "step": "StepLR", "onecycle": "OneCycle"}.get(value, str(value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _design_words(design_json: str) -> str:
    """A design by its size, never its JSON: 'the step's own network' or 'a design of 3,210 parameters'."""
    if not design_json:
        return "the step's own network"
    try:
        return f"a design of {parse_design(design_json).params:,} parameters"
    except DesignError:
        return "a design that cannot be read"


def short_difference(name: str, value) -> str:
    """A differing value as a label part: '2 epochs', '2,560 img/epoch', 'lr 0.02'."""
    if name == "epochs":
        return f"{value} epoch{'s' if value != 1 else ''}"
    if name == "train_limit":
        return f"{format_value(name, value)} img/epoch"
    if name == "test_limit":
        return f"{format_value(name, value)} test img"
    if name == "lr":
        return f"lr {value:g}"
    if name in ("activation", "scheduler"):
        return format_value(name, value)
    if name == "bn_recalibrate":
        return "BatchNorm recalibrated" if value else "BatchNorm as trained"
    return f"{field_name(name)} {format_value(name, value)}"


def recipe_differences(config: TrainConfig, reference: TrainConfig) -> dict[str, tuple]:
    """name -> (value in ``config``, value in ``reference``) for every recipe field that differs."""
    return {n: (getattr(config, n), getattr(reference, n)) for n in recipe_fields()
            if getattr(config, n) != getattr(reference, n)}


def differing_fields(configs: list[TrainConfig]) -> list[str]:
    """The recipe fields (and ``step``) on which the given configs do not all agree."""
    names = ["step", "design", *recipe_fields()]
    return [n for n in names if len({getattr(c, n) for c in configs}) > 1]


def started_at(status: dict) -> float | None:
    return status.get("created") or status.get("started")  # when Start was pressed: a queued run has it too


def run_label(config: TrainConfig, status: dict) -> str:
    """'Step 2 · 25 Nov 22:14:03 · 2 epochs, 2,560 img/epoch' (or '· the step's recipe')."""
    when = started_at(status)
    stamp = time.strftime("%d %b %H:%M:%S", time.localtime(when)) if when else "time unknown"
    changes = recipe_differences(config, get_step(config.step).recipe)
    what = ", ".join(short_difference(n, v) for n, (v, _) in changes.items()) or "the step's recipe"
    network = f"Design · Step {config.step}'s recipe" if config.design else f"Step {config.step}"
    return f"{network} · {stamp} · {what}"


def recipe_name(config: TrainConfig, leave_out: tuple[str, ...] = ("seed",)) -> str:
    """A recipe without its run's moment: 'Step 4 · dropout 0.1, 2,560 img/epoch' or 'Step 4 · the step's recipe'.

    Runs that differ only in the fields ``leave_out`` names (by default the seed) read the same, so
    a class that trains one step with a seed each is one recipe trained many times.
    """
    changes = {n: v for n, v in recipe_differences(config, get_step(config.step).recipe).items() if n not in leave_out}
    what = ", ".join(short_difference(n, v) for n, (v, _) in changes.items()) or "the step's recipe"
    network = f"Design ({_design_words(config.design)}) · Step {config.step}'s recipe" if config.design \
        else f"Step {config.step}"
    return f"{network} · {what}"


def unique_labels(runs, name=lambda run: run.label) -> dict[str, str]:
    """Run id -> ``name(run)`` (the run's own label by default), with the run id's tail added where two would
    read the same.

    A list of runs keyed by these names never drops or repeats one of two runs that were given the same
    label (two command-line runs of a step, say).
    """
    names: dict[str, str] = {}
    taken: set[str] = set()
    for run in runs:
        label = name(run)
        label = label if label not in taken else f"{label} · {run.run_id[-4:]}"
        taken.add(label)
        names[run.run_id] = label
    return names
