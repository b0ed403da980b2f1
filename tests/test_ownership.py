"""Whose run is whose, through the core API: owners, the teacher, forged ids, fair turns, limits.

A stand-in backend trains nothing: each job waits until the test releases it (or it is
stopped), so the order in which jobs start can be read off exactly.
"""

from __future__ import annotations

import threading

import pytest

from mnist_core.classroom.backends import TrainOutcome
from mnist_core.classroom.identity import Actor, NotAllowed, TeacherGate
from mnist_core.classroom.jobs import JobManager, QueueRefused
from mnist_core.classroom.queue_policy import QueuePolicy
from mnist_core.engine.config import TrainConfig
from mnist_core.runs.store import RunStore, update_status

CONFIG = TrainConfig(step=2, epochs=1)
ADA, BOB, CY = Actor("a" * 16, "Ada"), Actor("b" * 16, "Bob"), Actor("c" * 16, "Cy")
TEACHER = Actor("e" * 16, "Ms T", is_teacher=True)  # owner ids are 16 hex digits (run_files checks)


class HeldBackend:
    """Records the order jobs start in; each ends when released or stopped."""

    name = "held"

    def __init__(self) -> None:
        self.started: list[str] = []
        self.release: dict[str, threading.Event] = {}
        self.lock = threading.Lock()
        self.closed = threading.Event()  # the test is over: end every job still held

    def capacity(self, default):
        return default or 1  # one at a time, as the queue tests expect

    def following(self, path):
        return False

    def train_into(self, path, config, data, on_batch=None, on_epoch=None, stop=None, resume=False,
                   on_eval=None, on_saving=None):
        with self.lock:
            self.started.append(path.name)
            event = self.release.setdefault(path.name, threading.Event())
        while not event.wait(0.01):
            if stop.is_set() or self.closed.is_set():
                update_status(path, state="stopped")
                return TrainOutcome(True, "none", 0, "here")
        update_status(path, state="finished")
        return TrainOutcome(False, "none", 0, "here")

    def finish(self, run_id):
        with self.lock:
            self.release.setdefault(run_id, threading.Event()).set()


@pytest.fixture()
def backend():
    held = HeldBackend()
    yield held
    held.closed.set()


def make_manager(tmp_path, backend, active=2, kept=30, password="let me in"):
    return JobManager(RunStore(tmp_path / "runs"), max_concurrent=1, load_data=lambda progress: None,
                      policy=QueuePolicy(active, kept), backend=backend, teacher=TeacherGate(password))


def wait_started(backend, count):
    for _ in range(2000):
        if len(backend.started) >= count:
            return
        threading.Event().wait(0.005)
    raise AssertionError(f"only {backend.started} started")


def test_only_the_owner_or_the_teacher_stops_or_deletes_a_run(tmp_path, backend):
    manager = make_manager(tmp_path, backend)
    ada_run = manager.submit(CONFIG, ADA)
    bob_waiting = manager.submit(CONFIG, BOB)
    wait_started(backend, 1)
    for run_id in (ada_run, bob_waiting):
        assert manager.store.get(run_id).status["owner"] in (ADA.owner_id, BOB.owner_id)
    assert manager.store.get(ada_run).status["owner_name"] == "Ada"

    with pytest.raises(NotAllowed):
        manager.stop(ada_run, BOB)
    with pytest.raises(NotAllowed):
        manager.stop(bob_waiting, ADA)
    assert manager.may_manage(ada_run, ADA) and not manager.may_manage(ada_run, BOB)
    assert manager.job(ada_run).active and manager.job(bob_waiting).active

    assert manager.stop(bob_waiting, TEACHER)  # the teacher cancels anyone's waiting run
    assert "teacher" in manager.store.get(bob_waiting).status["message"]
    assert manager.stop(ada_run, ADA)
    assert manager.wait(ada_run, 30)
    with pytest.raises(NotAllowed):
        manager.delete(ada_run, BOB)
    assert manager.store.get(ada_run) is not None
    manager.delete(ada_run, ADA)
    assert manager.store.get(ada_run) is None
    manager.delete(bob_waiting, TEACHER)
    assert manager.store.list() == []


@pytest.mark.parametrize("forged", ["../../etc", "..", "../runs/x", "/etc/passwd", ".server-salt", "a/b", "",
                                    "x\x00y", "20990101-000000-step2-ffff"])
def test_forged_and_escaping_run_ids_touch_nothing(tmp_path, backend, forged):
    manager = make_manager(tmp_path, backend)
    outside = tmp_path / "etc"
    outside.mkdir()
    kept = manager.submit(CONFIG, ADA)
    for act in (manager.stop, manager.delete):
        with pytest.raises((KeyError, ValueError)):
            act(forged, TEACHER)
    assert not manager.may_manage(forged, TEACHER)
    assert outside.is_dir() and manager.store.get(kept) is not None


def test_a_student_cannot_clear_the_queue_and_the_teacher_can(tmp_path, backend):
    manager = make_manager(tmp_path, backend)
    running = manager.submit(CONFIG, ADA)
    waiting = [manager.submit(CONFIG, who) for who in (ADA, BOB, CY)]
    wait_started(backend, 1)
    with pytest.raises(NotAllowed):
        manager.clear_queue(BOB)
    assert manager.clear_queue(TEACHER) == 3
    assert [manager.store.get(r).state for r in waiting] == ["stopped"] * 3
    assert manager.job(running).active  # clearing the queue leaves what trains alone
    backend.finish(running)
    assert manager.wait(running, 30)


def test_wrong_teacher_passwords_through_the_manager_gate(tmp_path, backend):
    manager = make_manager(tmp_path, backend, password="right one")
    assert manager.teacher.check("wrong")[0] is False
    results = [manager.teacher.check(f"wrong {i}") for i in range(10)]
    assert all(not ok for ok, _ in results) and manager.teacher.locked_for() > 0
    assert manager.teacher.check("right one")[0] is False  # ten wrong in a row: locked even for the right one


def test_three_students_jobs_start_in_turn_not_first_come(tmp_path, backend):
    manager = make_manager(tmp_path, backend, active=5)
    ada = [manager.submit(CONFIG.with_(seed=i), ADA) for i in range(3)]
    bob = [manager.submit(CONFIG.with_(seed=i), BOB) for i in range(2)]
    cy = [manager.submit(CONFIG.with_(seed=i), CY) for i in range(2)]
    wait_started(backend, 1)
    # Ada's first trains; the rest wait in turns: Bob, Cy, Ada, Bob, Cy, Ada.
    expected = [ada[0], bob[0], cy[0], ada[1], bob[1], cy[1], ada[2]]
    assert [manager.queue_position(r) for r in expected[1:]] == list(range(1, 7))
    for count, run_id in enumerate(expected, start=1):
        wait_started(backend, count)
        assert backend.started[-1] == run_id
        backend.finish(run_id)
    assert backend.started == expected


def test_one_students_burst_delays_anothers_first_run_by_at_most_one_run(tmp_path, backend):
    manager = make_manager(tmp_path, backend, active=10)
    burst = [manager.submit(CONFIG.with_(seed=i), ADA) for i in range(8)]
    late = manager.submit(CONFIG, BOB)
    wait_started(backend, 1)
    assert manager.queue_position(late) == 1
    backend.finish(burst[0])
    wait_started(backend, 2)
    assert backend.started == [burst[0], late]
    assert manager.clear_queue(TEACHER) == 7
    backend.finish(late)


def test_the_limit_per_student_refuses_with_a_reason_and_frees_up(tmp_path, backend):
    manager = make_manager(tmp_path, backend, active=2, kept=3)
    first, second = manager.submit(CONFIG, ADA), manager.submit(CONFIG, ADA)
    with pytest.raises(QueueRefused, match="2 run"):
        manager.submit(CONFIG, ADA)
    manager.submit(CONFIG, BOB)  # the limit is per student
    wait_started(backend, 1)
    backend.finish(first)
    assert manager.wait(first, 30)
    third = manager.submit(CONFIG, ADA)  # one ended: room again
    assert manager.stop(third, ADA) and manager.stop(second, ADA)
    with pytest.raises(QueueRefused, match="Delete some"):  # three kept on disk: the cap
        manager.submit(CONFIG, ADA)
    manager.delete(first, ADA)
    manager.submit(CONFIG, ADA)
    manager.submit(CONFIG, TEACHER)  # the teacher is not limited
    manager.clear_queue(TEACHER)


def test_a_start_never_scans_the_runs_folder_while_holding_the_queue_lock(tmp_path, backend):
    """Issue 27: every Start scanned all runs while holding the job manager's lock, so with 900 runs one Start
    took 133 s and every other page that asked the queue waited behind it."""
    manager = make_manager(tmp_path, backend)
    held_during_scan = []
    real_scan = manager.store.scan

    def scan():
        held_during_scan.append(manager._lock.locked())
        return real_scan()

    manager.store.scan = scan
    manager.submit(CONFIG, ADA)
    assert held_during_scan == [False]
