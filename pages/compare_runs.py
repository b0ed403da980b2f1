"""Compare runs: every shipped and user run in one table, selected runs' curves overlaid, deletion."""

import pandas as pd
import streamlit as st

from mnist_core.lesson.report import shipped_run, summarize
from mnist_core.lesson.steps import STEPS
from ui import run_views
from ui.identity import current_actor
from ui.routing import through_the_router
from ui.run_admin import delete_box
from ui.state import run_store

through_the_router(__file__)

st.title("Compare runs")

shipped = {f"shipped · Step {n}": run for n in STEPS if (run := shipped_run(n)) is not None}
yours = {run.label + f" · {run.run_id[-4:]}": run for run in run_store().list()}
all_runs = shipped | yours


def _row(label: str, run) -> dict:
    summary = summarize(run.history)
    return {
        "Run": label,
        "Step": run.config.step,
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

default = list(yours)[:1] + ["shipped · Step 4"] if "shipped · Step 4" in shipped else list(yours)[:2]
chosen = st.multiselect("Runs to overlay", list(all_runs), default=default, key="compare_pick")
if chosen:
    run_views.curves({label: all_runs[label] for label in chosen}, key="compare")

delete_box(yours, current_actor())
