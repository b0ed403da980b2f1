"""Plotly figures for the dashboard. Pure builders: histories in, figures out, no Streamlit.

Every figure is readable from the back of a classroom: no text under ``MIN_FONT_PX``,
axes that fit all the data shown, whole-number epoch ticks, and the target label above
its line. A run keeps one colour on every figure (``ui/run_colours.py`` picks it); a
caller passes it in ``colours``.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mnist_core.lesson.target import TARGET_ACC

MIN_FONT_PX = 14  # the smallest text on any figure (projector-readable)
PROJECTOR_SCALE = 1.4  # presentation mode's type, against the page's
MAX_LOG_TICKS = 7  # labels on a log axis before they run into each other on a 300 px plot
SETTLED_FROM_EPOCH = 3  # Home's accuracy axis fits the epochs from here on (epoch 1 of Step 1 is at 80%)
# Fallback colours for callers that pass none, in order.
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")


def _colour(label: str, i: int, colours: dict[str, str] | None) -> str:
    return (colours or {}).get(label) or PALETTE[i % len(PALETTE)]


def _target_line(fig: go.Figure, **where) -> None:
    fig.add_hline(y=TARGET_ACC, line_dash="dot", line_color="#444", annotation_text=f"{TARGET_ACC:.2f}% target",
                  annotation_position="top left", annotation_font_size=MIN_FONT_PX, **where)


def accuracy_range(histories: dict[str, list[dict]]) -> list[float]:
    """An accuracy axis that holds every point shown, train and test, with a little room below."""
    values = [h[m] for history in histories.values() for h in history for m in ("train_acc", "test_acc")]
    if not values:
        return [0.0, 100.0]
    low = min([*values, TARGET_ACC])
    pad = max((100.0 - low) * 0.05, 0.05)
    return [max(low - pad, 0.0), 100.0 + pad / 2]


def settled_accuracy_range(histories: dict[str, list[dict]]) -> list[float]:
    """A test-accuracy axis that fits the epochs from ``SETTLED_FROM_EPOCH`` on, and the target line.

    Spanning every epoch put Step 1's first epoch (80%) on the axis and Steps 2-6 on top of one another
    near 99%; the first epochs of a run longer than that lie below the axis (double-click zooms out).
    """
    values = [h["test_acc"] for history in histories.values() for h in history
              if h["epoch"] >= SETTLED_FROM_EPOCH or len(history) < SETTLED_FROM_EPOCH]
    if not values:
        return [0.0, 100.0]
    low, high = min([*values, TARGET_ACC]), max([*values, TARGET_ACC])
    pad = max((high - low) * 0.08, 0.05)
    return [max(low - pad, 0.0), min(high + pad, 100.0 + pad)]


def epoch_ticks(epochs: int) -> dict:
    """Whole-number epoch ticks: every epoch up to 8, then every second (15 epochs: 1, 3, ... 15) or more.

    Fewer ticks keep the labels upright in projector-sized type on a half-width plot.
    """
    return {"tickmode": "linear", "tick0": 1, "dtick": max(1, math.ceil(epochs / 8)), "tickformat": "d",
            "range": [0.5 if epochs <= 1 else 0.3, max(epochs, 1) + 0.5]}


def log_ticks(values: list[float]) -> list[float]:
    """1-2-5 ticks spanning ``values`` on a log axis: several labelled ticks even inside one decade.

    Plotly's own log ticks give one label per decade plus digits in small type (10.5 px).
    """
    positive = [v for v in values if v > 0]
    if not positive:
        return []
    low, high = math.floor(math.log10(min(positive))), math.ceil(math.log10(max(positive)))
    ticks = [m * 10.0 ** k for k in range(low, high + 1) for m in (1, 2, 5)]
    inside = [t for t in ticks if min(positive) / 1.5 <= t <= max(positive) * 1.5] or ticks
    if len(inside) <= MAX_LOG_TICKS:
        return inside
    # Many decades (a schedule that falls to 5e-07): 1-2-5 in each would run into a smear; powers of ten,
    # every second or third one when even those are too many.
    powers = [10.0 ** k for k in range(low, high + 1)]
    return powers[::math.ceil(len(powers) / MAX_LOG_TICKS)]


def _base_layout(fig: go.Figure, height: int, top: int = 40, legend_y: float = 1.02) -> None:
    """Fonts, margins, and the legend on top, where it stays on screen however tall the page is."""
    fig.update_layout(height=height, font={"size": MIN_FONT_PX}, margin={"t": top, "b": 50, "l": 60, "r": 20},
                      legend={"orientation": "h", "y": legend_y, "yanchor": "bottom", "x": 0,
                              "font": {"size": MIN_FONT_PX}},
                      hoverlabel={"font_size": MIN_FONT_PX})
    _axis_fonts(fig, MIN_FONT_PX)
    fig.update_annotations(font_size=max(MIN_FONT_PX, 16))


def _axis_fonts(fig: go.Figure, size: int) -> None:
    # Set on the axes themselves: Streamlit's plotly theme gives tick labels 12 px, whatever the layout's font says.
    fig.update_xaxes(tickfont_size=size, title_font_size=size)
    fig.update_yaxes(tickfont_size=size, title_font_size=size)


def curves_figure(histories: dict[str, list[dict]], height: int = 460, colours: dict[str, str] | None = None
                  ) -> go.Figure:
    """Accuracy (left) and loss (right) per epoch; train dashed, test solid; one colour per run.

    (A run under way draws its curves, each batch's loss included, in the live card: ui/live_card.js.)
    """
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Accuracy (%)", "Loss (log scale)"), horizontal_spacing=0.1)
    for i, (label, history) in enumerate(histories.items()):
        color = _colour(label, i, colours)
        epoch_numbers = [h["epoch"] for h in history]
        for metric, col, dash, kind in (
            ("train_acc", 1, "dash", "train"), ("test_acc", 1, "solid", "test"),
            ("train_loss", 2, "dash", "train"), ("test_loss", 2, "solid", "test"),
        ):
            fig.add_trace(go.Scatter(
                x=epoch_numbers, y=[h[metric] for h in history], mode="lines+markers", name=f"{label} · {kind}",
                legendgroup=label, showlegend=col == 1, line={"color": color, "dash": dash, "width": 3},
                marker={"size": 8},
                hovertemplate=f"{label}<br>epoch %{{x}}<br>{metric} %{{y:.4f}}<extra></extra>",
            ), row=1, col=col)
    _target_line(fig, row=1, col=1)
    fig.update_xaxes(title_text="epoch", **epoch_ticks(max((len(h) for h in histories.values()), default=0)))
    fig.update_yaxes(range=accuracy_range(histories), row=1, col=1)
    losses = [h[m] for history in histories.values() for h in history for m in ("train_loss", "test_loss")]
    ticks = log_ticks(losses)
    fig.update_yaxes(type="log", tickmode="array", tickvals=ticks, ticktext=[f"{t:g}" for t in ticks], row=1, col=2)
    _base_layout(fig, height, top=90, legend_y=1.1)
    fig.update_layout(showlegend=True)  # plotly hides a legend of one trace
    return fig


def metric_figure(histories: dict[str, list[dict]], metric: str, axis_title: str, height: int = 420,
                  colours: dict[str, str] | None = None) -> go.Figure:
    """One per-epoch metric (``test_acc``, ``lr``, ...) for several runs; accuracy gets the target line.

    The learning rate is drawn on a log axis: a schedule's plateaus (0.05, 0.005, 0.0005)
    differ tenfold, and on a linear axis the last two both look like zero.
    """
    fig = go.Figure()
    for i, (label, history) in enumerate(histories.items()):
        fig.add_trace(go.Scatter(x=[h["epoch"] for h in history], y=[h[metric] for h in history], name=label,
                                 mode="lines+markers", line={"color": _colour(label, i, colours), "width": 3},
                                 marker={"size": 8}))
    if metric == "test_acc":
        _target_line(fig)
        fig.update_yaxes(range=settled_accuracy_range(histories))
    if metric == "lr":
        ticks = log_ticks([h["lr"] for history in histories.values() for h in history])
        fig.update_yaxes(type="log", tickmode="array", tickvals=ticks, ticktext=[f"{t:g}" for t in ticks])
    fig.update_xaxes(title_text="epoch", **epoch_ticks(max((len(h) for h in histories.values()), default=1)))
    fig.update_yaxes(title_text=axis_title)
    _base_layout(fig, height)
    return fig


def confusion_figure(confusion: list[list[int]], height: int = 440, title: str = "Confusion matrix") -> go.Figure:
    """Heatmap of the confusion matrix with the diagonal hidden, so the mistakes stand out."""
    off_diagonal = [[None if t == p else n for p, n in enumerate(row)] for t, row in enumerate(confusion)]
    fig = go.Figure(go.Heatmap(
        z=off_diagonal, x=list(range(10)), y=list(range(10)), colorscale="Reds", text=confusion,
        texttemplate="%{text}", textfont={"size": MIN_FONT_PX}, showscale=False,
        hovertemplate="true %{y}, predicted %{x}: %{text}<extra></extra>",
    ))
    fig.update_xaxes(title_text="predicted", dtick=1)
    fig.update_yaxes(title_text="true", dtick=1, autorange="reversed")
    _base_layout(fig, height)
    fig.update_layout(title={"text": f"{title} (diagonal not coloured)", "font": {"size": 16}})
    return fig


def _at_least(font, size: int) -> dict:
    """A font's settings with its size raised to ``size`` (a larger size it already has is kept)."""
    current = font.size if font is not None and font.size is not None else 0
    return {"size": max(current, size)}


def readable(fig: go.Figure, size: int = MIN_FONT_PX) -> go.Figure:
    """The same figure with no text under ``size`` px: axes, colour bars, legend, annotations, titles, and the
    numbers written on cells and bars. Sizes already larger are kept (titles and notes a little larger).

    Every text is given its size explicitly: Streamlit's plotly theme draws what has none (tick labels,
    colour-bar numbers) at 12 px, whatever the layout's font says.
    """
    fig.update_layout(font=_at_least(fig.layout.font, size), legend={"font": _at_least(fig.layout.legend.font, size)},
                      hoverlabel={"font_size": size})
    fig.for_each_xaxis(lambda axis: axis.update(tickfont=_at_least(axis.tickfont, size),
                                                title_font=_at_least(axis.title.font, size)))
    fig.for_each_yaxis(lambda axis: axis.update(tickfont=_at_least(axis.tickfont, size),
                                                title_font=_at_least(axis.title.font, size)))
    fig.for_each_annotation(lambda note: note.update(font=_at_least(note.font, round(size * 1.1))))
    if fig.layout.title and fig.layout.title.text:
        fig.update_layout(title={"font": _at_least(fig.layout.title.font, round(size * 1.1))})
    for trace in fig.data:
        if "textfont" in trace:  # the numbers written on cells, bars and markers
            trace.update(textfont=_at_least(trace.textfont, size))
        if "colorbar" in trace:
            trace.update(colorbar={"tickfont": _at_least(trace.colorbar.tickfont, size),
                                   "title": {"font": _at_least(trace.colorbar.title.font, size)}})
    for name in fig.layout:  # shared colour scales (coloraxis, coloraxis2, ...) carry their own bars
        if name.startswith("coloraxis"):
            bar = fig.layout[name].colorbar
            fig.layout[name].colorbar.update(tickfont=_at_least(bar.tickfont, size),
                                             title={"font": _at_least(bar.title.font, size)})
    if fig.layout.uniformtext and fig.layout.uniformtext.minsize:
        fig.update_layout(uniformtext_minsize=max(fig.layout.uniformtext.minsize, size))
    return fig


def for_projector(fig: go.Figure, scale: float = PROJECTOR_SCALE) -> go.Figure:
    """The same figure with every text and the height scaled up, for presentation mode."""
    fig.update_layout(height=round((fig.layout.height or 450) * 1.25))
    return readable(fig, round(MIN_FONT_PX * scale))
