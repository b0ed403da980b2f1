"""'Train it yourself': the recipe form, and a live panel that follows queued and running jobs.

Training runs in the shared JobManager's worker threads, never in the script thread,
so the page stays responsive and a run outlives the page. The live panel is a fragment
that polls twice a second while a run of its step is active (and not at all otherwise); when a
run it was following ends, it reruns the whole page so the results appear.
"""

from __future__ import annotations

import os
import time

import streamlit as st

from mnist_core.lesson.run_labels import run_label
from mnist_core.lesson.steps import Step

from .charts import curves_figure
from .presentation import plot
from .run_colours import run_colour
from .state import job_manager, run_store

# Widgets for the recipe fields a step lets users edit: label, min, max, step, help.
FIELD_WIDGETS = {
    "epochs": ("Epochs", 1, 30, 1, "The lesson's budget is 15."),
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
}
IMAGES_PER_EPOCH = {60_000: "all 60,000 (the real lesson)", 10_000: "10,000 (quick)", 2_560: "2,560 (demo)"}
# The test pass after every epoch: all of it, or a quick one whose every number says so.
TEST_IMAGES = {10_000: "all 10,000 (the real lesson)", 2_000: "first 2,000 (quick: every number is labelled)"}


def _default_images_per_epoch() -> int:
    """A test or a slow classroom machine can default to fewer images through the environment."""
    limit = int(os.environ.get("MNIST_DEMO_TRAIN_LIMIT", "0") or 0)
    return limit if limit in IMAGES_PER_EPOCH else 60_000


def recipe_form(step: Step, design: str = "", key: str | None = None) -> None:
    """Editable defaults from the step's recipe, and Start.

    With ``design`` (design JSON), the run trains that network with this step's recipe; its
    rows name their own activations, so the recipe's activation is not offered.
    """
    key = key or f"step{step.number}"
    tunable = [name for name in step.tunable if not (design and name == "activation")]
    with st.form(f"{key}_form", border=True):
        cols = st.columns(4)
        values = {}
        for i, name in enumerate(tunable):
            default = getattr(step.recipe, name)
            if name in FIELD_CHOICES:
                label, shown, help_text = FIELD_CHOICES[name]
                values[name] = cols[i % 4].selectbox(label, list(shown), index=list(shown).index(default),
                                                     format_func=shown.get, help=help_text, key=f"{key}_{name}")
                continue
            label, low, high, increment, help_text = FIELD_WIDGETS[name]
            values[name] = cols[i % 4].number_input(
                label, min_value=type(default)(low), max_value=type(default)(high), value=default,
                step=type(default)(increment), help=help_text, key=f"{key}_{name}",
                format="%.4f" if name == "lr" else None,
            )
        left, middle, right = st.columns([2, 2, 1], vertical_alignment="bottom")
        images = left.selectbox(
            "Images per epoch", list(IMAGES_PER_EPOCH), format_func=IMAGES_PER_EPOCH.get,
            index=list(IMAGES_PER_EPOCH).index(_default_images_per_epoch()), key=f"{key}_images",
            help="Fewer images make each epoch shorter, for a demonstration; accuracy will be lower.",
        )
        test_images = middle.selectbox(
            "Test images per evaluation", list(TEST_IMAGES), format_func=TEST_IMAGES.get, key=f"{key}_test_images",
            help="The test pass after every epoch. A quick one is faster but noisier; every number it gives says "
                 "how many images it is on. The shipped runs always use all 10,000.",
        )
        started = right.form_submit_button("Start training", type="primary", key=f"{key}_train",
                                           icon=":material/play_arrow:", use_container_width=True)
    if started:
        try:
            config = step.recipe.with_(**values, train_limit=0 if images == 60_000 else images,
                                       test_limit=0 if test_images == 10_000 else test_images,
                                       design=design)
        except ValueError as exc:
            st.error(f"This recipe cannot train: {exc}")
            return
        run_id = job_manager().submit(config, label=run_label(config, {"created": time.time()}))
        select_run(step, run_id)
        st.toast("Training queued", icon=":material/schedule:")
        st.rerun()  # the live panel, drawn above the form, was drawn before this run existed


def select_run(step: Step, run_id: str) -> None:
    """Make ``run_id`` the run shown under *Your runs* on the next full run of the page."""
    st.session_state[f"step{step.number}_select_next"] = run_id


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return "time left: measuring"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"about {minutes}:{secs:02d} left, test passes included"


def _follow(job, key: str) -> None:
    """One active job: its phase told honestly, with the progress of that phase and the curves so far."""
    manager = job_manager()
    run = run_store().get(job.run_id)
    label = run_label(run.config, run.status) if run is not None else job.run_id
    phase = job.phase
    headline = {"stopping": "stopping…", "evaluating": f"evaluating on {job.eval_total:,} test images",
                "saving": "saving the model and its mistakes"}.get(phase, phase)
    st.markdown(f"**{label}**: *{headline}*")
    if phase == "queued":
        position = manager.queue_position(job.run_id)
        st.info(f"Waiting in the queue, place {position}. One run trains at a time on this machine; "
                "this one starts when the runs ahead of it finish.", icon=":material/schedule:")
    elif phase == "loading data":
        st.progress(job.data_fraction or 0.0, text=job.message or "Loading MNIST")
    elif job.latest is not None:
        p = job.latest
        if phase == "evaluating":
            st.progress(job.eval_done / max(job.eval_total, 1),
                        text=f"Epoch {p.epoch}/{p.epochs}: evaluating, {job.eval_done:,} of {job.eval_total:,} "
                             "test images scored")
        elif phase == "stopping":
            st.progress(p.batch / p.batches, text=f"Epoch {p.epoch}/{p.epochs}: stopping after the current "
                                                  "batch; the last finished epoch is kept")
        elif phase == "saving":
            st.progress(1.0, text="Saving the model, its evaluation and its mistakes")
        else:
            st.progress(p.batch / p.batches, text=f"Epoch {p.epoch}/{p.epochs}: batch {p.batch}/{p.batches}")
        done = ((p.epoch - 1) * p.batches + p.batch) / (p.epochs * p.batches)
        st.progress(min(done, 1.0), text=f"Whole run: {done:.0%} of the batches, {_eta(job.seconds_left())}")
        cols = st.columns(4)
        cols[0].metric("Batch loss", f"{p.loss:.4f}")
        cols[1].metric("Train accuracy (this epoch)", f"{p.running_acc:.2f}%")
        cols[2].metric("Images / s", f"{p.images_per_s:,.0f}")
        cols[3].metric("Learning rate", f"{p.lr:.5f}")
    if job.batch_losses or (run is not None and run.history):
        colour = {"this run": run_colour(run)} if run is not None else None
        history = {"this run": run.history} if run is not None and run.history else {}
        plot(curves_figure(history, height=360, colours=colour, batch_losses={"this run": list(job.batch_losses)},
                           epochs=job.config.epochs), key=f"{key}_live_{job.run_id}")
    can_stop = phase in ("queued", "loading data", "training", "evaluating") and not job.stopping
    if can_stop and st.button("Stop" if phase != "queued" else "Cancel", key=f"{key}_stop_{job.run_id}",
                              icon=":material/stop:"):
        manager.stop(job.run_id)
        st.toast("Stopping after the current batch; the last finished epoch is kept.", icon=":material/stop:")
        st.rerun(scope="fragment")


def live_panel(step: Step | None, key: str | None = None) -> None:
    """Follow the active runs of ``step``'s own network, or with ``step`` None, of every design."""
    key = key or f"step{step.number}"

    def followed_here(job) -> bool:
        return bool(job.config.design) if step is None else not job.config.design and job.config.step == step.number

    # Poll twice a second while a run of this step is active (a test pass or a stop lasts only a second
    # or two); with none, do not poll at all: Start reruns the page, which turns polling on.
    training = any(job.config.step == step.number for job in job_manager().active_jobs())

    @st.fragment(run_every=0.5 if training else None)
    def panel() -> None:
        jobs = [job for job in job_manager().active_jobs() if followed_here(job)]
        active = {job.run_id for job in jobs}
        followed = st.session_state.get(f"{key}_following", set())
        st.session_state[f"{key}_following"] = active
        ended = followed - active
        if ended:  # a run ended since the last poll: show it, and redraw the page with its results
            select_run(step, max(ended))  # run ids begin with their start time: the newest that ended
            st.rerun()
        if not jobs:
            st.caption(f"No run of {'a design' if step is None else 'this step'} is training right now.")
        for job in jobs:
            with st.container(border=True):
                _follow(job, key)

    panel()
