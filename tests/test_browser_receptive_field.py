"""The receptive-field page in a real browser: it opens on Step 4's table with no error box, and a
screenshot of the whole page is kept in screenshots/ to look at."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import wait_for_app

pytestmark = pytest.mark.browser


def test_receptive_field_page_renders(page, app_url, screenshot_dir):
    # Streamlit scrolls inside its main block, so a full-page shot only holds the viewport: make it tall.
    page.set_viewport_size({"width": 1400, "height": 3600})
    page.goto(app_url)
    wait_for_app(page)
    page.get_by_test_id("stSidebarNav").get_by_text("Receptive field", exact=True).click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Receptive field", exact=True)).to_be_visible()
    expect(page.get_by_text("each of its outputs sees the whole 28x28 digit").first).to_be_visible()
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
    expect(page.get_by_test_id("stPlotlyChart")).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    page.wait_for_timeout(1000)  # let the grids and the chart finish drawing before the picture
    page.screenshot(path=screenshot_dir / "receptive-field.png", full_page=True)
