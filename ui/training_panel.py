"""'Train it yourself': the recipe form, and a live panel that follows queued and running jobs.

Training runs in the shared JobManager's worker threads, never in the script thread,
so the page stays responsive and a run outlives the page. Each run under way is a live card
the browser redraws every two seconds from the panel's live feed (live_card.py), so watching runs
no script on the server; the panel itself is a fragment the server draws again only when its
runs change stage, and when a run it was following ends, it reruns the whole page once so the
results appear, that run selected.
Everybody sees every run of the step; only its owner or the teacher gets a live Stop.
"""

from __future__ import annotations

import os
import time

import streamlit as st
from streamlit.errors import StreamlitInvalidLayoutContextError

from mnist_core.classroom.duration import (
    LONG_RUN_S,
    Speed,
    duration_words,
    estimate_seconds,
    measure_speed,
    speed_from_runs,
)
from mnist_core.classroom.identity import NotAllowed, clean_name
from mnist_core.classroom.jobs import QueueRefused
from mnist_core.classroom.live_feed import panel_key
from mnist_core.classroom.live_view import job_view
from mnist_core.engine.config import TrainConfig
from mnist_core.lesson.presets import PRESETS, class_run_figures, compressed, preset_recipe
from mnist_core.lesson.report import TRAIN_IMAGES
from mnist_core.lesson.run_labels import field_name, format_value, run_label
from mnist_core.lesson.steps import Step
from mnist_core.runs.store import Run

from .identity import current_actor
from .live_card import feed_url, live_card, panel_signature
from .plain_text import name_text
from .presentation import presenting
from .run_colours import run_colour
from .state import class_book, job_manager, run_store, runs_dir, training_device

# Widgets for the recipe fields a step lets users edit: label, min, max, step, help.
FIELD_WIDGETS = {
    "epochs": ("Epochs", 1, 30, 1, "The lesson's budget is 15. The step's learning-rate schedule is fitted to the "
                                   "epochs chosen: StepLR cuts after the same shares of the run, OneCycle spans it."),
    "batch_size": ("Batch size", 16, 1024, 16, "Images per SGD step."),
    "lr": ("Learning rate", 0.0005, 0.5, 0.005, "The starting rate under StepLR, the peak under OneCycle."),
    "seed": ("Seed", 0, 10_000, 1, "Same seed, same run (on the CPU)."),
    "dropout": ("Dropout", 0.0, 0.5, 0.01, "Drop probability after each block that has dropout (see the Model tab)."),
    "rotation_degrees": ("Rotation (± degrees)", 0.0, 30.0, 1.0, "Random rotation of each training image."),
}
# Recipe fields picked from a list instead: label, {value: shown as}, help.
FIELD_CHOICES = {
    "activation": ("Activation", {"relu": "ReLU", "silu": "SiLU"},
                   "The nonlinearity after every block: ReLU zeroes negatives, SiLU (x·sigmoid(x)) lets a little "
                   "through."),
    "deskew": ("Deskew", {False: "off", True: "on"},
               "On: each digit is straightened and centred by its own ink before the first layer, in training, in "
               "the test and on the pages that read drawings. No weights; Step 7 uses it."),
}
POLL_S = 1.0  # how often a panel without a live feed redraws from the server (each redraw costs the training)
IMAGES_PER_EPOCH = {60_000: "all 60,000 (the real lesson)", 10_000: "10,000 (quick)", 2_560: "2,560 (demo)"}
# The test pass after every epoch: all of it, or a quick one whose every number says so.
TEST_IMAGES = {10_000: "all 10,000 (the real lesson)", 2_000: "first 2,000 (quick: every number is labelled)"}
# The three run lengths a step offers (mnist_core/lesson/presets.py), as the form's buttons name them.
PRESET_NAMES = {"full": "The lesson's run", "class": "Class run", "demo": "Quick demo"}


def _default_images_per_epoch() -> int:
    """A test or a slow classroom machine can default to fewer images through the environment."""
    limit = int(os.environ.get("MNIST_DEMO_TRAIN_LIMIT", "0") or 0)
    return limit if limit in IMAGES_PER_EPOCH else TRAIN_IMAGES


@st.cache_resource(show_spinner=False)
def _remembered_choices() -> dict[tuple[str, str], dict]:
    """(owner id, form key) -> that person's last choices on that form, for this server's life: a reload
    is a new session, and it used to put a student back on 15 epochs of 60,000 images."""
    return {}


@st.cache_resource(show_spinner=False)
def _applied_assignments() -> dict[tuple[str, str], dict]:
    """(owner id, form key) -> the teacher's assignment last put into that person's form, for this server's
    life: a new or changed assignment is put in once, and the student's own edits (remembered) stand after."""
    return {}


@st.cache_resource(show_spinner=False, max_entries=64)
def _benchmark(step: int, design: str, batch_size: int, device: str) -> Speed:
    """A network's speed timed here, once per server, for forms shown before any run of it finished."""
    return measure_speed(TrainConfig(step=step, design=design, batch_size=batch_size, device=device))


def _speed(config: TrainConfig) -> Speed:
    return (speed_from_runs(config, run_store().list(), training_device())
            or _benchmark(config.step, config.design, config.batch_size, config.device))


def _seed_widgets(key: str, defaults: dict) -> dict:
    """Put this person's remembered choices (else ``defaults``) into the widgets that have no value yet."""
    remembered = _remembered_choices().get((current_actor().owner_id, key), {})
    for name, default in defaults.items():
        if f"{key}_{name}" not in st.session_state:
            st.session_state[f"{key}_{name}"] = remembered.get(name, default)
    return remembered


def _remember(key: str, values: dict) -> None:
    _remembered_choices()[(current_actor().owner_id, key)] = dict(values)


def _preset_values(step: Step, preset: str) -> dict:
    """The form's epochs, images per epoch and test images for ``preset`` of ``step``."""
    recipe = preset_recipe(step.number, preset)
    return {"epochs": recipe.epochs, "images": recipe.train_limit or TRAIN_IMAGES,
            "test_images": recipe.test_limit or next(iter(TEST_IMAGES))}


def _preset_length(config: TrainConfig, step: Step, preset: str) -> TrainConfig:
    """``config`` as long as ``preset`` of ``step`` (its epochs and images): for estimating that run's time."""
    values = _preset_values(step, preset)
    images = values["images"]
    return config.with_(epochs=values["epochs"], train_limit=0 if images == TRAIN_IMAGES else images)


def _apply_preset(key: str, step: Step) -> None:
    """The run length just picked: put its epochs and images into the form (a click on the picked one clears it)."""
    preset = st.session_state.get(f"{key}_preset")
    if preset is not None:
        for name, value in _preset_values(step, preset).items():
            st.session_state[f"{key}_{name}"] = value


def _preset_picker(step: Step, key: str, estimate, shipped: Run | None, own_network: bool) -> None:
    """Three run lengths, each with its time here and what it reaches: the lesson's run, the class run, the demo.

    The button lit is the preset the form's epochs and images match (none after a change of them by hand).
    ``estimate(preset)`` is that run's estimated seconds on this machine; the lesson's run reached what
    ``shipped`` (the step's shipped run, as the page judged it) did. What a run reached is said only for the
    step's ``own_network``: a design trained with the step's recipe is another network.
    """
    current = {name: st.session_state.get(f"{key}_{name}") for name in ("epochs", "images", "test_images")}
    st.session_state[f"{key}_preset"] = next((p for p in PRESETS if _preset_values(step, p) == current), None)
    st.segmented_control("Run length", list(PRESETS), format_func=PRESET_NAMES.get, key=f"{key}_preset",
                         on_change=_apply_preset, args=(key, step),
                         help="Each fills in the epochs and images below; change any of them after.")
    # One line each: read from the back of a room, three short lines beat one long one.
    st.caption("  \n".join(_preset_words(step, preset, estimate(preset), shipped, own_network) for preset in PRESETS))


def _preset_words(step: Step, preset: str, seconds: float, shipped: Run | None, own_network: bool) -> str:
    """One preset in a few words: its length, its time here, and what it reached where that was measured."""
    values = _preset_values(step, preset)
    length = (f"{values['epochs']} epoch{'s' if values['epochs'] != 1 else ''}"
              + ("" if values["images"] == TRAIN_IMAGES else f" of {values['images']:,} images"))
    words = f"**{PRESET_NAMES[preset]}**: {length}, {duration_words(seconds)} here"
    if not own_network:
        return words
    if preset == "class":
        figures = class_run_figures(step.number)
        if figures is not None:
            seeds = ", ".join(map(str, figures.seeds))
            words += f", about {figures.mean_final_test_acc:.1f}% on average over seeds {seeds}"
    elif preset == "full":
        if shipped is not None and shipped.history:
            words += f", {shipped.history[-1]['test_acc']:.2f}% (the shipped run)"
    else:
        words += ", far below the step's level"
    return words


def recipe_form(step: Step, design: str = "", key: str | None = None, shipped: Run | None = None) -> None:
    """Editable defaults from the step's recipe, the run's estimated duration, and Start.

    ``shipped`` is the step's shipped run the page shows (None when it has none it can trust): its final
    accuracy is what the run-length choice says the lesson's run reaches.

    With ``design`` (design JSON), the run trains that network with this step's recipe; its
    rows name their own activations, so the recipe's activation is not offered. The choices are
    remembered for this person (their ``me``) across reloads; a run estimated over
    ``LONG_RUN_S`` asks once before it is queued.
    """
    key = key or f"step{step.number}"
    # A design names its own activations and its own layers (a deskew among them): the recipe offers neither.
    tunable = [name for name in step.tunable if not (design and name in ("activation", "deskew"))]
    assigned = {} if design else _assigned(step, tunable, key)
    if assigned:
        st.info("Your teacher assigned you " + ", ".join(f"{field_name(n)} {format_value(n, v)}"
                                                         for n, v in assigned.items())
                + " for this step: preselected below.", icon=":material/assignment_ind:")
    defaults = {name: assigned.get(name, getattr(step.recipe, name)) for name in tunable}
    defaults |= {"images": _default_images_per_epoch(), "test_images": next(iter(TEST_IMAGES))}
    _seed_widgets(key, defaults)
    # Widgets, not a form: the estimate below follows every change before Start.
    with st.container(border=True, key=f"{key}_form"):
        picker = st.container()
        cols = st.columns(4)
        values = {}
        for i, name in enumerate(tunable):
            default = defaults[name]
            if name in FIELD_CHOICES:
                label, shown, help_text = FIELD_CHOICES[name]
                values[name] = cols[i % 4].selectbox(label, list(shown), format_func=shown.get, help=help_text,
                                                     key=f"{key}_{name}")
                continue
            label, low, high, increment, help_text = FIELD_WIDGETS[name]
            values[name] = cols[i % 4].number_input(
                label, min_value=type(default)(low), max_value=type(default)(high),
                step=type(default)(increment), help=help_text, key=f"{key}_{name}",
                format="%.4f" if name == "lr" else None,
            )
        left, middle, right = st.columns([2, 2, 1], vertical_alignment="bottom")
        images = left.selectbox(
            "Images per epoch", list(IMAGES_PER_EPOCH), format_func=IMAGES_PER_EPOCH.get, key=f"{key}_images",
            help="Fewer images make each epoch shorter, for a demonstration; accuracy will be lower.",
        )
        test_images = middle.selectbox(
            "Test images per evaluation", list(TEST_IMAGES), format_func=TEST_IMAGES.get, key=f"{key}_test_images",
            help="The test pass after every epoch. A quick one is faster but noisier; every number it gives says "
                 "how many images it is on. The shipped runs always use all 10,000.",
        )
        started = right.button("Start training", type="primary", key=f"{key}_train",
                               icon=":material/play_arrow:", width="stretch")
        _remember(key, values | {"images": images, "test_images": test_images})
        try:
            # The schedule fitted to the epochs chosen: a class run is the step's recipe over fewer epochs.
            config = compressed(step.recipe, values["epochs"]).with_(
                **values, train_limit=0 if images == TRAIN_IMAGES else images,
                test_limit=0 if test_images == 10_000 else test_images, design=design)
        except ValueError as exc:
            st.error(f"This recipe cannot train: {exc}")
            return
        speed = _speed(config)
        with picker:
            _preset_picker(step, key, lambda preset: estimate_seconds(_preset_length(config, step, preset), speed),
                           shipped, own_network=not design)
        seconds = estimate_seconds(config, speed)
        st.caption(f"Estimated duration: **{duration_words(seconds)}** on {training_device()}, if it trains alone "
                   f"(measured from {speed.source}); runs training at the same time share the machine.")
    asked = f"{key}_confirm_long"
    if started and seconds > LONG_RUN_S and st.session_state.get(asked) != config:
        st.session_state[asked] = config  # asked for exactly this recipe: Start anyway queues it
    if st.session_state.get(asked) is not None:
        if st.session_state[asked] != config:
            st.session_state.pop(asked)  # the recipe changed since: its own estimate stands above
        else:
            st.warning(f"This run is estimated at **{duration_words(seconds)}**, over {LONG_RUN_S // 60} minutes. "
                       "Fewer epochs or images per epoch make a shorter demonstration.",
                       icon=":material/hourglass_top:")
            sure, never_mind = st.columns(2)
            if sure.button("Start it anyway", key=f"{key}_train_long", type="primary"):
                st.session_state.pop(asked)
                _submit(key, config)
            if never_mind.button("Cancel", key=f"{key}_train_long_cancel"):
                st.session_state.pop(asked)
                st.rerun()
            return
    if started:
        _submit(key, config)


def _submit(key: str, config: TrainConfig) -> None:
    try:
        run_id = job_manager().submit(config, current_actor(), label=run_label(config, {"created": time.time()}))
    except QueueRefused as exc:
        st.warning(str(exc), icon=":material/hourglass_top:")
        return
    select_run(key, run_id)
    st.toast("Training queued", icon=":material/schedule:")
    st.rerun()  # the live panel, drawn above the form, was drawn before this run existed


def _in_form_range(name: str, value) -> bool:
    if name in FIELD_CHOICES:
        return value in FIELD_CHOICES[name][1]
    _, low, high, _, _ = FIELD_WIDGETS[name]
    return low <= value <= high


def _assigned(step: Step, tunable: list[str], key: str) -> dict:
    """The variant the teacher assigned this student for ``step`` (field -> value), as the form shows it.

    Puts the student on the class list first (so the teacher can assign before anybody trains). A new or
    changed assignment is put into the form's widgets once, over the student's remembered choices; after
    that the student's own edits stand, across reloads too.
    """
    actor = current_actor()
    book = class_book()
    book.note_student(actor)
    assigned = {}
    for name, value in book.assignment(actor.owner_id, step.number).items():
        if name in tunable:
            value = type(getattr(step.recipe, name))(value)  # the widget's own type: a float input refuses an int
            if _in_form_range(name, value):
                assigned[name] = value
    applied = _applied_assignments()
    if applied.get((actor.owner_id, key)) != assigned:
        applied[(actor.owner_id, key)] = assigned
        for name, value in assigned.items():
            st.session_state[f"{key}_{name}"] = value
    return assigned


def select_run(key: str, run_id: str) -> None:
    """Make ``run_id`` the run shown under *Your run* on the next full run of the page ``key`` names."""
    st.session_state[f"{key}_select_next"] = run_id


def _label(job) -> tuple[str, str | None]:
    """The run's label and colour, read from its files once per run (not on every redraw)."""
    labels = st.session_state.setdefault("live_panel_labels", {})
    if job.run_id not in labels:
        run = run_store().get(job.run_id)
        labels[job.run_id] = (run_label(run.config, run.status), run_colour(run)) if run is not None \
            else (job.run_id, None)
    return labels[job.run_id]


def _follow(job, view: dict, key: str, feed: str | None, signature: str, watch: bool) -> None:
    """One active job: the live card (its phase told honestly, the progress of that phase, the curves
    so far), and its Stop, live only for its owner and the teacher."""
    manager = job_manager()
    actor = current_actor()
    label, colour = _label(job)
    who = "you" if job.owner == actor.owner_id else clean_name(job.owner_name, "the command line")  # card: text
    live_card(view, label=label, who=who, colour=colour, presenting=presenting(), feed=feed, signature=signature,
              watch=watch, key=f"{key}_card_{job.run_id}")
    phase = job.phase
    can_stop = phase in ("queued", "loading data", "training", "evaluating") and not job.stopping
    allowed = manager.may_manage(job.run_id, actor)
    if can_stop and st.button("Stop" if phase != "queued" else "Cancel", key=f"{key}_stop_{job.run_id}",
                              icon=":material/stop:", disabled=not allowed,
                              help=None if allowed else
                              f"Only {name_text(job.owner_name, 'its owner')} or the teacher can stop this run."):
        try:
            manager.stop(job.run_id, actor)
        except (NotAllowed, KeyError) as exc:
            st.error(str(exc))
            return
        st.toast("Stopping after the current batch; the last finished epoch is kept.", icon=":material/stop:")
        try:
            st.rerun(scope="fragment")
        except StreamlitInvalidLayoutContextError:  # the click came in a full run of the page (AppTest runs so)
            st.rerun()


def live_panel(step: Step | None, key: str | None = None) -> None:
    """Follow the active runs of ``step``'s own network, or with ``step`` None, of every design.

    The browser redraws each run's card from the live feed every two seconds; the server draws the
    panel when the page is drawn and again only when its runs change stage (the card asks), so a
    class watching costs the training next to nothing. Without a feed the panel polls as a
    fragment once a second while a run it follows is active (and not at all otherwise).
    """
    key = key or f"step{step.number}"
    feed_key = panel_key(None if step is None else step.number)

    def followed_here(job) -> bool:
        return bool(job.config.design) if step is None else not job.config.design and job.config.step == step.number

    actor = current_actor()

    def shown_in_full(job) -> bool:
        return job.phase != "queued" or job.owner == actor.owner_id or actor.is_teacher

    def needs_polling(jobs: list, feed: str | None) -> bool:
        """Polled from the server only while a run followed here is active and no card watches the feed
        for the panel: no feed, or only other students' waiting runs (a line of text, no card)."""
        return bool(jobs) and (feed is None or not any(map(shown_in_full, jobs)))

    here = [job for job in job_manager().active_jobs() if followed_here(job)]
    polled = needs_polling(here, feed_url(runs_dir(), feed_key))

    @st.fragment(run_every=POLL_S if polled else None)
    def panel() -> None:
        manager = job_manager()
        jobs = [job for job in manager.active_jobs() if followed_here(job)]
        active = {job.run_id for job in jobs}
        followed = st.session_state.get(f"{key}_following", set())
        st.session_state[f"{key}_following"] = active
        ended = followed - active
        if ended:  # a run ended since the panel was drawn: one full rerun shows its results, selected
            select_run(key, max(ended))  # run ids begin with their start time: the newest that ended
            st.rerun()
        if not jobs:
            st.caption(f"No run of {'a design' if step is None else 'this step'} is training right now.")
        now = time.time()
        views = {job.run_id: job_view(job, manager.queue_position(job.run_id) if job.phase == "queued" else None,
                                      manager.max_concurrent, now) for job in jobs}
        signature = panel_signature(list(views.values()))
        feed = feed_url(runs_dir(), feed_key)
        # In full: what trains, and the waiting runs this person may cancel; the rest of the queue in a line.
        shown = [job for job in jobs if shown_in_full(job)]
        if jobs and needs_polling(jobs, feed) != polled:
            st.rerun()  # the panel must start or stop polling (say, a card found no feed): redeclare it in full
        for i, job in enumerate(shown):
            with st.container(border=True):
                _follow(job, views[job.run_id], key, feed, signature, watch=i == 0)
        others = [job for job in jobs if job not in shown]
        if others:
            st.caption("Also waiting: " + ", ".join(
                f"{name_text(job.owner_name, 'command line')} (place {manager.queue_position(job.run_id)})"
                for job in others))

    panel()
