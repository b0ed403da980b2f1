"""``python -m mnist_core watchers --viewers 0 30``: what watching a live run costs its training.

A class watches the same live panel: every browser reruns the panel's fragment every
``POLL_S`` seconds, in the server process that also trains. This command trains a short
demo run (Step 2, 2,560 images per epoch, scored on 2,000 test images) once per viewer
count through the dashboard's own JobManager, while that many AppTest sessions (each a
session of this same process, sharing the JobManager as browsers share a server's) run
the step pages' live panel (``ui.training_panel.live_panel``, the code a browser's poll
runs) at the browser's polling rate, from one thread, as a server's script runs share one
interpreter. It reports the training's images per second (from the trainer's own progress
at each epoch's last batch, the first epoch left out as warm-up) and seconds per epoch,
against no viewer, with the machine and its load average (on a shared machine the load
changes the numbers more than anything). AppTest does more per redraw than a server (it
also builds an element tree to inspect), so the cost it shows is an upper bound. The
server's settings (``.streamlit/config.toml``) apply, as they do to ``streamlit run``.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import tempfile
import threading
import time

DEMO_IMAGES = 2560
DEMO_TEST_IMAGES = 2000


def _viewer_script() -> None:  # runs inside AppTest: imports here
    from mnist_core.lesson.steps import get_step
    from ui.training_panel import live_panel

    live_panel(get_step(2))


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f} (1 min), {five:.1f} (5 min)"


def measure_one(manager, config, viewers: int) -> dict:
    """Train ``config`` while ``viewers`` AppTest sessions poll the live panel; images/s and s/epoch."""
    from streamlit.testing.v1 import AppTest

    from ui.training_panel import POLL_S

    sessions = [AppTest.from_function(_viewer_script, default_timeout=120) for _ in range(viewers)]
    run_id = manager.submit(config, label=f"watch cost, {viewers} viewer(s)")
    done = threading.Event()
    polls = 0
    epoch_speed: dict[int, float] = {}  # epoch -> training images/s at its last batch

    def watch() -> None:  # one thread: a server's script runs share one interpreter, and AppTest runs must not overlap
        nonlocal polls
        while not done.is_set():
            started = time.perf_counter()
            for at in sessions:
                at.run()
                polls += 1
            done.wait(max(0.05, POLL_S - (time.perf_counter() - started)))

    def sample() -> None:  # the trainer's own figure, read as a panel reads it: from the job in memory
        while not done.is_set():
            job = manager.job(run_id)
            progress = job.latest if job else None
            if progress is not None and progress.batch == progress.batches:
                epoch_speed[progress.epoch] = progress.images_per_s
            done.wait(0.05)

    threads = [threading.Thread(target=watch, daemon=True), threading.Thread(target=sample, daemon=True)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    manager.wait(run_id, timeout=3 * 3600)
    elapsed = time.perf_counter() - began
    done.set()
    for thread in threads:
        thread.join()
    run = manager.store.get(run_id)
    if run is None or run.state != "finished":
        raise RuntimeError(f"the measuring run did not finish: {run.status if run else 'no run folder'}")
    later = run.history[1:]  # the first epoch also warms up
    speeds = [epoch_speed[h["epoch"]] for h in later if h["epoch"] in epoch_speed]
    manager.delete(run_id)
    return {"viewers": viewers, "images_per_s": statistics.fmean(speeds) if speeds else float("nan"),
            "s_per_epoch": statistics.fmean(h["seconds"] for h in later),
            "redraws_per_viewer_s": polls / elapsed / viewers if viewers else 0.0, "load": _load()}


def measure(viewers: list[int], epochs: int, repeats: int) -> list[dict]:
    """One row per (repeat, viewer count), counts interleaved so a change in the machine's load hits all."""
    os.environ["MNIST_RUNS_DIR"] = tempfile.mkdtemp(prefix="watch-cost-")
    # The shared JobManager is reached here outside any script run, which Streamlit warns about each time.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)
    from mnist_core.lesson.steps import get_step
    from ui.state import job_manager

    manager = job_manager()
    config = get_step(2).recipe.with_(epochs=epochs, train_limit=DEMO_IMAGES, test_limit=DEMO_TEST_IMAGES)
    rows = []
    for repeat in range(repeats):
        for count in viewers:
            row = measure_one(manager, config, count)
            print(f"repeat {repeat + 1}, {count} viewer(s): {row['images_per_s']:,.0f} images/s, "
                  f"{row['s_per_epoch']:.2f} s/epoch, {row['redraws_per_viewer_s']:.2f} redraws per viewer per s, "
                  f"load {row['load']}", flush=True)
            rows.append(row)
    return rows


def summary_markdown(rows: list[dict]) -> str:
    by_count: dict[int, list[dict]] = {}
    for row in rows:
        by_count.setdefault(row["viewers"], []).append(row)
    base_rows = by_count.get(0, rows[:1])
    base = statistics.fmean(r["images_per_s"] for r in base_rows)
    lines = ["| viewers | training images/s (each repeat) | mean | vs no viewer | s / epoch "
             "| redraws per viewer per s |", "|---|---|---|---|---|---|"]
    for count, mine in sorted(by_count.items()):
        mean = statistics.fmean(r["images_per_s"] for r in mine)
        each = ", ".join(f"{r['images_per_s']:,.0f}" for r in mine)
        epoch = statistics.fmean(r["s_per_epoch"] for r in mine)
        rate = statistics.fmean(r["redraws_per_viewer_s"] for r in mine)
        change = f"{100 * (mean / base - 1):+.1f}%" if count else ""
        lines.append(f"| {count} | {each} | {mean:,.0f} | {change} | {epoch:.2f} | {rate:.2f} |")
    return "\n".join(lines) + "\n"


def cmd_watchers(args: argparse.Namespace) -> int:
    import streamlit as st
    import torch

    if args.epochs < 2 or args.repeats < 1 or min(args.viewers) < 0:
        raise ValueError("--epochs must be at least 2 (the first is left out), --repeats at least 1, viewers >= 0")
    cpu = platform.processor() or platform.machine()
    print(f"Machine: {platform.node()}, {cpu}, {os.cpu_count()} CPU(s), torch {torch.__version__} "
          f"({torch.get_num_threads()} threads); load average before: {_load()}; "
          f"runner.postScriptGC = {st.get_option('runner.postScriptGC')}", flush=True)
    rows = measure(args.viewers, args.epochs, args.repeats)
    print(f"\nStep 2 demo run ({DEMO_IMAGES:,} training images per epoch, {DEMO_TEST_IMAGES:,} test images, "
          f"{args.epochs} epochs, the first left out); load average after: {_load()}\n")
    print(summary_markdown(rows))
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("watchers", help="measure how much N viewers of a live run slow its training",
                                   description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, nargs="+", default=[0, 30], help="viewer counts (default 0 30)")
    parser.add_argument("--epochs", type=int, default=4, help="epochs of each demo run (default 4)")
    parser.add_argument("--repeats", type=int, default=2, help="times to measure each count, interleaved (default 2)")
    parser.set_defaults(func=cmd_watchers)
