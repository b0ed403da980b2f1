"""A pad for drawing one digit: the canvas with its own toolbar hidden, and our Undo and Clear beside it.

streamlit-drawable-canvas 0.13 has no option to leave its toolbar out, and the toolbar's
invisible box lies over the top ~30 px of the canvas's right half until the pointer
hovers: a tap or a stylus that lands there starts no stroke. A small script hides the
toolbar inside the component's shadow root, so the whole square takes strokes; Undo
re-loads the canvas without its last stroke (through ``initial_drawing``), and Clear
gives a fresh, empty canvas.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

CANVAS_SIDE = 280  # ten canvas pixels per MNIST pixel

# Runs in the page (st.html with JavaScript allowed): page CSS cannot reach into the component's shadow root.
_HIDE_TOOLBAR = """<script>
(() => {
  if (window.mnistHideCanvasToolbar) return;  // one watcher per browser tab: canvases come and go with reruns
  const hide = () => {
    for (const host of document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')) {
      const root = host.shadowRoot;
      if (root && root.querySelector(".dc-toolbar") && !root.querySelector("style[data-mnist-no-toolbar]")) {
        const style = document.createElement("style");
        style.dataset.mnistNoToolbar = "1";
        style.textContent = ".dc-toolbar { display: none !important; }";
        root.appendChild(style);
      }
    }
  };
  // A cheap poll, not a MutationObserver: Streamlit changes the page so often that watching it costs more.
  window.mnistHideCanvasToolbar = setInterval(hide, 100);
  hide();
})();
</script>"""


def canvas_key(prefix: str) -> str:
    """The current canvas's widget key: a new key is a new, empty canvas."""
    return f"{prefix}_canvas_{st.session_state.get(f'{prefix}_round', 0)}"


def clear_pad(prefix: str) -> None:
    st.session_state[f"{prefix}_round"] = st.session_state.get(f"{prefix}_round", 0) + 1
    st.session_state[f"{prefix}_initial"] = None


def _strokes(prefix: str) -> list:
    state = st.session_state.get(canvas_key(prefix)) or {}
    return list(((state.get("drawing") or {}).get("raw") or {}).get("objects") or [])


def _undo(prefix: str) -> None:
    strokes = _strokes(prefix)
    if strokes:
        undos = st.session_state.get(f"{prefix}_undos", 0) + 1
        st.session_state[f"{prefix}_undos"] = undos
        # The counter makes each undo a new initial drawing: the canvas re-loads only when that changes.
        st.session_state[f"{prefix}_initial"] = {"objects": strokes[:-1], "undo": undos}


def drawing_pad(prefix: str, stroke_width: int) -> np.ndarray | None:
    """Draw the pad; the canvas as (280, 280, 4) uint8 RGBA, or None before the first stroke."""
    from streamlit_drawable_canvas import st_canvas  # importable only inside a running app

    canvas = st_canvas(
        stroke_width=stroke_width, stroke_color="#FFFFFF", background_color="#000000",
        width=CANVAS_SIDE, height=CANVAS_SIDE, drawing_mode="freedraw", return_image_data=True,
        initial_drawing=st.session_state.get(f"{prefix}_initial"), key=canvas_key(prefix),
    )
    undo, clear = st.columns(2)
    undo.button("Undo", key=f"{prefix}_undo", on_click=_undo, args=(prefix,), icon=":material/undo:",
                disabled=not _strokes(prefix), width="stretch")
    clear.button("Clear", key=f"{prefix}_clear", on_click=clear_pad, args=(prefix,), icon=":material/ink_eraser:",
                 width="stretch")
    st.html(_HIDE_TOOLBAR, unsafe_allow_javascript=True)  # last in the column: its empty box adds no gap above
    return canvas.image_data
