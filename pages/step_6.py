"""Step 6, under 3,000 parameters, drawn by the shared step renderer."""

from ui.routing import through_the_router
from ui.step_page import render_step

through_the_router(__file__)

render_step(6)
