"""Names on one server: each belongs to one person, and the teacher's cannot be taken.

Names are what other students see beside a run (*By*, "Also waiting"), so two people must not share
one, and nobody may appear as the teacher, the command line or a shipped run. A ``NameBook`` holds
which owner id holds which name (seeded with the names already on the runs, so a restart changes
nothing) and refuses a taken or reserved one with a sentence. Names compare without regard to case
or spacing ("ada  LOVELACE" is "Ada Lovelace"). The teacher's runs are marked by the server when they
are made (``by_teacher`` in the run's status), never by a name.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

TEACHER_NAME = "Teacher"  # how the teacher's runs are shown, whatever name the teacher typed
# Names that say something a student is not: the teacher, the command line, a shipped run, the reader.
RESERVED_WORDS = ("teacher", "command line", "shipped", "you", "admin", "operator")
_DEFAULT_NAME = re.compile(r"student [0-9a-f]{4}")  # identity.default_name's shape: one per owner id


def name_key(name: str) -> str:
    """What two names are compared by: case and spacing left out."""
    return " ".join(name.casefold().split())


def reserved(name: str) -> bool:
    """Is ``name`` one no student may take (the teacher's, the command line's, ...)?"""
    key = name_key(name)
    return any(re.search(rf"\b{re.escape(word)}\b", key) for word in RESERVED_WORDS)


class NameBook:
    """Which owner holds which name, on one server; ``claim`` refuses a name someone else holds."""

    def __init__(self, taken: Iterable[tuple[str, str]] = ()) -> None:
        """``taken``: (owner id, name) pairs already in use (read from the runs on disk)."""
        self._lock = threading.Lock()
        self._holder: dict[str, str] = {}  # name key -> owner id
        for owner, name in taken:
            if owner and name:
                self._holder.setdefault(name_key(name), owner)

    def claim(self, owner: str, name: str, default: str = "") -> str | None:
        """Give ``name`` to ``owner``; None when done, else the sentence that says why not.

        ``default`` is the owner's own default name ("Student 1a2b"), which only they may use.
        """
        key = name_key(name)
        if not key:
            return None
        if reserved(name):
            return f"“{name}” is kept for the teacher or the app: choose another name."
        if _DEFAULT_NAME.fullmatch(key) and key != name_key(default):
            return f"“{name}” looks like another student's default name: choose a name of your own."
        with self._lock:
            holder = self._holder.setdefault(key, owner)
        if holder != owner:
            return f"“{name}” is taken on this server: choose another (add an initial, say)."
        return None
