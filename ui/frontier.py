"""Compare runs' frontier: every network as parameters (log scale) against final test accuracy, the
99.40% line and the parameter budgets, the Pareto frontier joined, and the leaderboard a class
competes on. The points and the rules come from ``mnist_core.lesson.frontier``, the target's
verdicts from ``mnist_core.lesson.target``."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from mnist_core.lesson import frontier
from mnist_core.lesson.steps import STEPS
from mnist_core.lesson.target import PARAM_BUDGET, TARGET_ACC, TARGET_WORDS
from mnist_core.runs.store import Run

from .presentation import plot

# How each source is drawn: marker symbol and colour.
STYLE = {
    "step": ("star", "#f2c744"),
    "seed run": ("diamond", "#f28e2b"),
    "trial": ("circle", "#9aa5b1"),
    "your run": ("square", "#4e9af1"),
    "your design": ("hexagon", "#e45756"),
}
NAMES = {"step": "shipped steps", "seed run": "seed runs of the steps beyond the lesson",
         "trial": "trials (mean over seeds)", "your run": "your step runs", "your design": "your designs"}


def budget_lines() -> dict[int, str]:
    """Each parameter budget a step is held to, with its label: the lesson's, then each later step's own."""
    lines: dict[int, str] = {}
    for number, step in STEPS.items():
        lines.setdefault(step.param_budget, f"the lesson's budget: under {PARAM_BUDGET:,}"
                         if step.param_budget == PARAM_BUDGET else f"Step {number}'s: at most {step.param_budget:,}")
    return lines


def frontier_accuracy_axis(points: list[frontier.FrontierPoint]) -> tuple[float, float]:
    """The y axis: fitted to the ranked points and the target, so that one short demo run (often 95% or
    less) does not squash every network that competes into a sliver; the rest sit on its bottom edge."""
    ranked = [p.final_test_acc for p in points if p.not_ranked is None] or [p.final_test_acc for p in points]
    low = max(min(min(ranked, default=TARGET_ACC) - 0.2, TARGET_ACC - 0.3), 0)
    high = min(max((p.final_test_acc for p in points), default=TARGET_ACC) + 0.15, 100)
    return low, high


def frontier_figure(points: list[frontier.FrontierPoint], front: list[frontier.FrontierPoint],
                    height: int = 520) -> go.Figure:
    low, high = frontier_accuracy_axis(points)
    edge = low + 0.02 * (high - low)  # where a point below the axis is drawn, as a downward triangle
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=[p.params for p in front], y=[p.final_test_acc for p in front], mode="lines", name="Pareto frontier",
        line=dict(color="#2ca02c", width=2, shape="hv"), hoverinfo="skip"))
    for source, (symbol, colour) in STYLE.items():
        for demo in (False, True):
            chosen = [p for p in points if p.source == source and (p.not_ranked is not None) == demo]
            if not chosen:
                continue
            below = [p.final_test_acc < edge for p in chosen]
            fig.add_trace(go.Scatter(
                x=[p.params for p in chosen], y=[max(p.final_test_acc, edge) for p in chosen], mode="markers",
                name=NAMES[source] + (" (not ranked)" if demo else ""),
                marker=dict(symbol=[("triangle-down" if under else symbol) + ("-open" if demo else "")
                                    for under in below],
                            size=12 if source == "step" else 9, color=colour, line=dict(width=1, color="#333")),
                customdata=[p.final_test_acc for p in chosen],
                text=[p.label + (f"<br>alone, target {p.verdict.why}" if p.verdict else "")
                      + (f"<br><i>not ranked: {p.not_ranked}</i>" if p.not_ranked else "")
                      + ("<br><i>below the chart: drawn on its bottom edge</i>" if under else "")
                      for p, under in zip(chosen, below, strict=True)],
                hovertemplate="%{text}<br>%{x:,} parameters · %{customdata:.2f}% at the final epoch<extra></extra>"))
    fig.add_hline(y=TARGET_ACC, line=dict(color="#2ca02c", dash="dash"),
                  annotation_text=f"{TARGET_ACC:.2f}%", annotation_position="bottom right")
    budgets = budget_lines()
    for order, (budget, text) in enumerate(sorted(budgets.items(), reverse=True)):
        fig.add_vline(x=budget, line=dict(color="#888", dash="dot"))
        # On a log axis an annotation's x is the exponent (add_vline's own label lands off the chart).
        # Ending at its line, so the rightmost label stays on the chart when presentation mode enlarges it,
        # except the leftmost, which starts at its line so that it is not cut by the chart's left edge;
        # every other one a line higher, so that neighbouring budgets' labels never overlap.
        fig.add_annotation(x=math.log10(budget), xref="x", y=1.0, yref="paper", yanchor="bottom",
                           xanchor="left" if budget == min(budgets) else "right", yshift=16 * (order % 2),
                           text=text, showarrow=False, font=dict(size=11, color="#666"))
    sizes = [p.params for p in points] + list(budgets)
    fig.update_xaxes(type="log", title="parameters (log scale)", tickformat=",",  # a margin beyond both budgets
                     range=[math.log10(min(sizes) * 0.85), math.log10(max(sizes) * 1.2)])
    fig.update_yaxes(title="test accuracy at the final epoch (%)", range=[low, high])
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=66, b=10),
                      legend=dict(orientation="h", yanchor="top", y=-0.18))
    return fig


def render(user_runs: dict[str, Run]) -> None:
    """The frontier section of Compare runs, for the shipped results and ``user_runs`` (label -> run)."""
    st.subheader("The frontier: parameters against accuracy")
    points = frontier.shipped_points() + frontier.user_points(user_runs)
    counted = [p for p in points if p.not_ranked is None]
    front = frontier.pareto_front(counted)
    st.caption(f"Every network measured here. Up and to the left is better: the green line joins the networks no "
               f"other beats on both counts. Open markers are runs that cannot compete (demo limits, stopped, over "
               f"{frontier.EPOCH_BUDGET} epochs); a run only reaches the chart once an epoch has finished. The "
               f"axis fits the networks that compete: a run below it sits on its bottom edge as a downward "
               f"triangle, its accuracy in its tooltip.")
    plot(frontier_figure(points, front), key="compare_frontier")  # scaled for a projector in presentation mode
    st.markdown(f"**The smallest network {TARGET_WORDS} at its final epoch**")
    board = frontier.leaderboard(points)
    if not board:
        st.info("Nothing meets the target yet.")
    else:
        st.dataframe(pd.DataFrame([{
            "Rank": rank, "Network": s.label, "Params": s.params, "Mean final test %": s.verdict.mean_text,
            "Seeds": s.seeds_text, "Lowest seed %": f"{s.verdict.lowest:.2f}", "Epochs": s.epochs,
            "From": NAMES[s.source],
        } for rank, s in enumerate(board, 1)]), hide_index=True, width="stretch",
            column_config={"Params": st.column_config.NumberColumn(format="localized"),
                           # text: 99.403 keeps the decimals that show which side of 99.40% a mean is on
                           "Mean final test %": st.column_config.TextColumn(alignment="right"),
                           "Lowest seed %": st.column_config.TextColumn(alignment="right")})
    st.caption(f"The target is the lesson's: {TARGET_WORDS} at the final epoch, counted in test images (at least "
               "9,941 of 10,000). Runs that differ only in their seed are one recipe, judged by its seed mean, with "
               "no seed below its step's floor; a run without other seeds is marked as one seed and ranks below "
               "every recipe measured over seeds. Within each, the smallest network first, then the higher mean. "
               "Ranked: finished "
               "runs on all 60,000 training and 10,000 test images within the epoch budget. Demo runs (fewer "
               "images) and stopped runs are drawn but kept off the table; trials, being means over seeds, are on "
               "the chart only.")
