"""Presentation mode: large type and projector-sized plots for a teacher, kept in the URL.

A toggle in the sidebar switches it; ``?present=1`` in the address keeps it across pages
and reloads (a teacher can bookmark the lesson in it). Plots go through ``plot`` so that
every figure grows with the mode.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from .address import kept_query, update_query
from .charts import MIN_FONT_PX, PROJECTOR_SCALE, for_projector, readable

QUERY_KEY = "present"
WIDGET_KEY = "presentation_mode"
PROJECTOR_FONT_PX = round(MIN_FONT_PX * PROJECTOR_SCALE)
STATE_KEY = "presenting"  # the mode itself: outlives the widget on a run that does not draw it

_LARGE_TYPE = """
<style>
[data-testid="stMain"] p, [data-testid="stMain"] li, [data-testid="stMain"] label,
[data-testid="stMain"] [data-testid="stMarkdownContainer"] { font-size: 1.35rem !important; line-height: 1.5; }
[data-testid="stMain"] h1 { font-size: 3.2rem !important; }
[data-testid="stMain"] h2, [data-testid="stMain"] h3 { font-size: 2.2rem !important; }
[data-testid="stMain"] [data-testid="stMetricValue"],
[data-testid="stMain"] [data-testid="stMetricValue"] * { font-size: 2.6rem !important; }
[data-testid="stMain"] [data-testid="stMetricLabel"] p { font-size: 1.2rem !important; }
[data-testid="stMain"] button p { font-size: 1.3rem !important; }
[data-testid="stMain"] input, [data-testid="stMain"] textarea,
[data-testid="stMain"] [data-baseweb="select"] div { font-size: 1.3rem !important; }
[data-testid="stMain"] table { font-size: 1.3rem !important; }
/* A data frame is drawn on a canvas that page type does not reach: zoom it whole, narrowed first so that
   the zoomed grid still fits its column. Not the designer's editable table (rf_editor_N): its cell editor
   opens as an overlay outside the zoomed element. */
[data-testid="stMain"] .stElementContainer:has([data-testid="stDataFrame"]):not([class*="st-key-rf_editor"]) {
  zoom: 1.3; width: calc(100% / 1.3) !important; }
[data-testid="stMain"] .block-container { max-width: 100%; padding-left: 2rem; padding-right: 2rem; }
</style>
"""


def presenting() -> bool:
    return bool(st.session_state.get(STATE_KEY, False))


def _toggled() -> None:
    st.session_state[STATE_KEY] = st.session_state[WIDGET_KEY]


def presentation_toggle(routed_query: dict[str, str] | None = None) -> None:
    """app.py, every run: the sidebar toggle, seeded from the URL, written back to the URL.

    ``routed_query`` is the address's query when a link to a page reached the router first (a fresh
    server's first request): the router's own run has an empty query, and the mode must come from the link.
    """
    if STATE_KEY not in st.session_state:
        asked = st.query_params.get(QUERY_KEY) or (routed_query or {}).get(QUERY_KEY)
        st.session_state[STATE_KEY] = asked == "1"
    st.session_state[WIDGET_KEY] = presenting()
    st.sidebar.toggle("Presentation mode", key=WIDGET_KEY, on_change=_toggled,
                      help="Large type and plots sized for a projector; kept in the address (?present=1).")
    update_query({QUERY_KEY: "1" if presenting() else None})
    if presenting():
        st.html(_LARGE_TYPE)


def query() -> dict[str, str]:
    """The query parameters a link or a page switch carries: the mode, and who you are (ui/address.py)."""
    return kept_query({QUERY_KEY: "1"} if presenting() else {})


def font_px() -> int:
    """The smallest text of a figure drawn outside plotly (Vega-Lite) in the current mode."""
    return PROJECTOR_FONT_PX if presenting() else MIN_FONT_PX


def plot(fig: go.Figure, key: str, config: dict | None = None) -> None:
    """``st.plotly_chart``, every text at least ``MIN_FONT_PX``, and the figure scaled for a projector in
    presentation mode. Every figure of the dashboard is drawn through here (tests/test_figure_fonts.py)."""
    st.plotly_chart(for_projector(fig) if presenting() else readable(fig), key=key, config=config)
