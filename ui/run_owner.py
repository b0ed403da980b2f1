"""Whose run it is, in the words a list shows: "Your run · …" for your own, "Ann's run · …" for a classmate's.

Draw a digit and Inside the network used to call every finished run "Your run", so in a classroom a
student was offered the first student's run as theirs. The rule for "yours" is the step page's: the
runs you started; on a machine with no teacher password, command-line runs too (their one user
started them). Lists put your own runs first.
"""

from __future__ import annotations

from mnist_core.classroom.identity import Actor
from mnist_core.runs.store import Run

from .state import job_manager


def is_yours(run: Run, actor: Actor) -> bool:
    owner = run.status.get("owner", "")
    return owner == actor.owner_id or (not owner and not job_manager().teacher.configured)


def owner_words(run: Run, actor: Actor) -> str:
    """'Your run', "Ann's run" (the name its owner gave), or 'Command-line run'."""
    if is_yours(run, actor):
        return "Your run"
    if not run.status.get("owner"):
        return "Command-line run"
    name = run.status.get("owner_name") or "A classmate"
    return f"{name}' run" if name.endswith("s") else f"{name}'s run"


def yours_first(runs: list[Run], actor: Actor) -> list[Run]:
    """The same runs, yours first, each group in its own order (newest first from the store)."""
    return sorted(runs, key=lambda run: not is_yours(run, actor))
