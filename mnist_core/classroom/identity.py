"""Who is asking: owner ids derived from a browser's secret, and the teacher's password gate.

A classroom server has no accounts. Each browser holds a random secret (kept in its page
address, so a reload or a bookmark keeps it); the server turns it into an *owner id* with
an HMAC under a salt only the server knows, and only that id is ever written to a run
folder. Knowing someone's owner id (it is on disk, and visible to the operator) does not
let you act as them: acting needs the secret. Where the operator has set up Streamlit's
``st.login``, the signed-in account's subject is hashed the same way instead.

The teacher signs in with a password the operator sets in ``MNIST_TEACHER_PASSWORD``.
It is compared in constant time, and wrong guesses lock the gate for a while that doubles
with every further wrong guess, so a class cannot guess it by trying.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SECRET_BYTES = 18  # 144 random bits, url-safe base64 of 24 characters
OWNER_ID_CHARS = 16  # 64 bits of the HMAC: unique among any class, short enough to read
SALT_FILE = ".server-salt"  # in the runs folder; a dot name, so it is never listed as a run
TEACHER_ENV = "MNIST_TEACHER_PASSWORD"
FREE_TRIES = 3  # wrong passwords allowed before the gate locks
FIRST_LOCK_S = 5.0  # the first lock; each further wrong try doubles it
LONGEST_LOCK_S = 15 * 60.0


class NotAllowed(PermissionError):
    """The actor may not do this to that run; the message says why, in a student's words."""


@dataclass(frozen=True)
class Actor:
    """Whoever asks the job manager to do something: a student, the teacher, or the command line."""

    owner_id: str
    name: str
    is_teacher: bool = False

    def may_manage(self, owner_id: str | None, teacher_configured: bool = True) -> bool:
        """May this actor stop or delete a run owned by ``owner_id``?

        A run without an owner was made outside the dashboard (the command line, an older
        version); on a server with a teacher password only the teacher manages those,
        on a single-user machine without one, anybody (that is, its only user).
        """
        if self.is_teacher:
            return True
        if not owner_id:
            return not teacher_configured
        return hmac.compare_digest(self.owner_id, owner_id)

    def as_teacher(self) -> Actor:
        return Actor(self.owner_id, self.name, is_teacher=True)


# The command line acts for the person at the machine, who owns the server.
COMMAND_LINE = Actor(owner_id="", name="command line", is_teacher=True)


def new_secret() -> str:
    """A fresh browser secret for the page address."""
    return secrets.token_urlsafe(SECRET_BYTES)


def valid_secret(secret: str | None) -> bool:
    """A secret this server could have made: 20-64 url-safe characters (anything else is replaced)."""
    return bool(secret) and 20 <= len(secret) <= 64 and all(c.isalnum() or c in "-_" for c in secret)


def server_salt(runs_root: Path | str) -> bytes:
    """The server's HMAC key: ``MNIST_IDENTITY_SALT`` if set, else a random one kept in the runs folder.

    Kept with the runs (mode 0600) so owner ids stay the same across restarts: a student
    who reloads tomorrow still owns yesterday's runs.
    """
    configured = os.environ.get("MNIST_IDENTITY_SALT")
    if configured:
        return configured.encode()
    path = Path(runs_root) / SALT_FILE
    try:
        salt = path.read_bytes()
        if len(salt) >= 16:
            return salt
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    salt = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(salt)
    return salt


def owner_id(secret: str, salt: bytes, kind: str = "browser") -> str:
    """The public id of whoever holds ``secret``: HMAC-SHA256 under the server's salt, shortened.

    ``kind`` keeps a browser secret and a signed-in account's subject from ever mapping to
    the same id.
    """
    digest = hmac.new(salt, f"{kind}:{secret}".encode(), hashlib.sha256).hexdigest()
    return digest[:OWNER_ID_CHARS]


def clean_name(name: str | None, fallback: str) -> str:
    """A display name fit for a table: printable, one line, at most 40 characters."""
    name = " ".join("".join(c for c in (name or "") if c.isprintable()).split())[:40]
    return name or fallback


def default_name(owner: str) -> str:
    return f"Student {owner[:4]}"


class TeacherGate:
    """Checks the teacher's password in constant time, and locks for longer after each wrong try.

    One gate per server process (not per browser), so opening new tabs does not buy new
    tries. ``clock`` is injectable for tests.
    """

    def __init__(self, password: str | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._password = os.environ.get(TEACHER_ENV, "") if password is None else password
        self._clock = clock
        self._lock = threading.Lock()
        self._wrong = 0  # wrong tries in a row
        self._locked_until = 0.0

    @property
    def configured(self) -> bool:
        return bool(self._password)

    def locked_for(self) -> float:
        """Seconds until the next try is heard (0 when open)."""
        return max(0.0, self._locked_until - self._clock())

    def check(self, attempt: str) -> tuple[bool, str]:
        """(True, "") for the right password; otherwise (False, why), and a lock after repeated misses."""
        with self._lock:
            if not self.configured:
                return False, f"Teacher mode is off on this server: the operator has not set {TEACHER_ENV}."
            wait = self.locked_for()
            if wait > 0:
                return False, f"Too many wrong passwords: try again in {wait:.0f} s."
            # Compare digests: equal length whatever was typed, and compare_digest takes constant time.
            right = hmac.compare_digest(hashlib.sha256(attempt.encode()).digest(),
                                        hashlib.sha256(self._password.encode()).digest())
            if right:
                self._wrong = 0
                return True, ""
            self._wrong += 1
            if self._wrong < FREE_TRIES:
                return False, "Wrong password."
            lock = min(LONGEST_LOCK_S, FIRST_LOCK_S * 2 ** (self._wrong - FREE_TRIES))
            self._locked_until = self._clock() + lock
            return False, f"Wrong password. Too many wrong tries: teacher sign-in is locked for {lock:.0f} s."
