"""Step 2 of the lesson, drawn by the shared step renderer."""

from ui.step_page import render_step

render_step(2)
