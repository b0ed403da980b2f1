"""Background training jobs with a queue, shared by every user of one dashboard process.

The dashboard's script threads must stay responsive, and a training run must outlive
the page that started it, so runs train in worker threads owned by one ``JobManager``.
At most ``max_concurrent`` run at once (one by default: two jobs on a 2-core CPU each
run at half speed, and both finish later than if they took turns); the rest wait in a
first-come queue. Each job writes its run folder as it goes (see runs.py), and keeps
its latest progress in memory for live panels to poll: its phase (training, evaluating
with its own progress, stopping, saving), the loss of every batch reported, and a clock
whose estimate of the time left counts the test passes too.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from mnist_core.engine.config import TrainConfig
from mnist_core.engine.data import MnistTensors, load_mnist
from mnist_core.engine.eta import RunClock, seconds_left
from mnist_core.engine.runs import HEARTBEATS, RunStore, train_run, update_status
from mnist_core.engine.train import BatchProgress

DEFAULT_MAX_CONCURRENT = int(os.environ.get("MNIST_MAX_TRAINING_JOBS", "1"))


@dataclass
class Job:
    run_id: str
    config: TrainConfig
    stop_event: threading.Event = field(default_factory=threading.Event)
    # queued, loading data, training, evaluating, stopping, saving; then finished, stopped or failed
    phase: str = "queued"
    message: str = ""  # what the data loader says, or why the job failed
    data_fraction: float | None = None
    latest: BatchProgress | None = None  # the last batch's progress
    submitted: float = field(default_factory=time.time)
    batch_losses: list[tuple[float, float]] = field(default_factory=list)  # (epoch + fraction of it, loss)
    history: list[dict] = field(default_factory=list)  # finished epochs' records, as the run's history holds them
    eval_done: int = 0  # test images scored so far in the test pass under way
    eval_total: int = 0  # test images in each test pass
    passes_done: int = 0
    training_started: float | None = None
    eval_seconds: float = 0.0  # spent in finished test passes
    eval_started: float | None = None  # of the test pass under way

    @property
    def active(self) -> bool:
        return self.phase in ACTIVE_PHASES

    @property
    def stopping(self) -> bool:
        return self.stop_event.is_set()

    def seconds_left(self, now: float | None = None) -> float | None:
        """The run's time left, batches and test passes both; None until something was measured."""
        p = self.latest
        if p is None or self.training_started is None:
            return None
        now = time.time() if now is None else now
        in_pass = now - self.eval_started if self.eval_started is not None else 0.0
        test_images = self.eval_total or _test_images(self.config)
        return seconds_left(RunClock(
            batches_done=(p.epoch - 1) * p.batches + p.batch, total_batches=p.epochs * p.batches,
            batch_size=self.config.batch_size,
            training_seconds=now - self.training_started - self.eval_seconds - in_pass,
            test_images_per_pass=test_images, passes_total=p.epochs, passes_done=self.passes_done,
            images_into_pass=self.eval_done if self.eval_started is not None else 0,
            eval_seconds=self.eval_seconds, eval_images=self.passes_done * test_images,
        ))


ACTIVE_PHASES = ("queued", "loading data", "training", "evaluating", "stopping", "saving")
MAX_LOSS_POINTS = 3000  # the live loss line keeps every batch up to this many, then every other one


def _test_images(config: TrainConfig) -> int:
    return min(config.test_limit, 10_000) if config.test_limit else 10_000


class JobManager:
    def __init__(
        self,
        store: RunStore,
        max_concurrent: int = DEFAULT_MAX_CONCURRENT,
        load_data: Callable[..., MnistTensors] = load_mnist,
    ) -> None:
        self.store = store
        self.max_concurrent = max(1, max_concurrent)
        self._load_data = load_data
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._queue: list[str] = []  # run ids waiting, oldest first
        self._running: set[str] = set()
        # Runs that a previous server process left queued or running can never finish now.
        store.mark_interrupted()

    def submit(self, config: TrainConfig, label: str = "") -> str:
        """Queue a run of ``config``; returns its run id. It starts as soon as a slot is free."""
        run = self.store.create(config, label=label)
        HEARTBEATS.add(run.path)  # waiting in this process's queue is alive too; removed when the job ends
        with self._lock:
            self._jobs[run.run_id] = Job(run.run_id, config)
            self._queue.append(run.run_id)
            self._start_waiting()
        return run.run_id

    def stop(self, run_id: str) -> bool:
        """Stop a running job after its current batch, or take a waiting one off the queue."""
        with self._lock:
            job = self._jobs.get(run_id)
            if job is None or not job.active:
                return False
            if run_id in self._queue:
                self._queue.remove(run_id)
                job.phase = "stopped"
                update_status(self.store.path(run_id), state="stopped", ended=time.time(),
                              message="Cancelled before it started.")
                HEARTBEATS.remove(self.store.path(run_id))
                return True
            job.stop_event.set()
            job.phase = "stopping"
            return True

    def job(self, run_id: str) -> Job | None:
        return self._jobs.get(run_id)

    def queue_position(self, run_id: str) -> int | None:
        """1 for the next job to start; None if not waiting."""
        with self._lock:
            return self._queue.index(run_id) + 1 if run_id in self._queue else None

    def active_jobs(self) -> list[Job]:
        with self._lock:
            return [job for job in self._jobs.values() if job.active]

    def wait(self, run_id: str, timeout: float = 60.0) -> bool:
        """Block until the job is no longer active (for tests and scripts); True if it ended."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            job = self._jobs.get(run_id)
            if job is None or not job.active:
                return True
            time.sleep(0.05)
        return False

    def _start_waiting(self) -> None:
        """Start queued jobs while slots are free. Call with the lock held."""
        while self._queue and len(self._running) < self.max_concurrent:
            run_id = self._queue.pop(0)
            self._running.add(run_id)
            threading.Thread(target=self._run, args=(self._jobs[run_id],), name=f"train-{run_id}",
                             daemon=True).start()

    def _run(self, job: Job) -> None:
        path = self.store.path(job.run_id)
        try:
            job.phase = "loading data"
            update_status(path, state="running", message="Loading MNIST")

            def data_progress(message: str, fraction: float | None) -> None:
                job.message, job.data_fraction = message, fraction

            data = self._load_data(progress=data_progress)
            job.phase, job.message = ("stopping" if job.stopping else "training"), ""
            job.training_started = time.time()

            def on_batch(progress: BatchProgress) -> None:
                job.latest = progress
                job.batch_losses.append((progress.epoch - 1 + progress.batch / progress.batches, progress.loss))
                if len(job.batch_losses) > MAX_LOSS_POINTS:
                    job.batch_losses = job.batch_losses[::2]
                if not job.stopping:
                    job.phase = "training"

            def on_eval(done: int, total: int) -> None:
                job.eval_done, job.eval_total = done, total
                if done == 0:
                    job.eval_started = time.time()
                if not job.stopping:
                    job.phase = "evaluating" if done < total else "training"
                if done >= total and job.eval_started is not None:
                    job.eval_seconds += time.time() - job.eval_started
                    job.eval_started, job.passes_done = None, job.passes_done + 1

            def on_epoch(record) -> None:
                job.history = [*job.history, record.to_dict()]  # a new list: a live panel may be reading the old

            def on_saving() -> None:
                job.phase = "saving"

            result = train_run(path, job.config, data, on_batch=on_batch, on_epoch=on_epoch, stop=job.stop_event,
                               on_eval=on_eval, on_saving=on_saving)
            job.phase = "stopped" if result.stopped else "finished"
        except Exception as exc:  # noqa: BLE001 - a failed job must be reported, never kill the worker
            job.phase, job.message = "failed", str(exc)
            update_status(path, state="failed", ended=time.time(), message=str(exc))
        finally:
            HEARTBEATS.remove(path)
            with self._lock:
                self._running.discard(job.run_id)
                self._start_waiting()
