"""``python -m mnist_core crowd``: what a runs folder as full as a class leaves it costs the dashboard.

Thirty students keeping the default thirty runs each leave 900 run folders. Every page lists
them on every rerun and every Start counts the student's kept runs, so this command fills a
scratch folder with copies of a shipped run (owned by thirty students in turn, each holding
as many mistakes as a two-epoch demo run) and times
what those pages and a Start do with it: the first listing after a server start (every file
read and checked), a listing with nothing changed, one after a run changed, and a Start
through the dashboard's own JobManager (with a backend that holds the run instead of
training it, so only the bookkeeping is timed).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from mnist_core.classroom.backends import TrainOutcome
from mnist_core.classroom.identity import Actor
from mnist_core.classroom.jobs import JobManager
from mnist_core.classroom.queue_policy import QueuePolicy
from mnist_core.common.wording import count
from mnist_core.lesson.report import shipped_run_path
from mnist_core.runs.store import RunStore, read_run, update_status

STUDENTS = 30
REPEATS = 5
# A two-epoch demo run, the class's usual kind, ends near 66% (Step 2 on 2,560 images): 3,430 of the
# 10,000 test digits missed, each kept with its image. The shipped runs miss about fifty.
DEMO_MISTAKES = 3_430


class _HeldBackend:
    """Holds every run it is given until closed: a Start's bookkeeping, timed without the training."""

    name = "held"

    def __init__(self) -> None:
        self.closed = threading.Event()

    def describe(self) -> str:
        return "nothing (runs are held, not trained)"

    def capacity(self, default):
        return 1

    def following(self, path) -> bool:
        return False

    def train_into(self, path, config, data, **_) -> TrainOutcome:
        self.closed.wait()
        return TrainOutcome(True, "none", 0, "none", 0)


def _demo_sized_mistakes(source: Path, into: Path) -> None:
    """A copy of ``source``'s mistakes file grown to DEMO_MISTAKES entries (its own digits, repeated)."""
    with np.load(source / "mistakes.npz") as shipped:
        arrays = {key: shipped[key] for key in shipped.files}
    repeats = -(-DEMO_MISTAKES // len(arrays["index"]))
    grown = {key: np.concatenate([value] * repeats)[:DEMO_MISTAKES] for key, value in arrays.items()}
    np.savez_compressed(into / "mistakes.npz", **grown)


def fill(root: Path, runs: int, source: Path) -> list[str]:
    """``runs`` copies of the run in ``source`` under ``root``, owned by STUDENTS students in turn, each
    with a demo run's share of mistakes."""
    root.mkdir(parents=True, exist_ok=True)
    template = root.parent / "template"
    shutil.copytree(source, template)
    _demo_sized_mistakes(source, template)
    owners = [f"student{k:02d}" for k in range(STUDENTS)]
    for k in range(runs):
        folder = root / f"20260101-{k:06d}-step{read_run(source).config.step}-crowd{k:04d}"
        shutil.copytree(template, folder)
        owner = owners[k % STUDENTS]
        update_status(folder, owner=owner, owner_name=owner, created=1_767_225_600 + k)
    return owners


def _timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def measure(runs: int, folder: Path | None = None) -> dict[str, float]:
    """Seconds for each thing a page or a Start does with ``runs`` run folders (medians where repeated)."""
    root = Path(tempfile.mkdtemp(prefix="crowd-")) if folder is None else folder
    try:
        owners = fill(root / "runs", runs, shipped_run_path(2))
        store = RunStore(root / "runs")
        figures = {"first listing (every file read)": _timed(store.scan)}
        figures["listing, nothing changed"] = statistics.median(_timed(store.scan) for _ in range(REPEATS))
        some_run = next(iter(sorted((root / "runs").iterdir())))
        update_status(some_run, message="changed")
        figures["listing after one run changed"] = _timed(store.scan)
        backend = _HeldBackend()
        manager = JobManager(store, load_data=lambda progress: None, backend=backend,
                             policy=QueuePolicy(max_active_per_owner=runs, max_kept_per_owner=runs * 2))
        try:
            figures["a Start (its limit counted over every run)"] = statistics.median(
                _timed(lambda k=k: manager.submit(store.get(some_run.name).config, Actor(owners[k], owners[k])))
                for k in range(REPEATS))
        finally:
            backend.closed.set()
        return figures
    finally:
        if folder is None:
            shutil.rmtree(root, ignore_errors=True)


def cmd_crowd(args: argparse.Namespace) -> int:
    if args.runs < 1:
        print("error: --runs must be at least 1", flush=True)
        return 1
    print(f"Filling a scratch runs folder with {count(args.runs, 'run')} of {STUDENTS} students...", flush=True)
    figures = measure(args.runs)
    width = max(map(len, figures))
    for name, seconds in figures.items():
        print(f"{name.ljust(width)}  {seconds * 1000:8.1f} ms")
    return 0


def register(subparsers) -> None:
    crowd = subparsers.add_parser("crowd", help="time the dashboard's listings and a Start with a class's runs on disk")
    crowd.add_argument("--runs", type=int, default=STUDENTS * 30, help="run folders to make (default 900)")
    crowd.set_defaults(func=cmd_crowd)
