"""The dashboard's runs train in worker processes that share the cores (classroom/worker_backend.py)."""

from __future__ import annotations

import os
import signal
import sys
import time
import types

import pytest

from mnist_core.classroom.jobs import JobManager
from mnist_core.classroom.worker_backend import WorkerBackend, default_workers, thread_share
from mnist_core.lesson.steps import get_step
from mnist_core.runs.store import RunStore, read_json

pytestmark = pytest.mark.real_data

# Long enough that two runs overlap and a worker can be caught mid-run; a few seconds each on one core.
SMALL = get_step(2).recipe.with_(epochs=3, train_limit=1280, test_limit=500, device="cpu")


def until(condition, what: str, limit_s: float = 120.0):
    """Wait for progress (a generous limit, for a busy machine), never for a fixed time."""
    deadline = time.time() + limit_s
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"waited {limit_s:.0f} s for {what}")


@pytest.mark.parametrize(("cores", "running", "share"), [(2, 1, 2), (2, 2, 1), (2, 4, 1), (16, 4, 4), (16, 3, 5)])
def test_each_run_gets_an_equal_share_of_the_cores(cores, running, share):
    assert thread_share(cores, running) == share


def test_the_default_number_of_runs_follows_the_machine():
    assert default_workers(cores=2, gpu=False) == 2
    assert default_workers(cores=64, gpu=False) == 8  # each worker holds its own images
    assert default_workers(cores=16, gpu=True) == 4


def test_two_concurrent_runs_each_train_with_their_own_thread_budget(tmp_path, mnist):
    backend = WorkerBackend(cores=2)
    manager = JobManager(RunStore(tmp_path / "runs"), max_concurrent=2, load_data=lambda progress: mnist,
                         backend=backend)
    first, second = manager.submit(SMALL), manager.submit(SMALL.with_(seed=2))
    paths = [str(manager.store.path(run_id)) for run_id in (first, second)]
    # While both train, each worker process says it trains with one thread: half of the two cores each.
    until(lambda: all(backend.threads_in_use.get(p) == 1 for p in paths), "both workers to take one thread each")
    # Each trains in a process of its own: once its first batch is in, its status names that process.
    until(lambda: all(manager.job(r).latest is not None for r in (first, second)), "both runs' first batches")
    assert os.getpid() not in {read_json(manager.store.path(r) / "status.json", {}).get("pid") for r in (first, second)}
    assert manager.wait(first, 300) and manager.wait(second, 300)
    for run_id in (first, second):
        run = manager.store.get(run_id)
        assert run.state == "finished" and len(run.history) == 3, run.status
        assert (run.path / "model.pt").is_file()


def test_a_lone_run_takes_every_core(tmp_path, mnist):
    backend = WorkerBackend(cores=2)
    manager = JobManager(RunStore(tmp_path / "runs"), max_concurrent=2, load_data=lambda progress: mnist,
                         backend=backend)
    run_id = manager.submit(SMALL.with_(epochs=1))
    path = str(manager.store.path(run_id))
    until(lambda: backend.threads_in_use.get(path) == 2, "the lone worker to take both cores")
    assert manager.wait(run_id, 300)
    assert manager.store.get(run_id).status["device"] == "CPU (2 threads)"


def test_stop_reaches_the_worker_and_what_it_trained_is_kept(tmp_path, mnist):
    manager = JobManager(RunStore(tmp_path / "runs"), max_concurrent=1, load_data=lambda progress: mnist,
                         backend=WorkerBackend(cores=2))
    run_id = manager.submit(SMALL.with_(epochs=15))
    job = manager.job(run_id)
    until(lambda: len(job.history) >= 1, "a first finished epoch")
    assert manager.stop(run_id)
    assert manager.wait(run_id, 120)
    run = manager.store.get(run_id)
    assert job.phase == "stopped" and run.state == "stopped" and 1 <= len(run.history) < 15
    assert (run.path / "model.pt").is_file()


def test_a_worker_that_dies_fails_its_own_run_only(tmp_path, mnist):
    """A design too big for memory, or any crash, must not take the dashboard or another student's run along."""
    manager = JobManager(RunStore(tmp_path / "runs"), max_concurrent=2, load_data=lambda progress: mnist,
                         backend=WorkerBackend(cores=2))
    doomed, other = manager.submit(SMALL.with_(epochs=15)), manager.submit(SMALL.with_(epochs=1, seed=3))
    until(lambda: manager.job(doomed).latest is not None, "the first run's first batch")
    pid = read_json(manager.store.path(doomed) / "status.json", {})["pid"]
    os.kill(pid, signal.SIGKILL)  # as the out-of-memory killer would
    assert manager.wait(doomed, 60)
    job = manager.job(doomed)
    assert job.phase == "failed" and "killed (signal 9)" in job.message
    status = manager.store.get(doomed).status
    assert status["state"] == "failed" and "signal 9" in status["message"]
    assert manager.wait(other, 300) and manager.store.get(other).state == "finished"


def test_a_worker_never_runs_the_dashboards_script(tmp_path, mnist, monkeypatch):
    """Streamlit leaves the dashboard's script installed as ``__main__``, and multiprocessing runs the parent's
    main file in every new process: each worker ran the whole dashboard (bare, 0.7 s) before training."""
    marker = tmp_path / "ran.txt"
    script = tmp_path / "dashboard.py"
    script.write_text(f"open({str(marker)!r}, 'a').write(__name__)\n")
    page_run = types.ModuleType("__main__")  # what Streamlit's script runner installs
    page_run.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", page_run)
    manager = JobManager(RunStore(tmp_path / "runs"), max_concurrent=1, load_data=lambda progress: mnist,
                         backend=WorkerBackend(cores=2))
    run_id = manager.submit(SMALL.with_(epochs=1, train_limit=256, test_limit=200))
    assert manager.wait(run_id, 300)
    assert manager.store.get(run_id).state == "finished"
    assert not marker.exists(), f"a worker ran the page script as {marker.read_text()!r}"
    assert sys.modules["__main__"] is page_run  # the server's own __main__ is as it was
