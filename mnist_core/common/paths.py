"""Where the project's shipped files live: the runs in ``assets/`` that the pages, the CLI and a teacher
network read."""

from __future__ import annotations

from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets"


def shipped_run_path(step: int) -> Path:
    """The folder of the run this project ships for lesson step ``step`` (made by ``reproduce``)."""
    return ASSETS_DIR / f"step{step}"
