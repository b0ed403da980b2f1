"""The parameter-accuracy frontier: every network measured here, as parameters against final test accuracy.

Points come from three places: the shipped runs of each step (``assets/step<N>``) and the
seed runs behind Steps 5 and 6 (``assets/step5-seeds``, ``assets/step6-seeds``), the trials each
step records on the way to its design (one point per trial, the mean over its seeds), and the user's own runs. The
frontier is the set of points no other point beats on both counts (as few parameters, as
high an accuracy). The leaderboard a class competes on is the smallest network at or above
the target at its final epoch; a run only enters it when it is a whole, real run: finished,
on all 60,000 training and 10,000 test images (no demo limits), within the epoch budget.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from mnist_core.engine.recipes import EPOCH_BUDGET
from mnist_core.lesson.report import ASSETS_DIR, shipped_run_path
from mnist_core.lesson.steps import STEPS, TARGET_ACC
from mnist_core.runs.store import Run, read_run


def seed_run_dirs() -> list[Path]:
    """The folders of runs behind the steps' seed tables (a ``seeds`` command's --out: one folder per seed)."""
    tables = [step.evidence.table for step in STEPS.values() if step.evidence is not None]
    return [ASSETS_DIR / table.removesuffix("/seeds.md") for table in tables if table.endswith("/seeds.md")]


@dataclass(frozen=True)
class FrontierPoint:
    label: str
    params: int
    final_test_acc: float  # percent at the last finished epoch; for a trial, the mean over its seeds
    source: str  # "step", "seed run", "trial", "your run" or "your design"
    epochs: int
    not_ranked: str | None = None  # why it stays off the leaderboard (demo limits, stopped...); None if it may enter
    run_id: str | None = None

    @property
    def reaches_target(self) -> bool:
        return self.final_test_acc >= TARGET_ACC


def why_not_ranked(run: Run) -> str | None:
    """Why a run cannot enter the leaderboard, in a few words; None when it can."""
    config = run.config
    if config.train_limit or config.test_limit:
        limits = [f"{n:,} training images" for n in [config.train_limit] if n]
        limits += [f"{n:,} test images" for n in [config.test_limit] if n]
        return "demo: " + ", ".join(limits)
    if run.state != "finished":
        return f"{run.state}, after {len(run.history)} of {config.epochs} epochs"
    if config.epochs > EPOCH_BUDGET:
        return f"{config.epochs} epochs, over the {EPOCH_BUDGET}-epoch budget"
    return None


def run_point(label: str, run: Run, source: str) -> FrontierPoint | None:
    """A run's point, or None when it has no finished epoch or no parameter count yet."""
    params = run.status.get("params")
    if not run.history or not isinstance(params, int):
        return None
    return FrontierPoint(label=label, params=params, final_test_acc=float(run.history[-1]["test_acc"]),
                         source=source, epochs=len(run.history), not_ranked=why_not_ranked(run), run_id=run.run_id)


def shipped_points() -> list[FrontierPoint]:
    """The shipped step runs, the runs behind the steps' seed tables and every step's recorded trials."""
    points, shipped_configs = [], set()
    for number, step in STEPS.items():
        run = read_run(shipped_run_path(number))
        point = run and run_point(f"Step {number} · {step.title} (shipped, seed {run.config.seed})", run, "step")
        if point:
            points.append(point)
            shipped_configs.add(run.config)
    for seed_runs in seed_run_dirs():
        for folder in sorted(seed_runs.iterdir()) if seed_runs.is_dir() else []:
            run = read_run(folder) if folder.is_dir() else None
            if run is None or run.config in shipped_configs:  # the shipped run is one of the seeds: draw it once
                continue
            point = run_point(f"Step {run.config.step}'s recipe, seed {run.config.seed}", run, "seed run")
            if point:
                points.append(point)
    for number, step in STEPS.items():
        for trial in step.trials:
            seeds = f"mean of {len(trial.seeds)} seeds" if len(trial.seeds) > 1 else f"seed {trial.seeds[0]}"
            points.append(FrontierPoint(label=f"Step {number} trial: {trial.change} ({seeds})", params=trial.params,
                                        final_test_acc=trial.final_test_acc, source="trial", epochs=EPOCH_BUDGET))
    return points


def user_points(runs: Mapping[str, Run]) -> list[FrontierPoint]:
    """The user's runs (label -> run) that have a finished epoch."""
    points = []
    for label, run in runs.items():
        point = run_point(label, run, "your design" if run.config.design else "your run")
        if point:
            points.append(point)
    return points


def pareto_front(points: Iterable[FrontierPoint]) -> list[FrontierPoint]:
    """The points no other point beats on both counts, from the fewest parameters up.

    Going up in parameters, a point is on the front when it is more accurate than every
    smaller one; of equal sizes, only the most accurate counts.
    """
    front: list[FrontierPoint] = []
    for point in sorted(points, key=lambda p: (p.params, -p.final_test_acc)):
        if not front or point.final_test_acc > front[-1].final_test_acc:
            front.append(point)
    return front


def leaderboard(points: Iterable[FrontierPoint], target: float = TARGET_ACC) -> list[FrontierPoint]:
    """The points at or above ``target`` at their final epoch that may be ranked, smallest network first
    (then the more accurate). Trials are means over seeds, not runs, so they are left to the chart."""
    ranked = [p for p in points if p.not_ranked is None and p.source != "trial" and p.final_test_acc >= target]
    return sorted(ranked, key=lambda p: (p.params, -p.final_test_acc))
