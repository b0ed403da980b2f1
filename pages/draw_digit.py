"""Draw a digit (or upload a photo of one) and see what a trained network makes of it.

The page collects the picture and the choice of model, and renders what
``mnist_core.explain.inference`` returns: the prediction with all ten probabilities, each stage
of the MNIST-style preprocessing, and a saliency map. The canvas and its prediction
live in a fragment, so a stroke reruns only that part of the page.
"""

from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from PIL import Image

from mnist_core.engine.checkpoints import CheckpointError, load_checkpoint
from mnist_core.engine.runs import RunStore
from mnist_core.explain.inference import (
    FIELD_SIZE,
    FIT_SIZE,
    MAX_UPLOAD_BYTES,
    NOTHING_DRAWN,
    ImageError,
    Pipeline,
    predict,
    preprocess,
    read_image_bytes,
    saliency,
)
from mnist_core.lesson.report import shipped_run_path
from mnist_core.lesson.steps import STEPS
from ui.routing import through_the_router

through_the_router(__file__)

CANVAS_SIDE = 280  # ten canvas pixels per MNIST pixel
DEFAULT_STEP = 4
THUMB_SIDE = 140  # display size of each pipeline image

st.title("Draw a digit")
st.caption(
    "Draw a digit anywhere on the black square, at any size. Before the network sees it, the drawing goes "
    "through the steps that made MNIST: crop to the ink, shrink to fit 20×20, centre it by mass in 28×28."
)


@st.cache_resource(show_spinner="Loading the model…", max_entries=8)
def _load_model(path: str, mtime_ns: int):
    """The model in eval mode; the mtime is part of the key so a re-trained checkpoint is read again."""
    return load_checkpoint(path)[0]


def _model_choices() -> dict[str, Path]:
    """Label -> checkpoint: every shipped step that has one, then the user's finished or stopped runs."""
    choices = {}
    for number, step in STEPS.items():
        checkpoint = shipped_run_path(number) / "model.pt"
        if checkpoint.is_file():
            choices[f"Step {number} · {step.title} (shipped)"] = checkpoint
    for run in RunStore().list():
        # A run stopped before its first epoch ended was never graded: it is no model to choose.
        if run.state in ("finished", "stopped") and run.history and run.checkpoint.is_file():
            choices[f"Your run · {run.label} · {run.run_id[-4:]}"] = run.checkpoint
    return choices


def _thumb(image: np.ndarray, side: int = THUMB_SIDE) -> np.ndarray:
    """Scale for display: whole-pixel blocks when enlarging, so a 28x28 image shows its real pixels."""
    h, w = image.shape
    if max(h, w) <= side:
        factor = max(1, side // max(h, w))
        return np.kron(image, np.ones((factor, factor), dtype=image.dtype))
    scale = side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(image.astype(np.float32), mode="F").resize(size, Image.Resampling.BOX))


def _with_box(pipeline: Pipeline) -> np.ndarray:
    """The ink as RGB with its bounding box outlined in red."""
    rgb = np.repeat(pipeline.ink[:, :, None], 3, axis=2)
    top, left, bottom, right = pipeline.box
    line = max(1, round(max(rgb.shape) / THUMB_SIDE))  # about one display pixel thick
    red = np.array([1.0, 0.2, 0.2], dtype=np.float32)
    rgb[top:top + line, left:right] = red
    rgb[bottom - line:bottom, left:right] = red
    rgb[top:bottom, left:left + line] = red
    rgb[top:bottom, right - line:right] = red
    return np.stack([_thumb(rgb[:, :, c]) for c in range(3)], axis=2)


def _probability_chart(probabilities: np.ndarray, digit: int) -> go.Figure:
    colors = ["#d62728" if d == digit else "#9ab" for d in range(10)]
    fig = go.Figure(go.Bar(
        x=[str(d) for d in range(10)], y=(probabilities * 100).tolist(), marker_color=colors,
        text=[f"{p * 100:.1f}%" if p >= 0.005 else "" for p in probabilities], textposition="outside",
        textfont={"size": 13},
        hovertemplate="digit %{x}: %{y:.2f}%<extra></extra>",
    ))
    fig.update_layout(height=260, margin={"t": 30, "b": 30, "l": 40, "r": 10}, title="Probability of each digit",
                      uniformtext={"minsize": 12, "mode": "show"},  # else plotly shrinks labels to the bar width
                      yaxis={"range": [0, 110], "title": "%"}, xaxis={"type": "category"})
    return fig


def _saliency_chart(pipeline: Pipeline, scores: np.ndarray, digit: int) -> go.Figure:
    limit = float(np.abs(scores).max()) or 1.0
    fig = go.Figure(go.Heatmap(
        z=scores.tolist(), zmin=-limit, zmax=limit, colorscale="RdBu", reversescale=True,
        colorbar={"title": "", "thickness": 10}, hovertemplate="row %{y}, col %{x}: %{z:.3f}<extra></extra>",
    ))
    fig.add_trace(go.Contour(z=pipeline.centred.tolist(), contours={"start": 0.5, "end": 0.5, "coloring": "none"},
                             line={"color": "#333", "width": 1}, showscale=False, hoverinfo="skip"))
    fig.update_layout(height=300, width=320, margin={"t": 30, "b": 10, "l": 10, "r": 10},
                      title=f"Gradient × input for {digit}")
    fig.update_yaxes(autorange="reversed", scaleanchor="x", visible=False)
    fig.update_xaxes(visible=False)
    return fig


def _show_result(pipeline: Pipeline, model, key: str) -> None:
    """Prediction, pipeline and saliency for one picture; ``key`` keeps the charts of both tabs apart."""
    prediction = predict(model, pipeline)
    if prediction is None:
        st.info(NOTHING_DRAWN)
        return
    answer, chart = st.columns([1, 2])
    with answer:
        st.metric("The model says", str(prediction.digit))
        st.markdown(f"with **{prediction.confidence:.1%}** confidence")
        if prediction.unsure:
            (first, p1), (second, p2) = prediction.top_two
            st.warning(f"The model is unsure: **{first}** ({p1:.0%}) or **{second}** ({p2:.0%}).")
    with chart:
        st.plotly_chart(_probability_chart(prediction.probabilities, prediction.digit), key=f"{key}_probs",
                        config={"displayModeBar": False})

    st.subheader("What the model saw")
    stages = st.columns(4)
    h, w = pipeline.crop.shape
    captions = (
        f"1 · the ink{' (inverted)' if pipeline.inverted else ''}, its box in red",
        f"2 · cropped to the ink ({w}×{h} px)",
        f"3 · longer side fitted to {FIT_SIZE} px ({pipeline.fitted.shape[1]}×{pipeline.fitted.shape[0]})",
        f"4 · centred by mass in {FIELD_SIZE}×{FIELD_SIZE}: the input",
    )
    images = (_with_box(pipeline), _thumb(pipeline.crop), _thumb(pipeline.fitted), _thumb(pipeline.centred))
    for column, image, caption in zip(stages, images, captions, strict=True):
        column.image(np.clip(image, 0, 1), caption=caption)

    st.subheader(f"Why {prediction.digit}?")
    left, right = st.columns([1, 1])
    with left:
        st.plotly_chart(_saliency_chart(pipeline, saliency(model, pipeline, prediction.digit), prediction.digit),
                        key=f"{key}_saliency", config={"displayModeBar": False})
    with right:
        st.markdown(
            "Gradient × input: for each pixel of the 28×28 input, how much its ink raises (red) or lowers (blue) "
            f"the network's score for **{prediction.digit}** (its logit, before the softmax). Where the map is red, "
            "that stroke is what made the network decide; blue ink points towards another digit. Empty pixels show "
            "nothing, since the map only weighs ink that is there."
        )


def _new_canvas() -> None:
    # A fresh key is a fresh, empty canvas: the component keeps its drawing per key.
    st.session_state.draw_canvas_round += 1


@st.fragment
def _draw_panel(model) -> None:
    from streamlit_drawable_canvas import st_canvas  # importable only inside a running app

    if "draw_canvas_round" not in st.session_state:
        st.session_state.draw_canvas_round = 0
    pad, result_area = st.columns([2, 3], gap="medium")  # the pad column must stay wider than the canvas
    with pad:
        stroke = st.slider("Pen width", 8, 40, 20, step=2, key="draw_stroke")
        canvas = st_canvas(
            stroke_width=stroke, stroke_color="#FFFFFF", background_color="#000000",
            width=CANVAS_SIDE, height=CANVAS_SIDE, drawing_mode="freedraw", return_image_data=True,
            key=f"draw_canvas_{st.session_state.draw_canvas_round}",
        )
        st.button("Clear", key="draw_clear", on_click=_new_canvas, icon=":material/ink_eraser:")
    with result_area:
        if canvas.image_data is None:
            st.info(NOTHING_DRAWN)
        else:
            _show_result(preprocess(canvas.image_data), model, key="draw")


def _upload_panel(model) -> None:
    upload = st.file_uploader("A photo or scan of one handwritten digit (PNG or JPEG)", type=["png", "jpg", "jpeg"],
                              max_upload_size=MAX_UPLOAD_BYTES // 2**20, key="draw_upload")  # in MB
    if upload is None:
        st.caption("Dark ink on light paper and light ink on dark both work; crop the photo roughly to the digit.")
        return
    try:
        pixels = read_image_bytes(upload.getvalue())
    except ImageError as exc:
        st.error(f"**{upload.name}** cannot be used: {exc}.")
        return
    pipeline = preprocess(pixels)
    if pipeline.nothing_drawn:
        st.info(f"No digit found in **{upload.name}**: the picture is one flat colour, or nearly.")
        return
    _show_result(pipeline, model, key="upload")


choices = _model_choices()
if not choices:
    st.warning(
        "There is no trained model yet. Train one on a step page, or run `python -m mnist_core reproduce` "
        "to make the shipped checkpoints."
    )
    st.stop()
labels = list(choices)
default = next((i for i, label in enumerate(labels) if label.startswith(f"Step {DEFAULT_STEP} ")), 0)
chosen = st.selectbox("Model", labels, index=default, key="draw_model")
checkpoint = choices[chosen]
try:
    model = _load_model(str(checkpoint), checkpoint.stat().st_mtime_ns)
except (CheckpointError, OSError) as exc:
    st.error(f"This model cannot be loaded: {exc}")
    st.stop()

# Material icons, not emoji: a browser without an emoji font draws emoji as empty boxes.
draw_tab, upload_tab = st.tabs([":material/draw: Draw", ":material/photo_camera: Upload a photo"])
with draw_tab:
    _draw_panel(model)
with upload_tab:
    _upload_panel(model)
