"""Compare runs: every shipped and user run in one table, selected runs' curves overlaid, side by side, deletion."""

import streamlit as st

from ui import run_views
from ui.compare_views import delete_panel, shipped_runs, show_runs_table, side_by_side, user_runs
from ui.routing import through_the_router

through_the_router(__file__)

st.title("Compare runs")

shipped = shipped_runs()
yours = user_runs()
all_runs = shipped | yours

show_runs_table(all_runs)
if not yours:
    st.caption("You have no runs yet: train a step from its page (tab *Train it yourself*).")

# Your newest run beside the shipped run of its step (or Step 4's when you have none).
newest = next(iter(yours), None)
partner = f"shipped · Step {yours[newest].config.step if newest else 4}"
default = [label for label in (newest, partner) if label in all_runs]
chosen = st.multiselect("Runs to overlay", list(all_runs), default=default, key="compare_pick")
if chosen:
    run_views.curves({label: all_runs[label] for label in chosen}, key="compare")

side_by_side(all_runs, default)
delete_panel(yours)
