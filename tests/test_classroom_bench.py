"""``python -m mnist_core classroom-bench`` (mnist_core/commands/classroom_bench.py): it writes a class's worth of
demo runs that read as whole runs, and prints a time for the scan, every page, a Start and another student's page
during it (the figures in docs/classroom-safety.md come from it, at 900 runs)."""

from __future__ import annotations

import re

import pytest

from mnist_core.commands.classroom_bench import make_runs
from mnist_core.commands.cli import main
from mnist_core.runs.store import RunStore


def test_the_runs_it_writes_are_whole_finished_runs_of_their_students(tmp_path):
    make_runs(tmp_path / "runs", runs=12, students=4)
    runs, damaged = RunStore(tmp_path / "runs").scan()
    assert len(runs) == 12 and not damaged
    assert {run.state for run in runs} == {"finished"}
    assert len({run.status["owner"] for run in runs}) == 4
    assert all(len(run.mistakes().mistakes) == 600 for run in runs[:2])


@pytest.mark.journey  # several people (or a whole run) through the app: the second test line
def test_it_times_every_page_a_start_and_the_queue_during_it(capsys):
    assert main(["classroom-bench", "--runs", "12", "--students", "3"]) == 0
    out = capsys.readouterr().out
    for what in ("scan of the runs folder", "page pages/compare_runs.py", "page pages/draw_digit.py",
                 "Start on Step 2", "longest wait for the queue during a Start"):
        assert re.search(rf"^ +\d+\.\d\d s  {re.escape(what)}", out, re.M), (what, out)
