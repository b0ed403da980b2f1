"""Compare runs: every shipped and user run in one table, selected runs' curves overlaid, the parameter-accuracy
frontier with its leaderboard (ui/frontier.py), ONNX export, two runs side by side, deletion of your own runs."""

import streamlit as st

from mnist_core.lesson.report import shipped_run_problem
from mnist_core.lesson.steps import STEPS
from ui import frontier, run_views
from ui.compare_views import delete_panel, shipped_runs, show_runs_table, side_by_side, user_runs
from ui.identity import current_actor
from ui.onnx_download import onnx_download
from ui.routing import through_the_router
from ui.state import run_store

through_the_router(__file__)

st.title("Compare runs")

shipped_problems = {n: problem for n in STEPS if (problem := shipped_run_problem(n))}
shipped = shipped_runs(leave_out=shipped_problems)
your_runs, damaged = run_store().scan()
yours = user_runs(your_runs)
# The command line's studies (seeds, schedules: runs/<study>/<run>), shown and ranked, deleted on disk.
studies = {f"{run.path.parent.name}/{run.run_id} (Step {run.config.step})": run for run in run_store().study_runs()}
all_runs = shipped | yours | studies

show_runs_table(all_runs)
if not yours:
    st.caption("You have no runs yet: train a step from its page (tab *Train it yourself*).")
for number, problem in shipped_problems.items():
    run_views.shipped_problem_notice(number, problem)
if damaged:  # shown, never read further: each can be deleted below
    st.warning("These run folders cannot be read, so they are left out above:\n\n"
               + "\n".join(f"- `{run.run_id}`: damaged: {run.problem}" for run in damaged), icon=":material/report:")
deletable = yours | {run.label: run for run in damaged}

# Your newest run beside the shipped run of its step (or Step 4's when you have none).
newest = next(iter(yours), None)
partner = f"shipped · Step {yours[newest].config.step if newest else 4}"
default = [label for label in (newest, partner) if label in all_runs]
chosen = st.multiselect("Runs to overlay", list(all_runs), default=default, key="compare_pick")
if chosen:
    run_views.curves({label: all_runs[label] for label in chosen}, key="compare")

frontier.render(yours | studies)
onnx_download(all_runs, key="compare")
side_by_side(all_runs, default)
delete_panel(deletable, current_actor())  # only the runs this person may delete
