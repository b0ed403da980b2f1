"""Who is asking: owner ids derived from a browser's secret, and the teacher's password gate.

A classroom server has no accounts. Each browser holds a random secret (kept in its page
address, so a reload or a bookmark keeps it); the server turns it into an *owner id* with
an HMAC under a salt only the server knows, and only that id is ever written to a run
folder. Knowing someone's owner id (it is on disk, and visible to the operator) does not
let you act as them: acting needs the secret. Where the operator has set up Streamlit's
``st.login``, the signed-in account's subject is hashed the same way instead.

The teacher signs in with a password the operator sets in ``MNIST_TEACHER_PASSWORD``, or
with a one-time sign-in link the server prints where it was started (as Jupyter prints its
token). The password is compared in constant time. Wrong guesses slow down the browser that
made them (its own lock, doubling with every further wrong guess), never another browser, so
a student's wrong tries cannot keep the teacher out; a cap on wrong guesses across the whole
server bounds a guesser who keeps opening new browsers, and past it the printed link still
works. A sign-in gives the browser a teacher session: a random token (kept in a cookie, never
in the address a projector shows) that this server process knows until it expires or the
teacher signs out.
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
FREE_TRIES = 3  # wrong passwords one browser may try before its own lock
FIRST_LOCK_S = 5.0  # the first lock; each further wrong try doubles it
LONGEST_LOCK_S = 15 * 60.0
# Wrong passwords from all browsers together in the last hour before password sign-in pauses (the
# printed link still works). One browser's back-off lets it about a dozen tries an hour, so a whole
# class mistyping never comes near this; only someone opening browser after browser to guess does.
SERVER_WRONG_PER_HOUR = 200
TEACHER_SESSION_S = 12 * 3600.0  # a teacher session lasts a school day, then the teacher signs in again
TEACHER_COOKIE = "mnist_teacher"  # the cookie that holds a browser's teacher session token
LINK_PARAM = "teacher"  # the query parameter of the one-time sign-in link


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


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class TeacherGate:
    """The teacher's way in: the password (with a back-off per browser and a cap per server), a
    one-time sign-in link, and the teacher sessions both give.

    One gate per server process. ``browser`` names who is trying (their owner id): its wrong
    tries lock only that browser. ``clock`` is injectable for tests.
    """

    def __init__(self, password: str | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._password = os.environ.get(TEACHER_ENV, "") if password is None else password
        self._clock = clock
        self._lock = threading.Lock()
        self._wrong: dict[str, int] = {}  # browser -> wrong tries in a row
        self._locked_until: dict[str, float] = {}  # browser -> end of its lock
        self._server_wrong: list[float] = []  # times of the wrong tries of the last hour, all browsers
        self._sessions: dict[bytes, float] = {}  # digest of a session token -> when it expires
        self._link: bytes | None = None  # digest of the one-time link's token, until it is used

    @property
    def configured(self) -> bool:
        return bool(self._password)

    def locked_for(self, browser: str = "") -> float:
        """Seconds until ``browser``'s next try is heard (0 when open)."""
        return max(0.0, self._locked_until.get(browser, 0.0) - self._clock())

    def check(self, attempt: str, browser: str = "") -> tuple[bool, str]:
        """(True, "") for the right password; otherwise (False, why), and a lock for this browser after
        repeated misses. Another browser's wrong tries never lock this one."""
        with self._lock:
            if not self.configured:
                return False, f"Teacher mode is off on this server: the operator has not set {TEACHER_ENV}."
            wait = self.locked_for(browser)
            if wait > 0:
                return False, f"Too many wrong passwords from this browser: try again in {wait:.0f} s."
            now = self._clock()
            self._server_wrong = [t for t in self._server_wrong if t > now - 3600]
            if len(self._server_wrong) >= SERVER_WRONG_PER_HOUR:
                return False, (f"Password sign-in is paused: this server heard {SERVER_WRONG_PER_HOUR} wrong "
                               "passwords in the last hour. Use the sign-in link printed where the server was "
                               "started.")
            # Compare digests: equal length whatever was typed, and compare_digest takes constant time.
            if hmac.compare_digest(_digest(attempt), _digest(self._password)):
                self._wrong.pop(browser, None)
                return True, ""
            self._server_wrong.append(now)
            wrong = self._wrong[browser] = self._wrong.get(browser, 0) + 1
            if wrong < FREE_TRIES:
                return False, "Wrong password."
            lock = min(LONGEST_LOCK_S, FIRST_LOCK_S * 2 ** (wrong - FREE_TRIES))
            self._locked_until[browser] = now + lock
            return False, f"Wrong password. Too many wrong tries: this browser may try again in {lock:.0f} s."

    # -- the one-time link ----------------------------------------------------------------------

    def new_link_token(self) -> str:
        """A fresh one-time sign-in token (the previous one stops working); the server prints its link."""
        token = secrets.token_urlsafe(SECRET_BYTES)
        with self._lock:
            self._link = _digest(token)
        return token

    def redeem_link(self, token: str | None) -> bool:
        """True, once, for the current link's token; it is spent whether or not a session follows."""
        with self._lock:
            if not self.configured or not isinstance(token, str) or not token or self._link is None \
                    or not hmac.compare_digest(_digest(token), self._link):
                return False
            self._link = None
            return True

    # -- teacher sessions -----------------------------------------------------------------------

    def new_session(self) -> str:
        """A teacher session token for a browser that just signed in; valid for TEACHER_SESSION_S."""
        token = secrets.token_urlsafe(SECRET_BYTES)
        with self._lock:
            now = self._clock()
            self._sessions = {d: end for d, end in self._sessions.items() if end > now}
            self._sessions[_digest(token)] = now + TEACHER_SESSION_S
        return token

    def session_valid(self, token: str | None) -> bool:
        """Is ``token`` a teacher session of this server that has neither expired nor been signed out?"""
        if not isinstance(token, str) or not token or not self.configured:
            return False
        with self._lock:
            return self._sessions.get(_digest(token), 0.0) > self._clock()

    def end_session(self, token: str | None) -> None:
        """Sign out: the token stops working in every tab that holds it."""
        if token:
            with self._lock:
                self._sessions.pop(_digest(token), None)
