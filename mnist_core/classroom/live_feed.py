"""The live feed: each panel's runs under way, written twice a second to a small file browsers fetch.

A live panel that reran a Streamlit script once a second for every viewer cost the training
beside it a core's worth of interpreter time with ten viewers (docs/teachers-guide.md
has the measurement). Here one thread of the server writes, for each panel, one JSON file of
its active runs (live_view.job_view), and the dashboard serves these files as static files:
a browser fetching its panel's file every two seconds costs the server a static-file request
(about 4 ms of CPU, measured by ``python -m mnist_core watchers``), not a script run.

A panel's file is named by its key: ``step-N`` for a step's own network, ``designs`` for the
designs students drew. The folder is cleared at start and removed when the process ends: a
file left by an earlier process would describe runs that are no longer under way.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import shutil
import threading
import time
from pathlib import Path

from mnist_core.classroom.jobs import JobManager
from mnist_core.classroom.live_view import job_view
from mnist_core.common.atomic import atomic_path
from mnist_core.engine.config import TrainConfig

PUBLISH_EVERY_S = 0.5
PAD_TO = 4_096  # bytes: each feed file is padded to a multiple of this (see padded)
DESIGNS_KEY = "designs"


def panel_key(step: int | None) -> str:
    """The feed of a step's panel (its own network's runs), or with ``step`` None, of the designs' panel."""
    return DESIGNS_KEY if step is None else f"step-{step}"


def feed_key(config: TrainConfig) -> str:
    """The panel that follows a run of ``config``: its step's, or the designs' panel."""
    return panel_key(None if config.design else config.step)


def feed_file_name(key: str) -> str:
    return f"{key}.json"


class LiveFeed:
    """Writes ``folder/<key>.json`` for every panel key with runs under way, from one daemon thread."""

    def __init__(self, folder: Path | str, manager: JobManager, every_s: float = PUBLISH_EVERY_S) -> None:
        self.folder = Path(folder)
        self.manager = manager
        self.every_s = every_s
        self._written: dict[str, str] = {}  # key -> the text last written, so an unchanged panel is not rewritten
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if self.folder.exists():
            shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)

    def start(self) -> LiveFeed:
        self._thread = threading.Thread(target=self._loop, name="live-feed", daemon=True)
        self._thread.start()
        # When this process ends, so does what the feed describes (and a test's feed leaves nothing behind).
        atexit.register(shutil.rmtree, self.folder, ignore_errors=True)
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            with contextlib.suppress(OSError):  # the folder itself gone: nothing to publish into
                self.publish()

    def snapshot(self, now: float | None = None) -> dict[str, dict]:
        """key -> the panel's file content: its active runs, queued ones in the order they will start."""
        now = time.time() if now is None else now
        panels: dict[str, list[dict]] = {key: [] for key in self._written}  # a panel that emptied is written empty
        for job in self.manager.active_jobs():
            position = self.manager.queue_position(job.run_id) if job.phase == "queued" else None
            panels.setdefault(feed_key(job.config), []).append(
                job_view(job, position, self.manager.max_concurrent, now))
        return {key: {"written": round(now, 2), "runs": runs} for key, runs in panels.items()}

    def publish(self, now: float | None = None) -> None:
        """Write every panel whose runs changed since it was last written."""
        for key, content in self.snapshot(now).items():
            runs = json.dumps(content["runs"], separators=(",", ":"))
            if self._written.get(key) == runs:
                continue
            path = self.folder / feed_file_name(key)
            try:
                with atomic_path(path) as tmp:  # the runs as serialised once, above
                    tmp.write_text(padded(f'{{"written":{json.dumps(content["written"])},"runs":{runs}}}'))
            except OSError:
                # A full disk. The last feed written would go on showing old numbers as if they were live;
                # without it the cards find no feed and fall back to the server's own polling.
                path.unlink(missing_ok=True)
                self._written.pop(key, None)  # written again, in full, once it can be
                continue
            self._written[key] = runs


def padded(text: str, block: int = PAD_TO) -> str:
    """``text`` with spaces after it up to a whole number of ``block`` bytes (JSON ignores them).

    A static file server reads a file's size, then opens it: a feed replaced in between by one of
    another size made Starlette send more (or fewer) bytes than the Content-Length it had declared,
    and the fetch failed (seen with thirty viewers in ``watchers``). Feeds of one size in between
    cannot disagree; a feed that crosses a block's edge can, once, and a card shrugs off one failed fetch.
    """
    size = len(text.encode())
    return text + " " * (-size % block)
