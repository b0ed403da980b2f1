"""The class board's journey: two students and the teacher, each in a browser of their own, on one server.

The students open Step 2 (so they are on the class list); the teacher signs in, finds the board in the
menu, assigns seeds 1-30 in turn; each student's form then shows their seed, and they train one short
epoch (2,560 images: the server fixture's demo setting); the board shows the two runs as one recipe's
spread (n = 2) and its table downloads as CSV with both runs in it.
"""

from __future__ import annotations

import csv
import re

import pytest
from playwright.sync_api import expect

from tests.conftest import _streamlit_server, start_training, visitor, wait_for_app

pytestmark = [pytest.mark.browser, pytest.mark.journey]
expect.set_options(timeout=120_000)  # a busy machine: wait for progress, generously
PASSWORD = "class-board-journey"


@pytest.fixture()
def class_url(tmp_path):
    """A server of this test's own, with a teacher password."""
    with _streamlit_server(tmp_path / "runs", MNIST_TEACHER_PASSWORD=PASSWORD) as url:
        yield url


def open_in_menu(page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    wait_for_app(page)


def choose(page, label: str, option: str) -> None:
    page.get_by_role("combobox", name=label).click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_for_app(page)


def train_step2(page, seed: int) -> None:
    """Load Step 2's page again (a page drawn before the assignment shows it from its next draw), see the
    assigned seed preselected, and train one epoch."""
    page.reload()
    wait_for_app(page)
    page.get_by_role("tab", name=re.compile("Train it yourself")).click()
    expect(page.get_by_text(f"Your teacher assigned you seed {seed}")).to_be_visible()
    expect(page.get_by_role("spinbutton", name="Seed")).to_have_value(str(seed))
    start_training(page, epochs=1)


def test_the_teacher_assigns_seeds_the_class_trains_and_the_board_shows_the_spread_and_the_csv(
        browser, class_url, screenshot_dir, tmp_path):
    people = {name: visitor(browser, class_url, name) for name in ("Ada", "Bob", "Ms T")}
    ada, bob, teacher = (people[name][1] for name in ("Ada", "Bob", "Ms T"))
    try:
        for page in (ada, bob):  # in this order onto the class list (drawing a step page puts a student there)
            open_in_menu(page, "Step 2 · BatchNorm")
            expect(page.get_by_role("heading", name=re.compile("Step 2"))).to_be_visible()
            wait_for_app(page)
            expect(page.get_by_test_id("stSidebarNav").get_by_text("Class board")).to_have_count(0)

        sidebar = teacher.get_by_test_id("stSidebar")
        sidebar.get_by_text("Teacher", exact=True).click()
        sidebar.get_by_label("Teacher password").fill(PASSWORD)
        sidebar.get_by_role("button", name="Sign in as teacher").click()
        wait_for_app(teacher)
        open_in_menu(teacher, "Class board")
        expect(teacher.get_by_role("heading", name="Class board")).to_be_visible()
        choose(teacher, "Step", "Step 2 · BatchNorm and regularisation")
        choose(teacher, "What to vary", "seed")
        teacher.get_by_role("textbox", name="Values, dealt out in turn").fill("1-30")
        teacher.get_by_role("button", name="Assign to 2 students in turn").click()
        wait_for_app(teacher)
        expect(teacher.get_by_text("Clear Step 2's assignments")).to_be_visible()

        train_step2(ada, seed=1)
        train_step2(bob, seed=2)
        for page in (ada, bob):
            expect(page.get_by_text("No run of this step is training right now.")).to_be_visible(timeout=600_000)

        # The board, open all along, takes in the runs as they start and end (no reload: that would be a new
        # session, out of teacher mode).
        chart = teacher.get_by_test_id("stPlotlyChart")
        expect(chart.get_by_text(re.compile(r"n = 2"))).to_be_visible(timeout=300_000)  # two seeds, one recipe
        wait_for_app(teacher)
        expect(teacher.get_by_text(re.compile(r"2 finished runs of Step 2 by the class, in 1 recipe"))).to_be_visible()
        teacher.screenshot(path=screenshot_dir / "class-board.png", full_page=True)
        with teacher.expect_download() as download:
            teacher.get_by_role("button", name="Download the table (CSV)").click()
        saved = tmp_path / "class-board.csv"
        download.value.save_as(saved)
        with saved.open() as table:
            rows = list(csv.DictReader(table))
        assert sorted((row["student"], row["seed"], row["step"], row["state"]) for row in rows) == [
            ("Ada", "1", "2", "finished"), ("Bob", "2", "2", "finished")]
        assert all(0 < float(row["final_test_acc"]) <= 100 for row in rows)
        for page in (ada, bob, teacher):
            expect(page.get_by_test_id("stException")).to_have_count(0)
    finally:
        for context, _ in people.values():
            context.close()
