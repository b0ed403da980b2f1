"""The plotly figures: what the curves and axes show, and that their text is readable on a projector."""

from __future__ import annotations

import math

import pytest

from ui.charts import (
    MIN_FONT_PX,
    accuracy_range,
    confusion_figure,
    curves_figure,
    for_projector,
    log_ticks,
    metric_figure,
)


def run(*test_accs, lr=0.01):
    return [{"epoch": i + 1, "train_loss": 0.1, "train_acc": acc - 0.2, "test_loss": 0.05, "test_acc": acc,
             "lr": lr, "seconds": 1.0} for i, acc in enumerate(test_accs)]


def test_accuracy_axis_fits_every_point_shown():
    """Issue 12: a 2-epoch demo (27% -> 71%) kept only its final epoch in view."""
    low, high = accuracy_range({"shipped": run(98.9, 99.4), "demo": run(27.0, 71.3)})
    assert low < 26.8 and high >= 100.0
    low, _ = accuracy_range({"shipped": run(98.9, 99.4)})
    assert 98.0 < low < 98.7  # only the lesson's last points: the axis zooms onto them


def test_epoch_ticks_are_whole_numbers_even_after_one_epoch():
    fig = curves_figure({"live": run(90.0)})
    axis = fig.layout.xaxis
    assert axis.dtick == 1 and axis.tick0 == 1 and axis.tickmode == "linear"
    assert axis.range[0] >= 0.5 and axis.range[1] <= 1.5  # no 0.5 or 1.5 tick in view but the one at 1


def test_curves_have_train_and_test_for_accuracy_and_loss_per_run_in_their_own_colour():
    fig = curves_figure({"a": run(98.0, 99.0), "b": run(97.0, 98.5)}, colours={"a": "#123456"})
    names = [trace.name for trace in fig.data]
    assert names.count("a · train") == 2 and names.count("b · test") == 2
    assert list(fig.data[1].y) == [98.0, 99.0]
    assert {t.line.color for t in fig.data if t.name.startswith("a ·")} == {"#123456"}


def test_log_axes_get_several_readable_ticks_even_within_one_decade():
    """Issue 12: the loss axes had one tick (and plotly's in-between digits are 10.5 px)."""
    fig = curves_figure({"a": run(98.0, 99.0)})  # every loss between 0.05 and 0.1
    assert fig.layout.yaxis2.type == "log" and list(fig.layout.yaxis2.tickvals) == [0.05, 0.1]
    assert log_ticks([2.3, 0.3]) == [0.2, 0.5, 1.0, 2.0]


def test_learning_rate_is_on_a_log_axis():
    fig = metric_figure({"step 4": run(99.0, 99.2, lr=0.05) + run(99.4, lr=0.0005)}, "lr", "learning rate")
    assert fig.layout.yaxis.type == "log"
    assert {0.0005, 0.05} <= set(fig.layout.yaxis.tickvals)  # both plateaus labelled (issue 12: both looked like 0)


def test_confusion_heatmap_hides_the_diagonal_but_labels_every_cell():
    confusion = [[5 if t == p else t for p in range(10)] for t in range(10)]
    heatmap = confusion_figure(confusion).data[0]
    assert heatmap.z[3][3] is None and heatmap.z[3][4] == 3
    assert heatmap.text[3][3] == 5


@pytest.mark.parametrize("build", [
    lambda: curves_figure({"a": run(98.0, 99.0)}),
    lambda: metric_figure({"a": run(98.0, 99.0)}, "test_acc", "test accuracy (%)"),
    lambda: confusion_figure([[1] * 10] * 10),
])
def test_no_text_is_smaller_than_the_minimum_and_the_projector_version_is_larger(build):
    fig = build()
    assert fig.layout.font.size >= MIN_FONT_PX and fig.layout.legend.font.size >= MIN_FONT_PX
    assert all(a.font.size >= MIN_FONT_PX for a in fig.layout.annotations)
    axes = [fig.layout[name] for name in fig.layout if name.startswith(("xaxis", "yaxis"))]
    assert axes and all(axis.tickfont.size >= MIN_FONT_PX for axis in axes)  # Streamlit's theme would make them 12
    big = for_projector(build())
    assert big.layout.font.size > fig.layout.font.size and big.layout.height > fig.layout.height


def test_a_log_axis_over_many_decades_labels_only_powers_of_ten_and_few_of_them():
    """Issue 29: Step 6's learning rate (0.1 … 5e-07) got 1-2-5 ticks in every decade, which ran into a smear."""
    ticks = log_ticks([0.1, 0.05, 1e-3, 5e-07])
    assert len(ticks) <= 7 and all(abs(math.log10(t) - round(math.log10(t))) < 1e-9 for t in ticks)
    assert min(ticks) <= 1e-06 and max(ticks) >= 0.1


def test_homes_accuracy_axis_fits_the_settled_epochs_of_the_shipped_steps():
    """Issue 29: Step 1's first epoch (80%) stretched the axis to 80-100%, with Steps 2-6 on top of each other."""
    from mnist_core.lesson.report import shipped_run

    histories = {f"Step {n}": shipped_run(n).history for n in range(1, 8)}
    low, high = metric_figure(histories, "test_acc", "test accuracy (%)").layout.yaxis.range
    settled = [h["test_acc"] for history in histories.values() for h in history[2:]]
    assert low <= min(settled) and high >= max(settled)  # every epoch from the third on is in view
    assert min(settled) - low < 0.5 and high <= 100.0  # and the axis is no taller than they are


def test_readable_raises_every_text_of_a_figure_and_keeps_larger_ones():
    import plotly.graph_objects as go

    fig = go.Figure(go.Heatmap(z=[[1, 2]], colorbar={"title": {"text": "w"}}))
    fig.add_annotation(text="small", font={"size": 10})
    fig.add_annotation(text="large", font={"size": 30})
    from ui.charts import readable

    readable(fig)
    assert fig.data[0].colorbar.tickfont.size == MIN_FONT_PX  # Streamlit's theme would draw these at 12 px
    assert fig.layout.xaxis.tickfont.size == MIN_FONT_PX
    assert [a.font.size for a in fig.layout.annotations] == [round(MIN_FONT_PX * 1.1), 30]
