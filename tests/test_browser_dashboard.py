"""The dashboard in a real browser, as a new user meets it: every page, then a live Step 2 run.

The server fixture trains on 2,560 images per epoch (MNIST_DEMO_TRAIN_LIMIT), so an
epoch takes a second or two and the whole flow stays well under a minute.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.conftest import wait_for_app

pytestmark = pytest.mark.browser

PAGES = {
    "Home": "MNIST above 99.4%",
    "Step 1 · Skeleton": "Step 1: Skeleton",
    "Step 2 · BatchNorm": "Step 2: BatchNorm",
    "Step 3 · Augmentation": "Step 3: Image augmentation",
    "Step 4 · LR schedule": "Step 4: Learning-rate schedule",
    "Step 5 · Half the parameters": "Step 5: Half the parameters",
    "Compare runs": "Compare runs",
    "Receptive field": "Receptive field",
    "Draw a digit": "Draw a digit",
    "Inside the network": "Inside the network",
}


def _open(page, url: str, link: str | None = None) -> None:
    if link is None:
        page.goto(url)
    else:
        page.get_by_test_id("stSidebarNav").get_by_text(link, exact=True).click()
    wait_for_app(page)


def test_every_page_renders_without_an_error(page, app_url, screenshot_dir):
    page.set_viewport_size({"width": 1400, "height": 1000})
    _open(page, app_url)
    for link, heading in PAGES.items():
        _open(page, app_url, link)
        expect(page.get_by_role("heading", name=re.compile(re.escape(heading)))).to_be_visible()
        expect(page.get_by_test_id("stException")).to_have_count(0)
        if link == "Home" or link.startswith("Step"):  # the shipped curves, drawn (Home's goes into the README)
            expect(page.locator(".js-plotly-plot .scatterlayer").first).to_be_visible(timeout=30_000)
        name = re.sub(r"[^a-z0-9]+", "-", link.lower()).strip("-")
        page.screenshot(path=screenshot_dir / f"page-{name}.png", full_page=True)


def test_train_step2_live_then_find_it_on_compare_after_reload(page, app_url, screenshot_dir):
    page.set_viewport_size({"width": 1400, "height": 1100})
    _open(page, app_url)
    _open(page, app_url, "Step 2 · BatchNorm")
    page.get_by_role("tab", name=re.compile("Train it yourself")).click()
    epochs = page.get_by_role("spinbutton", name="Epochs")
    epochs.fill("15")
    epochs.press("Tab")
    page.get_by_role("button", name="Start training").click()

    # The live panel: an epoch progress bar that moves, then the first point of the curves.
    progress = page.get_by_text(re.compile(r"Epoch \d+/15: batch \d+/20"))
    expect(progress.first).to_be_visible(timeout=60_000)
    first = progress.first.inner_text()
    expect(page.get_by_text(re.compile(r"Epoch \d+/15: batch \d+/20")).first).not_to_have_text(first, timeout=30_000)
    expect(page.locator(".js-plotly-plot").last).to_be_visible(timeout=60_000)
    # Wait for progress, not for a time: the next epoch begins, however busy the machine is.
    first_epoch = int(re.search(r"Epoch (\d+)/15", first).group(1))
    later = re.compile(rf"Epoch (?!{first_epoch}/)\d+/15")
    expect(page.get_by_text(later).first).to_be_visible(timeout=300_000)
    page.screenshot(path=screenshot_dir / "step2-training.png", full_page=True)

    page.get_by_role("button", name="Stop").click()
    expect(page.get_by_text(re.compile(r"Stopped after \d full epoch"))).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    page.screenshot(path=screenshot_dir / "step2-after-stop.png", full_page=True)

    page.reload()
    wait_for_app(page)
    _open(page, app_url, "Compare runs")
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible()  # the runs table (the leaderboard is below)
    # The run is preselected for the overlay, under its label.
    chosen = page.get_by_test_id("stMultiSelect").get_by_text(re.compile(r"Step 2 · seed 1 · 2,560 img/epoch"))
    expect(chosen).to_be_visible()
    page.screenshot(path=screenshot_dir / "compare-runs.png", full_page=True)


def test_a_link_to_a_page_opens_it_in_the_dashboard_even_as_a_fresh_servers_first_request(page, fresh_app_url):
    """Streamlit serves pages/ files on their own until app.py first runs; ui/routing.py sends them through it."""
    page.goto(f"{fresh_app_url}/step_3")
    expect(page.get_by_role("heading", name="Step 3: Image augmentation")).to_be_visible(timeout=60_000)
    wait_for_app(page)
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("Step 3 · Augmentation")).to_be_visible()  # the router's menu, not file names
    expect(sidebar.get_by_text("Draw a digit")).to_be_visible()
    assert urlsplit(page.url).path.endswith("/step_3")  # the query holds this browser's key (?me=, ui/identity.py)
