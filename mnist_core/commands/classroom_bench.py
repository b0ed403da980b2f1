"""``python -m mnist_core classroom-bench --runs 900``: how the pages and a Start scale with the runs a class keeps.

A class of 30 students, each keeping the default cap of 30 runs, leaves 900 run folders, each a
2-epoch demo with its few hundred mistakes. This command writes that many synthetic runs (real
files in the real formats, nothing trained: config, status, history, evaluation, mistakes with
their images, a checkpoint) into a temporary runs folder, then times, in this process, what a
student waits for: a full scan of the runs folder, the dashboard's pages opened through the app
(Streamlit's own AppTest, as the tests open them: the script's run, without a browser's drawing),
one Start on Step 2 (the run is taken off the queue at once, so nothing trains), and the longest
another student's page waits for the job queue (its live panel asks it, under the queue's lock)
while a Start is under way. It prints one line per figure, with the
machine, so the figures in docs/classroom-safety.md can be made again.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import platform
import shutil
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from mnist_core.classroom.backends import TrainOutcome
from mnist_core.classroom.identity import SALT_FILE, Actor, owner_id
from mnist_core.classroom.jobs import JobManager
from mnist_core.common.paths import ASSETS_DIR
from mnist_core.engine.config import TrainConfig
from mnist_core.runs.store import ACTIVE_STATES, RunStore, write_json

ROOT = Path(__file__).resolve().parents[2]  # the folder of app.py
PAGES = ("pages/home.py", "pages/step_2.py", "pages/compare_runs.py", "pages/draw_digit.py")
DEMO = TrainConfig(step=2, epochs=2, train_limit=2560)
BENCH_SALT = b"classroom-bench-salt-32-bytes..."
DEMO_MISTAKES = 600  # a 2-epoch demo on 2,560 images gets about 94% of the 10,000 test digits right


def make_runs(folder: Path, runs: int, students: int, seed: int = 0) -> None:
    """``runs`` finished 2-epoch demo runs in ``folder``, shared out among ``students`` owners."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / SALT_FILE).write_bytes(BENCH_SALT)  # the students' owner ids below are made with it
    model = ASSETS_DIR / "step2" / "model.pt"
    start = time.time() - runs * 60
    for k in range(runs):
        path = folder / f"20260101-{k // 3600:02d}{k // 60 % 60:02d}{k % 60:02d}-step2-{k:08x}"
        path.mkdir()
        student = k % students
        created = start + k * 60
        write_json(path / "config.json", DEMO.to_dict())
        write_json(path / "history.json", [
            {"epoch": e, "train_loss": 0.5 / e, "train_acc": 85.0 + e, "test_loss": 0.3 / e, "test_acc": 92.0 + e,
             "lr": 0.01, "seconds": 4.0} for e in (1, 2)])
        confusion = np.diag(np.full(10, 940)).tolist()
        write_json(path / "evaluation.json", {"test_loss": 0.15, "test_acc": 94.0, "correct": 9400, "total": 10000,
                                              "confusion": confusion})
        write_json(path / "status.json", {
            "state": "finished", "created": created, "started": created, "ended": created + 8, "updated": created + 8,
            "label": f"Step 2 · demo {k}", "owner": owner_id(f"student-{student}", BENCH_SALT),
            "owner_name": f"Student {student:02d}", "params": 5954, "device": "CPU", "backend": "local",
            "node": platform.node() or "here"})
        np.savez_compressed(
            path / "mistakes.npz", index=rng.choice(10_000, DEMO_MISTAKES, replace=False).astype(np.int64),
            true=rng.integers(0, 10, DEMO_MISTAKES), predicted=rng.integers(0, 10, DEMO_MISTAKES),
            confidence=rng.random(DEMO_MISTAKES, dtype=np.float32),
            images=rng.integers(0, 256, (DEMO_MISTAKES, 28, 28), dtype=np.uint8))
        shutil.copyfile(model, path / "model.pt")


@contextlib.contextmanager
def _timer(results: dict[str, float], name: str):
    started = time.perf_counter()
    yield
    results[name] = time.perf_counter() - started


def time_everything(folder: Path) -> dict[str, float]:
    """Seconds for each thing a student waits for, with ``folder`` as the dashboard's runs folder."""
    import streamlit.config
    import streamlit.logger
    from streamlit.testing.v1 import AppTest  # only this command needs Streamlit's test harness

    # AppTest outside a server warns on every run, from loggers made later too, and prints a hint to use
    # `streamlit run`: neither is a figure of this command.
    streamlit.config.set_option("logger.level", "error")  # AppTest reads the level from here on each run
    streamlit.logger.set_log_level(logging.ERROR)
    streamlit.config.set_option("global.showWarningOnDirectExecution", False)
    with _runs_dir(folder):
        return _time_in(folder, AppTest)


@contextlib.contextmanager
def _runs_dir(folder: Path):
    """The dashboard's runs folder is ``folder`` for the block (as MNIST_RUNS_DIR), then what it was."""
    before = os.environ.get("MNIST_RUNS_DIR")
    os.environ["MNIST_RUNS_DIR"] = str(folder)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("MNIST_RUNS_DIR", None)
        else:
            os.environ["MNIST_RUNS_DIR"] = before


def _time_in(folder: Path, AppTest) -> dict[str, float]:  # noqa: N803 - the class, passed in
    results: dict[str, float] = {}
    with _timer(results, "scan of the runs folder (first)"):
        RunStore(folder).scan()
    with _timer(results, "scan of the runs folder (again)"):
        RunStore(folder).scan()
    student = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    with _timer(results, "first page of a fresh server"):
        student.run()
    for page in PAGES:
        with _timer(results, f"page {page}"):
            student.switch_page(page).run()
    student.switch_page("pages/step_2.py").run()
    with _timer(results, "Start on Step 2"):
        student.button(key="step2_train").click().run()
    for button in student.button:  # Cancel the Start's run: the benchmark trains nothing
        if button.key and button.key.startswith("step2_stop_") and not button.disabled:
            button.click().run()
    _wait_until_no_run_is_live(folder)
    results["the Start itself (the queue's submit, no page)"], results["longest wait for the queue during a Start"] = \
        _queue_wait_during_a_start(folder)
    return results


def _wait_until_no_run_is_live(folder: Path, patience_s: float = 60.0) -> None:
    """Wait for the cancelled Start's run to end: its worker process may still be starting or writing, and
    the runs folder is deleted (and this process ends) after the figures."""
    deadline = time.monotonic() + patience_s
    while time.monotonic() < deadline:
        runs, _ = RunStore(folder).scan()
        if not any(run.state in ACTIVE_STATES for run in runs):
            return
        time.sleep(0.2)


class _Idle:
    """A backend that trains nothing: each job waits until it is stopped."""

    name = "bench"

    def capacity(self, default: int) -> int:
        return default

    def following(self, path: Path) -> bool:
        return False

    def train_into(self, path, config, data, on_batch=None, on_epoch=None, stop=None, resume=False,
                   on_eval=None, on_saving=None) -> TrainOutcome:
        stop.wait()
        return TrainOutcome(True, "none", 0, "here")


def _queue_wait_during_a_start(folder: Path) -> tuple[float, float]:
    """How long one student's Start (the job manager's submit) takes, and the longest that another page's
    question to the queue (its live panel asks for the active jobs, under the job manager's lock) waits
    meanwhile, in seconds."""
    manager = JobManager(RunStore(folder), max_concurrent=1, load_data=lambda progress: None, backend=_Idle())
    # A student with room under the cap: each of the class's students already keeps as many runs as it allows,
    # and a refused Start is not the Start being timed.
    student = Actor(owner_id("newcomer", BENCH_SALT), "Newcomer")
    submitted: list[str] = []
    refused: list[Exception] = []
    took = 0.0

    def submit() -> None:
        nonlocal took
        began = time.perf_counter()
        try:
            submitted.append(manager.submit(DEMO, student))
        except Exception as exc:  # noqa: BLE001 - said below, in the command's own words
            refused.append(exc)
        took = time.perf_counter() - began

    start = threading.Thread(target=submit)
    longest = 0.0
    start.start()
    while start.is_alive():
        asked = time.perf_counter()
        manager.active_jobs()
        longest = max(longest, time.perf_counter() - asked)
        # Every 10 ms: a hundred pages asking each second, each live panel asks once. Asking without a
        # pause would hold the interpreter's lock and time the contention instead of the Start.
        time.sleep(0.01)
    start.join()
    if refused:
        raise RuntimeError(f"the timed Start was refused: {refused[0]}")
    for run_id in submitted:
        manager.stop(run_id)
        manager.wait(run_id, 60)
    return took, longest


def cmd_classroom_bench(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="classroom-bench-") as tmp:
        folder = Path(tmp) / "runs"
        started = time.perf_counter()
        make_runs(folder, args.runs, args.students)
        print(f"{args.runs} runs of {args.students} students written in {time.perf_counter() - started:.1f} s "
              f"({platform.node() or 'this machine'}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f})")
        for name, seconds in time_everything(folder).items():
            print(f"{seconds:8.2f} s  {name}")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("classroom-bench", help="time the pages and a Start with a class's worth of runs")
    parser.add_argument("--runs", type=int, default=900, help="run folders to write (default 900: 30 x 30)")
    parser.add_argument("--students", type=int, default=30, help="owners they are shared among")
    parser.set_defaults(func=cmd_classroom_bench)
