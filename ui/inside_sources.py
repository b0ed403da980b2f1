"""*Inside the network*: choosing the model and the input digit, and opening the page from a link.

A link may carry ``?step=N&test_index=I`` (or ``?run=ID&test_index=I``): the Mistakes tab of a
step page sends one, so a student lands here with the digit the model got wrong. The page
writes the same parameters back as the choices change, so its address can be shared.
Models are read once per server (``st.cache_resource``) and every computation works on its
own copy, since forward hooks on a shared model would mix up two users' layers.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from mnist_core.engine.checkpoints import load_checkpoint
from mnist_core.explain.digits import FULL_TEST_SET, TestDigits, test_digits
from mnist_core.explain.inference import ImageError, preprocess, read_image_bytes
from mnist_core.explain.named_blocks import named_blocks
from mnist_core.lesson.report import shipped_run
from mnist_core.lesson.run_labels import unique_labels
from mnist_core.lesson.steps import STEPS
from mnist_core.runs.store import ENDED_STATES, Run, default_runs_dir

from .address import update_query
from .identity import current_actor
from .run_owner import owner_words, yours_first
from .state import run_store

DEFAULT_STEP = 4
DRAWING_KEY = "inside_input"  # Draw a digit leaves a (28, 28) float array in [0, 1] here, white ink on black
DRAWING_LABEL_KEY = "inside_input_label"
SOURCES = ("A test digit", "The drawing from Draw a digit", "Upload a picture")
TEST_MODES = ("By index", "One of this model's mistakes")
QUERY_KEYS = ("step", "run", "test_index")  # this page's own keys in the address
_DRAWS = random.Random()  # the Random digit button's own generator: nothing else in the process seeds or uses it
KIND_SHIPPED, KIND_RUN = "A step's shipped model", "A finished run"  # a run of anyone's: its name says whose


@dataclass(frozen=True)
class ModelChoice:
    label: str
    run: Run  # the shipped run of a step, or a user's run
    shipped: bool

    @property
    def checkpoint(self) -> Path:
        return self.run.checkpoint

    @property
    def step(self) -> int:
        return self.run.config.step

    @property
    def key(self) -> tuple[str, int]:
        """What identifies the weights for caching: the file and its modification time."""
        return str(self.checkpoint), self.checkpoint.stat().st_mtime_ns

    @property
    def cache_dir(self) -> Path:
        """Where slow results (t-SNE) are kept: beside a user's run; for a shipped step under the
        git-ignored runs folder, never in assets/."""
        if self.shipped:
            return default_runs_dir() / ".cache" / "inside" / f"step{self.step}"
        return self.run.path / "inside-cache"

    def query(self) -> dict[str, str]:
        return {"step": str(self.step)} if self.shipped else {"run": self.run.run_id}


@dataclass(frozen=True)
class InputDigit:
    pixels: np.ndarray  # (28, 28) float32 ink in [0, 1], as the model sees it before normalising
    label: str  # in words, for titles
    true: int | None  # the true digit, when known
    test_index: int | None = None  # its place in the MNIST test set, when it is a test digit


@st.cache_resource(show_spinner="Loading the model…", max_entries=16)
def _load(path: str, mtime_ns: int):
    """The model in eval mode; never used directly (hooks), only through ``model_copy``. A design's layers come
    grouped into named blocks, as the page reads a step's network."""
    return named_blocks(load_checkpoint(path)[0])


def model_copy(choice: ModelChoice):
    """A private copy of the chosen model: forward hooks on it cannot reach another session."""
    return copy.deepcopy(_load(*choice.key))


@st.cache_resource(show_spinner="Reading the test digits…")
def digits() -> TestDigits:
    return test_digits()


def shipped_choices() -> dict[str, ModelChoice]:
    choices = {}
    for number, step in STEPS.items():
        run = shipped_run(number)
        if run is not None and run.checkpoint.is_file():
            label = f"Step {number} · {step.title}"
            choices[label] = ModelChoice(label, run, True)
    return choices


def run_choices() -> dict[str, ModelChoice]:
    """Run id -> the finished or stopped runs that have a model, yours first, each under a name no other one has
    that says whose it is ("Your run · …", "Ann's run · …")."""
    actor = current_actor()
    runs = yours_first([run for run in run_store().list()
                        if run.state in ENDED_STATES and run.checkpoint.is_file()], actor)
    names = unique_labels(runs, lambda run: f"{owner_words(run, actor)} · {run.label}")
    return {run.run_id: ModelChoice(names[run.run_id], run, False) for run in runs}


def _as_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def apply_query_params(shipped: dict[str, ModelChoice], runs: dict[str, ModelChoice]) -> str | None:
    """Put a link's step/run and test index into the widgets, once per distinct link; a message if it is bad."""
    params = {key: st.query_params.get(key) for key in QUERY_KEYS}
    seen = tuple(sorted((k, v) for k, v in params.items() if v is not None))
    if not seen or st.session_state.get("inside_query_seen") == seen:
        return None
    st.session_state["inside_query_seen"] = seen
    problems = []
    step, run_id, index = params["step"], params["run"], params["test_index"]
    if run_id is not None:
        if run_id in runs:
            st.session_state["inside_model_kind"] = KIND_RUN
            st.session_state["inside_run"] = run_id
        else:
            problems.append(f"there is no finished run called {run_id!r}")
    elif step is not None:
        labels = {choice.step: label for label, choice in shipped.items()}
        if _as_int(step) in labels:
            st.session_state["inside_model_kind"] = KIND_SHIPPED
            st.session_state["inside_step"] = labels[_as_int(step)]
        else:
            problems.append(f"step {step!r} has no shipped model (steps: {', '.join(map(str, sorted(labels)))})")
    if index is not None:
        if _as_int(index) is not None and 0 <= _as_int(index) < FULL_TEST_SET:
            st.session_state["inside_source"] = SOURCES[0]
            st.session_state["inside_test_mode"] = TEST_MODES[0]
            st.session_state["inside_test_index"] = _as_int(index)
        else:
            problems.append(f"test index {index!r} is not a whole number from 0 to {FULL_TEST_SET - 1:,}")
    return f"The link could not be followed in full: {'; '.join(problems)}." if problems else None


def choose_model() -> ModelChoice | None:
    shipped, runs = shipped_choices(), run_choices()
    message = apply_query_params(shipped, runs)
    if message:
        st.warning(message)
    if not shipped and not runs:
        st.error("No trained model was found: neither a shipped step nor a finished run of yours.")
        return None
    kinds = ([KIND_SHIPPED] if shipped else []) + ([KIND_RUN] if runs else [])
    if st.session_state.get("inside_model_kind") not in kinds:
        st.session_state["inside_model_kind"] = kinds[0]
    # A radio of one choice is no choice (before any run has finished, only the shipped models exist).
    kind = st.radio("Model", kinds, horizontal=True, key="inside_model_kind") if len(kinds) > 1 else kinds[0]
    if kind == KIND_RUN:
        run_id = st.selectbox("Finished run (yours first)", list(runs), format_func=lambda r: runs[r].label,
                              key="inside_run")
        return runs[run_id]
    labels = list(shipped)
    default = next((i for i, c in enumerate(shipped.values()) if c.step == DEFAULT_STEP), 0)
    if st.session_state.get("inside_step") not in labels:
        st.session_state["inside_step"] = labels[default]
    label = st.selectbox("Step", labels, key="inside_step")
    return shipped[label]


def _random_index() -> None:
    pool = digits().indices if not digits().full else np.arange(FULL_TEST_SET)
    st.session_state["inside_test_index"] = int(_DRAWS.choice(pool))
    st.session_state["inside_test_mode"] = TEST_MODES[0]


def _test_digit(choice: ModelChoice) -> InputDigit | None:
    collection = digits()
    mode = st.radio("Which test digit", TEST_MODES, horizontal=True, key="inside_test_mode")
    found = choice.run.mistakes()
    if mode == TEST_MODES[1]:
        if found is None or not found.mistakes:
            st.info("This model has no saved mistakes.")
            return None
        options = list(range(len(found.mistakes)))
        current = st.session_state.get("inside_test_index")
        start = next((k for k, m in enumerate(found.mistakes) if m.index == current), 0)
        picked = st.selectbox(
            f"Its {len(found.mistakes)} mistakes, most confident first", options, index=start,
            format_func=lambda k: (f"#{found.mistakes[k].index}: a {found.mistakes[k].true} taken for a "
                                   f"{found.mistakes[k].predicted} ({found.mistakes[k].confidence:.0%})"),
            key=f"inside_mistake_{choice.label}")
        mistake = found.mistakes[picked]
        st.session_state["inside_test_index"] = mistake.index
        return InputDigit(found.images[picked].astype(np.float32) / 255.0,
                          f"test digit #{mistake.index} (a {mistake.true})", mistake.true, mistake.index)
    left, right = st.columns([3, 2], vertical_alignment="bottom")
    st.session_state.setdefault("inside_test_index", int(collection.indices[0]))
    index = left.number_input("Test digit (index in the 10,000 test images)", 0, FULL_TEST_SET - 1, step=1,
                              key="inside_test_index")
    right.button("Random digit", key="inside_random", on_click=_random_index, width="stretch")
    position = collection.position(int(index))
    if position is not None:
        label = int(collection.labels[position])
        return InputDigit(collection.pixels(position), f"test digit #{index} (a {label})", label, int(index))
    if found is not None:  # a digit this model got wrong carries its own picture, data set or not
        for k, mistake in enumerate(found.mistakes):
            if mistake.index == index:
                return InputDigit(found.images[k].astype(np.float32) / 255.0,
                                  f"test digit #{index} (a {mistake.true})", mistake.true, int(index))
    st.warning(f"Test digit #{index} needs the MNIST data set, which is not on disk here (`python -m mnist_core "
               f"train` downloads it). Without it this page has {collection.source}: indices "
               f"{', '.join(map(str, collection.indices))}, and this model's mistakes.")
    return None


def carry_drawing(pixels: np.ndarray, label: str) -> None:
    """Draw a digit's button: hand this page a (28, 28) picture in [0, 1], white ink on black, and make it the
    input shown (a first visit would otherwise open on test digit #0)."""
    st.session_state[DRAWING_KEY] = np.array(pixels, dtype=np.float32)
    st.session_state[DRAWING_LABEL_KEY] = label
    st.session_state["inside_source"] = SOURCES[1]


def _drawing() -> InputDigit | None:
    drawing = st.session_state.get(DRAWING_KEY)
    if drawing is None:
        st.info("Nothing has been carried over yet: draw or upload a digit on *Draw a digit*, then come back.")
        st.page_link("pages/draw_digit.py", label="Draw a digit", icon="✏️")
        return None
    pixels = np.asarray(drawing, dtype=np.float32)
    if pixels.shape != (28, 28) or not np.isfinite(pixels).all():
        st.error(f"The carried-over picture is not a 28×28 image (its shape is {pixels.shape}); draw it again.")
        return None
    label = st.session_state.get(DRAWING_LABEL_KEY) or "your drawing"
    return InputDigit(np.clip(pixels, 0.0, 1.0), str(label), None)


def _upload() -> InputDigit | None:
    upload = st.file_uploader("A photo or scan of one handwritten digit (PNG or JPEG)", type=["png", "jpg", "jpeg"],
                              key="inside_upload")
    if upload is None:
        return None
    try:
        pipeline = preprocess(read_image_bytes(upload.getvalue()))
    except ImageError as exc:
        st.error(f"That file cannot be used: {exc}.")
        return None
    if pipeline.nothing_drawn:
        st.warning("No digit was found in that picture: it looks blank, or the ink is too faint.")
        return None
    st.caption("Cropped to the ink, fitted to 20×20 and centred in 28×28, as MNIST's digits were.")
    return InputDigit(pipeline.centred, f"your upload ({upload.name})", None)


def choose_input(choice: ModelChoice) -> InputDigit | None:
    if st.session_state.get("inside_source") not in SOURCES:
        st.session_state["inside_source"] = SOURCES[0]
    source = st.radio("Input", SOURCES, horizontal=True, key="inside_source")
    if source == SOURCES[0]:
        return _test_digit(choice)
    if source == SOURCES[1]:
        return _drawing()
    return _upload()


def write_query_params(choice: ModelChoice, digit: InputDigit | None) -> None:
    """Keep the address in step with the choices, so it can be copied and shared."""
    wanted = choice.query() | ({"test_index": str(digit.test_index)} if digit and digit.test_index is not None
                               else {})
    # Only this page's own keys: who you are and presentation mode stay in the address (ui/address.py).
    update_query({key: wanted.get(key) for key in QUERY_KEYS})
    st.session_state["inside_query_seen"] = tuple(sorted(wanted.items()))
