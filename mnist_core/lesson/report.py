"""Numbers about a run, and the plain-words Analysis the dashboard writes from them."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from mnist_core.common.wording import count
from mnist_core.engine.config import TrainConfig
from mnist_core.engine.recipes import EPOCH_BUDGET
from mnist_core.lesson.steps import PARAM_BUDGET, TARGET_ACC, get_step
from mnist_core.runs.store import DamagedRun, Run, inspect_run, read_run

ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets"


def shipped_run_path(step: int) -> Path:
    return ASSETS_DIR / f"step{step}"


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
    first_target_epoch: int | None  # first epoch with test acc > TARGET_ACC
    epochs_above_target: int
    seconds_per_epoch: float


def summarize(history: list[dict]) -> RunSummary | None:
    """Best and final figures of a per-epoch history; None when it has no epoch yet."""
    if not history:
        return None
    best = max(history, key=lambda h: h["test_acc"])
    final = history[-1]
    above = [h["epoch"] for h in history if h["test_acc"] > TARGET_ACC]
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


def test_set_words(config: TrainConfig | None) -> str:
    """'the 10,000 test images', or 'the first 2,000 test images' for a quick test pass."""
    if config is not None and 0 < config.test_limit < 10_000:
        return f"the first {config.test_limit:,} test images (a quick test pass)"
    return "the 10,000 test images"


def analyse(history: list[dict], params: int, config: TrainConfig | None = None) -> list[str]:
    """A few sentences about a run, written from its numbers and, when given, its recipe."""
    s = summarize(history)
    if s is None:
        return ["No epoch has finished yet, so there is nothing to analyse."]
    lines = [
        f"Best test accuracy {s.best_test_acc:.2f}% at epoch {s.best_epoch}; "
        f"final test accuracy {s.final_test_acc:.2f}% after {count(s.epochs, 'epoch')}, on {test_set_words(config)}."
    ]
    if s.final_gap > 0.3:
        lines.append(
            f"Training accuracy ends {s.final_gap:.2f} points above test accuracy: the network fits the training "
            "images better than it generalises, a first sign of overfitting. More regularisation or augmentation helps."
        )
    elif s.final_gap < -0.3:
        handicaps = _training_handicaps(config)
        if handicaps:
            why = (f"{' and '.join(handicaps)} make{'s' if len(handicaps) == 1 else ''} training harder than testing, "
                   "so the network is not overfitting and has room to learn more.")
        else:
            why = ("training accuracy is averaged over the epoch while the weights still improve, and the test pass "
                   "scores the weights at its end, so the network is not overfitting and is still learning.")
        lines.append(f"Test accuracy ends {-s.final_gap:.2f} points above training accuracy: {why}")
    else:
        lines.append(
            f"Train and test accuracy end within {abs(s.final_gap):.2f} points of each other: no sign of overfitting."
        )
    if s.first_target_epoch is None:
        lines.append(f"The run never passed {TARGET_ACC:.2f}% test accuracy.")
    else:
        held = "and held it to the end" if s.final_test_acc > TARGET_ACC else "but lost it by the final epoch"
        lines.append(
            f"It first passed {TARGET_ACC:.2f}% at epoch {s.first_target_epoch} "
            f"({count(s.epochs_above_target, 'epoch')} above the line) {held}."
        )
    budget = "within" if params < PARAM_BUDGET else "over"
    lines.append(f"{params:,} parameters: {budget} the {PARAM_BUDGET:,} budget, {s.epochs} of {EPOCH_BUDGET} epochs.")
    if config is not None and 0 < config.train_limit < 60_000:
        lines.append(f"Trained on {config.train_limit:,} of the 60,000 training images per epoch (a demonstration): "
                     "the full lesson's numbers need all of them.")
    return lines
