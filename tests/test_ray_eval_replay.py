"""The Ray backend's test passes, without Ray: the worker's bookkeeping and the dashboard's replay.

A live panel shows *evaluating on N test images* with its progress (issue 12) for a run on Ray
too: the worker counts its finished test passes and the one under way, and the dashboard, which
polls it, replays them to ``on_eval`` in the order they happened, starting a pass it saw only
after it had ended, and calls ``on_saving`` once the result is in.
"""

from __future__ import annotations

from mnist_core.classroom import ray_backend
from mnist_core.classroom.ray_backend import RayBackend, TrainWorker
from mnist_core.runs.store import read_json


def test_the_worker_counts_finished_passes_and_the_one_under_way():
    worker = TrainWorker.__new__(TrainWorker)  # not __init__: it would set this process's torch threads
    worker._latest, worker._epochs, worker._result, worker._error = None, [], None, None
    worker._passes, worker._eval, worker._eval_total = 0, None, 0
    worker._on_eval(0, 2000)
    worker._on_eval(500, 2000)
    report = worker.poll(0)
    assert (report["passes"], report["eval"], report["eval_total"]) == (0, (500, 2000), 2000)
    worker._on_eval(2000, 2000)
    report = worker.poll(0)
    assert (report["passes"], report["eval"]) == (1, None)


class _Remote:
    def __init__(self, answer) -> None:
        self.answer = answer

    def remote(self, *args):
        return self.answer(*args)


class _ScriptedActor:
    """Answers each poll with the next report of a script, as a worker would between two polls."""

    def __init__(self, reports: list[dict]) -> None:
        self.reports = iter(reports)
        self.poll = _Remote(lambda known: next(self.reports))
        self.stop = _Remote(lambda: None)


class _FakeRay:
    @staticmethod
    def get(value, timeout=None):
        return value


def _report(latest, passes, current, epochs=(), done=False) -> dict:
    return {"latest": latest, "epochs": list(epochs), "done": done, "result": None, "error": None, "node": "n1",
            "passes": passes, "eval": current, "eval_total": 2000}


def test_the_dashboard_replays_each_pass_in_order_even_one_it_never_saw_under_way(tmp_path, monkeypatch):
    monkeypatch.setattr(ray_backend, "POLL_S", 0.0)
    epoch = {"epoch": 1, "train_loss": 1.0, "train_acc": 50.0, "test_loss": 1.0, "test_acc": 60.0, "lr": 0.01,
             "seconds": 1.0}
    actor = _ScriptedActor([
        _report("batch 1", 0, None),
        _report("batch 2", 0, (500, 2000)),  # the first pass, seen under way
        _report("batch 2", 1, None, epochs=[epoch]),  # ... and ended
        _report("batch 3", 2, None, epochs=[{**epoch, "epoch": 2}], done=True),  # the second, seen only ended
    ])
    calls = []
    backend = RayBackend.__new__(RayBackend)
    history: list[dict] = []
    report = backend._follow(_FakeRay(), actor, tmp_path, history, on_batch=lambda p: calls.append(("batch", p)),
                             on_epoch=lambda r: calls.append(("epoch", r["epoch"])), stop=None,
                             on_eval=lambda done, total: calls.append(("eval", done, total)))
    assert report["done"]
    assert calls == [
        ("batch", "batch 1"),
        ("batch", "batch 2"), ("eval", 0, 2000), ("eval", 500, 2000),
        ("eval", 2000, 2000), ("epoch", 1),
        ("eval", 0, 2000), ("eval", 2000, 2000), ("epoch", 2), ("batch", "batch 3"),
    ]
    assert [record["epoch"] for record in read_json(tmp_path / "history.json", [])] == [1, 2]
