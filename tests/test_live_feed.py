"""The live feed (live_view.py, live_feed.py): what a panel's file says, and when it is written."""

from __future__ import annotations

import json
import threading
import time

import pytest

from mnist_core.classroom.jobs import Job, JobManager
from mnist_core.classroom.live_feed import LiveFeed, feed_key
from mnist_core.classroom.live_view import MAX_CHART_POINTS, job_view, thinned
from mnist_core.engine.recipes import design_from_step
from mnist_core.engine.train import BatchProgress
from mnist_core.lesson.steps import get_step
from mnist_core.runs.store import RunStore


def _job(phase: str = "training", step: int = 2) -> Job:
    job = Job(f"20260101-000000-step{step}-{phase.replace(' ', '')}", get_step(step).recipe.with_(epochs=2),
              phase=phase)
    job.latest = BatchProgress(epoch=2, epochs=2, batch=10, batches=20, loss=0.25, running_acc=91.5, lr=0.005,
                               images_per_s=1234.0, eta_s=5.0)
    job.training_started = time.time() - 10
    return job


def test_each_phase_is_told_with_the_progress_of_that_phase():
    queued = job_view(_job("queued"), queue_position=3, max_concurrent=1)
    assert queued["stage"] == "queued" and queued["bars"] == [] and "place 3" in queued["info"]
    loading = _job("loading data")
    loading.message, loading.data_fraction = "Reading the test images", 0.5
    assert job_view(loading, None, 1)["bars"] == [{"fraction": 0.5, "text": "Reading the test images"}]
    training = job_view(_job(), None, 1)
    assert training["bars"][0] == {"fraction": 0.5, "text": "Epoch 2/2: batch 10/20"}
    assert training["bars"][1]["text"].startswith("Whole run: 75% of the batches, about 0:")
    assert training["metrics"] == [["Batch loss", "0.2500"], ["Train accuracy (this epoch)", "91.50%"],
                                   ["Images / s", "1,234"], ["Learning rate", "0.00500"]]
    evaluating = _job("evaluating")
    evaluating.eval_done, evaluating.eval_total = 2500, 10_000
    view = job_view(evaluating, None, 1)
    assert view["headline"] == "evaluating on 10,000 test images" and view["bars"][0]["fraction"] == 0.25
    assert view["bars"][0]["text"] == "Epoch 2/2: evaluating, 2,500 of 10,000 test images scored"
    stopping = job_view(_job("stopping"), None, 1)
    assert stopping["stage"] == "stopping" and "stopping after the current batch" in stopping["bars"][0]["text"]
    assert job_view(_job("saving"), None, 1)["bars"][0]["text"].startswith("Saving the model")


def test_the_curves_carry_every_finished_epoch_and_a_thinned_loss_line_that_ends_where_the_run_is():
    job = _job()
    job.batch_losses = [(i / 100, 2.0 / (1 + i)) for i in range(2999)]
    job.history = [{"epoch": 1, "train_loss": 0.5, "train_acc": 85.0, "test_loss": 0.3, "test_acc": 90.0,
                    "lr": 0.01, "seconds": 2.0}]
    chart = job_view(job, None, 1)["chart"]
    assert chart["epochs"] == 2 and chart["history"] == [{"epoch": 1, "train_acc": 85.0, "test_acc": 90.0,
                                                          "train_loss": 0.5, "test_loss": 0.3}]
    assert len(chart["losses"]) <= MAX_CHART_POINTS and chart["losses"][-1][0] == pytest.approx(29.98)
    assert thinned([(1.0, 1.0)] * 3) == [(1.0, 1.0)] * 3
    json.dumps(chart)  # what the feed writes


def test_a_panel_s_feed_lists_its_own_runs_and_is_rewritten_only_when_they_change(tmp_path):
    manager = JobManager(RunStore(tmp_path / "runs"), max_concurrent=1)
    step2, step3, design = _job(step=2), _job(step=3), _job(step=2)
    design.run_id, design.config = "20260101-000002-design", design.config.with_(design=design_from_step(5).to_json())
    manager._jobs.update({job.run_id: job for job in (step2, step3, design)})
    (tmp_path / "live").mkdir()
    (tmp_path / "live" / "stale.json").write_text("{}")  # left by an earlier process
    feed = LiveFeed(tmp_path / "live", manager)
    assert not (tmp_path / "live" / "stale.json").exists()
    feed.publish(now=1000.0)
    files = {path.name: json.loads(path.read_text()) for path in (tmp_path / "live").glob("*.json")}
    assert set(files) == {"step-2.json", "step-3.json", "designs.json"}
    assert [run["run_id"] for run in files["step-2.json"]["runs"]] == [step2.run_id]
    assert feed_key(design.config) == "designs" and files["designs.json"]["runs"][0]["run_id"] == design.run_id
    written = (tmp_path / "live" / "step-2.json").stat().st_mtime_ns
    time.sleep(0.01)
    feed.publish(now=1000.0)  # nothing changed: not written again
    assert (tmp_path / "live" / "step-2.json").stat().st_mtime_ns == written
    step2.phase = "finished"  # the run ended: its panel's file is written empty, so the cards see it go
    feed.publish(now=1000.0)
    assert json.loads((tmp_path / "live" / "step-2.json").read_text())["runs"] == []


def test_a_feed_that_cannot_be_written_is_removed_so_no_card_shows_stale_numbers_as_live(tmp_path, monkeypatch):
    from mnist_core.classroom import live_feed

    manager = JobManager(RunStore(tmp_path / "runs"), max_concurrent=1)
    job = _job()
    manager._jobs[job.run_id] = job
    feed = LiveFeed(tmp_path / "live", manager)
    feed.publish(now=1000.0)
    path = tmp_path / "live" / "step-2.json"
    assert path.exists()

    def disk_full(target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(live_feed, "atomic_path", disk_full)
    job.phase = "evaluating"  # a change the feed cannot write
    feed.publish(now=1001.0)
    assert not path.exists()  # the cards get no feed, and fall back to the server's polling
    monkeypatch.undo()
    feed.publish(now=1002.0)  # space again: written in full
    assert json.loads(path.read_text())["runs"][0]["stage"] == job_view(job, None, 1, 1002.0)["stage"]


def test_the_feed_thread_writes_while_a_run_trains_and_stops_when_closed(tmp_path):
    manager = JobManager(RunStore(tmp_path / "runs"), max_concurrent=1)
    job = _job()
    manager._jobs[job.run_id] = job
    feed = LiveFeed(tmp_path / "live", manager, every_s=0.01).start()
    try:
        path = tmp_path / "live" / "step-2.json"
        written = threading.Event()
        for _ in range(2000):  # until the thread has written, however busy the machine
            if path.exists():
                written.set()
                break
            time.sleep(0.01)
        assert written.is_set() and json.loads(path.read_text())["runs"][0]["run_id"] == job.run_id
    finally:
        feed.close()
    assert not feed._thread.is_alive()


def test_streamlit_s_static_route_serves_a_panel_s_feed_where_the_card_fetches_it(tmp_path):
    """The card's address (ui.live_card.feed_url) under the server code ``streamlit run`` uses."""
    import urllib.request

    from mnist_core.commands.watch_cost import static_server
    from ui.live_card import feed_folder

    app = tmp_path / "app.py"
    folder = tmp_path / "static" / "live" / feed_folder("/some/runs").name
    folder.mkdir(parents=True)
    (folder / "step-2.json").write_text('{"written": 1, "runs": []}')
    with static_server(app) as base:
        url = f"{base}/app/static/live/{folder.name}/step-2.json"
        with urllib.request.urlopen(url, timeout=30) as response:
            assert json.loads(response.read()) == {"written": 1, "runs": []}


def test_feeds_are_padded_to_whole_blocks_so_a_replaced_feed_keeps_its_size(tmp_path):
    from mnist_core.classroom.live_feed import PAD_TO, padded

    assert len(padded('{"runs":[]}').encode()) == PAD_TO and json.loads(padded('{"runs":[]}')) == {"runs": []}
    assert len(padded("x" * (PAD_TO + 1))) == 2 * PAD_TO
    manager = JobManager(RunStore(tmp_path / "runs"), max_concurrent=1)
    job = _job()
    manager._jobs[job.run_id] = job
    feed = LiveFeed(tmp_path / "live", manager)
    feed.publish(now=1.0)
    first = (tmp_path / "live" / "step-2.json").stat().st_size
    job.latest = BatchProgress(epoch=2, epochs=2, batch=11, batches=20, loss=0.125, running_acc=92.0, lr=0.004,
                               images_per_s=99999.0, eta_s=4.0)
    feed.publish(now=2.0)
    assert (tmp_path / "live" / "step-2.json").stat().st_size == first == PAD_TO
