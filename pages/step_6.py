"""Step 6, beyond the lesson: depthwise-separable blocks, drawn by the shared step renderer."""

from ui.step_page import render_step

render_step(6)
