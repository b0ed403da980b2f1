"""No text on any figure of any page is under 14 px, in normal and in presentation mode (issue 29).

Every page of the router is opened in both modes (Inside the network in each of its sections, Draw a
digit with a drawing, the step pages with all their tabs), and every plotly and Vega-Lite figure's
font sizes are read from what the page sends (tests/figure_fonts.py). On the old code the frontier's
ticks were 12 px and its budget notes 11 px, the receptive-field plot's 12 px, Inside the network's
channel numbers 10 px and most of its axes and colour bars 12 px (Streamlit's theme size).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.figure_fonts import plotly_font_sizes, vega_font_sizes
from tests.test_address import PAGES
from tests.test_inference import SEVEN, canvas_drawing
from tests.test_page_draw_digit import _canvas_state

ROOT = Path(__file__).resolve().parent.parent
MIN_PX = 14
INSIDE_SECTIONS = ("Feature maps", "Pick a unit", "Filters", "Read-out", "Where it looks", "Where the classes separate")


def small_texts(at: AppTest, where: str) -> list[str]:
    found = []
    for chart in at.get("plotly_chart"):
        found += [f"{where}: {what} {px} px" for what, px in plotly_font_sizes(json.loads(chart.proto.spec))
                  if px < MIN_PX]
    for chart in at.get("vega_lite_chart"):
        found += [f"{where}: vega {what} {px} px" for what, px in vega_font_sizes(json.loads(chart.proto.spec))
                  if px < MIN_PX]
    return found


def figures(at: AppTest) -> int:
    return len(at.get("plotly_chart")) + len(at.get("vega_lite_chart"))


# The class board draws its figure only for the signed-in teacher with finished runs on the server:
# tests/test_page_class_board.py reads that figure's fonts.
@pytest.mark.parametrize("present", ["0", "1"])
@pytest.mark.parametrize("page", [page for page in PAGES if page != "pages/class_board.py"])
def test_no_figure_text_is_under_14_px(runs_dir, mnist, page, present):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["present"] = present
    if page == "pages/draw_digit.py":
        at.session_state["draw_canvas_0"] = _canvas_state(canvas_drawing(SEVEN, 150, 140, 110))
    at.switch_page(page).run()
    assert not at.exception, at.exception
    small, seen = small_texts(at, page), figures(at)
    if page == "pages/inside_network.py":
        for section in INSIDE_SECTIONS:
            at.segmented_control(key="inside_section").set_value(section).run()
            assert not at.exception, at.exception
            small += small_texts(at, section)
            seen += figures(at)
    assert seen, "no figure on the page: nothing was checked"
    assert not small, "\n".join(small)
