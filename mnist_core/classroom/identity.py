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

import errno
import hashlib
import hmac
import os
import secrets
import tempfile
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


class SaltProblem(RuntimeError):
    """The server cannot have its salt; the message says what to do, in one paragraph for the operator."""


SALT_BYTES = 32
NEW_SALT_ENV = "MNIST_NEW_SALT"  # "1": make a new salt even though the runs have owners (they lose them)


def server_salt(runs_root: Path | str, owned_runs: int = 0) -> bytes:
    """The server's HMAC key: ``MNIST_IDENTITY_SALT`` if set, else a random one kept in the runs folder.

    Kept with the runs (mode 0600) so owner ids stay the same across restarts: a student
    who reloads tomorrow still owns yesterday's runs. A new salt is written to a temporary
    file and renamed, so a full disk never leaves an empty one behind. Raises SaltProblem,
    rather than quietly making a new salt that would take every student's runs away, when
    the salt file is there but empty, short or unreadable; when ``owned_runs`` (runs that
    name an owner) are there without a salt (a folder copied without its dot files), unless
    the operator asks for a new one; and when a new one cannot be written.
    """
    configured = os.environ.get("MNIST_IDENTITY_SALT")
    if configured:
        return configured.encode()
    path = Path(runs_root) / SALT_FILE
    try:
        salt = path.read_bytes()
    except FileNotFoundError:
        salt = None
    except OSError as exc:
        raise SaltProblem(f"{path} cannot be read ({exc.strerror or exc}); without it no student owns their "
                          "runs. Fix its permissions, then restart the server.") from None
    if salt is not None:
        if len(salt) >= 16:
            return salt
        raise SaltProblem(f"{path} is {'empty' if not salt else 'too short'} ({len(salt)} bytes; perhaps written "
                          "when the disk was full), so no student would own their runs. Copy the salt file back "
                          "from a backup, or delete it to start afresh (students then no longer own their earlier "
                          "runs), and restart the server.")
    if owned_runs and os.environ.get(NEW_SALT_ENV) != "1":
        raise SaltProblem(f"{Path(runs_root)} holds {owned_runs} run(s) that students own but no {SALT_FILE}: the "
                          f"folder was probably copied without it (`cp -r runs/* new/` skips dot files). Copy "
                          f"{SALT_FILE} from the old runs folder; or, to start afresh (students then no longer own "
                          f"their earlier runs), start the server once with {NEW_SALT_ENV}=1.")
    salt = secrets.token_bytes(SALT_BYTES)
    try:
        _write_private(path, salt)
    except OSError as exc:
        full = exc.errno == errno.ENOSPC
        raise SaltProblem(f"{path} cannot be written ({'disk full' if full else exc.strerror or exc}): free some "
                          "space in the runs folder's disk, then reload the page.") from None
    return salt


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (mode 0600) all at once: a temporary file, synced, then renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mkstemp makes it 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


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
