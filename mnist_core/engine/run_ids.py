"""Run ids that come from a browser or a command line: only a plain folder name inside the runs folder.

A run id names a folder directly under the runs folder. Anything else (a path separator,
``..``, a leading dot, a NUL, a name longer than a folder name can be) is refused before any
path is built from it, so no id can reach outside that folder.
"""

from __future__ import annotations

import re

_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")


def check_run_id(run_id: object) -> str:
    """``run_id`` itself when it is a plain run folder name; ValueError otherwise."""
    if not isinstance(run_id, str) or not _RUN_ID.fullmatch(run_id):
        raise ValueError(f"not a run id: {run_id!r}")
    return run_id
