"""The teacher in a real browser: signed in once, teacher mode survives a reload and a new tab, the address
never holds a teacher credential (a projector shows it to the room), and Sign out ends it in every tab.

Only a browser shows this: the teacher session lives in a cookie the page's script sets, which AppTest has
no way to keep between sessions.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import _streamlit_server, wait_for_app

pytestmark = pytest.mark.browser
PASSWORD = "teach-me-please"


@pytest.fixture()
def classroom_url(tmp_path):
    with _streamlit_server(tmp_path / "runs", MNIST_TEACHER_PASSWORD=PASSWORD) as url:
        yield url


def teacher_mode(page):
    return page.get_by_test_id("stSidebar").get_by_text("Teacher mode: you can stop or delete any run.")


def teacher_cookie(page, context) -> dict:
    """The teacher cookie, once the page's script has set it (polled: it follows the sign-in's rerun)."""
    for _ in range(200):
        found = [c for c in context.cookies() if c["name"] == "mnist_teacher" and c["value"]]
        if found:
            return found[0]
        page.wait_for_timeout(100)
    raise AssertionError("the page never set the teacher cookie")


def test_teacher_mode_survives_a_reload_and_a_new_tab_and_ends_with_sign_out(browser, classroom_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(classroom_url)
    wait_for_app(page)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("Teacher", exact=True).click()
    sidebar.get_by_label("Teacher password").fill(PASSWORD)
    sidebar.get_by_role("button", name="Sign in as teacher").click()
    expect(teacher_mode(page)).to_be_visible()
    cookie = teacher_cookie(page, context)
    assert cookie["sameSite"] == "Strict" and cookie["value"] not in page.url

    page.reload()
    wait_for_app(page)
    expect(teacher_mode(page)).to_be_visible()
    assert "teacher" not in page.url and PASSWORD not in page.url

    other = context.new_page()  # a new tab, opened by hand: no secret, no credential in its address
    other.goto(classroom_url + "/compare_runs")
    wait_for_app(other)
    expect(teacher_mode(other)).to_be_visible()

    other.get_by_test_id("stSidebar").get_by_role("button", name="Sign out").click()
    wait_for_app(other)
    expect(teacher_mode(other)).to_have_count(0)
    expect(other.get_by_test_id("stSidebar").get_by_label("Teacher password")).to_have_count(1)
    page.reload()  # the first tab: its session was ended on the server, and the cookie is gone
    wait_for_app(page)
    expect(teacher_mode(page)).to_have_count(0)
    assert not [c for c in context.cookies() if c["name"] == "mnist_teacher" and c["value"]]
    assert re.search(r"[?&]me=", page.url)  # the student's own key is still there: only teacher mode ended
    context.close()
