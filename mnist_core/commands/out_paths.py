"""What a command's ``--out`` may name: a folder that ``train`` replaces with its run, or one that
``seeds`` and ``schedules`` write their runs into. Both are checked before any data is read, so a
typo costs neither minutes of training nor a user's own file."""

from __future__ import annotations

from pathlib import Path

from mnist_core.lesson import report
from mnist_core.runs.store import ACTIVE_STATES, DamagedRun, inspect_run, read_json


def run_folder_problem(target: Path) -> str | None:
    """Why ``train --out`` must not write to ``target``: the finished run replaces whatever is there, so it
    takes only a new name, an empty folder or an earlier run's folder of the command line's own; never a
    file, someone's other files, a shipped run (``reproduce`` replaces those), a run that is training, or
    a run a student owns (the dashboard's rule: only its owner, or the teacher there, removes it)."""
    if target.exists() and not target.is_dir():
        return f"--out {target} is a file, not a folder: the run would replace it; give a folder's name"
    if target.is_dir() and any(target.iterdir()) and inspect_run(target) is None:
        return (f"--out {target} holds files that are not a run's, and the finished run would replace the folder "
                "and all of them: give a new folder's name, or an earlier run's folder")
    if _inside(target, report.ASSETS_DIR):
        return (f"--out {target} is among the shipped runs ({report.ASSETS_DIR}), which the pages show as the "
                "lesson's results: `python -m mnist_core reproduce` replaces those; give another folder")
    return replace_problem(target)


def replace_problem(target: Path) -> str | None:
    """Why a finished run must not be put in place of the run at ``target`` now (it may change while one
    trains: checked again before the rename): it is training, or a student owns it."""
    run = inspect_run(target) if target.is_dir() else None
    if run is None:
        return None
    if run.state in ACTIVE_STATES:  # a stale heartbeat reads as interrupted, which may be replaced
        return (f"--out {target} is a run that is training right now: the two would mix; stop it first, or give "
                "another folder")
    saved = read_json(target / "status.json", {}) if isinstance(run, DamagedRun) else run.status
    owner = saved.get("owner") if isinstance(saved, dict) else None
    if owner:
        name = saved.get("owner_name") if isinstance(saved.get("owner_name"), str) else ""
        return (f"--out {target} is a run of {name or 'a student'} made on the dashboard: only its owner, or the "
                "teacher, may remove it there (Compare runs); give another folder")
    return None


def _inside(path: Path, folder: Path) -> bool:
    """Is ``path`` ``folder`` or inside it (links and ``..`` resolved)?"""
    try:
        return path.resolve().is_relative_to(Path(folder).resolve())
    except (OSError, RuntimeError):
        return False


def folder_to_write(folder: Path) -> Path:
    """``folder``, made if it is not there yet; ValueError (one line for the user) when a file has its name."""
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"--out {folder} is a file, not a folder: give a folder for the runs")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
