"""The class list and the teacher's assignments (mnist_core/classroom/assignments.py)."""

from __future__ import annotations

import json

import pytest

from mnist_core.classroom.assignments import BOOK_FILE, ClassBook, in_turn, parse_values
from mnist_core.classroom.identity import Actor, NotAllowed

ADA, BOB, CY = Actor("a" * 16, "Ada"), Actor("b" * 16, "Bob"), Actor("c" * 16, "Cy")
TEACHER = Actor("t" * 16, "Ms T", is_teacher=True)


@pytest.mark.parametrize(("name", "text", "values"), [
    ("dropout", "0, 0.05, 0.1", [0.0, 0.05, 0.1]),
    ("seed", "1-3 7", [1, 2, 3, 7]),
    ("seed", "5", [5]),
    ("activation", "relu,silu", ["relu", "silu"]),
    ("lr", "0.01 0.02", [0.01, 0.02]),
    ("deskew", "on, off", [True, False]),  # half the class deskews, half does not: Step 7's lever as an experiment
    ("deskew", "Yes no", [True, False]),
])
def test_values_are_read_as_the_teacher_types_them(name, text, values):
    assert parse_values(name, text) == values


@pytest.mark.parametrize(("name", "text", "message"), [
    ("seed", "3-1", "runs backwards"),
    ("seed", "1-100000", "more than 200"),
    ("seed", "1.5", "not a whole number"),
    ("dropout", "a lot", "not a number"),
    ("dropout", " , ", "at least one value"),
    ("momentum", "0.9", "cannot be assigned"),
    ("deskew", "on maybe", "'maybe' is not on or off"),
])
def test_values_that_cannot_be_read_say_why(name, text, message):
    with pytest.raises(ValueError, match=message):
        parse_values(name, text)


def test_values_are_dealt_out_in_turn_and_round_again():
    assert in_turn(["a", "b", "c", "d"], [0.0, 0.05, 0.1]) == {"a": 0.0, "b": 0.05, "c": 0.1, "d": 0.0}


def test_the_class_list_keeps_the_order_students_came_in_and_their_new_names(tmp_path):
    book = ClassBook(tmp_path)
    assert book.note_student(BOB, now=10) and book.note_student(ADA, now=20)
    assert not book.note_student(BOB, now=30)  # nothing new: no write
    assert not book.note_student(TEACHER, now=40)  # the teacher is no student
    assert book.note_student(Actor(ADA.owner_id, "Ada L."), now=50)
    assert [(s.name, s.first_seen) for s in ClassBook(tmp_path).students()] == [("Bob", 10), ("Ada L.", 20)]


def test_only_the_teacher_assigns_and_a_value_the_recipe_refuses_writes_nothing(tmp_path):
    book = ClassBook(tmp_path)
    with pytest.raises(NotAllowed):
        book.assign(ADA, 4, "seed", {ADA.owner_id: 3})
    with pytest.raises(ValueError, match="dropout 1.5"):
        book.assign(TEACHER, 4, "dropout", {ADA.owner_id: 0.1, BOB.owner_id: 1.5})
    assert book.assignment(ADA.owner_id, 4) == {}
    with pytest.raises(NotAllowed):
        book.clear(BOB, 4)


def test_assignments_add_up_per_step_survive_a_restart_and_clear(tmp_path):
    book = ClassBook(tmp_path)
    book.assign(TEACHER, 4, "dropout", {ADA.owner_id: 0.05, BOB.owner_id: 0.1})
    book.assign(TEACHER, 4, "seed", {ADA.owner_id: 1, BOB.owner_id: 2, CY.owner_id: 3})
    book.assign(TEACHER, 3, "seed", {ADA.owner_id: 9})
    again = ClassBook(tmp_path)  # a new server process reads the same file
    assert again.assignment(ADA.owner_id, 4) == {"dropout": 0.05, "seed": 1}
    assert again.assignment(CY.owner_id, 4) == {"seed": 3}
    assert again.assignment(ADA.owner_id, 3) == {"seed": 9}
    assert again.clear(TEACHER, 4) == 3
    assert again.assignment(ADA.owner_id, 4) == {} and again.assignment(ADA.owner_id, 3) == {"seed": 9}
    assert sorted(p.name for p in tmp_path.iterdir()) == [BOOK_FILE]  # written whole, no temporary left


def test_a_damaged_or_edited_book_offers_nothing_it_cannot_train(tmp_path):
    (tmp_path / BOOK_FILE).write_text("{not json")
    book = ClassBook(tmp_path)
    assert book.students() == [] and book.assignment(ADA.owner_id, 4) == {}
    (tmp_path / BOOK_FILE).write_text(json.dumps({"students": [], "assignments": {
        "4": {ADA.owner_id: {"dropout": 7, "seed": 2, "no_such_field": 1}, BOB.owner_id: "junk"}}}))
    assert book.assignment(ADA.owner_id, 4) == {"seed": 2}
    assert book.assignment(BOB.owner_id, 4) == {}
    book.note_student(CY)  # and the next write mends the file
    assert [s.name for s in book.students()] == ["Cy"]
