"""The teacher's class board, drawn: the class now, the class as one experiment, every run, assignments.

The numbers come from mnist_core/classroom/class_board.py and assignments.py; this module only
lays them out. The part that changes while runs train (who trains, who waits and for how long)
is a fragment that redraws itself every few seconds while any run is live (less often while none
is), and reruns the whole board once when a run ends, so the experiment below takes in its result.
"""

from __future__ import annotations

import time

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from mnist_core.classroom.assignments import ASSIGNABLE_FIELDS, ClassBook, in_turn, parse_values
from mnist_core.classroom.class_board import (
    BoardRow,
    board_rows,
    csv_text,
    recipe_spreads,
    spread_table,
    student_table,
    waiting_rows,
)
from mnist_core.classroom.identity import Actor, NotAllowed
from mnist_core.common.wording import count
from mnist_core.lesson.run_labels import field_name, format_value, recipe_name
from mnist_core.lesson.steps import STEPS, get_step

from .charts import readable
from .presentation import plot
from .state import class_book, job_manager
from .training_panel import FIELD_CHOICES, FIELD_WIDGETS

REFRESH_S = 3.0  # how often the live part redraws while runs train or wait
IDLE_REFRESH_S = 10.0  # and while none does, to notice the first Start (each redraw reads every run folder)
_LIVE_SEEN = "board_live_runs"  # the live run ids the last redraw saw


def _rows() -> list[BoardRow]:
    manager = job_manager()
    phases = {job.run_id: job.phase for job in manager.active_jobs()}
    return board_rows(manager.store.list(), phases, time.time(), recipe_name)


def live_section() -> None:
    """Students, what trains, what waits: redrawn every few seconds while a run is live."""
    live_now = {job.run_id for job in job_manager().active_jobs()}

    @st.fragment(run_every=REFRESH_S if live_now else IDLE_REFRESH_S)
    def section() -> None:
        live = {job.run_id for job in job_manager().active_jobs()}
        ended = st.session_state.get(_LIVE_SEEN, set()) - live
        st.session_state[_LIVE_SEEN] = live
        if ended or bool(live) != bool(live_now):
            st.rerun()  # a run ended (the experiment has a new result), or the polling must start or stop
        rows = _rows()
        roster = class_book().students()
        table = student_table(rows, roster, STEPS)
        waiting = waiting_rows(rows)
        cols = st.columns(4)
        cols[0].metric("Students", len(table))
        cols[1].metric("Training now", sum(r.live and not r.waiting for r in rows))
        cols[2].metric("Waiting", len(waiting))
        cols[3].metric("Longest wait", f"{waiting[0].waited_s:.0f} s" if waiting and waiting[0].waited_s else "none")
        if table:
            st.dataframe(pd.DataFrame(table), hide_index=True, key="board_students",
                         column_config={f"Step {n}": st.column_config.TextColumn(width="medium") for n in STEPS})
        else:
            st.caption("No student yet: students appear here once they open a step page.")
        if waiting:
            st.markdown("**Waiting to start**, longest wait first")
            positions = {job.run_id: job_manager().queue_position(job.run_id) for job in job_manager().active_jobs()}
            st.dataframe(pd.DataFrame([{"Student": r.student, "Step": r.step, "Recipe": r.recipe,
                                        "Place in queue": positions.get(r.run_id), "Waiting for (s)": round(
                                            r.waited_s or 0, 1)} for r in waiting]),
                         hide_index=True, key="board_waiting")

    section()


def spread_figure(spreads) -> go.Figure:
    """One box per recipe with every run as a point beside it, its mean and standard deviation drawn in."""
    fig = go.Figure()
    for spread in spreads:
        fig.add_trace(go.Box(y=spread.final_test_acc, name=f"{spread.recipe}<br>n = {spread.count}",
                             boxpoints="all", jitter=0.4, pointpos=0, boxmean="sd",
                             hovertemplate="%{y:.2f}%<extra></extra>"))
    fig.update_layout(height=420, showlegend=False, margin={"t": 30, "b": 10},
                      yaxis={"title": "final test accuracy (%)", "ticksuffix": "%"})
    return readable(fig)


def experiment_section(rows: list[BoardRow]) -> None:
    """The class as one experiment: per recipe of a step, the spread of everybody's final accuracies."""
    finished = [r for r in rows if r.state == "finished" and r.final_test_acc is not None]
    if not finished:
        st.caption("No finished run yet: once students' runs finish, each recipe's spread of final accuracy "
                   "shows here (a class that trains one step with a seed each is a seed study).")
        return
    per_step = {step: sum(r.step == step for r in finished) for step in STEPS}
    steps = [step for step, n in per_step.items() if n]
    # The counts stay out of the option names: a widget keeps showing the name its option had when first drawn.
    step = st.selectbox("Step", steps, index=steps.index(max(steps, key=per_step.get)),
                        format_func=lambda n: f"Step {n} · {get_step(n).title}", key="board_experiment_step")
    spreads = recipe_spreads(rows, step)
    st.markdown(f"**{count(per_step[step], 'finished run')}** of Step {step} by the class, "
                f"in {count(len(spreads), 'recipe')}:")
    plot(spread_figure(spreads), key="board_spread")
    st.dataframe(pd.DataFrame(spread_table(spreads)), hide_index=True, key="board_spread_table")
    st.caption("Runs that differ only in their seed are one recipe. Spread is the standard deviation over the "
               "recipe's runs; a recipe's mean moves by about spread / √n between two classes of n.")


def runs_section(rows: list[BoardRow]) -> None:
    """Every student's run, and the same table as CSV."""
    if not rows:
        st.caption("No student has started a run yet.")
        return
    frame = pd.DataFrame([{"Student": r.student, "Step": r.step, "Recipe": r.recipe, "Seed": r.seed,
                           "State": r.state, "Epochs": f"{r.epochs_done}/{r.epochs}",
                           "Best test (%)": r.best_test_acc, "Final test (%)": r.final_test_acc,
                           "Waited (s)": None if r.waited_s is None else round(r.waited_s, 1)} for r in rows])
    st.dataframe(frame, hide_index=True, key="board_runs")
    st.download_button("Download the table (CSV)", csv_text(rows), file_name="class-board.csv", mime="text/csv",
                       key="board_csv", icon=":material/download:")


def _form_range_problem(name: str, values: list) -> str | None:
    """Why the step page's form could not show one of ``values`` (its widget has a range or a list)."""
    if name in FIELD_CHOICES:
        allowed = FIELD_CHOICES[name][1]
        wrong = [v for v in values if v not in allowed]
        return f"{wrong[0]!r} is not one of {', '.join(allowed)}" if wrong else None
    label, low, high, _, _ = FIELD_WIDGETS[name]
    wrong = [v for v in values if not low <= v <= high]
    return f"{label} {wrong[0]:g} is outside the form's range {low:g} to {high:g}" if wrong else None


def assignment_section(actor: Actor) -> None:
    """Hand each student on the class list a variant of a step's recipe, dealt out in turn."""
    book: ClassBook = class_book()
    students = book.students()
    step_number = st.selectbox("Step", list(STEPS), format_func=lambda n: f"Step {n} · {get_step(n).title}",
                               index=list(STEPS).index(4), key="board_assign_step")
    step = get_step(step_number)
    assignable = [name for name in step.tunable if name in ASSIGNABLE_FIELDS]
    with st.form("board_assign_form", border=True):
        left, right = st.columns([1, 2])
        name = left.selectbox("What to vary", assignable, format_func=field_name, key="board_assign_field")
        text = right.text_input("Values, dealt out in turn", key="board_assign_values",
                                placeholder="0, 0.05, 0.1   or, for seeds, 1-30   or, for deskew, on off",
                                help="The first student on the class list gets the first value, the next the next, "
                                     "and round again when the values run out.")
        assign = st.form_submit_button(f"Assign to {count(len(students), 'student')} in turn", type="primary",
                                       key="board_assign", disabled=not students)
    if assign:
        try:
            values = parse_values(name, text)
            problem = _form_range_problem(name, values)
            if problem:
                raise ValueError(problem)
            book.assign(actor, step.number, name, in_turn([s.owner for s in students], values))
            st.toast(f"Assigned {field_name(name)} to {count(len(students), 'student')}", icon=":material/done:")
        except (ValueError, NotAllowed) as exc:
            st.error(f"Not assigned: {exc}")
    assigned = book.assignments(step.number)
    if not students:
        st.caption("Students appear on the class list once they open a step page; assign then.")
    elif assigned:
        st.dataframe(pd.DataFrame([{"Student": s.name, **{field_name(n): format_value(n, v)
                                                          for n, v in assigned.get(s.owner, {}).items()}}
                                   for s in students]), hide_index=True, key="board_assignments")
        if st.button(f"Clear Step {step.number}'s assignments", key="board_assign_clear"):
            st.toast(f"{count(book.clear(actor, step.number), 'assignment')} cleared")
            st.rerun()
    else:
        st.caption(f"No variant assigned for Step {step.number}: every student's form shows the step's recipe.")


def render_board(actor: Actor) -> None:
    st.title("Class board")
    st.caption("Every student's runs, who waits, and the class's runs read as one experiment. Only the teacher "
               "sees this page.")
    live_section()
    rows = _rows()
    st.subheader("Class experiment")
    experiment_section(rows)
    st.subheader("Every run")
    runs_section(rows)
    st.subheader("Assign variants")
    assignment_section(actor)
