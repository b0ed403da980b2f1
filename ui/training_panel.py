"""'Train it yourself': the recipe form, and a live panel that follows queued and running jobs.

Training runs in the shared JobManager's worker threads, never in the script thread,
so the page stays responsive and a run outlives the page. The live panel is a fragment
that polls every ``POLL_S`` seconds and reads only the job's memory (no file); its chart
is rebuilt only when an epoch ends (live_chart.py), so a class watching costs training
little. When a run it was following ends, it reruns the whole page so the results appear.
Everybody sees every run of the step; only its owner or the teacher gets a live Stop.
"""

from __future__ import annotations

import os

import streamlit as st

from mnist_core.engine.identity import NotAllowed
from mnist_core.engine.jobs import QueueRefused
from mnist_core.lesson.steps import Step

from .identity import current_actor
from .live_chart import epoch_curves
from .state import job_manager

POLL_S = 2.0  # seconds between a live panel's redraws; a batch takes well under that

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
        cols = st.columns(3)
        values = {}
        for i, name in enumerate(tunable):
            default = getattr(step.recipe, name)
            if name in FIELD_CHOICES:
                label, shown, help_text = FIELD_CHOICES[name]
                values[name] = cols[i % 3].selectbox(label, list(shown), index=list(shown).index(default),
                                                     format_func=shown.get, help=help_text, key=f"{key}_{name}")
                continue
            label, low, high, increment, help_text = FIELD_WIDGETS[name]
            values[name] = cols[i % 3].number_input(
                label, min_value=type(default)(low), max_value=type(default)(high), value=default,
                step=type(default)(increment), help=help_text, key=f"{key}_{name}",
                format="%.4f" if name == "lr" else None,
            )
        images = st.selectbox(
            "Images per epoch", list(IMAGES_PER_EPOCH), format_func=IMAGES_PER_EPOCH.get,
            index=list(IMAGES_PER_EPOCH).index(_default_images_per_epoch()), key=f"{key}_images",
            help="Fewer images make each epoch shorter, for a demonstration; accuracy will be lower.",
        )
        started = st.form_submit_button("Start training", type="primary", key=f"{key}_train")
    if started:
        try:
            config = step.recipe.with_(**values, train_limit=0 if images == 60_000 else images, design=design)
        except ValueError as exc:
            st.error(f"This recipe cannot train: {exc}")
            return
        network = f"Design · Step {step.number}'s recipe" if design else f"Step {step.number}"
        try:
            run_id = job_manager().submit(config, current_actor(),
                                          label=f"{network} · seed {config.seed} · {images:,} img/epoch")
        except QueueRefused as exc:
            st.warning(str(exc), icon=":material/hourglass_top:")
            return
        st.session_state[f"{key}_selected_run"] = run_id
        st.toast("Training queued")


def _follow(job, key: str) -> None:
    """One active job: queue place, data loading, or epoch and run progress with growing curves."""
    manager = job_manager()
    actor = current_actor()
    mine = job.owner == actor.owner_id
    who = "you" if mine else (job.owner_name or "the command line")
    st.markdown(f"**Run `{job.run_id}`** by {who}: {job.phase}")
    if job.phase == "queued":
        position = manager.queue_position(job.run_id)
        slots = manager.max_concurrent
        st.info(f"Waiting in the queue, place {position}. {slots} run(s) train at a time on this server and "
                "students take turns, so each student's next run goes before anyone's second one.")
    elif job.phase == "loading data":
        st.progress(job.data_fraction or 0.0, text=job.message or "Loading MNIST")
    elif job.latest is not None:
        p = job.latest
        st.progress(p.batch / p.batches, text=f"Epoch {p.epoch}/{p.epochs}: batch {p.batch}/{p.batches}")
        done = ((p.epoch - 1) * p.batches + p.batch) / (p.epochs * p.batches)
        minutes, seconds = divmod(int(p.eta_s), 60)
        st.progress(done, text=f"Whole run: {done:.0%}, about {minutes}:{seconds:02d} left")
        cols = st.columns(4)
        cols[0].metric("Batch loss", f"{p.loss:.4f}")
        cols[1].metric("Train accuracy (this epoch)", f"{p.running_acc:.2f}%")
        cols[2].metric("Images / s", f"{p.images_per_s:,.0f}")
        cols[3].metric("Learning rate", f"{p.lr:.5f}")
    history = job.history  # in memory: no file read per redraw
    if history:
        st.plotly_chart(epoch_curves(job.run_id, history), key=f"{key}_live_{job.run_id}")
    allowed = manager.may_manage(job.run_id, actor)
    label = "Stop" if job.phase != "queued" else "Cancel"
    if st.button(label, key=f"{key}_stop_{job.run_id}", disabled=not allowed,
                 help=None if allowed else f"Only {job.owner_name or 'its owner'} or the teacher can stop this run."):
        try:
            manager.stop(job.run_id, actor)
            st.toast("Stopping after the current batch; what was trained is kept.")
        except (NotAllowed, KeyError) as exc:
            st.error(str(exc))


def live_panel(step: Step | None, key: str | None = None) -> None:
    """Follow the active runs of ``step``'s own network, or with ``step`` None, of every design."""
    key = key or f"step{step.number}"

    def followed_here(job) -> bool:
        return bool(job.config.design) if step is None else not job.config.design and job.config.step == step.number

    @st.fragment(run_every=POLL_S)
    def panel() -> None:
        jobs = [job for job in job_manager().active_jobs() if followed_here(job)]
        active = {job.run_id for job in jobs}
        followed = st.session_state.get(f"{key}_following", set())
        st.session_state[f"{key}_following"] = active
        if followed - active:  # a run ended since the last poll: redraw the page with its results
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
