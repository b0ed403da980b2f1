"""The dashboard's router: every page is listed here, in the order of the lesson."""

from pathlib import Path

import streamlit as st

from ui.identity import current_actor, identity_sidebar
from ui.presentation import presentation_toggle
from ui.routing import mark_routed, page_wanted, query_wanted

# The tab's icon ships with the app: a ":material/..." icon is fetched by every browser from a font server on
# the internet, which fails in an offline classroom (and a school may not want its pupils' browsers calling out).
FAVICON = Path(__file__).resolve().parent / "static" / "favicon.png"  # wherever the server was started from
st.set_page_config(page_title="MNIST in under 10k parameters", page_icon=str(FAVICON), layout="wide")

# The class board is the teacher's: listed only in teacher mode; its address tells anybody else so (not "not found").
board_shown = "visible" if current_actor().is_teacher else "hidden"
pages = {
    "The lesson": [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/step_1.py", title="Step 1 · Skeleton", icon=":material/looks_one:"),
        st.Page("pages/step_2.py", title="Step 2 · BatchNorm", icon=":material/looks_two:"),
        st.Page("pages/step_3.py", title="Step 3 · Augmentation", icon=":material/looks_3:"),
        st.Page("pages/step_4.py", title="Step 4 · LR schedule", icon=":material/looks_4:"),
        st.Page("pages/step_5.py", title="Step 5 · Half the parameters", icon=":material/looks_5:"),
        st.Page("pages/step_6.py", title="Step 6 · Under 3,000 parameters", icon=":material/looks_6:"),
        st.Page("pages/step_7.py", title="Step 7 · Under 2,000 parameters", icon=":material/filter_7:"),
    ],
    "Tools": [
        st.Page("pages/compare_runs.py", title="Compare runs", icon=":material/stacked_line_chart:"),
        st.Page("pages/receptive_field.py", title="Receptive field", icon=":material/center_focus_strong:"),
        st.Page("pages/draw_digit.py", title="Draw a digit", icon=":material/draw:"),
        st.Page("pages/inside_network.py", title="Inside the network", icon=":material/layers:"),
        st.Page("pages/class_board.py", title="Class board", icon=":material/groups:", visibility=board_shown),
    ],
}
mark_routed()
# Expanded: past 12 pages Streamlit folds the menu behind "View more", which hid the teacher's class board
# (the last of 13) and would make a class hunt for the tools.
page = st.navigation(pages, expanded=True)
# The page a link asked for before the router first ran, with its ?query (see ui/routing.py): read first,
# so that a bookmarked ?present=1 turns presentation mode on in this very run.
wanted, wanted_query = page_wanted(), query_wanted()
presentation_toggle(wanted_query)  # after the menu, so the toggle sits under it; before the page, for its styles
identity_sidebar()  # who is at this browser, on every page (ui/identity.py)
if wanted is not None:
    st.switch_page(wanted, query_params=wanted_query)
page.run()
