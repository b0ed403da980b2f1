"""Owner ids from browser secrets, and the teacher's password gate with its back-off."""

from __future__ import annotations

import stat

import pytest

from mnist_core.classroom import identity
from mnist_core.classroom.identity import Actor, TeacherGate


def test_owner_id_is_stable_per_secret_and_salt_and_reveals_nothing(tmp_path):
    salt = identity.server_salt(tmp_path)
    assert identity.server_salt(tmp_path) == salt  # the same after a restart
    assert stat.S_IMODE((tmp_path / identity.SALT_FILE).stat().st_mode) == 0o600
    secret = identity.new_secret()
    assert identity.valid_secret(secret)
    mine = identity.owner_id(secret, salt)
    assert mine == identity.owner_id(secret, salt)
    assert mine != identity.owner_id(identity.new_secret(), salt)
    assert mine != identity.owner_id(secret, b"another server's salt")
    assert mine != identity.owner_id(secret, salt, kind="login")
    assert secret not in mine and len(mine) == identity.OWNER_ID_CHARS


@pytest.mark.parametrize("secret, ok", [
    ("", False), ("short", False), ("a" * 19, False), ("a" * 20, True), ("a" * 65, False),
    ("../../etc/passwd-xxxxxxxxxxx", False), ("abc def ghi jkl mno pqr", False), ("Ab-_" * 6, True),
])
def test_only_secrets_this_server_could_have_made_are_accepted(secret, ok):
    assert identity.valid_secret(secret) is ok


def test_display_names_are_one_short_printable_line():
    assert identity.clean_name("  Ada \n Lovelace\x00 ", "x") == "Ada Lovelace"
    assert identity.clean_name("", "Student ab12") == "Student ab12"
    assert len(identity.clean_name("x" * 100, "y")) == 40


def test_an_actor_manages_only_their_own_runs_and_the_teacher_all():
    ada, bob = Actor("a" * 16, "Ada"), Actor("b" * 16, "Bob")
    assert ada.may_manage("a" * 16) and not ada.may_manage("b" * 16) and not bob.may_manage("a" * 16)
    assert ada.as_teacher().may_manage("b" * 16)
    # A run made outside the dashboard: the teacher's on a class server, the only user's on a lone machine.
    assert not ada.may_manage("", teacher_configured=True)
    assert ada.may_manage("", teacher_configured=False)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_right_password_opens_and_a_wrong_one_does_not():
    gate = TeacherGate("correct horse", clock=Clock())
    assert gate.check("correct horse") == (True, "")
    ok, why = gate.check("correct hors")
    assert not ok and why == "Wrong password."


def test_no_password_configured_means_no_teacher_mode():
    ok, why = TeacherGate("").check("")
    assert not ok and identity.TEACHER_ENV in why


def test_ten_wrong_passwords_in_a_row_lock_the_gate_even_against_the_right_one():
    clock = Clock()
    gate = TeacherGate("s3cret", clock=clock)
    answers = []
    for guess in range(10):
        answers.append(gate.check(f"guess{guess}"))
        if gate.locked_for():
            assert gate.check("s3cret")[0] is False  # locked: the right password is not even compared
            clock.now += gate.locked_for() + 0.1  # wait out the lock, as a patient guesser would
    assert all(not ok for ok, _ in answers)
    assert "try again in" in answers[identity.FREE_TRIES - 1][1]
    # Each lock after the free tries is twice the one before it, up to the ceiling.
    assert gate.check("wrong again")[0] is False
    assert gate.locked_for() == min(identity.LONGEST_LOCK_S, identity.FIRST_LOCK_S * 2 ** (11 - identity.FREE_TRIES))
    ok, why = gate.check("s3cret")
    assert not ok and "try again in" in why
    clock.now += gate.locked_for() + 0.1
    assert gate.check("s3cret") == (True, "")
    assert gate.check("nope") == (False, "Wrong password.")  # the right one resets the count


def test_a_wrong_try_loop_locks_its_own_browser_never_the_teachers():
    """Issue 27: one wrong try whenever the shared lock ended kept the right password refused indefinitely."""
    clock = Clock()
    gate = TeacherGate("s3cret", clock=clock)
    for guess in range(40):
        gate.check(f"guess{guess}", browser="mallory")
        assert gate.check("s3cret", browser="teacher") == (True, "")  # at every moment of the loop
        clock.now += gate.locked_for("mallory") + 0.1  # the guesser waits out each of its own locks
    assert gate.check("guess", browser="mallory")[0] is False and gate.locked_for("mallory") > 0
    assert gate.locked_for("teacher") == 0


def test_a_guesser_opening_browser_after_browser_pauses_the_password_but_not_the_link():
    clock = Clock()
    gate = TeacherGate("s3cret", clock=clock)
    for n in range(identity.SERVER_WRONG_PER_HOUR):
        assert gate.check("guess", browser=f"fresh-{n}") == (False, "Wrong password.")
    ok, why = gate.check("s3cret", browser="teacher")
    assert not ok and "sign-in link printed where the server was started" in why
    token = gate.new_link_token()
    assert gate.redeem_link(token) and not gate.redeem_link(token)  # once
    clock.now += 3601  # an hour later the password is heard again
    assert gate.check("s3cret", browser="teacher") == (True, "")


def test_a_link_token_works_once_and_only_the_latest():
    gate = TeacherGate("s3cret")
    old, new = gate.new_link_token(), gate.new_link_token()
    assert not gate.redeem_link(old) and not gate.redeem_link("") and not gate.redeem_link(None)
    assert gate.redeem_link(new) and not gate.redeem_link(new)
    assert not TeacherGate("").redeem_link(TeacherGate("").new_link_token())  # no teacher mode, no link


def test_a_teacher_session_lasts_until_it_expires_or_is_signed_out():
    clock = Clock()
    gate = TeacherGate("s3cret", clock=clock)
    first, second = gate.new_session(), gate.new_session()
    assert gate.session_valid(first) and gate.session_valid(second)
    assert not gate.session_valid("made-up-token") and not gate.session_valid(None)
    gate.end_session(first)
    assert not gate.session_valid(first) and gate.session_valid(second)
    clock.now += identity.TEACHER_SESSION_S + 1
    assert not gate.session_valid(second)
