"""Plotly figures for the dashboard. Pure builders: histories in, figures out, no Streamlit."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mnist_core.lesson.steps import TARGET_ACC

# One colour per curve, stable across figures; train curves dashed, test curves solid.
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")


def _target_line(fig: go.Figure, **where) -> None:
    fig.add_hline(y=TARGET_ACC, line_dash="dot", line_color="#444", annotation_text=f"{TARGET_ACC:.2f}% target",
                  annotation_position="bottom right", **where)


def zoomed_accuracy_range(histories: dict[str, list[dict]]) -> list[float]:
    """Zoom the accuracy axis onto the last percents, where the lesson happens.

    The lower edge sits just under every run's final accuracy (and at most at 97%), so
    each run's end stays in view while a first epoch far below the rest does not flatten
    every curve; double-clicking the plot autoscales to show everything.
    """
    finals = [history[-1][m] for history in histories.values() if history for m in ("train_acc", "test_acc")]
    return [max(min([97.0, *finals]) - 0.3, 0.0), 100.0]


def curves_figure(histories: dict[str, list[dict]], height: int = 420) -> go.Figure:
    """Accuracy (left) and loss (right) per epoch; train dashed, test solid; one colour per run."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Accuracy (%)", "Loss"), horizontal_spacing=0.08)
    for i, (label, history) in enumerate(histories.items()):
        color = PALETTE[i % len(PALETTE)]
        epochs = [h["epoch"] for h in history]
        for metric, col, dash, kind in (
            ("train_acc", 1, "dash", "train"), ("test_acc", 1, "solid", "test"),
            ("train_loss", 2, "dash", "train"), ("test_loss", 2, "solid", "test"),
        ):
            fig.add_trace(go.Scatter(
                x=epochs, y=[h[metric] for h in history], mode="lines+markers", name=f"{label} · {kind}",
                legendgroup=label, showlegend=col == 1, line={"color": color, "dash": dash},
                hovertemplate=f"{label}<br>epoch %{{x}}<br>{metric} %{{y:.4f}}<extra></extra>",
            ), row=1, col=col)
    _target_line(fig, row=1, col=1)
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(range=zoomed_accuracy_range(histories), row=1, col=1)
    fig.update_yaxes(type="log", dtick=1, row=1, col=2)  # one tick per decade
    fig.update_layout(height=height, margin={"t": 40, "b": 40, "l": 40, "r": 20},
                      legend={"orientation": "h", "y": -0.2})
    return fig


def metric_figure(histories: dict[str, list[dict]], metric: str, axis_title: str, height: int = 420) -> go.Figure:
    """One per-epoch metric (``test_acc``, ``lr``, ...) for several runs; accuracy gets the target line."""
    fig = go.Figure()
    for i, (label, history) in enumerate(histories.items()):
        fig.add_trace(go.Scatter(x=[h["epoch"] for h in history], y=[h[metric] for h in history], name=label,
                                 mode="lines+markers", line={"color": PALETTE[i % len(PALETTE)]}))
    if metric == "test_acc":
        _target_line(fig)
        fig.update_yaxes(range=zoomed_accuracy_range(histories))
    fig.update_layout(height=height, margin={"t": 30, "b": 40, "l": 40, "r": 20}, xaxis_title="epoch",
                      yaxis_title=axis_title, legend={"orientation": "h", "y": -0.25})
    return fig


def confusion_figure(confusion: list[list[int]], height: int = 420) -> go.Figure:
    """Heatmap of the confusion matrix with the diagonal hidden, so the mistakes stand out."""
    off_diagonal = [[None if t == p else n for p, n in enumerate(row)] for t, row in enumerate(confusion)]
    fig = go.Figure(go.Heatmap(
        z=off_diagonal, x=list(range(10)), y=list(range(10)), colorscale="Reds", text=confusion,
        texttemplate="%{text}", hovertemplate="true %{y}, predicted %{x}: %{text}<extra></extra>", showscale=False,
    ))
    fig.update_layout(height=height, margin={"t": 30, "b": 40, "l": 40, "r": 20},
                      title="Confusion matrix (diagonal not coloured)")
    fig.update_xaxes(title_text="predicted", dtick=1)
    fig.update_yaxes(title_text="true", dtick=1, autorange="reversed")
    return fig
