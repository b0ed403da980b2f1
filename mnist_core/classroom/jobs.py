"""Background training jobs with a fair queue, shared by every user of one dashboard process.

The dashboard's script threads must stay responsive, and a training run must outlive
the page that started it, so runs train in worker threads owned by one ``JobManager``.
At most ``max_concurrent`` run at once (one by default: two jobs on a 2-core CPU each
run at half speed, and both finish later than if they took turns; on Ray, as many as
the cluster holds). The rest wait in a queue served by student in turn (queue_policy.py).

Every call that changes a run names its ``Actor`` (identity.py): only a run's owner or
the teacher may stop or delete it, only the teacher may clear the queue, and a student
may have only a few runs waiting or training at once. Each job writes its run folder as
it goes (through the backend, see backends.py), and keeps its latest progress and its
finished epochs in memory, so live panels follow it without reading the disk: its phase
(training, evaluating with its own progress, stopping, saving), the loss of every batch
reported, and a clock whose estimate of the time left counts the test passes too.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from mnist_core.classroom.backend_choice import backend_from_env
from mnist_core.classroom.backends import TrainingBackend
from mnist_core.classroom.eta import RunClock, seconds_left
from mnist_core.classroom.identity import COMMAND_LINE, Actor, NotAllowed, TeacherGate
from mnist_core.classroom.names import TEACHER_NAME
from mnist_core.classroom.queue_policy import QueuePolicy, start_order
from mnist_core.engine.config import TrainConfig
from mnist_core.engine.data import MnistTensors, load_mnist
from mnist_core.engine.train import BatchProgress
from mnist_core.runs.store import (
    ACTIVE_STATES,
    HEARTBEATS,
    DamagedRun,
    Run,
    RunStore,
    failure_message,
    inspect_run,
    read_json,
    record_failure,
    update_status,
)

DEFAULT_MAX_CONCURRENT = int(os.environ.get("MNIST_MAX_TRAINING_JOBS", "1"))


class QueueRefused(ValueError):
    """A Start the queue policy turned down; the message tells the student why."""


@dataclass
class Job:
    run_id: str
    config: TrainConfig
    owner: str = ""  # owner id (identity.owner_id), "" for the command line
    owner_name: str = ""
    stop_event: threading.Event = field(default_factory=threading.Event)
    # queued, loading data, training, evaluating, stopping, saving; then finished, stopped or failed
    phase: str = "queued"
    message: str = ""  # what the data loader says, or why the job failed
    data_fraction: float | None = None
    latest: BatchProgress | None = None  # the last batch's progress
    history: list[dict] = field(default_factory=list)  # finished epochs' records, as the run's history holds them
    submitted: float = field(default_factory=time.time)
    batch_losses: list[tuple[float, float]] = field(default_factory=list)  # (epoch + fraction of it, loss)
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
        max_concurrent: int | None = None,
        load_data: Callable[..., MnistTensors] = load_mnist,
        policy: QueuePolicy | None = None,
        backend: TrainingBackend | None = None,
        teacher: TeacherGate | None = None,
    ) -> None:
        self.store = store
        self.backend = backend or backend_from_env()
        self.max_concurrent = max(1, max_concurrent or self.backend.capacity(DEFAULT_MAX_CONCURRENT))
        self.policy = policy or QueuePolicy.from_env()
        self.teacher = teacher or TeacherGate()
        self._load_data = load_data
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._queue: list[str] = []  # run ids waiting, in the order they were submitted
        self._running: set[str] = set()
        self._last_served: dict[str, int] = {}  # owner -> tick of their latest start
        self._tick = 0
        self._follow_survivors()
        # Runs that a previous server process left queued or running can never finish now.
        store.mark_interrupted()

    # -- what anybody may ask -------------------------------------------------------------------

    def job(self, run_id: str) -> Job | None:
        return self._jobs.get(run_id)

    def active_jobs(self) -> list[Job]:
        with self._lock:
            return [job for job in self._jobs.values() if job.active]

    def queue_position(self, run_id: str) -> int | None:
        """1 for the next job to start (students take turns); None if not waiting."""
        with self._lock:
            order = self._order()
            return order.index(run_id) + 1 if run_id in order else None

    def owner_of(self, run_id: str) -> str | None:
        """The owner id of a run (live or on disk); KeyError for no such run, ValueError for a bad id."""
        job = self._jobs.get(run_id)
        if job is not None:
            return job.owner
        run = inspect_run(self.store.path(run_id))
        if run is None:
            raise KeyError(f"There is no run {run_id!r}.")
        return self._owner_on_disk(run)  # a damaged run: whatever owner its status still names

    @staticmethod
    def _owner_on_disk(run: Run | DamagedRun) -> str:
        """The owner id a run folder names; a damaged folder's status is read as far as it can be."""
        if isinstance(run, Run):
            return run.status.get("owner") or ""
        saved = read_json(run.path / "status.json", {})
        owner = saved.get("owner") if isinstance(saved, dict) else None
        return owner if isinstance(owner, str) else ""

    def may_manage(self, run_id: str, actor: Actor) -> bool:
        try:
            return actor.may_manage(self.owner_of(run_id), self.teacher.configured)
        except (KeyError, ValueError):
            return False

    def wait(self, run_id: str, timeout: float = 60.0) -> bool:
        """Block until the job is no longer active (for tests and scripts); True if it ended."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            job = self._jobs.get(run_id)
            if job is None or not job.active:
                return True
            time.sleep(0.05)
        return False

    # -- what needs the right actor -------------------------------------------------------------

    def submit(self, config: TrainConfig, actor: Actor = COMMAND_LINE, label: str = "") -> str:
        """Queue a run of ``config`` for ``actor``; returns its run id, or raises QueueRefused saying why."""
        # Counted before taking the lock: a scan reads the whole runs folder, and every page and every
        # other Start waits on this lock (a Start took 133 s with 900 runs while it held it).
        kept = 0 if actor.is_teacher else \
            sum(self._owner_on_disk(run) == actor.owner_id for group in self.store.scan() for run in group)
        with self._lock:
            if not actor.is_teacher:
                active = sum(job.active and job.owner == actor.owner_id for job in self._jobs.values())
                refusal = self.policy.refusal(active, kept)
                if refusal:
                    raise QueueRefused(refusal)
            # The teacher's runs are marked by the server (who signed in), never by the name typed.
            by_teacher = actor.is_teacher and bool(actor.owner_id)
            name = TEACHER_NAME if by_teacher else actor.name
            run = self.store.create(config, label=label, owner=actor.owner_id, owner_name=name, by_teacher=by_teacher)
            HEARTBEATS.add(run.path)  # waiting in this process's queue is alive too; removed when the job ends
            self._jobs[run.run_id] = Job(run.run_id, config, owner=actor.owner_id, owner_name=name)
            self._queue.append(run.run_id)
            self._start_waiting()
        return run.run_id

    def _authorize(self, run_id: str, actor: Actor) -> None:
        if not actor.may_manage(self.owner_of(run_id), self.teacher.configured):
            raise NotAllowed("Only the student who started this run, or the teacher, can change it.")

    def stop(self, run_id: str, actor: Actor = COMMAND_LINE) -> bool:
        """Stop a running job after its current batch, or take a waiting one off the queue.

        False when the run is not live; NotAllowed when it is not the actor's; KeyError for no such run.
        """
        self._authorize(run_id, actor)
        with self._lock:
            job = self._jobs.get(run_id)
            if job is None or not job.active:
                return False
            if run_id in self._queue:
                self._queue.remove(run_id)
                job.phase = "stopped"
                who = "the teacher" if actor.is_teacher and actor.owner_id != job.owner else "its owner"
                update_status(self.store.path(run_id), state="stopped", ended=time.time(),
                              message=f"Cancelled by {who} before it started.")
                HEARTBEATS.remove(self.store.path(run_id))
                return True
            job.stop_event.set()
            job.phase = "stopping"
            return True

    def delete(self, run_id: str, actor: Actor = COMMAND_LINE) -> None:
        """Delete an ended run's folder; NotAllowed, KeyError or ValueError (still training) say why not."""
        self._authorize(run_id, actor)
        job = self._jobs.get(run_id)
        run = self.store.get(run_id)
        if (job is not None and job.active) or (run is not None and run.state in ACTIVE_STATES):
            raise ValueError("This run is still training: stop it first.")
        self.store.delete(run_id)
        self._jobs.pop(run_id, None)

    def clear_queue(self, actor: Actor) -> int:
        """The teacher takes every waiting run off the queue; returns how many."""
        if not actor.is_teacher:
            raise NotAllowed("Only the teacher can clear the queue.")
        with self._lock:
            waiting, self._queue = list(self._queue), []
            for run_id in waiting:
                self._jobs[run_id].phase = "stopped"
                update_status(self.store.path(run_id), state="stopped", ended=time.time(),
                              message="Cancelled by the teacher before it started (the queue was cleared).")
                HEARTBEATS.remove(self.store.path(run_id))
        return len(waiting)

    # -- the workers ----------------------------------------------------------------------------

    def _order(self) -> list[str]:
        """Waiting run ids in the order they will start. Call with the lock held."""
        return start_order([(run_id, self._jobs[run_id].owner) for run_id in self._queue], self._last_served)

    def _start_waiting(self) -> None:
        """Start queued jobs, students in turn, while slots are free. Call with the lock held."""
        while self._queue and len(self._running) < self.max_concurrent:
            run_id = self._order()[0]
            self._queue.remove(run_id)
            self._tick += 1
            self._last_served[self._jobs[run_id].owner] = self._tick
            self._launch(self._jobs[run_id])

    def _launch(self, job: Job, resume: bool = False) -> None:
        self._running.add(job.run_id)
        threading.Thread(target=self._run, args=(job, resume), name=f"train-{job.run_id}", daemon=True).start()

    def _follow_survivors(self) -> None:
        """After a restart, follow again the jobs an earlier process left training on a backend that outlives it."""
        for run in self.store.list():
            saved = read_json(run.path / "status.json", {})  # its own state: a stale heartbeat reads as interrupted
            if isinstance(saved, dict) and saved.get("state") in ACTIVE_STATES \
                    and run.status.get("backend") == self.backend.name and self.backend.following(run.path):
                HEARTBEATS.add(run.path)  # ours now: stamped at once, so it is not marked interrupted
                # Its clock counts from the run's own start (earlier test passes included, so the time left
                # is a little high until this process has timed a pass of its own).
                job = Job(run.run_id, run.config, owner=run.status.get("owner", ""),
                          owner_name=run.status.get("owner_name", ""), phase="training", history=list(run.history),
                          training_started=run.status.get("started") or time.time())
                self._jobs[run.run_id] = job
                self._launch(job, resume=True)

    def _run(self, job: Job, resume: bool = False) -> None:
        path = self.store.path(job.run_id)
        try:
            if not resume:
                job.phase = "loading data"
                update_status(path, state="running", message="Loading MNIST", backend=self.backend.name)

            def data_progress(message: str, fraction: float | None) -> None:
                job.message, job.data_fraction = message, fraction

            data = self._load_data(progress=data_progress)
            job.phase, job.message = ("stopping" if job.stopping else "training"), ""
            if job.training_started is None:
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

            outcome = self.backend.train_into(path, job.config, data, on_batch=on_batch, on_epoch=on_epoch,
                                              stop=job.stop_event, resume=resume, on_eval=on_eval,
                                              on_saving=on_saving)
            job.phase = "stopped" if outcome.stopped else "finished"
        except Exception as exc:  # noqa: BLE001 - a failed job must be reported, never kill the worker
            # In memory and in the run; a full disk is said as such (record_failure manages even then).
            job.phase, job.message = "failed", failure_message(exc)
            record_failure(path, job.message)
        finally:
            HEARTBEATS.remove(path)
            with self._lock:
                self._running.discard(job.run_id)
                self._start_waiting()
