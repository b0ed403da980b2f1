"""Shared fixtures: the real MNIST data, a temporary runs folder, and a live app server for browser tests."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote_plus

import pytest

from mnist_core.commands.watch_cost import free_loopback_port
from mnist_core.common import paths
from mnist_core.lesson import report

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def mnist():
    """The whole data set as tensors (fetched on first use, as a user would)."""
    from mnist_core.engine.data import load_mnist

    return load_mnist()


@pytest.fixture()
def runs_dir(tmp_path, monkeypatch):
    """Point the app and the core at an empty runs folder of this test's own."""
    folder = tmp_path / "runs"
    monkeypatch.setenv("MNIST_RUNS_DIR", str(folder))
    return folder


@contextlib.contextmanager
def _streamlit_server(runs_dir: Path, **settings: str):
    """``streamlit run app.py`` on loopback with its own runs folder and any more ``settings`` (environment
    variables, such as ``MNIST_TEACHER_PASSWORD``); yields the base URL once healthy."""
    port = free_loopback_port()
    env = {
        **os.environ,
        "MNIST_RUNS_DIR": str(runs_dir),
        "MNIST_DEMO_TRAIN_LIMIT": "2560",  # a "full" epoch of 2,560 images keeps browser runs short
        **settings,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port),
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("the Streamlit server did not start within 60 s")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    """One server for the whole session's browser tests."""
    with _streamlit_server(tmp_path_factory.mktemp("browser-runs")) as url:
        yield url


@pytest.fixture()
def fresh_app_url(tmp_path):
    """A server no session has visited yet, for what only a first request shows."""
    with _streamlit_server(tmp_path / "runs") as url:
        yield url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Use Debian's chromium: Playwright's own browser download is not reachable here."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"no browser at {CHROMIUM}: CI must install Debian's chromium")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
    }


def live_cards(at) -> list[dict]:
    """The data of every live card on an AppTest page (the browser draws the card; AppTest sees what it is sent)."""

    def descendants(block):
        for child in getattr(block, "children", {}).values():
            yield child
            yield from descendants(child)

    return [json.loads(el.proto.json) for el in descendants(at.main)
            if getattr(getattr(el, "proto", None), "component_name", None) == "mnist_live_card"]


def wait_for_app(page) -> None:
    """Until the current script run is over (else stale elements of the last run are still shown)."""
    from playwright.sync_api import expect

    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning", timeout=60_000)


def use_assets(monkeypatch, folder: Path) -> None:
    """Point the shipped runs' readers at ``folder`` for one test, never at the real ``assets/``.

    ``shipped_run_path`` reads ``common.paths.ASSETS_DIR`` and the report its own name for it: a test that
    moved only one of them once damaged the real shipped runs it meant to damage in a copy.
    """
    monkeypatch.setattr(paths, "ASSETS_DIR", folder)
    monkeypatch.setattr(report, "ASSETS_DIR", folder)


def open_choices(page, name: str):
    """Open a select box's list with its own Open button (a click on its input may only focus it): its options."""
    from playwright.sync_api import expect

    wait_for_app(page)  # a rerun under way would redraw the box and close its list again
    box = page.get_by_test_id("stSelectbox").filter(has=page.get_by_role("combobox", name=name))
    box.get_by_role("button", name="Open").click()
    options = page.get_by_role("option")
    try:
        expect(options.first).to_be_visible(timeout=30_000)
    except AssertionError:
        # Low on a long page (Compare runs' delete box) the list was seen to close again at once, in two CI runs
        # of three, with nothing rerunning. The keyboard opens it from the focused box, and pressing the key
        # again only moves the highlight, so this cannot close a list that is already open.
        page.get_by_role("combobox", name=name).focus()
        page.keyboard.press("ArrowDown")
        expect(options.first).to_be_visible()
    return options


@pytest.fixture()
def screenshot_dir():
    # Not under test-results/: pytest-playwright empties that folder at the start of every session.
    folder = ROOT / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.hookimpl(tryfirst=True)  # before pytest's own -m selection sees the markers
def pytest_collection_modifyitems(items):
    """Every real-browser test runs with the long journeys, in the README's second test line: on two cores
    the browsers are most of the suite's time, and the first line stays within about five minutes."""
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.journey)


def visitor(browser, url: str, name: str):
    """A browser of its own (a new context) on ``url``, with ``name`` typed into the sidebar: one person of a class."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(url)
    wait_for_app(page)
    box = page.get_by_test_id("stSidebar").get_by_role("textbox", name="Your name")
    box.fill(name)
    box.press("Enter")
    wait_for_app(page)
    expect(page).to_have_url(re.compile(rf"name={re.escape(quote_plus(name))}"), timeout=60_000)
    return context, page


def start_training(page, epochs: int) -> None:
    """On a step page's training tab: set the epochs, press Start, and wait until the page shows the run as
    this student's.

    A Start that the page never answers (the submit lost while a live panel's poll reran the page, once in
    CI) is pressed once more, and only when the page still says this student has no run: pressing twice
    for one run would queue two, and a one-epoch run may have ended already.
    """
    from playwright.sync_api import expect

    epochs_box = page.get_by_role("spinbutton", name="Epochs")
    epochs_box.fill(str(epochs))
    epochs_box.press("Tab")
    start, mine = page.get_by_role("button", name="Start training"), page.get_by_text(re.compile(r"by you: "))
    start.click()
    try:
        expect(mine.first).to_be_visible(timeout=30_000)
        return
    except AssertionError:
        wait_for_app(page)
        if page.get_by_text("Your runs of this step will appear here.").count() == 0:
            return  # the run exists (it may even have ended): the Start was not lost
    start.click()
    expect(mine.first).to_be_visible()
