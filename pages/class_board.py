"""The teacher's class board: every student's runs, who waits, the class as one experiment, and assignments.

Only the teacher sees it in the menu; anybody else who opens its address is told it is the teacher's."""

import streamlit as st

from ui.class_board_views import render_board
from ui.identity import current_actor
from ui.routing import through_the_router

through_the_router(__file__)

actor = current_actor()
if not actor.is_teacher:
    st.title("Class board")
    st.error("The class board is for teachers only. A teacher signs in under *Teacher* in the sidebar.",
             icon=":material/lock:")
    st.stop()

render_board(actor)
