"""Compare runs: every shipped and user run in one table, selected runs' curves overlaid, the parameter-accuracy
frontier with its leaderboard (ui/frontier.py), ONNX export, deletion of your own runs (ui/run_admin.py)."""

import pandas as pd
import streamlit as st

from mnist_core.lesson.report import shipped_run, shipped_run_problem, summarize
from mnist_core.lesson.steps import STEPS
from ui import frontier, run_views
from ui.identity import current_actor
from ui.onnx_download import onnx_download
from ui.routing import through_the_router
from ui.run_admin import delete_box
from ui.state import run_store

through_the_router(__file__)

st.title("Compare runs")

shipped_problems = {n: problem for n in STEPS if (problem := shipped_run_problem(n))}
shipped = {f"shipped · Step {n}": run for n in STEPS
           if n not in shipped_problems and (run := shipped_run(n)) is not None}
your_runs, damaged = run_store().scan()
yours = {run.label + f" · {run.run_id[-4:]}": run for run in your_runs}
# The command line's studies (seeds, schedules: runs/<study>/<run>), shown and ranked, deleted on disk.
studies = {f"{run.path.parent.name}/{run.run_id} (Step {run.config.step})": run for run in run_store().study_runs()}
all_runs = shipped | yours | studies


def _row(label: str, run) -> dict:
    summary = summarize(run.history)
    return {
        "Run": label,
        "Step": f"design ({run.config.step}'s recipe)" if run.config.design else str(run.config.step),
        "Params": run.status.get("params"),
        "Epochs": f"{len(run.history)}/{run.config.epochs}",
        "Best test %": round(summary.best_test_acc, 2) if summary else None,
        "Final test %": round(summary.final_test_acc, 2) if summary else None,
        "s / epoch": round(summary.seconds_per_epoch, 1) if summary else None,
        "Device": run.status.get("device", ""),
        "Status": run.state,
        "By": "shipped" if label.startswith("shipped") else (run.status.get("owner_name") or "command line"),
    }


st.dataframe(pd.DataFrame([_row(label, run) for label, run in all_runs.items()]), hide_index=True,
             column_config={"Params": st.column_config.NumberColumn(format="%d")})
if not yours:
    st.caption("You have no runs yet: train a step from its page (tab *Train it yourself*).")
for number, problem in shipped_problems.items():
    run_views.shipped_problem_notice(number, problem)
if damaged:  # shown, never read further: each can be deleted below
    st.warning("These run folders cannot be read, so they are left out above:\n\n"
               + "\n".join(f"- `{run.run_id}`: damaged: {run.problem}" for run in damaged), icon=":material/report:")
deletable = yours | {run.label: run for run in damaged}

default = list(yours)[:1] + ["shipped · Step 4"] if "shipped · Step 4" in shipped else list(yours)[:2]
chosen = st.multiselect("Runs to overlay", list(all_runs), default=default, key="compare_pick")
if chosen:
    run_views.curves({label: all_runs[label] for label in chosen}, key="compare")

frontier.render(yours | studies)
onnx_download(all_runs, key="compare")

delete_box(deletable, current_actor(), expanded=bool(damaged))  # only runs this person may delete
