"""``python -m mnist_core watchers --viewers 0 30``: what watching a live run costs the training.

A class watches the same live panel: every browser reruns it every ``POLL_S`` seconds in
the server process that also trains. This command trains the demo run (Step 2, 2,560
images per epoch) once per viewer count, while that many AppTest sessions (each one a
browser session of the same process, sharing its JobManager) redraw the Step 2 live panel
at the browser's polling rate, and reports seconds per epoch against no viewer. AppTest
does more work per redraw than a server (it also builds an element tree to inspect), so
the cost it shows is an upper bound. Needs streamlit (imported only here).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time


def _viewer_script() -> None:  # runs inside AppTest: imports here
    from mnist_core.lesson.steps import get_step
    from ui.training_panel import live_panel

    live_panel(get_step(2))


def measure(viewers: list[int], epochs: int, repeats: int) -> list[dict]:
    """Seconds per epoch (mean of epochs 2..) of the demo run for each viewer count, ``repeats`` times each."""
    from streamlit.testing.v1 import AppTest

    from mnist_core.lesson.steps import get_step
    from ui.training_panel import POLL_S

    os.environ["MNIST_RUNS_DIR"] = tempfile.mkdtemp(prefix="watch-cost-")
    from ui.state import job_manager

    manager = job_manager()
    config = get_step(2).recipe.with_(epochs=epochs, train_limit=2560)
    rows = []
    for _ in range(repeats):
        for count in viewers:
            sessions = [AppTest.from_function(_viewer_script, default_timeout=60) for _ in range(count)]
            run_id = manager.submit(config, label=f"watch cost, {count} viewer(s)")
            done = threading.Event()
            polls = 0

            def watch(sessions=sessions, done=done) -> None:  # one thread: AppTest runs must not overlap
                nonlocal polls
                while not done.is_set():
                    started = time.perf_counter()
                    for at in sessions:
                        at.run()
                        polls += 1
                    done.wait(max(0.0, POLL_S - (time.perf_counter() - started)))

            watcher = threading.Thread(target=watch, daemon=True)
            began = time.perf_counter()
            watcher.start()
            manager.wait(run_id, timeout=3600)
            elapsed = time.perf_counter() - began
            done.set()
            watcher.join()
            run = manager.store.get(run_id)
            seconds = [h["seconds"] for h in run.history[1:]]  # the first epoch also warms up
            rows.append({"viewers": count, "s_per_epoch": statistics.fmean(seconds),
                         "redraws_per_viewer_s": polls / elapsed / count if count else 0.0})
            manager.delete(run_id)
    return rows


def summary_markdown(rows: list[dict]) -> str:
    by_count: dict[int, list[dict]] = {}
    for row in rows:
        by_count.setdefault(row["viewers"], []).append(row)
    base = statistics.fmean(r["s_per_epoch"] for r in by_count.get(0, rows[:1]))
    lines = ["| viewers | s / epoch (each repeat) | mean | vs no viewer | redraws per viewer per s |",
             "|---|---|---|---|---|"]
    for count, mine in sorted(by_count.items()):
        mean = statistics.fmean(r["s_per_epoch"] for r in mine)
        each = ", ".join(f"{r['s_per_epoch']:.2f}" for r in mine)
        rate = statistics.fmean(r["redraws_per_viewer_s"] for r in mine)
        lines.append(f"| {count} | {each} | {mean:.2f} | {100 * (mean / base - 1):+.1f}% | "
                     f"{rate:.2f} |" if count else f"| 0 | {each} | {mean:.2f} | | |")
    return "\n".join(lines) + "\n"


def cmd_watchers(args: argparse.Namespace) -> int:
    import platform

    import torch

    rows = measure(args.viewers, args.epochs, args.repeats)
    print(f"\nStep 2 demo run (2,560 images per epoch, {args.epochs} epochs; the first left out), "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU(s), torch {torch.__version__}:\n")
    print(summary_markdown(rows))
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("watchers", help="measure how much N viewers of a live run slow its training",
                                   description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, nargs="+", default=[0, 10, 30], help="viewer counts (default 0 10 30)")
    parser.add_argument("--epochs", type=int, default=5, help="epochs of each demo run (default 5)")
    parser.add_argument("--repeats", type=int, default=2, help="times to measure each count, interleaved (default 2)")
    parser.set_defaults(func=cmd_watchers)
