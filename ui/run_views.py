"""Views of one finished (or partly finished) run: headline numbers, curves, mistakes, confusion.

A run with no finished epoch was never evaluated: it gets a sentence saying so, never a
grade. A run scored on a quick test pass says so on every number it shows.
"""

from __future__ import annotations

import streamlit as st

from mnist_core.lesson.report import images_scored, summarize, test_set_words
from mnist_core.lesson.target import run_verdict
from mnist_core.runs.store import Run

from .address import kept_query
from .charts import confusion_figure, curves_figure, metric_figure
from .presentation import plot
from .run_colours import colours_of

MISTAKES_SHOWN = 40
NEVER_GRADED = "No epoch finished in this run, so it was never evaluated: it has no test accuracy and no mistakes."


def quick_test_note(run: Run) -> str:
    """'' for the full test set, else ' (first 2,000 test images)' to put after every test number."""
    limit = run.config.test_limit
    return f" (first {limit:,} test images)" if 0 < limit < 10_000 else ""


def shipped_problem_notice(step: int, problem: str) -> None:
    """Say why a shipped run's numbers are not shown, and how to get them back."""
    st.warning(f"The shipped run of Step {step} (`assets/step{step}`) is {problem}  \n"
               f"Its numbers are not shown. `git checkout assets/step{step}` restores it; "
               f"`python -m mnist_core reproduce --steps {step}` trains it again.", icon=":material/report:")


def headline_metrics(run: Run) -> None:
    """Best and final test accuracy, parameters and speed as a row of metrics."""
    summary = summarize(run.history)
    if summary is None:
        st.info(NEVER_GRADED, icon=":material/info:")
        return
    note = quick_test_note(run)
    verdict = run_verdict(summary.final_test_acc, images_scored(run.config))  # the one definition (target.py)
    cols = st.columns(5)
    cols[0].metric("Best test accuracy" + note, f"{summary.best_test_acc:.2f}%", help=f"epoch {summary.best_epoch}")
    cols[1].metric("Final test accuracy" + note, f"{summary.final_test_acc:.2f}%",
                   delta="target met" if verdict.met else "target not met", delta_color="green" if verdict.met
                   else "red", delta_arrow="up" if verdict.met else "down",
                   help=f"Target {verdict.why} (this run: one seed).")
    cols[2].metric("Best train accuracy", f"{summary.best_train_acc:.2f}%")
    cols[3].metric("Parameters", f"{run.status.get('params', 0):,}")
    cols[4].metric("Seconds per epoch", f"{summary.seconds_per_epoch:.1f}", help=run.status.get("device", ""))


def curves(runs: dict[str, Run], key: str) -> None:
    """Loss and accuracy overlaid for the given runs, and the learning rate (log axis) when it changes."""
    drawn = {label: run for label, run in runs.items() if run.history}
    left_out = [label for label in runs if label not in drawn]
    if left_out:
        st.caption("Not drawn, no epoch finished: " + "; ".join(left_out))
    if not drawn:
        st.info("No finished epoch to plot yet.", icon=":material/info:")
        return
    histories = {label: run.history for label, run in drawn.items()}
    colours = colours_of(drawn)
    plot(curves_figure(histories, colours=colours), key=f"{key}_curves")
    if any(len({h["lr"] for h in history}) > 1 for history in histories.values()):
        plot(metric_figure(histories, "lr", "learning rate (log scale)", height=300, colours=colours),
             key=f"{key}_lr")


INSIDE_PAGE = "pages/inside_network.py"
LINKED_COLUMNS = 8  # mistakes per row when each carries a link to Inside the network


def mistakes(run: Run, key: str, inside_query: dict[str, str] | None = None) -> None:
    """The misclassified test images as a grid, filterable by true and predicted digit.

    With ``inside_query`` (``{"step": "4"}`` or ``{"run": run_id}``) each mistake carries a link that opens
    *Inside the network* on that model and that digit.
    """
    found = run.mistakes() if run.history else None
    if found is None:
        st.info(NEVER_GRADED if not run.history else "This run has no saved mistakes.", icon=":material/info:")
        return
    digits = ["any", *range(10)]
    left, right = st.columns(2)
    true_digit = left.selectbox("True digit", digits, key=f"{key}_true")
    predicted_digit = right.selectbox("Predicted digit", digits, key=f"{key}_pred")
    chosen = [
        k for k, m in enumerate(found.mistakes)
        if true_digit in ("any", m.true) and predicted_digit in ("any", m.predicted)
    ]
    show_all = len(chosen) > MISTAKES_SHOWN and st.toggle(f"Show all {len(chosen)}", key=f"{key}_all")
    shown = chosen if show_all else chosen[:MISTAKES_SHOWN]
    st.caption(f"{len(chosen)} of {len(found.mistakes)} mistakes on {test_set_words(run.config)}, most confident first"
               + (f"; the first {len(shown)} shown" if len(shown) < len(chosen) else ""))
    if shown and inside_query is not None:
        st.caption("Click a digit's label to look inside the network at it.")
        for start in range(0, len(shown), LINKED_COLUMNS):
            for column, k in zip(st.columns(LINKED_COLUMNS, gap="small"), shown[start:start + LINKED_COLUMNS],
                                 strict=False):
                m = found.mistakes[k]
                column.image(found.images[k], width=64)
                column.page_link(INSIDE_PAGE, label=f"{m.true}→{m.predicted}",
                                 query_params=kept_query({**inside_query, "test_index": str(m.index)}),
                                 help=f"Test digit #{m.index}: a {m.true} taken for a {m.predicted} "
                                      f"({m.confidence:.0%} sure). "
                                      "Open it on Inside the network.")
    elif shown:
        st.image(
            [found.images[k] for k in shown],
            caption=[f"{found.mistakes[k].true}→{found.mistakes[k].predicted} ({found.mistakes[k].confidence:.0%})"
                     for k in shown],
            width=72,
        )


def confusion(run: Run, key: str) -> None:
    if run.history and run.evaluation and "confusion" in run.evaluation:
        title = "Confusion matrix" + quick_test_note(run)
        plot(confusion_figure(run.evaluation["confusion"], title=title), key=f"{key}_confusion")
    else:
        st.info(NEVER_GRADED if not run.history else "No confusion matrix saved for this run.",
                icon=":material/info:")
