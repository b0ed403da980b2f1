"""A run's heartbeat: how any reader tells a live run from one whose process died.

A process id cannot tell: in a container the server is PID 1 after every restart, and
a PID is reused by the next process. So the process that owns a queued or running run
stamps the run's status with the time every ``BEAT_EVERY_S`` seconds, from one small
daemon thread per process, and a reader that finds the last stamp older than
``STALE_AFTER_S`` knows nobody is training that run any more. The thread keeps beating
while the training thread loads data, evaluates or saves, when no batch callback runs.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

BEAT_EVERY_S = 2.0
STALE_AFTER_S = 30.0  # fifteen missed beats: on a busy 2-core machine a beat can be late, never this late


class Heartbeats:
    """The runs this process keeps alive; ``beat(path)`` stamps one of them."""

    def __init__(self, beat: Callable[[Path], None], every_s: float = BEAT_EVERY_S) -> None:
        self._beat = beat
        self._every_s = every_s
        self._paths: Counter[Path] = Counter()  # counted: a job manager and train_run may both hold a run
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, path: Path) -> None:
        """Start keeping ``path`` alive (stamped at once, then every few seconds)."""
        with self._lock:
            self._paths[Path(path)] += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="run-heartbeat", daemon=True)
                self._thread.start()
        self._stamp(Path(path))

    def remove(self, path: Path) -> None:
        with self._lock:
            path = Path(path)
            if self._paths[path] <= 1:
                self._paths.pop(path, None)
            else:
                self._paths[path] -= 1

    def alive(self) -> list[Path]:
        with self._lock:
            return list(self._paths)

    def _stamp(self, path: Path) -> None:
        with contextlib.suppress(Exception):  # a deleted or unwritable folder must not stop the others' beats
            self._beat(path)

    def _loop(self) -> None:
        while True:
            self._wake.wait(self._every_s)
            for path in self.alive():
                self._stamp(path)


def is_stale(status: dict, now: float | None = None) -> bool:
    """True when the newest sign of life in ``status`` is older than STALE_AFTER_S (or is in the future)."""
    now = time.time() if now is None else now
    stamps = [status.get(key) for key in ("heartbeat", "updated")]  # every status write sets "updated"
    newest = max((t for t in stamps if isinstance(t, (int, float)) and not isinstance(t, bool)), default=0.0)
    return not now - STALE_AFTER_S <= newest <= now + STALE_AFTER_S  # a stamp from the future was not written here
