"""Step 5, beyond the lesson, drawn by the shared step renderer."""

from ui.step_page import render_step

render_step(5)
