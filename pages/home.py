"""Home: the lesson's goal, its four steps and the three beyond it at a glance, and every shipped run in one plot."""

import pandas as pd
import streamlit as st

from mnist_core.engine.models import count_parameters
from mnist_core.engine.recipes import EPOCH_BUDGET
from mnist_core.lesson.report import images_scored, shipped_run, shipped_run_problem, summarize
from mnist_core.lesson.seed_tables import recipe_seed_summary
from mnist_core.lesson.steps import STEPS
from mnist_core.lesson.target import (
    PARAM_BUDGET,
    TARGET_ACC,
    TARGET_CORRECT,
    TARGET_WORDS,
    TEST_IMAGES,
    run_verdict,
)
from ui import presentation
from ui.charts import metric_figure
from ui.lesson_nav import previous_next, step_page
from ui.routing import through_the_router
from ui.run_colours import colours_of
from ui.run_views import shipped_problem_notice
from ui.state import training_device

through_the_router(__file__)

NO_FIGURE = "—"

st.title("MNIST above 99.4% with fewer than 10,000 parameters")


def seed_verdict(number: int):
    """Step ``number``'s recipe's verdict over its seeds, from the table its page quotes; None without one."""
    seeds = recipe_seed_summary(number)
    return seeds.verdict(number) if seeds else None


seed_verdicts = {number: seed_verdict(number) for number in STEPS}  # computed once, for the sentence and the table


def reached(number: int) -> str:
    """Whether step ``number``'s seeds meet the bar it is held to, in words: never more than they show."""
    verdict = seed_verdicts[number]
    return "reached" if verdict is not None and verdict.met else \
        f"not reached yet{f' ({verdict.reason})' if verdict else ''}"


st.markdown(
    f"""
The goal: a convolutional network that scores **{TARGET_WORDS}** on the {TEST_IMAGES:,} MNIST test
digits (at least {TARGET_CORRECT:,} right), with **fewer than {PARAM_BUDGET:,} parameters**, trained for
**at most {EPOCH_BUDGET} epochs**.
We get there in four steps. Each one sets a **Target**, looks at the **Results**, and draws an **Analysis**
that motivates the next step. Steps 5 to 7 then go beyond the lesson with the same target: at most
{STEPS[5].param_budget:,} parameters, about half, {reached(5)} with depthwise-separable blocks and a smoother
activation; at most {STEPS[6].param_budget:,}, under a third, {reached(6)}; and at most
{STEPS[7].param_budget:,}, a fifth, {reached(7)}. Open a step (a row of the table, *Next*, or the menu) to
read its story, look at its network and its mistakes, and train it yourself.
"""
)
previous_next("pages/home.py", where="top")

rows, shipped, problems = [], {}, {}
for number, step in STEPS.items():
    problems[number] = shipped_run_problem(number)
    run = None if problems[number] else shipped_run(number)  # damaged or unfinished numbers are not shown
    summary = summarize(run.history) if run else None
    seeds = seed_verdicts[number]
    if summary:
        shipped[f"Step {number}"] = run
    rows.append({
        "Step": f"{number}. {step.title}",
        "Params": count_parameters(step.build_model()),
        "Source best %": step.source.best_test_acc if step.source else None,  # none beyond the lesson
        "Our best %": round(summary.best_test_acc, 2) if summary else None,
        "Our final %": round(summary.final_test_acc, 2) if summary else None,
        "Target met: shipped run": run_verdict(summary.final_test_acc, images_scored(run.config)).met
        if summary else None,
        "Seeds: mean final %": seeds.mean_text if seeds else None,
        "Target met: over seeds": seeds.met if seeds else None,
    })

st.subheader("The steps")
for number, problem in problems.items():
    if problem:
        shipped_problem_notice(number, problem)
steps_table = pd.DataFrame(rows)
percent_columns = [column for column in steps_table.columns if column.endswith("%")]
# Shown as text with two decimals, and a dash where a step has no such figure (no source
# lesson, no seed table): Streamlit would print "None" in an empty number cell.
for column in percent_columns:  # a seed mean comes as text already, with the decimals its side of 99.40% needs
    steps_table[column] = [NO_FIGURE if pd.isna(value) else value if isinstance(value, str) else f"{value:.2f}"
                           for value in steps_table[column]]
picked = st.dataframe(steps_table, hide_index=True, on_select="rerun", selection_mode="single-row",
                      key="home_steps_table", column_config={
    "Step": st.column_config.TextColumn(help="Click a row to open its step"),
    "Params": st.column_config.NumberColumn(format="localized"),
    "Source best %": st.column_config.TextColumn(alignment="right", help="The source lesson's best test accuracy"),
    "Our best %": st.column_config.TextColumn(alignment="right", help="Best epoch's test accuracy, shipped run"),
    "Our final %": st.column_config.TextColumn(alignment="right", help="Final epoch's test accuracy, shipped run"),
    "Target met: shipped run": st.column_config.CheckboxColumn(
        help=f"{TARGET_WORDS.capitalize()} at the final epoch ({TARGET_CORRECT:,} of {TEST_IMAGES:,} test images "
             "or more), by the shipped run: one seed"),
    "Seeds: mean final %": st.column_config.TextColumn(
        alignment="right",
        help="Mean final test accuracy of the step's recipe over several seeds (the seeds and schedules "
             "commands), where it was measured; a third decimal where two would hide its side of "
             f"{TARGET_ACC:.2f}%"),
    "Target met: over seeds": st.column_config.CheckboxColumn(
        help=f"The recipe's mean over its seeds is {TARGET_WORDS} and no seed ends below the step's floor"),
})
if picked.selection.rows:  # a row is a link to its step
    st.switch_page(step_page(list(STEPS)[picked.selection.rows[0]]), query_params=presentation.query())
st.caption("The source lesson quotes its best epoch only (and has no Steps 5 to 7); ours shows the best and the final "
           "epoch of the runs shipped in `assets/` (made by `python -m mnist_core reproduce`). A shipped run is one "
           "seed: where a recipe was also trained over several seeds, the last column is their mean. "
           "Click a row to open its step.")

st.subheader("Test accuracy per epoch")
if shipped:
    presentation.plot(metric_figure({label: run.history for label, run in shipped.items()}, "test_acc",
                                    "test accuracy (%)", colours=colours_of(shipped)), key="home_steps_plot")
else:
    st.warning("No shipped runs found in assets/: run `python -m mnist_core reproduce` to make them.")

st.info(f"Training on this machine uses: **{training_device()}**.", icon=":material/computer:")
