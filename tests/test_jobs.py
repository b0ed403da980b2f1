"""The background job queue: one run at a time, a waiting line, stop and cancel, restarts."""

from __future__ import annotations

import json
import os
import time

import pytest

from mnist_core.classroom.jobs import JobManager
from mnist_core.engine.config import TrainConfig
from mnist_core.runs.store import RunStore, update_status

pytestmark = pytest.mark.real_data

QUICK = TrainConfig(step=2, epochs=2, batch_size=64, dropout=0.05, train_limit=256, test_limit=200)


@pytest.fixture()
def manager(tmp_path, mnist):
    return JobManager(RunStore(tmp_path / "runs"), max_concurrent=1, load_data=lambda progress: mnist)


def test_two_submissions_take_turns_and_both_finish(manager):
    first = manager.submit(QUICK)
    second = manager.submit(QUICK.with_(seed=2))
    assert manager.queue_position(second) == 1  # waits while the first trains
    assert manager.queue_position(first) is None
    assert manager.wait(first, 600) and manager.wait(second, 600)  # generous: the machine may be busy
    for run_id in (first, second):
        run = manager.store.get(run_id)
        assert run.state == "finished", run.status
        assert len(run.history) == 2
        assert run.checkpoint.is_file() and run.mistakes() is not None
        assert run.evaluation["total"] == 200


def test_stop_keeps_what_was_trained_and_cancel_removes_a_waiting_run(manager):
    running = manager.submit(QUICK.with_(epochs=200))
    waiting = manager.submit(QUICK)
    assert manager.stop(waiting)
    assert manager.store.get(waiting).state == "stopped"
    while not manager.store.get(running).history:  # let one epoch finish
        assert manager.job(running).active
    assert manager.stop(running)
    assert manager.wait(running, 60)
    run = manager.store.get(running)
    assert run.state == "stopped" and 1 <= len(run.history) < 200
    assert run.checkpoint.is_file()
    assert manager.stop(running) is False  # already over


def test_a_failing_job_is_reported_and_the_queue_goes_on(tmp_path, mnist):
    calls = []

    def flaky_loader(progress):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("MNIST could not be obtained")
        return mnist

    manager = JobManager(RunStore(tmp_path / "runs"), load_data=flaky_loader)
    failed, ok = manager.submit(QUICK), manager.submit(QUICK)
    assert manager.wait(failed, 30) and manager.wait(ok, 60)
    assert manager.store.get(failed).state == "failed"
    assert "could not be obtained" in manager.store.get(failed).status["message"]
    assert manager.store.get(ok).state == "finished"


def test_runs_whose_heartbeat_stopped_show_as_interrupted_whatever_their_pid(tmp_path):
    """In a container the server is PID 1 after every restart: a PID that is alive proves nothing."""
    store = RunStore(tmp_path / "runs")
    orphan = store.create(QUICK)
    long_ago = time.time() - 3600
    status = json.loads((orphan.path / "status.json").read_text())
    (orphan.path / "status.json").write_text(json.dumps(
        {**status, "state": "running", "pid": os.getpid(), "updated": long_ago, "heartbeat": long_ago}))
    alive = store.create(QUICK)
    update_status(alive.path, state="running", pid=2**22 + 12345, heartbeat=time.time())  # beats elsewhere
    assert store.get(orphan.run_id).state == "interrupted"  # any reader sees it, before any restart
    JobManager(store)  # and a (re)starting server records it
    saved = json.loads((orphan.path / "status.json").read_text())
    assert saved["state"] == "interrupted" and "0 epochs saved." in saved["message"]
    assert store.get(alive.run_id).state == "running"


def test_a_job_tells_its_phases_stopping_evaluating_and_saving(tmp_path, monkeypatch, mnist):
    """Issue 12: after Stop the panel still said "training", and a test pass showed a frozen bar.

    The fake stands in for train_run under the local backend, so this also checks that the backend
    passes on_eval and on_saving through to it.
    """
    from mnist_core.classroom import backends
    from mnist_core.engine.train import BatchProgress

    seen = {}
    release = __import__("threading").Event()

    def fake_train_run(path, config, data, on_batch, on_epoch, stop, on_eval, on_saving):
        job = manager.job(path.name)  # not the test's own name for it: this thread can get here before it is set
        on_batch(BatchProgress(epoch=1, epochs=1, batch=4, batches=4, loss=2.0, running_acc=10.0, lr=0.01,
                               images_per_s=100.0, eta_s=0.0))
        seen["training"] = job.phase
        on_eval(0, 2000)
        on_eval(1000, 2000)
        seen["evaluating"] = (job.phase, job.eval_done, job.eval_total)
        seen["eta while evaluating"] = job.seconds_left()
        on_eval(2000, 2000)
        seen["after the pass"] = job.phase
        release.wait(10)  # the test presses Stop here
        seen["after stop"] = job.phase
        on_saving()
        seen["saving"] = job.phase
        return type("Result", (), {"stopped": True, "device": "CPU", "params": 0, "history": []})()

    monkeypatch.setattr(backends, "train_run", fake_train_run)
    manager = JobManager(RunStore(tmp_path / "runs"), load_data=lambda progress: mnist, backend=backends.LocalBackend())
    run_id = manager.submit(QUICK)
    job = manager.job(run_id)
    while "after the pass" not in seen:
        assert job.phase != "failed", job.message
    assert manager.stop(run_id) and job.phase == "stopping"
    release.set()
    assert manager.wait(run_id, 30)
    assert seen["training"] == "training"
    assert seen["evaluating"] == ("evaluating", 1000, 2000)
    assert seen["eta while evaluating"] is not None and seen["eta while evaluating"] > 0  # the pass is not done
    assert seen["after the pass"] == "training"
    assert seen["after stop"] == "stopping" and seen["saving"] == "saving"
    assert job.phase == "stopped" and job.batch_losses == [(1.0, 2.0)]
