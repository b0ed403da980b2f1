"""The class board's numbers (mnist_core/classroom/class_board.py): rows, waits, per-recipe spreads, CSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from mnist_core.classroom.assignments import Student
from mnist_core.classroom.class_board import board_rows, csv_text, recipe_spreads, student_table, waiting_rows
from mnist_core.engine.config import TrainConfig
from mnist_core.lesson.run_labels import recipe_name
from mnist_core.lesson.steps import get_step
from mnist_core.runs.store import Run

NOW = 10_000.0
STEP4 = get_step(4).recipe.with_(epochs=2, train_limit=2560)


def run(run_id: str, owner: str, name: str, config: TrainConfig, state: str = "finished",
        tests: tuple[float, ...] = (), created: float = 100.0, started: float | None = 110.0) -> Run:
    history = [{"epoch": i + 1, "train_loss": 0.1, "train_acc": 97.0, "test_loss": 0.05, "test_acc": acc,
                "lr": 0.05, "seconds": 10.0} for i, acc in enumerate(tests)]
    status = {"state": state, "owner": owner, "owner_name": name, "created": created}
    if started is not None:
        status["started"] = started
    return Run(run_id, Path(run_id), config, status, history)


CLASS = [
    run("r1", "a" * 16, "Ada", STEP4.with_(seed=1), tests=(97.5, 98.0)),
    run("r2", "b" * 16, "Bob", STEP4.with_(seed=2), tests=(99.2, 99.0)),
    run("r3", "c" * 16, "Cy", STEP4.with_(seed=3), tests=(98.9, 99.5)),
    run("r4", "a" * 16, "Ada", STEP4.with_(dropout=0.1, seed=4), tests=(98.0, 98.5), created=200.0, started=230.0),
    run("r5", "b" * 16, "Bob", STEP4.with_(seed=5), state="stopped", tests=(91.0,)),
    run("r6", "c" * 16, "Cy", get_step(2).recipe, state="queued", created=NOW - 42, started=None),
    run("r7", "", "", STEP4, tests=(99.9, 99.9)),  # the command line's: no student's
    run("r9", "t" * 16, "Teacher", STEP4, tests=(99.8, 99.8)),  # the teacher's demonstration: no student's
]
CLASS[-1].status["by_teacher"] = True


def rows():
    return board_rows(CLASS, {"r5": "stopping"}, NOW, recipe_name)


def test_every_students_run_is_a_row_with_best_final_and_wait_and_the_command_lines_and_teachers_are_not():
    by_id = {r.run_id: r for r in rows()}
    assert set(by_id) == {"r1", "r2", "r3", "r4", "r5", "r6"}
    assert (by_id["r2"].best_test_acc, by_id["r2"].final_test_acc) == (99.2, 99.0)
    assert by_id["r1"].waited_s == 10.0  # from Start (created) until training began (started)
    assert by_id["r6"].waiting and by_id["r6"].waited_s == 42.0  # still waiting: until now
    assert by_id["r6"].final_test_acc is None
    assert by_id["r5"].state == "stopping"  # the live phase wins over what the disk says
    assert [r.run_id for r in waiting_rows(rows())] == ["r6"]


def test_runs_that_differ_only_in_their_seed_are_one_recipe_and_its_spread_is_hand_computed():
    spreads = recipe_spreads(rows(), 4)
    assert [(s.recipe, s.count) for s in spreads] == [
        ("Step 4 · 2 epochs, 2,560 img/epoch", 3),  # seeds 1, 2, 3; seed 5 was stopped, r7 is no student's
        ("Step 4 · 2 epochs, 2,560 img/epoch, dropout 0.1", 1)]
    three = spreads[0]
    assert sorted(three.final_test_acc) == [98.0, 99.0, 99.5]
    assert three.mean == pytest.approx(98.8333, abs=1e-4)
    # sample sd: deviations -0.8333, 0.1667, 0.6667; squares sum 1.16667; / 2 = 0.58333; sqrt = 0.76376
    assert three.spread == pytest.approx(0.76376, abs=1e-4)
    assert (three.lowest, three.highest) == (98.0, 99.5)
    assert spreads[1].spread == 0.0  # one run has no spread to tell


def test_the_student_table_lists_the_class_in_the_order_they_came_with_their_runs_per_step():
    roster = [Student("d" * 16, "Dee", 1.0), Student("c" * 16, "Cy", 2.0)]
    table = student_table(rows(), roster, [2, 4])
    assert [row["Student"] for row in table] == ["Dee", "Cy", "Ada", "Bob"]  # the class list first, then the rest
    dee, cy, ada, bob = table
    assert (dee["Runs"], dee["Step 4"]) == (0, "")
    assert (cy["Waiting"], cy["Waiting for (s)"], cy["Step 2"]) == (1, 42.0, "1 run · newest queued")
    assert cy["Step 4"] == "1 run · newest finished · final 99.50% · best 99.50%"
    assert bob["Training now"] == 1  # the run still stopping
    assert ada["Step 4"] == "2 runs · newest finished · final 98.50% · best 98.50%"


def test_the_csv_holds_one_line_per_run_and_no_formula_a_spreadsheet_would_run():
    sly = run("r8", "e" * 16, "=HYPERLINK(\"x\")", STEP4, tests=(98.0, 98.1))
    text = csv_text(board_rows([*CLASS, sly], {}, NOW, recipe_name))
    lines = list(csv.DictReader(io.StringIO(text)))
    assert len(lines) == 7
    assert lines[0]["student"] == "Ada" and lines[0]["final_test_acc"] == "98.0" and lines[0]["seed"] == "1"
    assert lines[5]["final_test_acc"] == ""  # the waiting run has none yet
    assert lines[6]["student"].startswith("'=")
