"""Two students in two browsers on one server: neither can stop the other's run, and both finish.

Each browser context is a separate person (its own page address, so its own key). Runs are
short: epochs of 2,560 images (the server fixture's demo setting), six for Ada's, one for Bob's.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import _streamlit_server, open_choices, start_training, visitor, wait_for_app

pytestmark = [pytest.mark.browser, pytest.mark.journey]
expect.set_options(timeout=120_000)  # a busy machine: wait for progress, generously


def _start_step2(page, epochs: int) -> None:
    """Start a Step 2 run of ``epochs`` from its page and wait until the page shows it as this student's."""
    page.get_by_test_id("stSidebarNav").get_by_text("Step 2 · BatchNorm", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("Step 2"))).to_be_visible()
    wait_for_app(page)
    page.get_by_role("tab", name=re.compile("Train it yourself")).click()
    start_training(page, epochs)


@pytest.fixture()
def one_at_a_time_url(tmp_path):
    """A server of this test's own that trains one run at a time (MNIST_MAX_TRAINING_JOBS=1, as a teacher may
    set it), so the second student's run waits in the queue while the first one trains."""
    with _streamlit_server(tmp_path / "runs", MNIST_MAX_TRAINING_JOBS="1") as url:
        yield url


def test_two_students_cannot_stop_each_others_runs_and_both_finish(browser, one_at_a_time_url, screenshot_dir):
    app_url = one_at_a_time_url
    (ada_context, ada), (bob_context, bob) = visitor(browser, app_url, "Ada"), visitor(browser, app_url, "Bob")
    try:
        # Ada's run is long enough (a few epochs of 2,560 images) to still be training while Bob starts his.
        _start_step2(ada, epochs=6)
        expect(ada.get_by_text(re.compile(r"by you: (queued|loading data|training)"))).to_be_visible(timeout=60_000)
        _start_step2(bob, epochs=1)
        # Bob sees Ada's run, named, with a Stop he cannot press; his own waiting run has a live Cancel.
        expect(bob.get_by_text(re.compile(r"by Ada: (loading data|training)"))).to_be_visible()
        # (The page's own buttons: while a script runs, Streamlit's status widget shows a "Stop" too.)
        expect(bob.get_by_test_id("stButton").get_by_role("button", name="Stop")).to_be_disabled()
        expect(bob.get_by_test_id("stButton").get_by_role("button", name="Cancel")).to_be_enabled()
        bob.screenshot(path=screenshot_dir / "classroom-bob-sees-ada.png", full_page=True)
        # Ada's own Stop is live; Bob's waiting run is one line, with no button for her.
        expect(ada.get_by_text("Also waiting: Bob (place 1)")).to_be_visible()
        expect(ada.get_by_test_id("stButton").get_by_role("button", name="Stop")).to_be_enabled()
        expect(ada.get_by_test_id("stButton").get_by_role("button", name="Cancel")).to_have_count(0)
        ada.screenshot(path=screenshot_dir / "classroom-ada.png", full_page=True)
        # Both finish: each student's page offers their own finished run, and only theirs.
        for page in (ada, bob):
            expect(page.get_by_text("No run of this step is training right now.")).to_be_visible(timeout=600_000)
            page.reload()
            wait_for_app(page)
            page.get_by_role("tab", name=re.compile("Train it yourself")).click()
            mine = page.get_by_role("combobox", name="Your run")
            expect(mine).to_have_value(re.compile(r"\(finished\)$"), timeout=120_000)
            # The list holds one run, the student's own, though two have finished on this server.
            expect(open_choices(page, "Your run")).to_have_count(1)
            page.keyboard.press("Escape")
        bob.screenshot(path=screenshot_dir / "classroom-bob-finished.png", full_page=True)
        bob.get_by_test_id("stSidebarNav").get_by_text("Compare runs", exact=True).click()
        wait_for_app(bob)
        table = bob.get_by_test_id("stDataFrame").first  # the runs table (the leaderboard is the second)
        expect(table).to_be_visible()
        bob.screenshot(path=screenshot_dir / "classroom-compare.png", full_page=True)
        expect(bob.get_by_test_id("stException")).to_have_count(0)
        expect(ada.get_by_test_id("stException")).to_have_count(0)
    finally:
        ada_context.close()
        bob_context.close()
