"""'Train it yourself': the recipe form, and a live panel that follows queued and running jobs.

Training runs in the shared JobManager's worker threads, never in the script thread,
so the page stays responsive and a run outlives the page. The live panel is a fragment
that polls once a second while a run of its step is active (and not at all otherwise), reads
only the job in memory, and rebuilds its chart only when the curves changed; when a run it was
following ends, it reruns the whole page once so the results appear, that run selected.
Everybody sees every run of the step; only its owner or the teacher gets a live Stop.
"""

from __future__ import annotations

import os
import time

import streamlit as st
from streamlit.errors import StreamlitInvalidLayoutContextError

from mnist_core.engine.identity import NotAllowed
from mnist_core.engine.jobs import QueueRefused
from mnist_core.lesson.run_labels import run_label
from mnist_core.lesson.steps import Step

from .charts import curves_figure, extend_batch_losses, for_projector
from .identity import current_actor
from .presentation import presenting
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
POLL_S = 1.0  # how often the live panel reads a running job (each read costs the training thread a little)
CHART_EVERY_S = 2.0  # the live chart is rebuilt at most this often while only the per-batch loss line grows
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
        try:
            run_id = job_manager().submit(config, current_actor(), label=run_label(config, {"created": time.time()}))
        except QueueRefused as exc:
            st.warning(str(exc), icon=":material/hourglass_top:")
            return
        select_run(key, run_id)
        st.toast("Training queued", icon=":material/schedule:")
        st.rerun()  # the live panel, drawn above the form, was drawn before this run existed


def select_run(key: str, run_id: str) -> None:
    """Make ``run_id`` the run shown under *Your run* on the next full run of the page ``key`` names."""
    st.session_state[f"{key}_select_next"] = run_id


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return "time left: measuring"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"about {minutes}:{secs:02d} left, test passes included"


def _label(job) -> str:
    """The run's label, read from its files once per run (not on every poll)."""
    labels = st.session_state.setdefault("live_panel_labels", {})
    if job.run_id not in labels:
        run = run_store().get(job.run_id)
        labels[job.run_id] = (run_label(run.config, run.status), run_colour(run)) if run is not None \
            else (job.run_id, None)
    return labels[job.run_id]


def _chart(job, key: str) -> None:
    """The run's curves so far, redrawn only when they changed: built again when an epoch ends (or the
    mode changes), its per-batch loss line extended in place at most every ``CHART_EVERY_S`` while only
    that grows; a poll in between sends the figure it has, which the browser does not redraw."""
    cache = st.session_state.setdefault(f"{key}_live_charts", {})
    built = cache.get(job.run_id)
    losses = list(job.batch_losses)
    now = time.monotonic()
    grew = built is not None and built["losses"] != len(losses) and now - built["at"] >= CHART_EVERY_S
    if grew and extend_batch_losses(built["fig"], "this run", losses):
        built.update(losses=len(losses), at=now)
    elif built is None or grew or built["epochs"] != len(job.history) or built["presenting"] != presenting():
        _, colour = _label(job)
        fig = curves_figure({"this run": list(job.history)} if job.history else {}, height=360,
                            colours={"this run": colour} if colour else None, batch_losses={"this run": losses},
                            epochs=job.config.epochs)
        built = cache[job.run_id] = {"epochs": len(job.history), "losses": len(losses), "presenting": presenting(),
                                     "at": now, "fig": for_projector(fig) if presenting() else fig}
    st.plotly_chart(built["fig"], key=f"{key}_live_{job.run_id}")


def _follow(job, key: str) -> None:
    """One active job: its phase told honestly, with the progress of that phase and the curves so far.

    Everything here is read from the job in memory (no file is read on a poll): the panel polls
    every ``POLL_S`` in the same process as the training thread, and every poll's Python holds
    the GIL that thread needs between its PyTorch calls.
    """
    manager = job_manager()
    actor = current_actor()
    label, _ = _label(job)
    who = "you" if job.owner == actor.owner_id else (job.owner_name or "the command line")
    phase = job.phase
    headline = {"stopping": "stopping…", "evaluating": f"evaluating on {job.eval_total:,} test images",
                "saving": "saving the model and its mistakes"}.get(phase, phase)
    st.markdown(f"**{label}** by {who}: *{headline}*")
    if phase == "queued":
        position = manager.queue_position(job.run_id)
        st.info(f"Waiting in the queue, place {position}. {manager.max_concurrent} run(s) train at a time on this "
                "server and students take turns, so each student's next run goes before anyone's second one.",
                icon=":material/schedule:")
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
    if job.batch_losses or job.history:
        _chart(job, key)
    can_stop = phase in ("queued", "loading data", "training", "evaluating") and not job.stopping
    allowed = manager.may_manage(job.run_id, actor)
    if can_stop and st.button("Stop" if phase != "queued" else "Cancel", key=f"{key}_stop_{job.run_id}",
                              icon=":material/stop:", disabled=not allowed,
                              help=None if allowed else
                              f"Only {job.owner_name or 'its owner'} or the teacher can stop this run."):
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
    """Follow the active runs of ``step``'s own network, or with ``step`` None, of every design."""
    key = key or f"step{step.number}"

    def followed_here(job) -> bool:
        return bool(job.config.design) if step is None else not job.config.design and job.config.step == step.number

    # Poll once a second while a run followed here is active; with none, not at all (Start reruns
    # the page, which turns polling on). A stop or a test pass still shows: each lasts a second or more.
    training = any(followed_here(job) for job in job_manager().active_jobs())

    @st.fragment(run_every=POLL_S if training else None)
    def panel() -> None:
        jobs = [job for job in job_manager().active_jobs() if followed_here(job)]
        active = {job.run_id for job in jobs}
        followed = st.session_state.get(f"{key}_following", set())
        st.session_state[f"{key}_following"] = active
        ended = followed - active
        if ended:  # a run ended since the last poll: one full rerun shows its results, selected
            select_run(key, max(ended))  # run ids begin with their start time: the newest that ended
            charts = st.session_state.get(f"{key}_live_charts", {})
            for run_id in ended:
                charts.pop(run_id, None)
            st.rerun()
        if not jobs:
            st.caption(f"No run of {'a design' if step is None else 'this step'} is training right now.")
        actor = current_actor()
        # In full: what trains, and the waiting runs this person may cancel; the rest of the queue in a line.
        shown = [job for job in jobs if job.phase != "queued" or job.owner == actor.owner_id or actor.is_teacher]
        for job in shown:
            with st.container(border=True):
                _follow(job, key)
        others = [job for job in jobs if job not in shown]
        if others:
            manager = job_manager()
            st.caption("Also waiting: " + ", ".join(
                f"{job.owner_name or 'command line'} (place {manager.queue_position(job.run_id)})" for job in others))

    panel()
