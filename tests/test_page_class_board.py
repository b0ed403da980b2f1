"""The teacher's class board through AppTest: the teacher sees it, a student is refused, assignments reach
the students' forms, and the board reads the class's runs as one experiment.

Each ``AppTest`` is one browser session; they share one job manager (ui/state.py's cached resource, here
replaced by one on a stand-in backend that holds every job until it is stopped), as one server's sessions do.
"""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

import ui.state
from mnist_core.classroom.identity import TeacherGate, server_salt
from mnist_core.classroom.jobs import JobManager
from mnist_core.engine.config import TrainConfig
from mnist_core.lesson.steps import get_step
from mnist_core.runs.store import RunStore, update_status, write_history, write_json
from tests.figure_fonts import plotly_font_sizes
from tests.test_ownership import HeldBackend

PASSWORD = "teach-me-please"


@pytest.fixture()
def manager(runs_dir, monkeypatch):
    backend = HeldBackend()
    shared = JobManager(RunStore(runs_dir), max_concurrent=1, load_data=lambda progress: None, backend=backend,
                        teacher=TeacherGate(PASSWORD))
    monkeypatch.setattr(ui.state, "_job_manager_for", lambda folder: shared)
    monkeypatch.setenv("MNIST_DEMO_TRAIN_LIMIT", "2560")
    yield shared
    backend.closed.set()


def session(name: str) -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.run()
    assert not at.exception
    at.text_input(key="identity_name_input").input(name).run()
    return at


def teacher() -> AppTest:
    at = session("Ms T")
    at.text_input(key="identity_teacher_password").input(PASSWORD)
    at.button(key="identity_teacher_sign_in").click().run()
    assert not at.exception and any("Teacher mode" in s.value for s in at.success)
    return at


def board(at: AppTest) -> AppTest:
    at.switch_page("pages/class_board.py").run()
    assert not at.exception, at.exception
    return at


def test_the_teacher_has_the_board_and_a_students_direct_visit_is_told_it_is_the_teachers(manager):
    ada = board(session("Ada"))
    assert any("for teachers only" in e.value for e in ada.error)
    assert not ada.dataframe and not ada.get("download_button")
    ms_t = board(teacher())
    assert [t.value for t in ms_t.title] == ["Class board"] and not ms_t.error
    assert ms_t.button(key="board_assign").disabled  # nobody on the class list yet: nothing to assign to


def table_with(at: AppTest, column: str):
    """The first table on the page with ``column`` (AppTest does not expose a dataframe's key)."""
    return next(frame.value for frame in at.dataframe if column in frame.value.columns)


def open_step(at: AppTest, number: int) -> AppTest:
    at.switch_page(f"pages/step_{number}.py").run()
    assert not at.exception
    return at


def test_assigned_variants_are_preselected_in_each_students_form_and_reach_their_runs(manager, runs_dir):
    ada, bob = open_step(session("Ada"), 3), open_step(session("Bob"), 3)  # on the class list, in this order
    assert ada.number_input(key="step3_dropout").value == get_step(3).recipe.dropout
    ms_t = board(teacher())
    ms_t.selectbox(key="board_assign_step").select(3).run()
    ms_t.selectbox(key="board_assign_field").select("dropout")
    ms_t.text_input(key="board_assign_values").input("0, 0.1")
    ms_t.button(key="board_assign").click().run()
    assert not ms_t.error, [e.value for e in ms_t.error]
    ms_t.selectbox(key="board_assign_field").select("seed")
    ms_t.text_input(key="board_assign_values").input("1-30")
    ms_t.button(key="board_assign").click().run()
    table = table_with(ms_t, "seed")
    assert list(table["Student"]) == ["Ada", "Bob"] and list(table["seed"]) == ["1", "2"]

    # The forms drawn before the assignment take it on the next draw; a student's own edit then stands.
    for at, dropout, seed in ((ada, 0.0, 1), (bob, 0.1, 2)):
        open_step(at, 3)
        assert at.number_input(key="step3_dropout").value == dropout
        assert at.number_input(key="step3_seed").value == seed
        assert any("Your teacher assigned you dropout" in i.value for i in at.info)
    bob.number_input(key="step3_epochs").set_value(1)
    bob.button(key="step3_train").click().run()
    assert not bob.exception
    (run,) = RunStore(runs_dir).list()
    assert (run.status["owner_name"], run.config.dropout, run.config.seed, run.config.epochs) == ("Bob", 0.1, 2, 1)
    # Another step's form is untouched.
    assert open_step(ada, 4).number_input(key="step4_dropout").value == get_step(4).recipe.dropout

    # Ada's own change stands, across a reload too (a new session at her address); a new assignment wins once.
    open_step(ada, 3).number_input(key="step3_seed").set_value(7).run()
    again = open_step(reload(ada), 3)
    assert again.number_input(key="step3_seed").value == 7
    ms_t.text_input(key="board_assign_values").input("11-12")
    ms_t.button(key="board_assign").click().run()
    assert open_step(reload(ada), 3).number_input(key="step3_seed").value == 11


def reload(at: AppTest) -> AppTest:
    """The same browser after a reload: a new session at the same address (so the same person)."""
    again = AppTest.from_file("../app.py", default_timeout=60)
    for name in ("me", "name"):
        again.query_params[name] = at.query_params[name]
    again.run()
    assert not again.exception
    return again


def test_half_the_class_can_be_assigned_the_deskew_and_half_not(manager):
    """Step 7's lever as a class experiment: 'on off' deals the switch out in turn, and each form shows its own."""
    ada, bob = open_step(session("Ada"), 6), open_step(session("Bob"), 6)
    assert ada.selectbox(key="step6_deskew").value is False  # Step 6's recipe does not deskew
    ms_t = board(teacher())
    ms_t.selectbox(key="board_assign_step").select(6).run()
    ms_t.selectbox(key="board_assign_field").select("deskew")
    ms_t.text_input(key="board_assign_values").input("on off")
    ms_t.button(key="board_assign").click().run()
    assert not ms_t.error, [e.value for e in ms_t.error]
    assert list(table_with(ms_t, "digits deskewed")["digits deskewed"]) == ["yes", "no"]
    assert open_step(ada, 6).selectbox(key="step6_deskew").value is True
    assert open_step(bob, 6).selectbox(key="step6_deskew").value is False


def test_an_assignment_the_form_cannot_show_is_refused_with_the_reason(manager):
    open_step(session("Ada"), 4)
    ms_t = board(teacher())
    ms_t.selectbox(key="board_assign_field").select("dropout")
    ms_t.text_input(key="board_assign_values").input("0.1, 0.7")
    ms_t.button(key="board_assign").click().run()
    assert any("outside the form's range 0 to 0.5" in e.value for e in ms_t.error)
    assert any("No variant assigned for Step 4" in c.value for c in ms_t.caption)


def finished(store: RunStore, owner: str, name: str, config: TrainConfig, finals: list[float]) -> None:
    run = store.create(config, owner=owner, owner_name=name)
    history = [{"epoch": i + 1, "train_loss": 0.1, "train_acc": 97.0, "test_loss": 0.05, "test_acc": acc,
                "lr": 0.05, "seconds": 1.0} for i, acc in enumerate(finals)]
    write_history(run.path, history)
    write_json(run.path / "evaluation.json", {"test_loss": 0.05, "test_acc": finals[-1], "correct": 1, "total": 1,
                                              "confusion": [[0] * 10 for _ in range(10)]})
    update_status(run.path, state="finished", started=run.status["created"] + 3, ended=run.status["created"] + 60)


def test_the_board_shows_each_student_who_waits_the_spread_per_recipe_and_the_csv(manager, runs_dir):
    store = RunStore(runs_dir)
    server_salt(runs_dir)  # a server that has run before: its students' runs are told apart by its salt
    recipe = get_step(4).recipe.with_(epochs=1)
    for i, final in enumerate([98.0, 99.0, 99.5]):
        finished(store, f"{i:016x}", f"Student {i}", recipe.with_(seed=i + 1), [final])
    finished(store, "f" * 16, "Fay", recipe.with_(dropout=0.1), [98.2])
    ms_t = board(teacher())
    students = table_with(ms_t, "Training now")
    assert list(students["Student"]) == ["Student 0", "Student 1", "Student 2", "Fay"]
    assert "1 run · newest finished · final 99.50% · best 99.50%" in list(students["Step 4"])
    spread = table_with(ms_t, "Mean final (%)")
    assert list(spread["Runs"]) == [3, 1] and list(spread["Mean final (%)"]) == [98.83, 98.2]
    figure = json.loads(ms_t.get("plotly_chart")[0].proto.spec)
    assert [len(trace["y"]) for trace in figure["data"]] == [3, 1]
    assert not [(what, px) for what, px in plotly_font_sizes(figure) if px < 14]  # read from the back of a room
    assert ms_t.get("download_button")  # the file itself is checked in the browser journey and the core's tests
    # A student waiting now (one trains: the held backend keeps it): the board names who waits, and for how long.
    ada, bob = open_step(session("Ada"), 2), open_step(session("Bob"), 2)
    for at in (ada, bob):
        at.button(key="step2_train").click().run()
    board(ms_t)
    waiting = table_with(ms_t, "Place in queue")
    assert list(waiting["Student"]) == ["Bob"] and list(waiting["Place in queue"]) == [1]
    assert [m.value for m in ms_t.metric][1:3] == ["1", "1"]  # training now, waiting
