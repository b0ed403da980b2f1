"""Draw a digit (or upload a photo of one) and see what a trained network makes of it.

The page collects the picture and the choice of model, and renders what
``mnist_core.explain.inference`` returns: the prediction with all ten probabilities, each stage
of the MNIST-style preprocessing, and a saliency map. The canvas and its prediction
live in a fragment, so a stroke reruns only that part of the page. A third tab plays
the ten-digit challenge (``mnist_core.explain.challenge``) against the chosen model.
"""

from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from mnist_core.common.paths import shipped_run_path
from mnist_core.engine.checkpoints import CheckpointError, load_checkpoint
from mnist_core.explain.challenge import Challenge
from mnist_core.explain.inference import (
    FIELD_SIZE,
    FIT_SIZE,
    MAX_UPLOAD_BYTES,
    MNIST_STROKE,
    NOTHING_DRAWN,
    ImageError,
    Pipeline,
    predict,
    preprocess,
    read_image_bytes,
    saliency,
    straightened,
)
from mnist_core.lesson.run_labels import unique_labels
from mnist_core.lesson.steps import STEPS
from mnist_core.runs.store import RunStore
from ui.address import kept_query
from ui.drawing_pad import clear_pad, drawing_pad
from ui.identity import current_actor
from ui.inside_sources import carry_drawing
from ui.pixel_box import square_box
from ui.presentation import plot
from ui.routing import through_the_router
from ui.run_owner import owner_words, yours_first

through_the_router(__file__)

DEFAULT_STEP = 4
THUMB_SIDE = 140  # every pipeline image is drawn in a square box this many pixels wide (5 px per MNIST pixel)
INSIDE_PAGE = "pages/inside_network.py"  # another page's file: linked only once it exists
ROOT = Path(__file__).resolve().parent.parent

st.title("Draw a digit")
st.caption(
    "Draw a digit anywhere on the black square, at any size. Before the network sees it, the drawing goes "
    "through the steps that made MNIST: crop to the ink, bring a stroke much thicker or thinner than MNIST's into "
    "its range, shrink to fit 20×20, centre it by mass in 28×28."
)


@st.cache_resource(show_spinner="Loading the model…", max_entries=8)
def _load_model(path: str, mtime_ns: int):
    """The model in eval mode; the mtime is part of the key so a re-trained checkpoint is read again."""
    return load_checkpoint(path)[0]


def _model_choices() -> dict[str, Path]:
    """Label -> checkpoint: every shipped step that has one, then the finished or stopped runs, yours first,
    each named with its owner ("Your run · …", "Ann's run · …")."""
    choices = {}
    for number, step in STEPS.items():
        checkpoint = shipped_run_path(number) / "model.pt"
        if checkpoint.is_file():
            choices[f"Step {number} · {step.title} (shipped)"] = checkpoint
    # A run stopped before its first epoch ended was never graded: it is no model to choose.
    actor = current_actor()
    runs = yours_first([run for run in RunStore().list()
                        if run.state in ("finished", "stopped") and run.history and run.checkpoint.is_file()], actor)
    names = unique_labels(runs, lambda run: f"{owner_words(run, actor)} · {run.label}")
    for run in runs:
        choices[names[run.run_id]] = run.checkpoint
    return choices


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
    return square_box(rgb, THUMB_SIDE)


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


def _stroke_words(before: float, after: float) -> str:
    """Stage 3's caption: the stroke width at the 20 px scale, and what was done to it."""
    low, _, high = MNIST_STROKE
    if abs(after - before) < 0.05:
        return f"stroke {before:.1f} px wide at 20 px, within MNIST's {low:.1f}–{high:.1f}: kept"
    return f"stroke {before:.1f} px wide at 20 px, {'thinned' if after < before else 'thickened'} to {after:.1f} " \
           f"(MNIST's {low:.1f}–{high:.1f})"


def _show_result(pipeline: Pipeline, model, key: str, source: str) -> None:
    """Prediction, pipeline and saliency for one picture; ``key`` keeps the charts of both tabs apart,
    ``source`` names the picture ("drawing", "photo") for the inside view."""
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
        plot(_probability_chart(prediction.probabilities, prediction.digit), key=f"{key}_probs",
             config={"displayModeBar": False})

    st.subheader("What the model saw")
    straight = straightened(model, pipeline.centred)  # its first layer deskews: one stage more, inside the network
    stages = st.columns(5 if straight is None else 6, gap="small")
    h, w = pipeline.crop.shape
    captions = (
        f"1 · the ink{' (inverted)' if pipeline.inverted else ''}, its box in red",
        f"2 · cropped to the ink ({w}×{h} px)",
        f"3 · {_stroke_words(*pipeline.stroke_widths)}",
        f"4 · longer side fitted to {FIT_SIZE} px ({pipeline.fitted.shape[1]}×{pipeline.fitted.shape[0]})",
        f"5 · centred by mass in {FIELD_SIZE}×{FIELD_SIZE}: the input",
    )
    images = (_with_box(pipeline), square_box(pipeline.crop, THUMB_SIDE), square_box(pipeline.stroked, THUMB_SIDE),
              square_box(pipeline.fitted, THUMB_SIDE), square_box(pipeline.centred, THUMB_SIDE))
    if straight is not None:
        captions += ("6 · straightened and centred by the network's first layer (deskew)",)
        images += (square_box(straight, THUMB_SIDE),)
    for column, image, caption in zip(stages, images, captions, strict=True):
        column.image(np.clip(image, 0, 1), caption=caption, width="stretch")  # five fit the column, never overlap

    st.subheader(f"Why {prediction.digit}?")
    left, right = st.columns([1, 1])
    with left:
        plot(_saliency_chart(pipeline, saliency(model, pipeline, prediction.digit), prediction.digit),
             key=f"{key}_saliency", config={"displayModeBar": False})
    with right:
        st.markdown(
            "Gradient × input: for each pixel of the 28×28 input, how much its ink raises (red) or lowers (blue) "
            f"the network's score for **{prediction.digit}** (its logit, before the softmax). Where the map is red, "
            "that stroke is what made the network decide; blue ink points towards another digit. Empty pixels show "
            "nothing, since the map only weighs ink that is there."
        )
        # A button, not a bare link: the inside view must get this picture, not the other tab's.
        inside = (ROOT / INSIDE_PAGE).exists()  # the page another part of the dashboard adds
        if inside and st.button("Open this digit in *Inside the network*", key=f"{key}_inside",
                                icon=":material/visibility:"):
            carry_drawing(pipeline.centred, f"your {source}, read as {prediction.digit}")
            st.switch_page(INSIDE_PAGE, query_params=kept_query())


@st.fragment
def _draw_panel(model) -> None:
    # 1:2 leaves the pad column wider than the canvas and the results room for four 140 px boxes at 1400 px.
    pad, result_area = st.columns([1, 2], gap="medium")
    with pad:
        stroke = st.slider("Pen width", 8, 40, 20, step=2, key="draw_stroke")
        drawing = drawing_pad("draw", stroke)
    with result_area:
        if drawing is None:
            st.info(NOTHING_DRAWN)
        else:
            _show_result(preprocess(drawing), model, key="draw", source="drawing")


UPLOAD_WORKS = ("A PNG or JPEG photo or scan of one handwritten digit works, dark ink on light paper or light on "
                "dark, at least 16×16 pixels, cropped roughly to the digit.")


def _upload_panel(model) -> None:
    # Any file type is let through and checked here: the uploader's own type filter refuses a .txt with only
    # a red icon, and a student deserves a sentence.
    upload = st.file_uploader("A photo or scan of one handwritten digit (PNG or JPEG)",
                              max_upload_size=MAX_UPLOAD_BYTES // 2**20, key="draw_upload")  # in MB
    if upload is None:
        st.caption(UPLOAD_WORKS)
        return
    try:
        pixels = read_image_bytes(upload.getvalue())
    except ImageError as exc:
        st.error(f"**{upload.name}** cannot be used: {exc}. {UPLOAD_WORKS}")
        return
    pipeline = preprocess(pixels)
    if pipeline.nothing_drawn:
        st.info(f"No digit found in **{upload.name}**: nothing in it stands out from the background (it is one "
                f"flat colour, or nearly). {UPLOAD_WORKS}")
        return
    _show_result(pipeline, model, key="upload", source="photo")


def _start_challenge(label: str) -> None:
    st.session_state.challenge = Challenge.start(label)
    st.session_state.challenge_pending = None
    clear_pad("challenge")


def _submit_answer(model) -> None:
    pipeline = st.session_state.get("challenge_pending")
    if pipeline is None or pipeline.nothing_drawn:
        return
    challenge = st.session_state.challenge.answer(pipeline, predict(model, pipeline))
    st.session_state.challenge = challenge
    st.session_state.challenge_pending = None
    clear_pad("challenge")


def _challenge_results(challenge: Challenge, chosen_label: str) -> None:
    st.subheader("Your score")
    score, again = st.columns([1, 2], vertical_alignment="center")
    score.metric(f"{challenge.model_label} read", f"{challenge.score} / {len(challenge.order)}")
    with again:
        st.button("Try again", key="challenge_again", type="primary", on_click=_start_challenge,
                  args=(chosen_label,), icon=":material/replay:")
        st.caption(f"Try again tests **{chosen_label}** on ten new drawings. Pick another model at the top of the "
                   "page first to see how the lesson's steps differ on your handwriting.")
    right = sorted(a.asked for a in challenge.answers if a.right)
    if right:
        st.caption("Read right: " + ", ".join(str(d) for d in right) + ".")
    if not challenge.misses:
        st.success("It read every one of your ten digits right.")
        return
    st.markdown(f"**Read wrong ({len(challenge.misses)}).** Each picture is what the network saw: your "
                "drawing cropped, shrunk to 20 px and centred in 28×28.")
    for start in range(0, len(challenge.misses), 5):
        columns = st.columns(5)
        for column, miss in zip(columns, challenge.misses[start:start + 5], strict=False):
            column.image(square_box(miss.seen, 112), width=112,
                         caption=f"you drew {miss.asked}, it read {miss.read} ({miss.confidence:.0%})")


@st.fragment
def _challenge_panel(choices: dict[str, Path], chosen_label: str) -> None:
    challenge: Challenge | None = st.session_state.get("challenge")
    if challenge is None or challenge.model_label not in choices:
        st.markdown("**Test the network on your own handwriting.** You will be asked for each digit 0-9 once, in "
                    "a random order. Draw it, press *Submit*, and the network's reading is scored. After ten you "
                    "see your score and the digits it got wrong.")
        st.button(f"Start the challenge with {chosen_label}", key="challenge_start", type="primary",
                  on_click=_start_challenge, args=(chosen_label,), icon=":material/play_arrow:")
        return
    checkpoint = choices[challenge.model_label]
    model = _load_model(str(checkpoint), checkpoint.stat().st_mtime_ns)
    if challenge.finished:
        _challenge_results(challenge, chosen_label)
        return
    done = len(challenge.answers)
    pad, side = st.columns([2, 3], gap="medium")
    with pad:
        st.markdown(f"### Draw a **{challenge.asked}**")
        drawing = drawing_pad("challenge", 20)
    pipeline = preprocess(drawing) if drawing is not None else None
    st.session_state.challenge_pending = pipeline
    with side:
        st.progress(done / len(challenge.order), text=f"Digit {done + 1} of {len(challenge.order)}")
        st.markdown(f"Score so far: **{challenge.score} / {done}** · scored by {challenge.model_label}")
        if challenge.answers:
            last = challenge.answers[-1]
            verdict = "right" if last.right else "wrong"
            st.caption(f"Last one: you drew {last.asked}, it read {last.read} ({last.confidence:.0%}), {verdict}.")
        blank = pipeline is None or pipeline.nothing_drawn
        st.button("Submit", key="challenge_submit", type="primary", disabled=blank, on_click=_submit_answer,
                  args=(model,), icon=":material/check:")
        if blank:
            st.caption(f"Draw the {challenge.asked} on the black square, then submit it.")
        st.button("Start over", key="challenge_restart", on_click=_start_challenge, args=(chosen_label,))


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
draw_tab, upload_tab, challenge_tab = st.tabs(
    [":material/draw: Draw", ":material/photo_camera: Upload a photo", ":material/emoji_events: Challenge"])
with draw_tab:
    _draw_panel(model)
with upload_tab:
    _upload_panel(model)
with challenge_tab:
    _challenge_panel(choices, chosen)
