"""Issue 27: the Receptive field page said "the page's address holds this design: copy it to share", and that
address carried the sharer's secret (``me``): whoever opened it became the sharer and could stop or delete
their runs. Every link the app offers for sharing is decoded here, on every page, with a student's secret and
name in the address, and must carry neither."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from streamlit.testing.v1 import AppTest

from mnist_core.engine.design import parse_design
from mnist_core.engine.recipes import design_from_step
from ui.share import PERSONAL_PARAMS

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py"))
SECRET = "Sh4red-Secret-0f-Ada-xyz"
URL = re.compile(r"(?:https?://[^\s`'\"<>)]+|/[a-z_]+\?[^\s`'\"<>)]+)")


def offered_links(at: AppTest) -> list[str]:
    """Every address shown on the page as text to copy: code blocks, captions, markdown."""
    texts = [c.value for c in at.code] + [m.value for m in at.markdown] + [c.value for c in at.caption]
    return [link for text in texts for link in URL.findall(text) if "?" in link]


def student_at(page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["me"] = SECRET
    at.query_params["name"] = "Ada"
    at.switch_page(page).run()
    assert not at.exception
    return at


@pytest.mark.parametrize("page", PAGES)
def test_no_link_offered_on_any_page_carries_who_you_are(page, runs_dir):
    at = student_at(page)
    for link in offered_links(at):
        query = parse_qs(urlsplit(link).query)
        assert not PERSONAL_PARAMS & set(query), link
        assert SECRET not in link


def test_the_design_share_link_opens_the_design_and_nothing_of_the_sharers(runs_dir):
    at = student_at("pages/receptive_field.py")
    at.query_params["design"] = design_from_step(5).to_json()
    at.run()
    (link,) = [link for link in offered_links(at) if "design=" in link]
    query = parse_qs(urlsplit(link).query)
    assert set(query) == {"design"}
    assert urlsplit(link).path.endswith("/receptive_field")
    assert parse_design(query["design"][0]) == design_from_step(5)
    assert at.query_params["me"] == SECRET  # the student's own address keeps who they are
