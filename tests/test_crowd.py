"""A class's 900 runs on disk: listing them reads each run's files once, and a Start never scans under the lock.

Before: every listing decoded every run's mistakes.npz (94% of the time) and a Start scanned every run while
holding the job manager's lock, so another student's page waited through it (issue 27: Compare runs 82 s,
a Start 133 s). ``python -m mnist_core crowd`` times the same with 900 runs.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

from mnist_core.classroom.identity import Actor
from mnist_core.classroom.jobs import JobManager
from mnist_core.commands import crowd
from mnist_core.commands.cli import main
from mnist_core.runs import run_files
from mnist_core.runs.store import RunStore, inspect_run, update_status

SHIPPED_STEP2 = Path(__file__).resolve().parent.parent / "assets" / "step2"


def test_listing_runs_does_not_decode_their_mistakes(tmp_path):
    folder = shutil.copytree(SHIPPED_STEP2, tmp_path / "run")
    before = run_files._read_mistakes_cached.cache_info().misses
    assert inspect_run(folder).state == "finished"
    assert run_files._read_mistakes_cached.cache_info().misses == before
    assert len(inspect_run(folder).mistakes().mistakes) > 0  # read, and checked in full, when shown


def test_a_listed_run_follows_every_change_to_its_files(tmp_path):
    folder = shutil.copytree(SHIPPED_STEP2, tmp_path / "run")
    assert inspect_run(folder).status.get("message", "") == ""
    update_status(folder, message="changed")
    assert inspect_run(folder).status["message"] == "changed"
    (folder / "history.json").write_text("[")
    assert "history.json" in inspect_run(folder).problem
    inspect_run(folder).path  # noqa: B018 - the damaged run is a run still
    shutil.rmtree(folder)
    assert inspect_run(folder) is None


def test_a_callers_change_to_a_listed_run_does_not_reach_the_next_reader(tmp_path):
    folder = shutil.copytree(SHIPPED_STEP2, tmp_path / "run")
    inspect_run(folder).status["state"] = "running"
    inspect_run(folder).history.clear()
    run = inspect_run(folder)
    assert run.state == "finished" and len(run.history) == run.config.epochs


class _SlowStore(RunStore):
    """A runs folder whose scan takes as long as the test says."""

    def __init__(self, root, release: threading.Event, scanning: threading.Event) -> None:
        super().__init__(root)
        self.release, self.scanning = release, scanning

    def scan(self):
        self.scanning.set()
        self.release.wait(30)
        return super().scan()


def test_a_start_counts_the_students_runs_without_holding_the_job_lock(tmp_path):
    release, scanning = threading.Event(), threading.Event()
    backend = crowd._HeldBackend()
    manager = JobManager(_SlowStore(tmp_path / "runs", release, scanning), load_data=lambda progress: None,
                         backend=backend)
    config = inspect_run(SHIPPED_STEP2).config.with_(epochs=1)
    starter = threading.Thread(target=manager.submit, args=(config, Actor("ann", "Ann")))
    starter.start()
    try:
        assert scanning.wait(30)
        # Another student's page asks the job manager while the Start is still counting runs.
        asked = time.perf_counter()
        assert manager.active_jobs() == [] and manager.queue_position("nothing") is None
        assert time.perf_counter() - asked < 5
    finally:
        release.set()
        starter.join(30)
        backend.closed.set()
    assert len(manager.active_jobs()) <= 1


def test_the_crowd_command_times_a_full_runs_folder(capsys):
    assert main(["crowd", "--runs", "6"]) == 0
    out = capsys.readouterr().out
    for line in ("first listing", "listing, nothing changed", "listing after one run changed", "a Start"):
        assert line in out
    assert main(["crowd", "--runs", "0"]) == 1
