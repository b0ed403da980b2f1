"""The parameter-accuracy frontier: every network measured here, as parameters against final test accuracy.

Points come from three places: the shipped runs of each step (``assets/step<N>``) and the
seed runs behind Steps 5 to 7 (``assets/step5-seeds`` and on), the trials each
step records on the way to its design (one point per trial, the mean over its seeds), and the user's own runs. The
frontier is the set of points no other point beats on both counts (as few parameters, as
high an accuracy).

The leaderboard a class competes on ranks what meets the lesson's target (``target.py``: higher
than 99.40% at the final epoch). Runs that differ only in their seed are one recipe, judged by
its seed mean and its lowest seed (``recipe_verdict``); a run with no other seed of its recipe is
a lone run, marked as one seed and judged by ``run_verdict``. Recipes measured over several seeds
rank first, then lone runs, so one lucky seed never outranks a recipe; within each, the smallest
network first, then the higher mean. A run only enters when it is a whole, real run: finished,
on all 60,000 training and 10,000 test images (no demo limits), within the epoch budget.
Trials are means over seeds written in the registry, without their seeds' runs: the chart only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from mnist_core.engine.config import TrainConfig
from mnist_core.engine.recipes import EPOCH_BUDGET
from mnist_core.lesson.report import ASSETS_DIR, images_scored, shipped_run_path
from mnist_core.lesson.seed_tables import recipe_seed_summary
from mnist_core.lesson.steps import STEPS
from mnist_core.lesson.target import TEST_IMAGES, TargetVerdict, recipe_verdict, run_verdict, seed_floor
from mnist_core.runs.store import Run, read_run

SHIPPED_SOURCES = ("step", "seed run")  # points made by this project, never pooled with a user's runs


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
    recipe: TrainConfig | None = None  # the run's recipe with its seed left out: runs sharing it are one recipe
    seed: int | None = None
    recipe_seeds: tuple[tuple[int, float], ...] = ()  # a shipped step: (seed, final %) of its recipe's seed table
    test_images: int = TEST_IMAGES  # how many test images the final figure is counted on

    @property
    def verdict(self) -> TargetVerdict | None:
        """This run's verdict on the target, alone (one seed); None for a trial, a mean without its seeds' runs."""
        return None if self.source == "trial" else run_verdict(self.final_test_acc, self.test_images)


def recipe_of(config: TrainConfig) -> TrainConfig:
    """``config`` without what does not make a recipe different: the seed, and the device it ran on."""
    return config.with_(seed=1, device="auto")


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
                         source=source, epochs=len(run.history), not_ranked=why_not_ranked(run), run_id=run.run_id,
                         recipe=recipe_of(run.config), seed=run.config.seed, test_images=images_scored(run.config))


def _step_recipe_seeds(number: int, run: Run) -> tuple[tuple[int, float], ...]:
    """The seeds of ``number``'s recipe that its shipped table holds, when the shipped run is of that recipe."""
    seeds = recipe_seed_summary(number)
    if seeds is None or recipe_of(run.config) != recipe_of(STEPS[number].recipe):
        return ()
    return tuple(zip(seeds.seeds, seeds.finals, strict=True))


def shipped_points() -> list[FrontierPoint]:
    """The shipped step runs, the runs behind the steps' seed tables and every step's recorded trials."""
    points, shipped_configs = [], set()
    for number, step in STEPS.items():
        run = read_run(shipped_run_path(number))
        point = run and run_point(f"Step {number} · {step.title} (shipped, seed {run.config.seed})", run, "step")
        if point:
            points.append(replace(point, recipe_seeds=_step_recipe_seeds(number, run)))
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


@dataclass(frozen=True)
class Standing:
    """One row of the leaderboard: a recipe measured over seeds, or a lone run (one seed)."""

    label: str
    params: int
    verdict: TargetVerdict  # the one definition's verdict: its mean (a lone run's final), lowest seed, why
    seeds: tuple[int, ...]
    source: str  # the source of the point that leads it ("step", "your run", ...)
    epochs: int

    @property
    def over_seeds(self) -> bool:
        return len(self.seeds) > 1

    @property
    def seeds_text(self) -> str:
        """'1, 2, 3, 4, 5' for a recipe; 'one seed (2): a lone run' for a run without other seeds of its recipe."""
        if self.over_seeds:
            return ", ".join(map(str, self.seeds))
        return f"one seed ({self.seeds[0]}): a lone run" if self.seeds[0] is not None else "one seed: a lone run"


def _standing(members: list[FrontierPoint]) -> Standing:
    """The standing of the points of one recipe: its seed table's seeds where a shipped step has one, else its runs'."""
    table = next((p for p in members if p.recipe_seeds), None)
    lead = table or next((p for p in members if p.source == "step"), members[0])
    if table is not None:
        by_seed = dict(table.recipe_seeds)
    else:  # one result per seed: a seed trained twice is the same run twice (seeded, reproducible)
        by_seed = {p.seed: p.final_test_acc for p in sorted(members, key=lambda p: p.run_id or "")}
    seeds = tuple(sorted(by_seed, key=lambda seed: (seed is None, seed or 0)))
    if len(seeds) > 1:
        floor = seed_floor(lead.recipe.step if lead.recipe is not None else 0)
        verdict = recipe_verdict([by_seed[seed] for seed in seeds], floor)
        label = (lead.label.split(" (shipped")[0] + ": its recipe" if lead.source == "step"
                 else f"{lead.label} and its other seeds")
    else:
        verdict, label = lead.verdict, lead.label
    return Standing(label=label, params=lead.params, verdict=verdict, seeds=seeds, source=lead.source,
                    epochs=lead.epochs)


def standings(points: Iterable[FrontierPoint]) -> list[Standing]:
    """Every ranked point gathered into recipes (runs that differ only in their seed) and lone runs."""
    groups: dict[object, list[FrontierPoint]] = {}
    for p in points:
        if p.not_ranked is not None or p.source == "trial":
            continue
        shipped = p.source in SHIPPED_SOURCES
        key = (shipped, p.recipe) if p.recipe is not None else ("alone", p.label, p.params)
        groups.setdefault(key, []).append(p)
    return [_standing(members) for members in groups.values()]


def leaderboard(points: Iterable[FrontierPoint]) -> list[Standing]:
    """The recipes and lone runs that meet the target (target.py), ranked: recipes measured over several
    seeds before lone runs, then the smallest network, then the higher mean."""
    met = [s for s in standings(points) if s.verdict.met]
    return sorted(met, key=lambda s: (not s.over_seeds, s.params, -s.verdict.mean))
