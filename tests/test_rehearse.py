"""``rehearse``: a class played through the dashboard's own job queue, timed, and its figures reported."""

from __future__ import annotations

import json
import threading

import pytest

from mnist_core.classroom.backends import TrainOutcome
from mnist_core.classroom.identity import TeacherGate
from mnist_core.classroom.jobs import JobManager
from mnist_core.classroom.queue_policy import QueuePolicy
from mnist_core.commands.cli import main
from mnist_core.commands.rehearse import play_class, played_students
from mnist_core.engine.config import TrainConfig
from mnist_core.runs.store import RunStore, update_status, write_history


class PairedBackend:
    """Holds each job until every Start is in (``everybody_started``) and ``at_once`` jobs train together (or
    every job has started), then ends it with a test accuracy of 90 + its seed; records the most jobs that
    ever trained at once."""

    name = "paired"

    def __init__(self, at_once: int, jobs: int) -> None:
        self.at_once, self.jobs = at_once, jobs
        self.running = self.started = self.peak = 0
        self.changed = threading.Condition()
        self.everybody_started = threading.Event()

    def capacity(self, default):
        return default

    def describe(self):
        return "a stand-in"

    def following(self, path):
        return False

    def train_into(self, path, config, data, on_batch=None, on_epoch=None, stop=None, resume=False,
                   on_eval=None, on_saving=None):
        assert self.everybody_started.wait(60)
        with self.changed:
            self.running += 1
            self.started += 1
            self.peak = max(self.peak, self.running)
            self.changed.notify_all()
            assert self.changed.wait_for(lambda: self.running >= self.at_once or self.started >= self.jobs, 60)
        update_status(path, state="running", started=update_status(path)["updated"])
        write_history(path, [{"epoch": 1, "train_loss": 1.0, "train_acc": 50.0, "test_loss": 1.0,
                              "test_acc": 90.0 + config.seed, "lr": 0.01, "seconds": 0.1}])
        with self.changed:
            self.running -= 1
        return TrainOutcome(False, "none", 0, "here", epochs=1)


class CountingManager(JobManager):
    """The dashboard's job manager, telling the backend when the class's last Start has come in."""

    def __init__(self, *args, starts: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.starts_left = starts

    def submit(self, *args, **kwargs):
        try:
            return super().submit(*args, **kwargs)
        finally:
            self.starts_left -= 1
            if not self.starts_left:
                self.backend.everybody_started.set()


def test_k_jobs_train_at_once_every_student_waits_its_turn_and_a_burst_meets_the_limit(tmp_path):
    students, jobs = played_students(3), 2
    backend = PairedBackend(at_once=jobs, jobs=4)  # three students, and one of the first student's two extras
    manager = CountingManager(RunStore(tmp_path), max_concurrent=jobs, load_data=lambda progress: None,
                              policy=QueuePolicy(2, 30), backend=backend, teacher=TeacherGate(""), starts=5)
    config = TrainConfig(step=2, epochs=1, train_limit=512)
    result = play_class(manager, config, students, burst=2, poll_s=0.01)
    assert backend.peak == jobs
    assert len({s.owner_id for s in students}) == 3 and not any(s.is_teacher for s in students)
    assert [(r.student, r.seed, r.burst) for r in result.runs] == [
        ("Student 1", 1, False), ("Student 2", 2, False), ("Student 3", 3, False), ("Student 1", 4, True)]
    assert len(result.refused) == 1 and "the most one student may have" in result.refused[0]
    summary = result.summary()
    assert summary["final_test_acc"] == [91.0, 92.0, 93.0, 94.0]
    assert len(summary["wait_s"]) == 3 and all(w is not None and w >= 0 for w in summary["wait_s"])
    assert summary["images_per_s"] == pytest.approx(4 * 512 / result.makespan_s, rel=0.01)
    owners = {run.status["owner"] for run in manager.store.list()}
    assert owners == {s.owner_id for s in students}


@pytest.mark.real_data
def test_a_tiny_rehearsal_trains_every_student_and_ends_with_its_json_line(tmp_path, capsys, mnist):
    runs = tmp_path / "class"
    code = main(["rehearse", "--students", "3", "--step", "4", "--preset", "class", "--epochs", "1",
                 "--train-limit", "512", "--test-limit", "500", "--jobs", "1", "--runs-dir", str(runs), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    figures = json.loads(out.strip().splitlines()[-1])
    assert set(figures) == {"makespan_s", "wait_s", "final_test_acc", "images_per_s"}
    assert len(figures["wait_s"]) == 3 and len(figures["final_test_acc"]) == 3
    assert all(0 <= acc <= 100 for acc in figures["final_test_acc"])
    assert figures["makespan_s"] > 0 and figures["images_per_s"] > 0
    # One at a time: the third student waited for two runs, so longer than the first.
    assert figures["wait_s"][2] > figures["wait_s"][0]
    assert "Student 3: training" in err and "Last run finished after" in out
    kept = RunStore(runs).list()
    assert len(kept) == 3 and len({run.status["owner"] for run in kept}) == 3
    assert {(run.config.epochs, run.config.train_limit, run.config.test_limit, run.state) for run in kept} == {
        (1, 512, 500, "finished")}


@pytest.mark.parametrize(("args", "message"), [
    (["--students", "0"], "--students must be between 1 and 500"),
    (["--jobs", "0"], "--jobs must be at least 1"),
    (["--burst", "-1"], "--burst must be 0 or more"),
    (["--step", "9"], "unknown step 9"),
    (["--train-limit", "-5"], "limits must be non-negative"),
])
def test_bad_flags_are_one_line_and_no_training(args, message, capsys):
    assert main(["rehearse", *args]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
