"""``python -m mnist_core rehearse --students 30 --step 4 --preset class``: a class, played through the dashboard.

Before a lesson, a teacher wants to know whether the machine gets a class through a step in
the lesson's time. This command plays one: ``--students`` owners (distinct identities, as
thirty browsers would be) press Start at the same moment on Step ``--step``'s ``--preset``
recipe (each with a seed of their own: 1, 2, ...), optionally followed by a ``--burst`` of
extra Starts from the first student, through the dashboard's own job queue (classroom/jobs.py:
students served in turn, the per-student limit, ``--jobs`` runs training at once) and its own
backend (this machine, or Ray when ``MNIST_RAY_ADDRESS`` is set, as the dashboard would). It
reports when the last run finished (the makespan), each student's wait from Start until their
run began training (median and longest), the class's aggregate training images per second,
and every run's final test accuracy. ``--json`` ends the output with one line of those
figures. Progress goes to stderr. The runs are written into a temporary folder that is
removed at the end, unless ``--runs-dir`` names one to keep them in.

The data is loaded before the clock starts (a dashboard holds it from its first run on), so
the figures are the class's, not the disk's.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from mnist_core.classroom import identity
from mnist_core.classroom.identity import Actor
from mnist_core.classroom.jobs import JobManager, QueueRefused
from mnist_core.commands.out_paths import folder_to_write
from mnist_core.common.wording import count
from mnist_core.engine.config import TrainConfig
from mnist_core.engine.data import load_mnist
from mnist_core.lesson.presets import PRESETS, preset_recipe
from mnist_core.lesson.steps import STEP_ARGUMENT_HELP
from mnist_core.runs.store import RunStore

FULL_TRAIN_SET = 60_000
POLL_S = 0.2  # how often the rehearsal looks at the queue: a wait is timed to about this
MAX_STUDENTS = 500  # a class, with room; more is a typo
REHEARSAL_SALT = b"class rehearsal"  # owner ids of the played students (no browser secret behind them)


@dataclass
class PlayedRun:
    """One Start of the rehearsal and what became of it."""

    student: str
    run_id: str
    seed: int
    burst: bool = False  # one of the first student's extra Starts
    submitted: float = 0.0
    training_started: float | None = None
    ended: float | None = None
    state: str = "queued"
    epochs_done: int = 0
    final_test_acc: float | None = None

    @property
    def wait_s(self) -> float | None:
        return None if self.training_started is None else self.training_started - self.submitted


@dataclass
class RehearsalResult:
    started: float
    runs: list[PlayedRun]
    refused: list[str] = field(default_factory=list)  # why extra Starts were turned down
    train_images: int = FULL_TRAIN_SET  # per epoch, per run

    @property
    def makespan_s(self) -> float:
        ends = [r.ended for r in self.runs if r.ended is not None]
        return max(ends) - self.started if ends else 0.0

    @property
    def student_waits(self) -> list[float | None]:
        """Each student's wait from their first Start until it trained, in the order of the students."""
        return [r.wait_s for r in self.runs if not r.burst]

    @property
    def images_per_s(self) -> float:
        """Training images of every run, over the makespan: what the machine gave the class per second."""
        images = sum(r.epochs_done for r in self.runs) * self.train_images
        return images / self.makespan_s if self.makespan_s > 0 else 0.0

    def summary(self) -> dict:
        """The ``--json`` line's figures."""
        return {
            "makespan_s": round(self.makespan_s, 1),
            "wait_s": [None if w is None else round(w, 1) for w in self.student_waits],
            "final_test_acc": [r.final_test_acc for r in self.runs],
            "images_per_s": round(self.images_per_s, 1),
        }


def played_students(number: int) -> list[Actor]:
    """``number`` students with distinct owner ids, named Student 01, Student 02, ..."""
    width = len(str(number))
    return [Actor(identity.owner_id(f"student-{i}", REHEARSAL_SALT), f"Student {i:0{width}d}")
            for i in range(1, number + 1)]


def _say(started: float, message: str) -> None:
    print(f"[{time.time() - started:7.1f} s] {message}", file=sys.stderr, flush=True)


def play_class(manager: JobManager, config: TrainConfig, students: list[Actor], burst: int = 0,
               poll_s: float = POLL_S) -> RehearsalResult:
    """Every student presses Start at once on ``config`` (student i with seed i), then the first presses it
    ``burst`` times more; follows the queue until every run has ended and returns what it saw."""
    started = time.time()
    result = RehearsalResult(started, [], train_images=config.train_limit or FULL_TRAIN_SET)
    starts = [(actor, False) for actor in students] + [(students[0], True)] * burst
    for seed, (actor, extra) in enumerate(starts, start=1):
        try:
            run_id = manager.submit(config.with_(seed=seed), actor, label=f"Rehearsal · {actor.name} · seed {seed}")
        except QueueRefused as exc:
            result.refused.append(str(exc))
            _say(started, f"{actor.name}: extra Start refused ({exc})")
            continue
        job = manager.job(run_id)
        result.runs.append(PlayedRun(actor.name, run_id, seed, burst=extra,
                                     submitted=job.submitted if job is not None else time.time()))
    _say(started, f"{count(len(result.runs), 'run')} started by {count(len(students), 'student')}, "
                  f"{manager.max_concurrent} training at once on {manager.backend.describe()}")
    _follow(manager, result, poll_s)
    return result


def _follow(manager: JobManager, result: RehearsalResult, poll_s: float) -> None:
    """Watch every run until it has ended, noting when each began training and how it ended."""
    open_runs = list(result.runs)
    while open_runs:
        for run in list(open_runs):
            job = manager.job(run.run_id)
            if job is None:  # never happens to a run of this manager; counted as ended, not waited on forever
                run.state, run.ended = "lost", time.time()
                open_runs.remove(run)
                continue
            if run.training_started is None and job.training_started is not None:
                run.training_started = job.training_started
                _say(result.started, f"{run.student}: training seed {run.seed} (waited {run.wait_s:.1f} s)")
            if not job.active:
                _ended(manager, run, job)
                open_runs.remove(run)
                acc = f"final test accuracy {run.final_test_acc:.2f}%" if run.final_test_acc is not None else \
                    (job.message or "no epoch finished")
                _say(result.started, f"{run.student}: {run.state}, {acc}")
        if open_runs:
            time.sleep(poll_s)


def _ended(manager: JobManager, run: PlayedRun, job) -> None:
    saved = manager.store.get(run.run_id)
    run.state = job.phase
    ended = saved.status.get("ended") if saved is not None else None
    run.ended = ended if isinstance(ended, (int, float)) else time.time()
    if run.training_started is None and job.training_started is not None:
        run.training_started = job.training_started
    history = saved.history if saved is not None else job.history
    run.epochs_done = len(history)
    if run.state == "finished" and history:
        run.final_test_acc = round(float(history[-1]["test_acc"]), 2)


def report_lines(result: RehearsalResult, config: TrainConfig, preset: str, jobs: int, backend: str) -> list[str]:
    """The rehearsal's figures for people."""
    waits = [w for w in result.student_waits if w is not None]
    finals = [r.final_test_acc for r in result.runs if r.final_test_acc is not None]
    test = f"{config.test_limit:,}" if config.test_limit else "all 10,000"
    lines = [
        f"Class rehearsal: {count(sum(not r.burst for r in result.runs), 'student')}, Step {config.step}, "
        f"preset {preset} ({count(config.epochs, 'epoch')} of {result.train_images:,} images, {test} test images), "
        f"{jobs} training at once, backend {backend}",
        f"Last run finished after {result.makespan_s:.1f} s (the makespan)",
    ]
    if waits:
        lines.append(f"Wait from Start until training: median {statistics.median(waits):.1f} s, "
                     f"longest {max(waits):.1f} s")
    lines.append(f"Aggregate training throughput: {result.images_per_s:,.0f} images/s")
    if finals:
        lines.append(f"Final test accuracy over {count(len(finals), 'finished run')}: mean "
                     f"{statistics.fmean(finals):.2f}%, lowest {min(finals):.2f}%, highest {max(finals):.2f}%")
    unfinished = [r for r in result.runs if r.state != "finished"]
    if unfinished:
        lines.append("Did not finish: " + ", ".join(f"{r.student} seed {r.seed} ({r.state})" for r in unfinished))
    if result.refused:
        lines.append(f"Extra Starts refused by the queue's per-student limit: {len(result.refused)}")
    return lines


def _config_from_args(args: argparse.Namespace) -> TrainConfig:
    config = preset_recipe(args.step, args.preset, epochs=args.epochs)
    changes = {name: getattr(args, name) for name in ("train_limit", "test_limit") if getattr(args, name) is not None}
    return config.with_(**changes)


def cmd_rehearse(args: argparse.Namespace) -> int:
    if not 1 <= args.students <= MAX_STUDENTS:
        raise ValueError(f"--students must be between 1 and {MAX_STUDENTS}")
    if args.jobs is not None and args.jobs < 1:
        raise ValueError("--jobs must be at least 1")
    if args.burst < 0:
        raise ValueError("--burst must be 0 or more")
    config = _config_from_args(args)  # a bad step or limit stops here, before any data is read
    folder = folder_to_write(Path(args.runs_dir)) if args.runs_dir else Path(tempfile.mkdtemp(prefix="rehearsal-"))
    try:
        load_mnist(progress=lambda message, _: print(f"[data] {message}", file=sys.stderr, flush=True))
        manager = JobManager(RunStore(folder), max_concurrent=args.jobs)
        try:
            result = play_class(manager, config, played_students(args.students), burst=args.burst)
        except KeyboardInterrupt:  # stop the class's runs before their folder goes
            live = manager.active_jobs()
            for job in live:
                manager.stop(job.run_id)
            for job in live:
                manager.wait(job.run_id, timeout=30)
            raise
        print("\n".join(report_lines(result, config, args.preset, manager.max_concurrent, manager.backend.name)))
        if args.runs_dir:
            print(f"Runs kept in {folder}")
        if args.json:
            print(json.dumps(result.summary()))
    finally:
        if not args.runs_dir:
            shutil.rmtree(folder, ignore_errors=True)
    unfinished = sum(r.state != "finished" for r in result.runs)
    if unfinished:
        print(f"error: {count(unfinished, 'run')} of the rehearsal did not finish (see above)", file=sys.stderr)
        return 1
    return 0


def register(subparsers) -> None:
    """Add the ``rehearse`` command to the CLI's subparsers."""
    parser = subparsers.add_parser("rehearse", help="play a class through the dashboard's job queue and time it",
                                   description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30, help="students who press Start at once (default 30)")
    parser.add_argument("--step", type=int, default=4, help=f"{STEP_ARGUMENT_HELP} (default 4)")
    parser.add_argument("--preset", choices=PRESETS, default="class",
                        help="the step's full recipe, its class run (a few epochs on all images) or its quick demo "
                             "(default class)")
    parser.add_argument("--jobs", type=int, metavar="K",
                        help="runs training at once (default: the dashboard's: MNIST_MAX_TRAINING_JOBS, else what "
                             "the backend decides from the machine or the cluster)")
    parser.add_argument("--burst", type=int, default=0, metavar="N",
                        help="extra Starts from the first student, right after the class's (default 0)")
    parser.add_argument("--epochs", type=int,
                        help="override the preset's epochs (a class run's schedule is compressed to them)")
    parser.add_argument("--train-limit", dest="train_limit", type=int, help="train on the first N images only")
    parser.add_argument("--test-limit", dest="test_limit", type=int, help="evaluate on the first N test images only")
    parser.add_argument("--runs-dir", dest="runs_dir", help="keep the runs in this folder (default: a temporary "
                                                            "folder, removed at the end)")
    parser.add_argument("--json", action="store_true", help="end the output with one line of JSON figures")
    parser.set_defaults(func=cmd_rehearse)
