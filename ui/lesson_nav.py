"""Previous / Next through the lesson, Home to Step 7 and on to the tools, keeping presentation mode and
who you are (presentation.query)."""

from __future__ import annotations

import streamlit as st

from mnist_core.lesson.steps import STEPS

from . import presentation

# Home, then every step in the registry's order: a new step joins the walk without an edit here.
LESSON = ("pages/home.py", *(f"pages/step_{number}.py" for number in STEPS))
TITLES = ("Home", *(f"Step {number}" for number in STEPS))
AFTER_THE_LESSON = ("pages/compare_runs.py", "the tools · Compare runs")  # where the last step's Next leads


def step_page(number: int) -> str:
    return LESSON[number]


def previous_next(page: str, where: str = "top") -> None:
    """Buttons to the lesson page before and after ``page`` (one of LESSON)."""
    index = LESSON.index(page)
    left, _, right = st.columns([2, 6, 2])
    if index > 0 and left.button(f"Previous: {TITLES[index - 1]}", icon=":material/arrow_back:",
                                 key=f"nav_previous_{where}", use_container_width=True):
        st.switch_page(LESSON[index - 1], query_params=presentation.query())
    following, title = ((LESSON[index + 1], TITLES[index + 1]) if index < len(LESSON) - 1 else AFTER_THE_LESSON)
    if right.button(f"Next: {title}", icon=":material/arrow_forward:", key=f"nav_next_{where}", type="primary",
                    use_container_width=True):
        st.switch_page(following, query_params=presentation.query())
