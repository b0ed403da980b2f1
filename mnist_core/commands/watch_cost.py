"""``python -m mnist_core watchers --viewers 0 30``: what watching a live run costs its training.

A class watches the same live panel. Each browser's live card fetches the panel's live feed
(a small JSON file the server writes twice a second, live_feed.py) every two seconds from the
dashboard's static files, and the server runs a script for a viewer only when the panel's runs
change stage (a run starts or ends), not while they train. So what a viewer costs the run is
the server answering one file request every two seconds, in the process that trains.

This command measures exactly that. It trains a short demo run (Step 2, 2,560 images per
epoch, scored on 2,000 test images) through the dashboard's own JobManager and LiveFeed, once
per viewer count, while this process also serves the feed with Streamlit's own static-file
route on a loopback port (the server code ``streamlit run`` uses, under uvicorn, as there),
and a separate process plays the viewers: each fetches the feed every two seconds, as a card
does. It reports the training's images per second (the trainer's own figure at each epoch's
last batch, the first epoch left out as warm-up) and seconds per epoch, against no viewer,
with the requests answered, the machine and its load (on a shared machine the load moves
the numbers more than anything). The viewers' process runs on the same machine, at the
lowest priority (nice 19), yet it still takes some CPU a real class's browsers would take on
their own laptops: the cost shown is an upper bound.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import platform
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from mnist_core.classroom.jobs import JobManager
from mnist_core.classroom.live_feed import LiveFeed, feed_file_name, panel_key
from mnist_core.common.wording import count as count_words
from mnist_core.lesson.steps import get_step
from mnist_core.runs.store import RunStore

DEMO_IMAGES = 2560
DEMO_TEST_IMAGES = 2000
POLL_S = 2.0  # a card's fetch interval (live_card.js POLL_MS)

# The viewers: one thread each, a fetch every POLL_S from a random phase, as browsers opened at different times.
VIEWERS_SCRIPT = """
import random, sys, threading, time, urllib.request
url, count, every = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
stop = threading.Event()
answered, failed = [0], [0]
def viewer():
    time.sleep(every * random.random())
    while not stop.is_set():
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                response.read()
            answered[0] += 1
        except Exception:  # a failed fetch is counted (and a browser's card would try again), never fatal
            failed[0] += 1
        stop.wait(every)
threads = [threading.Thread(target=viewer, daemon=True) for _ in range(count)]
[t.start() for t in threads]
sys.stdin.readline()
stop.set()
print(answered[0], failed[0], flush=True)
"""


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f} (1 min), {five:.1f} (5 min)"


def free_loopback_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now (the tests' servers use it too)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def static_server(app_script: Path):
    """Serve ``static/`` beside ``app_script`` on 127.0.0.1 with Streamlit's own route; yields the base URL."""
    import uvicorn
    from starlette.applications import Starlette
    from streamlit.web.server.starlette.starlette_routes import create_app_static_serving_routes

    port = free_loopback_port()
    app = Starlette(routes=create_app_static_serving_routes(str(app_script), None))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, name="static-server", daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _audience(feed_url: str, viewers: int) -> subprocess.Popen:
    # The viewers stand for browsers on the class's own laptops: at the lowest priority, so the CPU
    # their HTTP client takes here costs the training as little as this machine allows.
    return subprocess.Popen([sys.executable, "-c", VIEWERS_SCRIPT, feed_url, str(viewers), str(POLL_S)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, preexec_fn=lambda: os.nice(19))


def _dismiss(audience: subprocess.Popen) -> tuple[int, int]:
    """Stop the viewers; (requests answered, failed)."""
    out, _ = audience.communicate("stop\n", timeout=60)
    answered, failed = (int(v) for v in out.split())
    return answered, failed


def serving_cost(feed_url: str, viewers: int, seconds: float = 10.0) -> dict:
    """With nothing training, what answering ``viewers`` costs this process: CPU seconds per second, per request.

    The process's own CPU time (resource.getrusage), so the viewers' process is not counted: this is
    the server's part of the cost, whatever machine the browsers run on.
    """
    before, began = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    audience = _audience(feed_url, viewers)
    time.sleep(seconds)
    answered, failed = _dismiss(audience)
    after, elapsed = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - began
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"viewers": viewers, "core_share": cpu / elapsed, "ms_per_request": 1000 * cpu / max(answered, 1),
            "requests_per_s": answered / elapsed, "failed": failed}


def measure_one(manager, config, viewers: int, feed_url: str) -> dict:
    """Train ``config`` while ``viewers`` fetch its panel's feed every POLL_S; images/s, s/epoch, requests."""
    run_id = manager.submit(config, label=f"watch cost, {count_words(viewers, 'viewer')}")
    audience = _audience(feed_url, viewers) if viewers else None
    done = threading.Event()
    epoch_speed: dict[int, float] = {}  # epoch -> training images/s at its last batch

    def sample() -> None:  # the trainer's own figure, read from the job in memory
        while not done.is_set():
            job = manager.job(run_id)
            progress = job.latest if job else None
            if progress is not None and progress.batch == progress.batches:
                epoch_speed[progress.epoch] = progress.images_per_s
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    began = time.perf_counter()
    sampler.start()
    manager.wait(run_id, timeout=3 * 3600)
    elapsed = time.perf_counter() - began
    done.set()
    sampler.join()
    answered = failed = 0
    if audience is not None:
        answered, failed = _dismiss(audience)
    run = manager.store.get(run_id)
    if run is None or run.state != "finished":
        raise RuntimeError(f"the measuring run did not finish: {run.status if run else 'no run folder'}")
    later = run.history[1:]  # the first epoch also warms up
    speeds = [epoch_speed[h["epoch"]] for h in later if h["epoch"] in epoch_speed]
    manager.delete(run_id)
    return {"viewers": viewers, "images_per_s": statistics.fmean(speeds) if speeds else float("nan"),
            "s_per_epoch": statistics.fmean(h["seconds"] for h in later),
            "requests_per_viewer_s": answered / elapsed / viewers if viewers else 0.0, "failed": failed,
            "load": _load()}


def measure(viewers: list[int], epochs: int, repeats: int) -> tuple[list[dict], list[dict]]:
    """One row per (repeat, viewer count), counts interleaved so a change in the machine's load hits all;
    then the serving cost alone for each count (serving_cost)."""
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    app_script = Path(tempfile.mkdtemp(prefix="watch-cost-")) / "app.py"  # static/ beside it, as beside app.py
    manager = JobManager(RunStore(app_script.parent / "runs"))
    feed = LiveFeed(app_script.parent / "static" / "live", manager).start()
    config = get_step(2).recipe.with_(epochs=epochs, train_limit=DEMO_IMAGES, test_limit=DEMO_TEST_IMAGES)
    rows = []
    try:
        with static_server(app_script) as base:
            url = f"{base}/app/static/live/{feed_file_name(panel_key(2))}"
            for repeat in range(repeats):
                for count in viewers:
                    row = measure_one(manager, config, count, url)
                    print(f"repeat {repeat + 1}, {count_words(count, 'viewer')}: {row['images_per_s']:,.0f} images/s, "
                          f"{row['s_per_epoch']:.2f} s/epoch, {row['requests_per_viewer_s']:.2f} feed requests "
                          f"answered per viewer per s ({row['failed']} failed), load {row['load']}", flush=True)
                    rows.append(row)
            with urllib.request.urlopen(url, timeout=10) as response:
                json.loads(response.read())  # the feed was served, as JSON, to the end
            serving = [serving_cost(url, count) for count in viewers if count]
    finally:
        feed.close()
    return rows, serving


def summary_markdown(rows: list[dict]) -> str:
    by_count: dict[int, list[dict]] = {}
    for row in rows:
        by_count.setdefault(row["viewers"], []).append(row)
    base_rows = by_count.get(0, rows[:1])
    base = statistics.fmean(r["images_per_s"] for r in base_rows)
    lines = ["| viewers | training images/s (each repeat) | mean | vs no viewer | s / epoch "
             "| feed requests per viewer per s |", "|---|---|---|---|---|---|"]
    for count, mine in sorted(by_count.items()):
        mean = statistics.fmean(r["images_per_s"] for r in mine)
        each = ", ".join(f"{r['images_per_s']:,.0f}" for r in mine)
        epoch = statistics.fmean(r["s_per_epoch"] for r in mine)
        rate = statistics.fmean(r["requests_per_viewer_s"] for r in mine)
        change = f"{100 * (mean / base - 1):+.1f}%" if count else ""
        lines.append(f"| {count} | {each} | {mean:,.0f} | {change} | {epoch:.2f} | {rate:.2f} |")
    return "\n".join(lines) + "\n"


def cmd_watchers(args: argparse.Namespace) -> int:
    import torch

    if args.epochs < 2 or args.repeats < 1 or min(args.viewers) < 0:
        raise ValueError("--epochs must be at least 2 (the first is left out), --repeats at least 1, viewers >= 0")
    cpu = platform.processor() or platform.machine()
    print(f"Machine: {platform.node()}, {cpu}, {count_words(os.cpu_count() or 1, 'CPU')}, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads); load average before: {_load()}", flush=True)
    rows, serving = measure(args.viewers, args.epochs, args.repeats)
    print(f"\nStep 2 demo run ({DEMO_IMAGES:,} training images per epoch, {DEMO_TEST_IMAGES:,} test images, "
          f"{args.epochs} epochs, the first left out); each viewer fetches the live feed every {POLL_S:g} s; "
          f"load average after: {_load()}\n")
    print(summary_markdown(rows))
    print("The server's own part, measured with nothing training (this process's CPU time while N viewers "
          "fetch an idle panel's feed for 10 s; the viewers' process not counted):\n")
    print("| viewers | requests answered per s | server CPU per request | share of one core |\n|---|---|---|---|")
    for cost in serving:
        print(f"| {cost['viewers']} | {cost['requests_per_s']:.1f} | {cost['ms_per_request']:.2f} ms "
              f"| {100 * cost['core_share']:.1f}% |")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("watchers", help="measure how much N viewers of a live run slow its training",
                                   description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, nargs="+", default=[0, 30], help="viewer counts (default 0 30)")
    parser.add_argument("--epochs", type=int, default=4, help="epochs of each demo run (default 4)")
    parser.add_argument("--repeats", type=int, default=2, help="times to measure each count, interleaved (default 2)")
    parser.set_defaults(func=cmd_watchers)
