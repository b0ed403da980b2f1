"""What the teacher's class board shows: every student's runs, who waits, and the class as one experiment.

The board reads the runs folder (every run names its owner) and the job manager's live phases,
and turns them into plain rows: one per run (the table the teacher downloads as CSV), one per
student (their runs per step, what trains, how long they have waited), and, per recipe, the
spread of final test accuracy over everybody's finished runs. A class of thirty training one step
with a seed each is a thirty-seed study; here it reads as one: count, mean, spread, lowest and
highest. Recipes are named by the caller (``name_recipe``, e.g. lesson.run_labels.recipe_name,
which leaves the seed out), so runs that differ only in their seed fall into one recipe.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field

from mnist_core.classroom.assignments import Student
from mnist_core.engine.config import TrainConfig
from mnist_core.runs.store import Run

FULL_TRAIN_SET = 60_000
FULL_TEST_SET = 10_000
WAITING = "queued"
LIVE_STATES = ("queued", "loading data", "training", "evaluating", "stopping", "saving", "running")


@dataclass(frozen=True)
class BoardRow:
    """One student's run, as the board lists it and the CSV holds it."""

    student: str
    student_id: str  # the first 8 characters of the owner id: tells two students of one name apart in the CSV
    step: int
    recipe: str
    seed: int
    state: str  # the live phase while a job holds it (queued, training, ...), else the run's saved state
    epochs_done: int
    epochs: int
    train_images: int  # per epoch
    test_images: int  # per test pass
    best_test_acc: float | None  # percent, over the epochs so far
    final_test_acc: float | None  # percent, of the last epoch trained (None before the first one ends)
    waited_s: float | None  # from Start until training began, or until now while still waiting
    created: float | None  # when Start was pressed (seconds since the epoch)
    run_id: str
    owner: str = ""  # the whole owner id: how rows are grouped by student (not written to the CSV)

    @property
    def waiting(self) -> bool:
        return self.state == WAITING

    @property
    def live(self) -> bool:
        return self.state in LIVE_STATES


@dataclass(frozen=True)
class RecipeSpread:
    """The final test accuracies of one recipe's finished runs, and what they add up to."""

    recipe: str
    final_test_acc: list[float] = field(default_factory=list)  # one per run, in percent

    @property
    def count(self) -> int:
        return len(self.final_test_acc)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.final_test_acc)

    @property
    def spread(self) -> float:
        """The sample standard deviation (0 for a single run: one run has no spread to tell)."""
        return statistics.stdev(self.final_test_acc) if self.count > 1 else 0.0

    @property
    def lowest(self) -> float:
        return min(self.final_test_acc)

    @property
    def highest(self) -> float:
        return max(self.final_test_acc)


def _accuracies(history: list[dict]) -> tuple[float | None, float | None]:
    tests = [float(record["test_acc"]) for record in history]
    return (max(tests), tests[-1]) if tests else (None, None)


def _waited(status: dict, state: str, now: float) -> float | None:
    created = status.get("created")
    if not isinstance(created, (int, float)):
        return None
    if state == WAITING:
        return max(0.0, now - created)
    started = status.get("started")
    return max(0.0, started - created) if isinstance(started, (int, float)) else None


def board_rows(runs: Iterable[Run], phases: Mapping[str, str], now: float,
               name_recipe: Callable[[TrainConfig], str]) -> list[BoardRow]:
    """One row per student's run (a run without an owner, made on the command line, and a run the teacher
    started are no student's).

    ``phases`` maps a run id to its live job's phase (the job manager knows it before the disk does);
    ``name_recipe`` names a run's recipe for grouping. Rows come in the order of ``runs``.
    """
    rows = []
    for run in runs:
        owner = run.status.get("owner") or ""
        if not owner or run.status.get("by_teacher"):
            continue
        state = phases.get(run.run_id, run.state)
        best, final = _accuracies(run.history)
        config = run.config
        rows.append(BoardRow(
            student=run.status.get("owner_name") or f"Student {owner[:4]}", student_id=owner[:8],
            step=config.step, recipe=name_recipe(config), seed=config.seed, state=state,
            epochs_done=len(run.history), epochs=config.epochs,
            train_images=min(config.train_limit, FULL_TRAIN_SET) if config.train_limit else FULL_TRAIN_SET,
            test_images=min(config.test_limit, FULL_TEST_SET) if config.test_limit else FULL_TEST_SET,
            best_test_acc=best, final_test_acc=final, waited_s=_waited(run.status, state, now),
            created=run.status.get("created"), run_id=run.run_id, owner=owner,
        ))
    return rows


def _step_cell(rows: list[BoardRow]) -> str:
    """'2 runs · newest training · best 98.90%': a student's runs of one step in one cell."""
    newest = max(rows, key=lambda r: r.created or 0)
    parts = [f"{len(rows)} run{'s' if len(rows) != 1 else ''}", f"newest {newest.state}"]
    if newest.final_test_acc is not None:
        parts.append(f"final {newest.final_test_acc:.2f}%")
    bests = [r.best_test_acc for r in rows if r.best_test_acc is not None]
    if bests:
        parts.append(f"best {max(bests):.2f}%")
    return " · ".join(parts)


def student_table(rows: list[BoardRow], roster: list[Student], steps: Iterable[int]) -> list[dict]:
    """One row per student (the class list's order, then anyone else with runs): runs per step,
    what is training, what waits and the longest wait so far."""
    by_age = sorted(rows, key=lambda r: r.created or 0)
    # The class list has the name a student uses now; a student not on it, the name of their newest run.
    names = {row.owner: row.student for row in by_age} | {s.owner: s.name for s in roster}
    order = list(dict.fromkeys([s.owner for s in roster] + [row.owner for row in by_age]))
    steps = list(steps)
    table = []
    for owner in order:
        mine = [r for r in rows if r.owner == owner]
        waits = [r.waited_s for r in mine if r.waiting and r.waited_s is not None]
        entry = {
            "Student": names[owner],
            "Runs": len(mine),
            "Training now": sum(r.live and not r.waiting for r in mine),
            "Waiting": sum(r.waiting for r in mine),
            "Waiting for (s)": round(max(waits), 1) if waits else None,
        }
        for step in steps:
            of_step = [r for r in mine if r.step == step]
            entry[f"Step {step}"] = _step_cell(of_step) if of_step else ""
        table.append(entry)
    return table


def waiting_rows(rows: list[BoardRow]) -> list[BoardRow]:
    """The runs still waiting to start, longest wait first."""
    return sorted((r for r in rows if r.waiting), key=lambda r: -(r.waited_s or 0))


def recipe_spreads(rows: list[BoardRow], step: int) -> list[RecipeSpread]:
    """Per recipe of Step ``step``, the final test accuracies of its finished runs; most runs first."""
    by_recipe: dict[str, list[float]] = {}
    for row in rows:
        if row.step == step and row.state == "finished" and row.final_test_acc is not None:
            by_recipe.setdefault(row.recipe, []).append(row.final_test_acc)
    spreads = [RecipeSpread(recipe, accs) for recipe, accs in by_recipe.items()]
    return sorted(spreads, key=lambda s: (-s.count, s.recipe))


def spread_table(spreads: list[RecipeSpread]) -> list[dict]:
    """The numbers beside the plot: per recipe, runs, mean, spread, lowest and highest final accuracy."""
    return [{"Recipe": s.recipe, "Runs": s.count, "Mean final (%)": round(s.mean, 2),
             "Spread (sd, points)": round(s.spread, 2), "Lowest (%)": round(s.lowest, 2),
             "Highest (%)": round(s.highest, 2)} for s in spreads]


CSV_COLUMNS = tuple(name for name in BoardRow.__dataclass_fields__ if name != "owner")


def _cell(value) -> object:
    """A value as a spreadsheet should read it; text that a spreadsheet would run as a formula is quoted."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_text(rows: list[BoardRow]) -> str:
    """The board's run table as CSV: a header of the BoardRow fields, then one line per run."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({name: _cell(value) for name, value in asdict(row).items() if name in CSV_COLUMNS})
    return out.getvalue()
