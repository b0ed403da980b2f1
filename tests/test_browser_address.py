"""The issue's own walk in a real browser: a student in presentation mode opens Inside the network from the
sidebar and reloads; the address still says who they are and keeps presentation mode (issue 29: it became
/inside_network?step=4&test_index=0, and the reload made them somebody else with presentation mode off).
Streamlit clears the query when the sidebar switches pages, which AppTest does not play."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from tests.conftest import wait_for_app

pytestmark = pytest.mark.browser
SECRET = "browser-student-secret-0123456789"


def query(page) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlparse(page.url).query).items()}


def test_the_sidebar_walk_to_inside_the_network_and_a_reload_keep_me_and_presentation_mode(page, app_url):
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{app_url}/step_3?present=1&me={SECRET}")
    wait_for_app(page)
    page.get_by_test_id("stSidebarNav").get_by_text("Inside the network").click()
    expect(page.get_by_role("heading", name="Inside the network")).to_be_visible(timeout=120_000)
    wait_for_app(page)
    shown = query(page)
    assert shown.get("me") == SECRET and shown.get("present") == "1", page.url
    page.reload()
    expect(page.get_by_role("heading", name="Inside the network")).to_be_visible(timeout=120_000)
    wait_for_app(page)
    again = query(page)
    assert again.get("me") == SECRET and again.get("present") == "1", page.url
    toggle = page.get_by_test_id("stSidebar").locator("input[type=checkbox]").first  # the mode's toggle
    expect(toggle).to_be_checked()
