"""A text progress bar for the command line, one per epoch, like the lesson's training log.

    EPOCH: 3
    Loss=0.0312 Batch_id=469 Accuracy=98.31: 100%|##########| 469/469 [00:11<00:00, 41.2it/s]
    Test set: Average loss: 0.0357, Accuracy: 99.00%

On a terminal the bar redraws in place; in a log file only the finished line is written.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

BAR_WIDTH = 10


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:02d}:{secs:02d}"


class EpochBar:
    def __init__(self, stream: TextIO = sys.stdout, redraw_every_s: float = 0.2) -> None:
        self.stream = stream
        self.interactive = stream.isatty()
        self.redraw_every_s = redraw_every_s
        self._last_draw = 0.0
        self._epoch_start = 0.0
        self._epoch = 0
        self._last_line = ""

    def update(self, p) -> None:
        """Called with a BatchProgress at the trainer's progress reads (a few a second, and each epoch's first)."""
        now = time.perf_counter()
        if p.epoch != self._epoch:
            self._epoch, self._epoch_start = p.epoch, now
            print(f"EPOCH: {p.epoch}", file=self.stream, flush=True)
        elapsed = now - self._epoch_start
        rate = p.batch / elapsed if elapsed > 0 else 0.0
        remaining = (p.batches - p.batch) / rate if rate > 0 else 0.0
        filled = BAR_WIDTH * p.batch // p.batches
        self._last_line = (
            f"Loss={p.loss:.4f} Batch_id={p.batch} Accuracy={p.running_acc:.2f}: "
            f"{100 * p.batch // p.batches:3d}%|{'#' * filled}{' ' * (BAR_WIDTH - filled)}| {p.batch}/{p.batches} "
            f"[{_clock(elapsed)}<{_clock(remaining)}, {rate:.1f}it/s]"
        )
        if self.interactive and (now - self._last_draw >= self.redraw_every_s or p.batch == p.batches):
            self._last_draw = now
            print(f"\r{self._last_line}", end="", file=self.stream, flush=True)

    def epoch_done(self, record) -> None:
        """Called with an EpochRecord after every evaluation."""
        if self.interactive:
            print(file=self.stream)
        else:
            print(self._last_line, file=self.stream)
        print(f"Test set: Average loss: {record.test_loss:.4f}, Accuracy: {record.test_acc:.2f}% "
              f"(epoch {record.seconds:.1f} s)\n", file=self.stream, flush=True)
