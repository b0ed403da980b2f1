"""``python -m mnist_core classroom-bench`` (mnist_core/commands/classroom_bench.py): it writes a class's worth of
demo runs that read as whole runs, and prints a time for the scan, every page, a Start and another student's page
during it (the figures in docs/classroom-safety.md come from it, at 900 runs)."""

from __future__ import annotations

import re

import pytest

from mnist_core.commands.classroom_bench import _queue_wait_during_a_start, make_runs
from mnist_core.commands.cli import main
from mnist_core.runs.store import RunStore


def test_the_runs_it_writes_are_whole_finished_runs_of_their_students(tmp_path):
    make_runs(tmp_path / "runs", runs=12, students=4)
    runs, damaged = RunStore(tmp_path / "runs").scan()
    assert len(runs) == 12 and not damaged
    assert {run.state for run in runs} == {"finished"}
    assert len({run.status["owner"] for run in runs}) == 4
    assert all(len(run.mistakes().mistakes) == 600 for run in runs[:2])


def test_the_timed_start_is_one_the_queue_accepts_when_every_student_is_at_the_cap(tmp_path):
    """At 900 runs each of the 30 students keeps the default cap of 30: the Start it times was refused (a
    traceback in its output, and a refusal timed as a Start). A newcomer's Start is timed instead."""
    make_runs(tmp_path / "runs", runs=30, students=1)  # the one student keeps the cap's 30
    took, longest = _queue_wait_during_a_start(tmp_path / "runs")
    assert took > 0 and longest >= 0
    assert len(RunStore(tmp_path / "runs").scan()[0]) == 31  # the timed Start made its run


@pytest.mark.journey  # several people (or a whole run) through the app: the second test line
def test_it_times_every_page_a_start_and_the_queue_during_it(capsys):
    assert main(["classroom-bench", "--runs", "12", "--students", "3"]) == 0
    out = capsys.readouterr().out
    for what in ("scan of the runs folder", "page pages/compare_runs.py", "page pages/draw_digit.py",
                 "Start on Step 2", "longest wait for the queue during a Start"):
        assert re.search(rf"^ +\d+\.\d\d s  {re.escape(what)}", out, re.M), (what, out)
