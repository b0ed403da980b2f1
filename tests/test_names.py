"""Names on one server (mnist_core/classroom/names.py): one person per name, the teacher's reserved, and the
teacher's runs marked by the server. Issue 27: names were not unique, so anybody could appear as anybody,
"Teacher" included, in Compare runs' *By* column."""

from __future__ import annotations

import pytest

from mnist_core.classroom.names import TEACHER_NAME, NameBook, name_key, reserved
from mnist_core.runs.store import RunStore
from tests.test_classroom_pages import PASSWORD, held, sign_in_as_teacher, start_step2, student  # noqa: F401

ADA, BOB = "a" * 16, "b" * 16


@pytest.mark.parametrize("name, key", [("Ada Lovelace", "ada lovelace"), ("  ada \t LOVELACE ", "ada lovelace"),
                                       ("ÅSA", "åsa"), ("Straße", "strasse")])
def test_names_compare_without_case_or_spacing(name, key):
    assert name_key(name) == key


@pytest.mark.parametrize("name, taken", [("Teacher", True), ("the teacher", True), ("TEACHER ", True),
                                         ("Teacher Jones", True), ("command line", True), ("shipped", True),
                                         ("you", True), ("Youssef", False), ("Ada", False), ("Teachers' pet", False),
                                         ("[Teacher login](http://evil.example/x)", True)])
def test_the_names_that_speak_for_someone_else_are_reserved(name, taken):
    assert reserved(name) is taken


def test_a_taken_name_is_refused_with_a_sentence_and_the_holder_keeps_it():
    book = NameBook()
    assert book.claim(ADA, "Ada") is None
    assert book.claim(ADA, "Ada") is None  # again, the same person: fine
    refusal = book.claim(BOB, "  ADA ")
    assert refusal and "taken on this server" in refusal
    assert "kept for the teacher" in book.claim(BOB, "Teacher")
    assert "another student's default name" in book.claim(BOB, "Student aaaa")
    assert book.claim(ADA, "Student aaaa", default="Student aaaa") is None  # her own default


def test_names_on_the_runs_are_taken_after_a_restart():
    book = NameBook([(ADA, "Ada"), ("", "Cy")])
    assert "taken" in book.claim(BOB, "ada")
    assert book.claim(BOB, "Cy") is None  # a run without an owner (the command line): nobody holds its name


def test_a_second_window_cannot_take_a_name_in_use_nor_the_teachers(held, runs_dir):  # noqa: F811
    ada = student("Ada")
    again = student("ada")  # a new window without Ada's key: another person to the server
    assert any("taken on this server" in e.value for e in again.error)
    assert "name" not in again.query_params
    teacher_named = student("Teacher")
    assert any("kept for the teacher" in e.value for e in teacher_named.error)
    start_step2(again)
    by = {run.status["owner_name"] for run in RunStore(runs_dir).list()}
    assert by and "Ada" not in by and not any(reserved(name) for name in by)
    assert not ada.exception


def test_the_teachers_runs_are_marked_by_the_server_not_by_a_name(held, runs_dir):  # noqa: F811
    teacher = student("Ms Lee")
    sign_in_as_teacher(teacher, PASSWORD)
    start_step2(teacher)
    (run,) = RunStore(runs_dir).list()
    assert run.status["by_teacher"] is True and run.status["owner_name"] == TEACHER_NAME
    teacher.switch_page("pages/compare_runs.py").run()
    table = teacher.dataframe[0].value
    assert TEACHER_NAME in set(table["By"])
