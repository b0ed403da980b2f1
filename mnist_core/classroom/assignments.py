"""The class list and each student's assigned variant: who has come to class, and what each is to train.

A class of thirty that trains one step with a different seed each is a thirty-seed study; a third
of them each on dropout 0, 0.05 and 0.1 is a small experiment. The teacher assigns such variants
on the class board, and a student's step page preselects theirs in the training form. The class
list is how the teacher can assign before anybody has trained: a student is on it once they have
opened a step page. Both live in one small JSON file in the runs folder (a dot name, so it is
never listed as a run), rewritten whole and atomically on every change, so a restart keeps them.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, fields
from pathlib import Path

from mnist_core.classroom.identity import Actor, NotAllowed
from mnist_core.common.atomic import atomic_path
from mnist_core.engine.config import TrainConfig
from mnist_core.engine.recipes import step_recipe

BOOK_FILE = ".class-book.json"
# Recipe fields a teacher may hand out as variants (the step page's form must offer the field too).
ASSIGNABLE_FIELDS = ("seed", "dropout", "lr", "rotation_degrees", "batch_size", "epochs", "activation", "deskew")
SWITCH_WORDS = {"on": True, "off": False, "yes": True, "no": False}  # how a teacher types a switch's values
MAX_VALUES = 200  # values in one list: a class, with room; a range like 1-100000 is a typo
_FIELD_TYPES = {f.name: type(f.default) for f in fields(TrainConfig)}
_LOCK = threading.Lock()  # the sessions of one server are threads of one process


@dataclass(frozen=True)
class Student:
    owner: str  # owner id (identity.owner_id), never a secret
    name: str
    first_seen: float  # seconds since the epoch


def parse_values(field_name: str, text: str) -> list:
    """The values a teacher typed for ``field_name``: '0, 0.05, 0.1', '1-30' (whole-number fields), 'relu silu',
    'on off' (a switch such as deskew: half the class with it, half without).

    Raises ValueError saying what could not be read.
    """
    if field_name not in ASSIGNABLE_FIELDS:
        raise ValueError(f"{field_name} cannot be assigned; choose one of {', '.join(ASSIGNABLE_FIELDS)}")
    kind = _FIELD_TYPES[field_name]
    values: list = []
    for part in text.replace(",", " ").split():
        if kind is bool:  # bool("off") is True: a switch is read from words, never converted
            if part.lower() not in SWITCH_WORDS:
                raise ValueError(f"{part!r} is not on or off")
            values.append(SWITCH_WORDS[part.lower()])
            continue
        if kind is int and "-" in part.strip("-"):
            low, _, high = part.partition("-")
            try:
                first, last = int(low), int(high)
            except ValueError:
                raise ValueError(f"{part!r} is not a range of whole numbers such as 1-30") from None
            if last < first:
                raise ValueError(f"the range {part} runs backwards")
            if last - first >= MAX_VALUES:
                raise ValueError(f"the range {part} holds more than {MAX_VALUES} values")
            values += range(first, last + 1)
            continue
        try:
            values.append(kind(part))
        except ValueError:
            wanted = {int: "a whole number", float: "a number", str: "a name"}[kind]
            raise ValueError(f"{part!r} is not {wanted}") from None
    if not values:
        raise ValueError("type at least one value, e.g. 0, 0.05, 0.1 or 1-30")
    if len(values) > MAX_VALUES:
        raise ValueError(f"at most {MAX_VALUES} values at once")
    return values


def check_value(step: int, field_name: str, value) -> None:
    """ValueError (saying why) when Step ``step``'s recipe cannot train with ``field_name`` set to ``value``."""
    try:
        step_recipe(step).recipe.with_(**{field_name: value})
    except ValueError as exc:
        raise ValueError(f"{field_name} {value}: {exc}") from None


def in_turn(owners: list[str], values: list) -> dict[str, object]:
    """Owner -> value, the values dealt out in turn: with 0, 0.05, 0.1 the 4th student gets 0 again."""
    return {owner: values[i % len(values)] for i, owner in enumerate(owners)}


class ClassBook:
    """The class list and the assignments of one runs folder (one file, read on each question: it is small)."""

    def __init__(self, runs_root: Path | str) -> None:
        self.path = Path(runs_root) / BOOK_FILE

    def _read(self) -> dict:
        try:
            book = json.loads(self.path.read_text())
        except (OSError, ValueError, RecursionError):
            return {"students": {}, "assignments": {}}  # none yet, or damaged: the teacher assigns again
        if not isinstance(book, dict):
            return {"students": {}, "assignments": {}}
        students = book.get("students") if isinstance(book.get("students"), dict) else {}
        assignments = book.get("assignments") if isinstance(book.get("assignments"), dict) else {}
        return {"students": students, "assignments": assignments}

    def _write(self, book: dict) -> None:
        with atomic_path(self.path) as tmp:
            tmp.write_text(json.dumps(book, indent=1))

    # -- the class list ---------------------------------------------------------------------------

    def note_student(self, actor: Actor, now: float | None = None) -> bool:
        """Put ``actor`` on the class list (or update their name); True when the file changed.

        The teacher is not a student; a student already listed under the same name costs a read, no write.
        """
        if actor.is_teacher or not actor.owner_id:
            return False
        with _LOCK:
            book = self._read()
            known = book["students"].get(actor.owner_id)
            if isinstance(known, dict) and known.get("name") == actor.name:
                return False
            seen = known.get("first_seen") if isinstance(known, dict) else None
            book["students"][actor.owner_id] = {"name": actor.name,
                                                "first_seen": seen if isinstance(seen, (int, float))
                                                else (time.time() if now is None else now)}
            self._write(book)
        return True

    def students(self) -> list[Student]:
        """Everybody on the class list, in the order they first came."""
        found = []
        for owner, entry in self._read()["students"].items():
            if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                seen = entry.get("first_seen")
                found.append(Student(owner, entry["name"], float(seen) if isinstance(seen, (int, float)) else 0.0))
        return sorted(found, key=lambda s: s.first_seen)

    # -- assignments ------------------------------------------------------------------------------

    def assignment(self, owner: str, step: int) -> dict[str, object]:
        """The recipe values assigned to ``owner`` for Step ``step`` (field -> value); empty when none."""
        values = self.assignments(step).get(owner, {})
        return dict(values)

    def assignments(self, step: int) -> dict[str, dict[str, object]]:
        """Owner -> {field: value} for Step ``step``; values a recipe cannot train with are left out."""
        saved = self._read()["assignments"].get(str(step), {})
        found: dict[str, dict[str, object]] = {}
        for owner, values in (saved.items() if isinstance(saved, dict) else ()):
            if not isinstance(values, dict):
                continue
            usable = {}
            for name, value in values.items():
                try:
                    check_value(step, name, value)
                except (ValueError, TypeError):
                    continue  # an edited file or an older version's field: never offered
                usable[name] = value
            if usable:
                found[owner] = usable
        return found

    def assign(self, actor: Actor, step: int, field_name: str, by_owner: dict[str, object]) -> None:
        """The teacher gives each owner in ``by_owner`` its value of ``field_name`` for Step ``step``.

        Other fields already assigned stay. Raises NotAllowed for a student, ValueError for a value
        the step's recipe cannot train with (nothing is written then).
        """
        if not actor.is_teacher:
            raise NotAllowed("Only the teacher can assign variants.")
        if field_name not in ASSIGNABLE_FIELDS:
            raise ValueError(f"{field_name} cannot be assigned; choose one of {', '.join(ASSIGNABLE_FIELDS)}")
        for value in by_owner.values():
            check_value(step, field_name, value)
        with _LOCK:
            book = self._read()
            per_step = book["assignments"].setdefault(str(step), {})
            for owner, value in by_owner.items():
                entry = per_step.get(owner)
                per_step[owner] = {**(entry if isinstance(entry, dict) else {}), field_name: value}
            self._write(book)

    def clear(self, actor: Actor, step: int) -> int:
        """The teacher takes back every assignment of Step ``step``; returns how many students had one."""
        if not actor.is_teacher:
            raise NotAllowed("Only the teacher can clear assignments.")
        with _LOCK:
            book = self._read()
            cleared = book["assignments"].pop(str(step), {})
            self._write(book)
        return len(cleared) if isinstance(cleared, dict) else 0
