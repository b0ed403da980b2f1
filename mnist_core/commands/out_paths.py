"""What a command's ``--out`` may name: a folder that ``train`` replaces with its run, or one that
``seeds`` and ``schedules`` write their runs into. Both are checked before any data is read, so a
typo costs neither minutes of training nor a user's own file."""

from __future__ import annotations

from pathlib import Path

from mnist_core.runs.store import inspect_run


def run_folder_problem(target: Path) -> str | None:
    """Why ``train --out`` must not write to ``target``: the finished run replaces whatever is there, so it
    takes only a new name, an empty folder or an earlier run's folder, never a file or someone's other files."""
    if target.exists() and not target.is_dir():
        return f"--out {target} is a file, not a folder: the run would replace it; give a folder's name"
    if target.is_dir() and any(target.iterdir()) and inspect_run(target) is None:
        return (f"--out {target} holds files that are not a run's, and the finished run would replace the folder "
                "and all of them: give a new folder's name, or an earlier run's folder")
    return None


def folder_to_write(folder: Path) -> Path:
    """``folder``, made if it is not there yet; ValueError (one line for the user) when a file has its name."""
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"--out {folder} is a file, not a folder: give a folder for the runs")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
