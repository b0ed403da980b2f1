"""Which backend trains the jobs: Ray when ``MNIST_RAY_ADDRESS`` is set, else this machine.

Kept apart from ``backends.py`` (the interface and the local backend) so that neither
backend imports the other; the Ray package itself is imported only when a job goes there.
"""

from __future__ import annotations

import os

from mnist_core.classroom.backends import RAY_ADDRESS_ENV, LocalBackend, TrainingBackend
from mnist_core.classroom.ray_backend import RayBackend


def ray_requested() -> bool:
    return bool(os.environ.get(RAY_ADDRESS_ENV, "").strip())


def backend_from_env() -> TrainingBackend:
    """Ray when ``MNIST_RAY_ADDRESS`` is set (``auto`` or ``HOST:PORT``), else this process."""
    if ray_requested():
        return RayBackend(os.environ[RAY_ADDRESS_ENV].strip())
    return LocalBackend()
