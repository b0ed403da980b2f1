"""Deleting runs from Compare runs: only the runs this person may manage are offered.

Everybody sees every run in the table; the delete box lists the actor's own runs (all of
them for the teacher) and goes through the job manager, which checks the owner again.
"""

from __future__ import annotations

import streamlit as st

from mnist_core.engine.identity import Actor, NotAllowed
from mnist_core.engine.runs import DamagedRun, Run

from .state import job_manager


def delete_box(runs: dict[str, Run | DamagedRun], actor: Actor, expanded: bool = False) -> None:
    """An expander to delete one of ``runs`` (label -> run, damaged ones too) that ``actor`` may delete."""
    manager = job_manager()
    deletable = {label: run for label, run in runs.items() if manager.may_manage(run.run_id, actor)}
    if not deletable:
        if runs:
            st.caption("Only a run's owner, or the teacher, can delete it: none of these runs is yours.")
        return
    title = "Delete a run" + (" (teacher: any run)" if actor.is_teacher else " of yours")
    with st.expander(title, expanded=expanded):
        victim = st.selectbox("Run", list(deletable), key="compare_delete_pick")
        sure = st.checkbox("Yes, delete this run and its files", key="compare_delete_confirm")
        if st.button("Delete", disabled=not sure, key="compare_delete"):
            try:
                manager.delete(deletable[victim].run_id, actor)
            except (NotAllowed, KeyError, ValueError) as exc:
                message = str(exc.args[0]) if exc.args else str(exc)  # KeyError's str() adds quotes
                if "still training" in message:
                    message += (" Stop it on its step's page, or with Ctrl-C where it was started from the "
                                "command line.")
                st.error(message)
                return
            st.session_state.pop("compare_delete_confirm", None)
            st.rerun()
