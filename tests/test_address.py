"""Every page keeps who you are (``me``) and presentation mode (``present``) in its address, through a reload.

Inside the network used to rebuild the address from its own keys alone (issue 29): a reload then made
the student somebody else and turned presentation mode off. Each page is opened with both set, and
then "reloaded": a new session opened on the address the first one left.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
SECRET = "student-one-secret-0123456789"
PAGES = re.findall(r'st\.Page\("(pages/[a-z_0-9]+\.py)"', (ROOT / "app.py").read_text())


def open_at(page: str, query: dict[str, str]) -> AppTest:
    """A new browser session opened on ``page`` with ``query`` in its address (a reload, or a bookmark)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params.update(query)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def test_every_page_of_the_router_is_walked():
    assert len(PAGES) == 13 and {"pages/inside_network.py", "pages/class_board.py"} <= set(PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_a_page_keeps_who_you_are_and_presentation_mode_through_a_reload(runs_dir, page):
    first = open_at(page, {"me": SECRET, "present": "1"})
    assert first.query_params.get("me") == SECRET and first.query_params.get("present") == "1", first.query_params
    reloaded = open_at(page, dict(first.query_params))
    assert reloaded.session_state["identity_secret"] == SECRET  # the same student, so the same runs
    assert reloaded.session_state["presenting"] is True
    assert reloaded.query_params.get("me") == SECRET and reloaded.query_params.get("present") == "1"
