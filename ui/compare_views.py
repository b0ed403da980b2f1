"""Compare runs, piece by piece: the table of runs, two runs side by side, and deleting a run.

Every user run is named by ``run_label`` (when it started, what differs from its step's
recipe), so two runs of one step are told apart, and the table says who made each (*By*).
Deleting offers only the runs this person may manage (their own; every run for the teacher),
goes through the job manager, which checks the owner again, and asks for a confirmation that
belongs to the one run chosen: choosing another run asks again.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from mnist_core.classroom.identity import Actor, NotAllowed, default_name
from mnist_core.classroom.names import TEACHER_NAME, reserved
from mnist_core.lesson.report import shipped_run, summarize, test_set_words
from mnist_core.lesson.run_labels import differing_fields, field_name, format_value, run_label, unique_labels
from mnist_core.lesson.steps import STEPS
from mnist_core.runs.store import DamagedRun, Run

from . import run_views
from .state import job_manager

NO_FIGURE = "—"
RUN_COLUMN_PX = 430  # wide enough for "Step 2 · 06 Dec 13:20:31 · 2 epochs, 2,560 img/epoch" in presentation type
_DELETED = "compare_deleted_message"
_PICK = "compare_delete_pick"
_CONFIRM = "compare_delete_confirm"
_CONFIRMED_RUN = "compare_delete_confirmed_run"  # the run that was chosen when the box was ticked


def shipped_runs(leave_out=()) -> dict[str, Run]:
    """The shipped runs by label, less the steps in ``leave_out`` (damaged or unfinished ones)."""
    return {f"shipped · Step {n}": run for n in STEPS
            if n not in leave_out and (run := shipped_run(n)) is not None}


def user_runs(found: list[Run]) -> dict[str, Run]:
    """label -> run, newest first; labels are unique (a clash gets the run id's tail)."""
    names = unique_labels(found, lambda run: run_label(run.config, run.status))
    return {names[run.run_id]: run for run in found}


def _number(value: float | None, digits: int) -> str:
    return NO_FIGURE if value is None else f"{value:,.{digits}f}"


def made_by(status: dict) -> str:
    """Who made a run, as the By column says it: the teacher only where the server marked it so."""
    if status.get("by_teacher"):
        return TEACHER_NAME
    name, owner = status.get("owner_name") or "", status.get("owner") or ""
    if name and not reserved(name):  # an older run whose student typed "Teacher" is shown by its owner id
        return name
    return default_name(owner) if owner else "command line"


def runs_table(runs: dict[str, Run]) -> pd.DataFrame:
    """One row per run, every cell text as a person reads it: separators, two decimals, a dash when empty."""
    rows = []
    for label, run in runs.items():
        summary = summarize(run.history)
        params = run.status.get("params")
        rows.append({  # what a class reads first on the left (whose run, how it ended); the rest scrolls
            "Run": label,
            "By": "shipped" if label.startswith("shipped") else made_by(run.status),
            "Status": run.state,
            "Final test %": _number(summary.final_test_acc if summary else None, 2),
            "Best test %": _number(summary.best_test_acc if summary else None, 2),
            "Params": NO_FIGURE if params is None else f"{params:,}",
            "Epochs": f"{len(run.history)}/{run.config.epochs}",
            "Test images": format_value("test_limit", run.config.test_limit),
            "s / epoch": _number(summary.seconds_per_epoch if summary else None, 1),
            "Step": f"design ({run.config.step}'s recipe)" if run.config.design else str(run.config.step),
            "Device": run.status.get("device") or NO_FIGURE,
        })
    return pd.DataFrame(rows)


def show_runs_table(runs: dict[str, Run]) -> None:
    right = {column: st.column_config.TextColumn(alignment="right")
             for column in ("Params", "Best test %", "Final test %", "s / epoch", "Test images")}
    # The run's whole name: cut to the column's default width, two runs read alike ("Step 2 · 06 Dec 13:2").
    run_column = {"Run": st.column_config.TextColumn(width=RUN_COLUMN_PX, pinned=True)}
    st.dataframe(runs_table(runs), hide_index=True, column_config=right | run_column, key="compare_table")


def differing_recipe_table(runs: dict[str, Run]) -> pd.DataFrame:
    """The recipe values on which the given runs differ: one row per value, one column per run."""
    names = differing_fields([run.config for run in runs.values()])
    return pd.DataFrame([{"Setting": field_name(name),
                          **{label: format_value(name, getattr(run.config, name)) for label, run in runs.items()}}
                         for name in names])


def side_by_side(all_runs: dict[str, Run], default: list[str]) -> None:
    """Two chosen runs' confusion matrices and mistakes next to each other, and how their recipes differ."""
    st.subheader("Two runs side by side")
    labels = list(all_runs)
    if len(labels) < 2:
        st.caption("Side by side needs two runs.")
        return
    first, second = (default + [x for x in labels if x not in default])[:2]
    pick_left, pick_right = st.columns(2, gap="large")
    a = pick_left.selectbox("Left", labels, index=labels.index(first), key="compare_side_a")
    b = pick_right.selectbox("Right", labels, index=labels.index(second), key="compare_side_b")
    chosen = {a: all_runs[a], b: all_runs[b]} if a != b else {a: all_runs[a]}
    table = differing_recipe_table(chosen)
    # Above the galleries, right under the choice: below both mistake galleries it went unseen.
    if a == b:
        st.caption("The same run on both sides.")
    elif table.empty:
        st.caption("Their recipes are the same: any difference comes from where and when they ran.")
    else:
        st.markdown("**Where their recipes differ**")
        st.dataframe(table, hide_index=True, key="compare_side_recipe")
    left, right = st.columns(2, gap="large")
    for column, (label, run) in zip((left, right), ((a, all_runs[a]), (b, all_runs[b])), strict=True):
        with column:
            st.markdown(f"**{label}**")
            if run.history:
                st.caption(f"Scored on {test_set_words(run.config)}.")
            run_views.confusion(run, key=f"compare_side_{'ab'[column is right]}")
            run_views.mistakes(run, key=f"compare_side_{'ab'[column is right]}_mistakes")


def _note_the_ticked_run() -> None:
    """Which run the tick was given for. A callback sees the whole request it came with, so a tick sent
    together with a new choice of run (a quick hand, a busy server) belongs to the run then shown."""
    st.session_state[_CONFIRMED_RUN] = st.session_state.get(_PICK) if st.session_state.get(_CONFIRM) else None


def delete_panel(runs: dict[str, Run | DamagedRun], actor: Actor) -> None:
    """Delete one of ``runs`` (damaged folders included) that ``actor`` may delete, after a confirmation that
    belongs to that run alone."""
    st.subheader("Delete a run")
    manager = job_manager()
    deletable = {label: run for label, run in runs.items() if manager.may_manage(run.run_id, actor)}
    deleted = st.session_state.pop(_DELETED, None)
    if deleted:
        st.success(f"Deleted: {deleted}.", icon=":material/delete:")
        # Say which run the box holds now: a widget keeps its key, so the browser would go on showing the
        # deleted run's name if its value were merely dropped.
        if deletable:
            st.session_state[_PICK] = next(iter(deletable))
    if not deletable:
        st.caption("Only a run's owner, or the teacher, can delete it: none of these runs is yours." if runs
                   else "You have no runs to delete.")
        return
    if actor.is_teacher:
        st.caption("Teacher: every run is offered.")
    # One confirmation box, and a tick counts only for the run it was given for: choosing another run,
    # or deleting this one, draws the box unticked (by setting its value, which the browser is sent).
    # Unticking whenever the choice changed lost a tick that reached the server in one request with the
    # choice (seen in CI); a box keyed by run id lost one given before the choice's rerun came back.
    victim = st.selectbox("Run to delete", list(deletable), key=_PICK)
    if st.session_state.get(_CONFIRM) and st.session_state.get(_CONFIRMED_RUN) != victim:
        st.session_state[_CONFIRM] = False
    run = deletable[victim]
    sure = st.checkbox("Yes, delete this run and its files", key=_CONFIRM, on_change=_note_the_ticked_run)
    if st.button("Delete", disabled=not sure, key="compare_delete", icon=":material/delete:"):
        try:
            manager.delete(run.run_id, actor)
        except (NotAllowed, KeyError, ValueError, OSError) as exc:
            message = str(exc.args[0]) if exc.args else str(exc)  # KeyError's str() adds quotes
            if "still training" in message:
                message += (" Stop it on its step's page, or with Ctrl-C where it was started from the "
                            "command line.")
            st.error(message)
            return
        st.session_state[_CONFIRMED_RUN] = None  # the next run asks again
        st.session_state[_DELETED] = victim
        st.rerun()
