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
    assert "locked" in answers[identity.FREE_TRIES - 1][1]
    # Each lock after the free tries is twice the one before it, up to the ceiling.
    assert gate.check("wrong again")[0] is False
    assert gate.locked_for() == min(identity.LONGEST_LOCK_S, identity.FIRST_LOCK_S * 2 ** (11 - identity.FREE_TRIES))
    ok, why = gate.check("s3cret")
    assert not ok and "try again in" in why
    clock.now += gate.locked_for() + 0.1
    assert gate.check("s3cret") == (True, "")
    assert gate.check("nope") == (False, "Wrong password.")  # the right one resets the count
