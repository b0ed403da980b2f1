"""Heartbeats: a run's owner stamps its status every few seconds, so any reader can tell a dead run from a live one."""

from __future__ import annotations

import json
import time

import pytest
from streamlit.testing.v1 import AppTest

from mnist_core.classroom.jobs import JobManager
from mnist_core.engine.config import TrainConfig
from mnist_core.runs import heartbeat
from mnist_core.runs.heartbeat import Heartbeats, is_stale
from mnist_core.runs.store import HEARTBEATS, RunStore, keep_alive, train_run

QUICK = TrainConfig(step=1, epochs=1, batch_size=64, train_limit=256, test_limit=200)


def status_of(path) -> dict:
    return json.loads((path / "status.json").read_text())


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.parametrize("age, stale", [(0, False), (heartbeat.STALE_AFTER_S - 5, False),
                                        (heartbeat.STALE_AFTER_S + 5, True), (-3600, True)])
def test_a_run_is_stale_when_its_newest_stamp_is_old_or_from_the_future(age, stale):
    now = 1_800_000_000.0
    assert is_stale({"updated": now - 7200, "heartbeat": now - age}, now=now) is stale


def test_keep_alive_stamps_the_status_until_the_block_ends(tmp_path):
    run = RunStore(tmp_path / "runs").create(QUICK)
    with keep_alive(run.path):
        first = status_of(run.path)["heartbeat"]
        wait_for(lambda: status_of(run.path)["heartbeat"] > first, timeout=heartbeat.BEAT_EVERY_S * 15)
    assert run.path not in HEARTBEATS.alive()


def test_a_beat_never_recreates_a_deleted_run(tmp_path):
    store = RunStore(tmp_path / "runs")
    run = store.create(QUICK)
    beats = Heartbeats(lambda path: __import__("mnist_core.runs.store", fromlist=["_beat"])._beat(path),
                       every_s=0.05)
    beats.add(run.path)
    store.delete(run.run_id)
    time.sleep(0.3)
    assert not run.path.exists()


def test_a_stale_run_with_a_live_reused_pid_can_be_deleted_on_compare_runs(runs_dir):
    import os

    store = RunStore(runs_dir)
    run = store.create(QUICK, label="left running by a killed container")
    long_ago = time.time() - 3600
    (run.path / "status.json").write_text(json.dumps({**status_of(run.path), "state": "running", "pid": os.getpid(),
                                                      "updated": long_ago, "heartbeat": long_ago}))
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.run()
    at.switch_page("pages/compare_runs.py").run()
    table = at.dataframe[0].value
    assert table.loc[~table["Run"].str.startswith("shipped"), "Status"].tolist() == ["interrupted"]
    at.checkbox(key="compare_delete_confirm").check().run()
    at.button(key="compare_delete").click().run()
    assert not at.exception and not at.error
    assert not run.path.exists()


@pytest.mark.real_data
def test_training_and_waiting_in_the_queue_both_keep_a_run_alive(tmp_path, mnist):
    loading = __import__("threading").Event()

    def slow_loader(progress):
        loading.wait(60)  # the first job sits in "loading data" until the test lets it go
        return mnist

    manager = JobManager(RunStore(tmp_path / "runs"), max_concurrent=1, load_data=slow_loader)
    first, second = manager.submit(QUICK), manager.submit(QUICK.with_(seed=2))
    waiting = manager.store.path(second)
    assert waiting in HEARTBEATS.alive() and manager.store.path(first) in HEARTBEATS.alive()
    stamp = status_of(waiting)["heartbeat"]
    wait_for(lambda: status_of(waiting)["heartbeat"] > stamp, timeout=heartbeat.BEAT_EVERY_S * 15)
    loading.set()
    assert manager.wait(first, 120) and manager.wait(second, 120)
    assert waiting not in HEARTBEATS.alive() and manager.store.get(second).state == "finished"


@pytest.mark.real_data
def test_a_keyboard_interrupt_during_training_records_the_run_as_stopped(tmp_path, mnist):
    def interrupt(record):
        raise KeyboardInterrupt

    path = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train_run(path, QUICK.with_(epochs=3), mnist, on_epoch=interrupt)
    status = status_of(path)
    assert status["state"] == "stopped" and "Ctrl-C after 1 full epoch." in status["message"]
    assert path not in HEARTBEATS.alive()
