"""Compare runs: every shipped and user run in one table, selected runs' curves overlaid, the parameter-accuracy
frontier with its leaderboard (ui/frontier.py), ONNX export, deletion."""

import pandas as pd
import streamlit as st

from mnist_core.lesson.report import shipped_run, shipped_run_problem, summarize
from mnist_core.lesson.steps import STEPS
from ui import frontier, run_views
from ui.onnx_download import onnx_download
from ui.routing import through_the_router
from ui.state import run_store

through_the_router(__file__)

st.title("Compare runs")

shipped_problems = {n: problem for n in STEPS if (problem := shipped_run_problem(n))}
shipped = {f"shipped · Step {n}": run for n in STEPS
           if n not in shipped_problems and (run := shipped_run(n)) is not None}
your_runs, damaged = run_store().scan()
yours = {run.label + f" · {run.run_id[-4:]}": run for run in your_runs}
all_runs = shipped | yours


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

frontier.render(yours)
onnx_download(all_runs, key="compare")

if deletable:
    with st.expander("Delete a run", expanded=bool(damaged)):
        victim = st.selectbox("Run", list(deletable), key="compare_delete_pick")
        sure = st.checkbox("Yes, delete this run and its files", key="compare_delete_confirm")
        if st.button("Delete", disabled=not sure, key="compare_delete"):
            run = deletable[victim]
            if run.state in ("queued", "running"):
                st.error("This run is still training (its process stamped it seconds ago): stop it first, on its "
                         "step's page, or with Ctrl-C where it was started from the command line.")
            else:
                run_store().delete(run.run_id)
                st.session_state.pop("compare_delete_confirm", None)
                st.rerun()
