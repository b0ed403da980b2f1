"""A class on one server, through AppTest: two students and a teacher share one JobManager.

Each ``AppTest`` is one browser session; they share the process-level job manager (the
``st.cache_resource`` in ui/state.py), as the sessions of one server do. Jobs run on a
stand-in backend that holds them until stopped, so what is asserted is whose buttons
work, not how fast anything trains.
"""

from __future__ import annotations

import time

import pytest
from streamlit.testing.v1 import AppTest

from mnist_core.classroom import jobs
from mnist_core.classroom.identity import Actor, NotAllowed
from mnist_core.engine.config import TrainConfig
from mnist_core.runs.store import RunStore
from tests.test_ownership import HeldBackend

PASSWORD = "teach-me-please"


@pytest.fixture()
def held(runs_dir, monkeypatch):
    backend = HeldBackend()
    monkeypatch.setattr(jobs, "backend_from_env", lambda **_: backend)
    monkeypatch.setenv("MNIST_TEACHER_PASSWORD", PASSWORD)
    monkeypatch.setenv("MNIST_DEMO_TRAIN_LIMIT", "2560")
    monkeypatch.setattr(jobs.JobManager.__init__, "__defaults__", (None, lambda progress: None, None, None, None))
    yield backend
    backend.closed.set()


def held_manager(runs_dir) -> jobs.JobManager:
    """The job manager the sessions share (the cached resource of ui/state.py)."""
    from ui.state import _job_manager_for

    return _job_manager_for(str(runs_dir.resolve()))


def student(name: str | None = None, secret: str | None = None) -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=60)
    if secret:
        at.query_params["me"] = secret
    at.run()
    assert not at.exception
    if name:
        at.text_input(key="identity_name_input").input(name).run()
    return at


def sign_in_as_teacher(at: AppTest, password: str) -> None:
    """Type into the sidebar's teacher form and press its button (one submit, as a browser sends it)."""
    at.text_input(key="identity_teacher_password").input(password)
    at.button(key="identity_teacher_sign_in").click().run()
    assert not at.exception


def start_step2(at: AppTest) -> None:
    at.switch_page("pages/step_2.py").run()
    at.button(key="step2_train").click().run()
    assert not at.exception


def wait_for(condition, what: str, limit: float = 60) -> None:
    deadline = time.time() + limit
    while not condition():
        assert time.time() < deadline, what
        time.sleep(0.05)


@pytest.mark.journey  # several people (or a whole run) through the app: the second test line
def test_two_students_cannot_touch_each_others_runs_and_the_teacher_can(held, runs_dir):
    ada, bob = student("Ada"), student("Bob")
    assert ada.query_params["me"] != bob.query_params["me"]  # each browser its own secret
    start_step2(ada)
    wait_for(lambda: held.started, "Ada's run never started")
    start_step2(bob)
    store = RunStore(runs_dir)
    runs = {run.status["owner_name"]: run for run in store.list()}
    assert set(runs) == {"Ada", "Bob"}
    assert all(ada.query_params["me"] not in str(run.status) for run in store.list())  # no secret on disk
    ada_run, bob_run = runs["Ada"].run_id, runs["Bob"].run_id

    bob.run()
    assert bob.button(key=f"step2_stop_{ada_run}").disabled  # Ada's run, seen by Bob: no live Stop
    assert not bob.button(key=f"step2_stop_{bob_run}").disabled  # his own waiting run: Cancel
    ada.run()
    assert not ada.button(key=f"step2_stop_{ada_run}").disabled
    assert any("Also waiting: Bob (place 1)" in c.value for c in ada.caption)
    # Behind the disabled button the core says no too (a forged request gets no further).
    manager = held_manager(runs_dir)
    bob_actor = manager.job(bob_run).owner
    with pytest.raises(NotAllowed):
        manager.stop(ada_run, Actor(bob_actor, "Bob"))
    assert store.get(ada_run).state == "running"

    # Compare runs: both runs listed with their makers; Bob may delete only his own.
    bob.switch_page("pages/compare_runs.py").run()
    table = bob.dataframe[0].value
    assert {"Ada", "Bob"} <= set(table["By"])
    assert all("Ada" not in option for option in bob.selectbox(key="compare_delete_pick").options)

    # A reload (a new session with the same address) is still Ada, and still owns her run.
    again = student(secret=ada.query_params["me"])
    again.switch_page("pages/step_2.py").run()
    assert not again.button(key=f"step2_stop_{ada_run}").disabled

    # The teacher: a wrong password is refused, the right one gives every Stop and the queue.
    sign_in_as_teacher(bob, "guess")
    assert any("Wrong password" in e.value for e in bob.error)
    sign_in_as_teacher(bob, PASSWORD)
    assert any("Teacher mode" in s.value for s in bob.success), [e.value for e in bob.error]
    bob.switch_page("pages/step_2.py").run()
    bob.button(key=f"step2_stop_{ada_run}").click().run()
    assert not bob.exception
    wait_for(lambda: store.get(ada_run).state == "stopped", "the teacher's Stop did not reach Ada's run")


@pytest.mark.journey  # several people (or a whole run) through the app: the second test line
def test_the_limit_per_student_shows_why_the_next_start_waits(held, runs_dir, monkeypatch):
    monkeypatch.setenv("MNIST_MAX_ACTIVE_PER_STUDENT", "2")
    ada = student("Ada")
    for _ in range(3):
        start_step2(ada)
    assert len(RunStore(runs_dir).list()) == 2
    assert any("the most one student may have" in w.value for w in ada.warning)


def test_a_wrong_password_loop_beside_the_teacher_never_keeps_the_teacher_out(held):
    """Issue 27: the lock was the server's, so one student's wrong try whenever a lock ended kept the right
    password refused indefinitely. Now each wrong try slows only the browser that made it."""
    mallory = student("Mallory")
    for attempt in range(8):
        sign_in_as_teacher(mallory, f"guess {attempt}")
        teacher = student("Ms Lee")  # the teacher, in a browser of their own, at any moment of the loop
        sign_in_as_teacher(teacher, PASSWORD)
        assert any("Teacher mode" in s.value for s in teacher.success), [e.value for e in teacher.error]
    assert any("this browser may try again in" in e.value or "try again in" in e.value for e in mallory.error)
    sign_in_as_teacher(mallory, PASSWORD)  # the guesser's own browser is locked, the right password or not
    assert not [s for s in mallory.success if "Teacher mode" in s.value]


def test_the_printed_one_time_link_signs_in_once_and_leaves_the_address(held, runs_dir):
    teacher = student("Ms Lee")  # its first page printed a link; the server's console shows the latest
    token = held_manager(runs_dir).teacher.new_link_token()
    teacher.query_params["teacher"] = token
    teacher.run()
    assert not teacher.exception
    assert any("Teacher mode" in s.value for s in teacher.success)
    assert "teacher" not in teacher.query_params  # no credential left in the address a projector shows
    again = student("Mallory")
    again.query_params["teacher"] = token  # the same link a second time
    again.run()
    assert not [s for s in again.success if "Teacher mode" in s.value]


def test_sign_out_ends_teacher_mode_and_its_session(held, runs_dir):
    teacher = student("Ms Lee")
    sign_in_as_teacher(teacher, PASSWORD)
    token = teacher.session_state["identity_teacher_session"]
    assert held_manager(runs_dir).teacher.session_valid(token)
    teacher.button(key="identity_teacher_leave").click().run()
    assert not teacher.exception
    assert not [s for s in teacher.success if "Teacher mode" in s.value]
    assert not held_manager(runs_dir).teacher.session_valid(token)  # every other tab holding it is out too


def test_an_operator_configured_login_is_the_identity(held, runs_dir):
    """Where st.login is set up, the signed-in account owns the runs, on any browser it signs in from."""
    def signed_in() -> AppTest:
        at = AppTest.from_file("../app.py", default_timeout=60)
        at.user = {"is_logged_in": True, "email": "ada@school.example", "name": "Ada L.", "sub": "idp|123"}
        at.run()
        assert not at.exception
        return at

    laptop, tablet = signed_in(), signed_in()
    assert any(r"Signed in as **Ada L\.**" in m.value for m in laptop.sidebar.markdown)  # plain text: escaped
    assert "identity_name_input" not in [t.key for t in laptop.text_input]  # the provider gave the name
    start_step2(laptop)
    run = RunStore(runs_dir).list()[0]
    assert run.status["owner_name"] == "Ada L."
    tablet.switch_page("pages/step_2.py").run()
    assert not tablet.button(key=f"step2_stop_{run.run_id}").disabled  # same account, other browser


def test_login_identity_needs_a_signed_in_subject():
    from ui.identity import login_identity

    salt = b"s" * 32
    assert login_identity({"is_logged_in": False, "email": "x@y"}, salt) is None
    assert login_identity({"is_logged_in": True}, salt) is None
    owner, name = login_identity({"is_logged_in": True, "email": "x@y"}, salt)
    assert name == "x@y" and owner == login_identity({"is_logged_in": True, "email": "x@y", "name": "X"}, salt)[0]


def test_a_command_line_study_appears_on_compare_runs_and_on_the_frontier(held, runs_dir):
    """``seeds`` keeps its runs one folder down (runs/step2-seeds/...): listed like any other, by the command line."""
    from tests.test_frontier import make_run

    study = RunStore(runs_dir / "step2-seeds")
    run = make_run(study, TrainConfig(step=2, epochs=2), [98.1, 98.7], 6_000)
    ada = student("Ada")
    ada.switch_page("pages/compare_runs.py").run()
    assert not ada.exception
    table = ada.dataframe[0].value
    row = table[table["Run"].str.startswith(f"step2-seeds/{run.run_id}")]
    assert list(row["By"]) == ["command line"] and list(row["Final test %"]) == ["98.70"]
    assert any(f"step2-seeds/{run.run_id}" in option for option in ada.multiselect(key="compare_pick").options)
