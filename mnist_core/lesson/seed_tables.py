"""One answer to "what does this step's recipe do over several seeds?", for Home and the step pages alike.

Seed results live in two kinds of table in ``assets/``: ``seeds`` tables (``seeds.json``,
one recipe, its rows and summary) and the schedule study (``schedule_study.json``, three
schedules on Step 3's setup, one of which is Step 3's recipe and one Step 4's). A step's
seed summary is taken from whichever table trained exactly its recipe, so Home's "Over
seeds" column and the step's own page quote the same rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from mnist_core.common.paths import ASSETS_DIR
from mnist_core.engine.config import TrainConfig
from mnist_core.lesson.schedules import CANDIDATES, candidate_config
from mnist_core.lesson.steps import get_step
from mnist_core.lesson.target import TargetVerdict, mean_percent, recipe_verdict, seed_floor

SCHEDULE_STUDY = "schedule_study.json"


@dataclass(frozen=True)
class SeedSummary:
    seeds: tuple[int, ...]
    finals: tuple[float, ...]  # final test accuracy per seed, percent
    table: str  # the file in assets/ the rows come from

    @property
    def mean_final(self) -> float:
        return round(mean_percent(self.finals), 2)

    @property
    def lowest_final(self) -> float:
        return min(self.finals)

    def verdict(self, step: int) -> TargetVerdict:
        """Whether these seeds meet the target for ``step`` (its floor), by the one definition (target.py)."""
        return recipe_verdict(self.finals, seed_floor(step))


def _read(name: str):
    try:
        return json.loads((ASSETS_DIR / name).read_text())
    except (OSError, ValueError):
        return None


def _from_seeds_table(name: str, recipe: TrainConfig) -> SeedSummary | None:
    table = _read(name)
    try:
        trained = TrainConfig.from_dict(table["recipe"])
        rows = table["rows"]
    except (TypeError, KeyError, ValueError):
        return None
    if trained.with_(seed=recipe.seed, device=recipe.device) != recipe:
        return None
    return SeedSummary(tuple(r["seed"] for r in rows), tuple(r["final_test_acc"] for r in rows), name)


def _from_schedule_study(recipe: TrainConfig) -> SeedSummary | None:
    rows = _read(SCHEDULE_STUDY) or []
    mine = [r for r in rows if r.get("schedule") in CANDIDATES
            and candidate_config(r["schedule"], r["seed"]).with_(seed=recipe.seed) == recipe]
    if not mine:
        return None
    return SeedSummary(tuple(r["seed"] for r in mine), tuple(r["final_test_acc"] for r in mine), SCHEDULE_STUDY)


def recipe_seed_summary(step_number: int) -> SeedSummary | None:
    """The seeds of exactly ``step_number``'s recipe that a shipped table holds, or None where none does."""
    step = get_step(step_number)
    if step.evidence is not None and step.evidence.table.endswith(".md"):
        found = _from_seeds_table(step.evidence.table.removesuffix(".md") + ".json", step.recipe)
        if found is not None:
            return found
    return _from_schedule_study(step.recipe)
