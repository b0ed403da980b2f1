"""Where a training job runs: in this process (the default) or on a Ray cluster.

Every caller (the dashboard's JobManager, the command line's ``train``, ``seeds`` and
``schedules``) trains through one call, ``backend.train_into(path, config, data, ...)``,
which trains ``config`` and keeps the run folder ``path`` current, calling ``on_batch``,
``on_epoch`` and ``on_eval(done, total)`` (each test pass) as the loop reports, and
``on_saving()`` once training is over and the files are being written. Only
``backend_choice.backend_from_env`` knows that there are several: with ``MNIST_RAY_ADDRESS``
set, jobs go to Ray (imported only then, so a machine without Ray runs everything else).
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from mnist_core.engine.config import TrainConfig
from mnist_core.engine.data import MnistTensors
from mnist_core.runs.store import train_run, update_status

RAY_ADDRESS_ENV = "MNIST_RAY_ADDRESS"


@dataclass(frozen=True)
class TrainOutcome:
    """What a caller needs to know once a job has ended (the rest is in the run folder)."""

    stopped: bool
    device: str  # e.g. "CPU (1 thread)"
    params: int
    node: str  # the machine that trained it
    epochs: int = 0  # whole epochs trained (fewer than asked when stopped)


class TrainingBackend(Protocol):
    name: str  # "local" or "ray"; recorded in each run's status

    def describe(self) -> str:
        """One line for people: where jobs run."""

    def capacity(self, default: int | None) -> int:
        """How many jobs train at once: ``default`` when the operator set one, else what this backend holds."""

    def train_into(self, path: Path, config: TrainConfig, data: MnistTensors, on_batch: Callable | None = None,
                   on_epoch: Callable | None = None, stop=None, resume: bool = False,
                   on_eval: Callable | None = None, on_saving: Callable | None = None) -> TrainOutcome:
        """Train ``config`` into the run folder ``path``; see the module docstring."""

    def following(self, path: Path) -> bool:
        """Is a job of an earlier dashboard process still training the run folder ``path`` (so it can be followed)?"""


class LocalBackend:
    """Training in a thread of this process, on its CPU or GPU."""

    name = "local"

    def describe(self) -> str:
        return f"this machine ({platform.node() or 'local'})"

    def capacity(self, default: int | None) -> int:
        return default or 1  # one thread pool in one process: runs beside each other would share it

    def train_into(self, path, config, data, on_batch=None, on_epoch=None, stop=None, resume=False,
                   on_eval=None, on_saving=None) -> TrainOutcome:
        result = train_run(path, config, data, on_batch=on_batch, on_epoch=on_epoch, stop=stop,
                           on_eval=on_eval, on_saving=on_saving)
        node = platform.node() or "local"
        update_status(path, backend=self.name, node=node)
        return TrainOutcome(result.stopped, result.device, result.params, node, len(result.history))

    def following(self, path: Path) -> bool:
        return False  # a thread dies with its process: nothing to follow after a restart
