"""The one renderer behind the Step pages: story, model, curves, mistakes, and training."""

from __future__ import annotations

import inspect

import pandas as pd
import streamlit as st

from mnist_core.common.wording import count
from mnist_core.engine import models
from mnist_core.engine.deskew import Deskew, deskew_layer, ink_moments
from mnist_core.engine.models import count_parameters
from mnist_core.engine.summary import summary_records
from mnist_core.lesson.report import ASSETS_DIR, analyse, images_scored, shipped_run, shipped_run_problem
from mnist_core.lesson.run_labels import field_name, format_value, recipe_fields, run_label
from mnist_core.lesson.seed_tables import recipe_seed_summary
from mnist_core.lesson.steps import STEPS, Step, get_step, trials_markdown
from mnist_core.lesson.target import run_verdict, within_param_budget
from mnist_core.runs.store import Run

from . import batchnorm_spread, run_views
from .augmentation_grid import augmentation_grid
from .identity import current_actor
from .lesson_nav import previous_next, step_page
from .state import job_manager, run_store, training_device
from .training_panel import live_panel, recipe_form


def _bullets(lines: tuple[str, ...] | list[str]) -> str:
    return "\n".join(f"- {line}" for line in lines)


STORY_FIGURES = {2: batchnorm_spread.render}  # measured figures that make a step's Analysis visible


def _story(step: Step, shipped: Run | None) -> None:
    if shipped is not None:
        run_views.headline_metrics(shipped)
    story, plot = st.columns([5, 6], gap="large")
    with story:
        st.subheader("Target")
        st.markdown(_bullets(step.target))
        st.subheader("Results")
        src = step.source
        if src is not None:
            st.markdown(_bullets([
                f"Parameters: **{src.params:,}**",
                f"Source lesson, best epochs: train **{src.best_train_acc:.2f}%**, test **{src.best_test_acc:.2f}%**",
            ]))
        else:  # beyond the lesson: the registry holds our own measured results
            st.markdown(_bullets([f"Parameters: **{count_parameters(step.build_model()):,}**", *step.results]))
        if shipped is not None and shipped.history:
            verdict = run_verdict(shipped.history[-1]["test_acc"], images_scored(shipped.config))
            st.markdown("Our shipped run, read from its history:")
            st.markdown(_bullets([*analyse(shipped.history, shipped.status.get("params", 0), shipped.config)[:1],
                                  f"Target {verdict.why} (one seed)."]))
        seeds = recipe_seed_summary(step.number)
        if seeds is not None:
            over_seeds = seeds.verdict(step.number)
            st.markdown(f"Over seeds {', '.join(map(str, seeds.seeds))} this recipe ends at "
                        f"**{over_seeds.mean_text}%** on average, the lowest seed at {seeds.lowest_final:.2f}% "
                        f"(from `assets/{seeds.table}`, the same figure Home shows). "
                        f"Target over seeds **{'met' if over_seeds.met else 'not met'}**: {over_seeds.reason}.")
        st.subheader("Analysis")
        st.markdown(_bullets(step.analysis))
        if step.search:
            st.caption("The search behind this reading opens below, change by change, and every table it made "
                       "follows it.")
    with plot:
        if shipped is None:
            st.warning("No shipped run for this step yet: `python -m mnist_core reproduce` makes it.")
        else:
            st.markdown("**The shipped run** (double-click a plot to zoom out)")
            run_views.curves({"shipped run": shipped}, key=f"step{step.number}_story")
    if step.number in STORY_FIGURES:
        STORY_FIGURES[step.number]()
    _measurements(step)
    if _introduces_augmentation(step):
        augmentation_grid(step.recipe, key=f"step{step.number}")


def _introduces_augmentation(step: Step) -> bool:
    previous = STEPS.get(step.number - 1)
    return step.recipe.rotation_degrees > 0 and previous is not None and previous.recipe.rotation_degrees == 0


def _measurements(step: Step) -> None:
    """The search and the tables behind the Analysis, full width so they stay readable."""
    if step.search:
        with st.expander(f"How the search went, change by change ({len(step.search)} paragraphs)"):
            st.markdown(_bullets(step.search))
    if step.trials:
        st.markdown("**What was tried on the way** (15 epochs each, `python -m mnist_core` plus the arguments shown; "
                    "over several seeds, the mean). A result on one or two seeds is not adopted over a recipe "
                    "measured on more unless it beats it by more than seeds of one recipe differ.")
        st.markdown(trials_markdown(step.trials))
        shown_below = step.evidence.table if step.evidence else None
        for trial in step.trials:  # the seed tables of the designs this step replaced
            table = ASSETS_DIR / trial.table if trial.table and trial.table != shown_below else None
            if table is not None and table.is_file():
                with st.expander(f"Seed by seed: {trial.change}"):
                    st.markdown(table.read_text(errors="replace"))
                    st.caption(f"Made by {trial.made_by}.")
    evidence = ASSETS_DIR / step.evidence.table if step.evidence else None
    if evidence is not None and evidence.is_file():
        st.markdown("**The measurement behind the Analysis**")
        st.markdown(evidence.read_text(errors="replace"))
        st.caption(f"Made by `{step.evidence.command}`.")


def _model(step: Step) -> None:
    model = step.build_model()
    params = count_parameters(model)
    left, right = st.columns([4, 7], gap="large")
    with left:
        records = summary_records(model)
        st.dataframe(pd.DataFrame(records), hide_index=True, height=35 * (len(records) + 1) + 3)
        budget = step.param_budget
        verdict = "within" if within_param_budget(params, budget) else "over"
        st.progress(min(params / budget, 1.0),
                    text=f"{params:,} parameters: {verdict} the {budget:,} budget ({params / budget:.1%})")
    with right:
        st.caption("This step builds its network with:")
        st.code(step.network_source(), language="python")
        _recipe_table(step)
        st.caption("The code of that network (read from the module itself):")
        network = step.model_class
        helpers = getattr(network, "building_blocks", ())  # the functions its __init__ builds blocks with
        st.code("\n\n".join(inspect.getsource(code) for code in (*helpers, network)),
                language="python", wrap_lines=True)
        if deskew_layer(model) is not None:
            with st.expander("Deskew: how each digit is straightened before the first layer (no weights)"):
                st.code("\n\n".join(inspect.getsource(code) for code in (ink_moments, Deskew)), language="python",
                        wrap_lines=True)
        with st.expander("FastDropout: dropout with cheaper random numbers"):
            st.code(inspect.getsource(models.FastDropout), language="python", wrap_lines=True)


def _recipe_table(step: Step) -> None:
    """The recipe as a table, and what changed from the previous step highlighted."""
    previous = STEPS.get(step.number - 1)
    rows = []
    for name in recipe_fields():
        if name in ("train_limit", "test_limit", "seed"):
            continue  # the shipped runs always use every image and seed 1: no step changes them
        value = getattr(step.recipe, name)
        before = getattr(previous.recipe, name) if previous else value
        rows.append({"Setting": field_name(name), f"Step {step.number}": format_value(name, value),
                     **({f"Step {previous.number}": format_value(name, before)} if previous else {}),
                     "Changed": "changed" if value != before else ""})
    table = pd.DataFrame(rows)
    changed = table["Changed"] == "changed"
    since = f", with what changed from Step {previous.number} highlighted" if previous else ""
    st.caption(f"The training recipe{since} ({count(int(changed.sum()), 'setting')} changed):")
    styled = table.style.apply(lambda row: ["background-color: #fff3b0; font-weight: bold" if changed[row.name]
                                            else "" for _ in row], axis=1)
    st.dataframe(styled, hide_index=True, key=f"step{step.number}_recipe_table")


def _mistakes(step: Step, shipped: Run | None) -> None:
    if shipped is None:
        st.info("No shipped run for this step yet.")
        return
    left, right = st.columns([3, 2], gap="large")
    with left:
        run_views.mistakes(shipped, key=f"step{step.number}_shipped_mistakes", inside_query={"step": str(step.number)})
    with right:
        run_views.confusion(shipped, key=f"step{step.number}_shipped")


def _your_runs(step: Step, shipped: Run | None) -> None:
    """The user's runs of this step, newest first; the one just started (or just ended) is selected."""
    key = f"step{step.number}"
    actor, teacher_set = current_actor(), job_manager().teacher.configured
    # Yours: the runs you started (the teacher: all); on a machine without a teacher password, the
    # command line's too, since its one user started them. Queued and running ones included, so the
    # run just started is the one selected (the panel above follows it).
    runs = [r for r in run_store().list()
            if r.config.step == step.number and not r.config.design
            and (actor.is_teacher or r.status.get("owner", "") == actor.owner_id
                 or (not r.status.get("owner") and not teacher_set))]
    if not runs:
        st.caption("Your runs of this step will appear here.")
        return
    by_id = {r.run_id: r for r in runs}
    wanted = st.session_state.pop(f"{key}_select_next", None)
    if wanted in by_id:
        st.session_state[f"{key}_run_pick"] = wanted
    elif st.session_state.get(f"{key}_run_pick") not in by_id:
        st.session_state.pop(f"{key}_run_pick", None)  # deleted since: fall back to the newest
    labels = {run_id: f"{run_label(r.config, r.status)} ({r.state})" for run_id, r in by_id.items()}
    picked = st.selectbox("Your run", list(by_id), format_func=labels.get, key=f"{key}_run_pick")
    run = by_id[picked]
    if run.state == "failed":
        st.error(f"This run failed. {run.status.get('message', '')}")
        return
    if run.state in ("queued", "running"):
        st.info("This run is still training: follow it in the panel above.", icon=":material/model_training:")
        return
    if run.status.get("message"):
        st.caption(run.status["message"])
    if not run.history:  # stopped before its first epoch ended: nothing was graded
        st.info(run_views.NEVER_GRADED, icon=":material/info:")
        return
    run_views.headline_metrics(run)
    ours, theirs = st.columns(2, gap="large")
    with ours:
        st.markdown("**Analysis of your run** (written from its numbers and its recipe)")
        st.markdown(_bullets(analyse(run.history, run.status.get("params", 0), run.config)))
    with theirs:
        st.markdown("**The lesson's analysis of this step**")
        st.markdown(_bullets(step.analysis))
    compared = {"your run": run} | ({"shipped run": shipped} if shipped else {})
    run_views.curves(compared, key=f"{key}_yours")
    cols = st.columns(len(compared), gap="large")
    for col, (label, each) in zip(cols, compared.items(), strict=True):
        with col:
            st.markdown(f"**Mistakes: {label}**")
            run_views.confusion(each, key=f"{key}_{label}")
            run_views.mistakes(each, key=f"{key}_{label}_mistakes",
                               inside_query={"run": each.run_id} if each is run else {"step": str(step.number)})


def _train(step: Step, shipped: Run | None) -> None:
    st.markdown(f"Training runs on **{training_device()}**, in the background: you can leave this page and "
                "come back. Runs are saved under `runs/` and also appear on *Compare runs*.")
    live_panel(step)  # first, so a run's progress and curves are on screen without scrolling
    recipe_form(step, shipped=shipped)
    st.divider()
    _your_runs(step, shipped)


def render_step(number: int) -> None:
    step = get_step(number)
    problem = shipped_run_problem(number)
    shipped = None if problem else shipped_run(number)  # damaged or unfinished numbers are no step's results
    st.title(f"Step {step.number}: {step.title}")
    st.markdown(f"*{step.adds}.*")
    previous_next(step_page(number), where="top")
    if problem:
        run_views.shipped_problem_notice(number, problem)
    tabs = st.tabs([":material/menu_book: Story", ":material/account_tree: Model", ":material/error: Mistakes",
                    ":material/model_training: Train it yourself"])
    with tabs[0]:
        _story(step, shipped)
    with tabs[1]:
        _model(step)
    with tabs[2]:
        _mistakes(step, shipped)
    with tabs[3]:
        _train(step, shipped)
    st.divider()
    previous_next(step_page(number), where="bottom")
