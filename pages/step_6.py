"""Step 6, the smallest network here that meets the target, drawn by the shared step renderer."""

from ui.routing import through_the_router
from ui.step_page import render_step

through_the_router(__file__)

render_step(6)
