"""In a class, lists of runs say whose each run is: your own as "Your run", a classmate's under their name.

Issue 29: signed in as a second student, Draw a digit offered the first student's run as "Your run · …",
and Inside the network's "Your finished run" listed it too. Two students' finished runs are put on disk
(copies of a shipped run, each with its owner), and each page is opened as the second student.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mnist_core.classroom import identity
from mnist_core.lesson.report import shipped_run

ROOT = Path(__file__).resolve().parent.parent
ADA, BOB = "ada-secret-0123456789abcdef", "bob-secret-0123456789abcdef"


@pytest.fixture()
def two_students_runs(runs_dir, monkeypatch):
    """Ada's and Bob's finished Step 3 runs; a teacher password is set, as in a classroom."""
    monkeypatch.setenv("MNIST_TEACHER_PASSWORD", "teach-me-please")
    runs_dir.mkdir(parents=True, exist_ok=True)
    salt = identity.server_salt(runs_dir.resolve())
    for name, secret, run_id in (("Ada", ADA, "20260101-000000-step3-aaaa"),
                                 ("Bob", BOB, "20260101-000100-step3-bbbb")):
        target = runs_dir / run_id
        shutil.copytree(shipped_run(3).path, target)
        status = json.loads((target / "status.json").read_text())
        status |= {"label": f"Step 3 · {name}'s try", "created": 1.0, "owner": identity.owner_id(secret, salt),
                   "owner_name": name}
        (target / "status.json").write_text(json.dumps(status))


def open_as(secret: str, page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["me"] = secret
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def test_draw_a_digit_names_your_run_yours_and_a_classmates_by_their_name(two_students_runs):
    models = open_as(BOB, "pages/draw_digit.py").selectbox(key="draw_model").options
    runs = [m for m in models if "try" in m]
    assert runs == ["Your run · Step 3 · Bob's try", "Ada's run · Step 3 · Ada's try"]  # yours first


def test_inside_the_network_offers_every_finished_run_under_its_owners_name(two_students_runs):
    at = open_as(BOB, "pages/inside_network.py")
    at.radio(key="inside_model_kind").set_value("A finished run").run()
    assert not at.exception
    assert at.selectbox(key="inside_run").options == ["Your run · Step 3 · Bob's try",
                                                      "Ada's run · Step 3 · Ada's try"]
