"""Which backend trains the jobs: Ray when ``MNIST_RAY_ADDRESS`` is set, else this machine
(in this process for the command line's one run, in worker processes for the dashboard's many).

Kept apart from ``backends.py`` (the interface and the local backend) so that neither
backend imports the other; the Ray package itself is imported only when a job goes there.
"""

from __future__ import annotations

import os

from mnist_core.classroom.backends import RAY_ADDRESS_ENV, LocalBackend, TrainingBackend
from mnist_core.classroom.ray_backend import RayBackend
from mnist_core.classroom.worker_backend import WorkerBackend


def ray_requested() -> bool:
    return bool(os.environ.get(RAY_ADDRESS_ENV, "").strip())


def backend_from_env(in_process: bool = True) -> TrainingBackend:
    """Ray when ``MNIST_RAY_ADDRESS`` is set (``auto`` or ``HOST:PORT``); else this machine, in this process
    (``in_process``: one run with the whole machine, as the command line trains) or in worker processes that
    share the cores (the dashboard, where several runs train at once)."""
    if ray_requested():
        return RayBackend(os.environ[RAY_ADDRESS_ENV].strip())
    return LocalBackend() if in_process else WorkerBackend()
