"""The plotly figures: what the curves and axes show."""

from __future__ import annotations

from ui.charts import confusion_figure, curves_figure, zoomed_accuracy_range


def run(*test_accs):
    return [{"epoch": i + 1, "train_loss": 0.1, "train_acc": acc - 0.2, "test_loss": 0.05, "test_acc": acc,
             "lr": 0.01, "seconds": 1.0} for i, acc in enumerate(test_accs)]


def test_accuracy_axis_zooms_on_the_end_but_keeps_every_runs_final_epoch_in_view():
    assert zoomed_accuracy_range({"lesson": run(20.0, 98.9, 99.4)}) == [96.7, 100.0]
    low, high = zoomed_accuracy_range({"lesson": run(20.0, 99.4), "demo": run(60.0, 71.3)})
    assert low < 71.1 and high == 100.0


def test_curves_have_train_and_test_for_accuracy_and_loss_per_run():
    fig = curves_figure({"a": run(98.0, 99.0), "b": run(97.0, 98.5)})
    names = [trace.name for trace in fig.data]
    assert names.count("a · train") == 2 and names.count("b · test") == 2
    assert list(fig.data[1].y) == [98.0, 99.0]


def test_confusion_heatmap_hides_the_diagonal_but_labels_every_cell():
    confusion = [[5 if t == p else t for p in range(10)] for t in range(10)]
    heatmap = confusion_figure(confusion).data[0]
    assert heatmap.z[3][3] is None and heatmap.z[3][4] == 3
    assert heatmap.text[3][3] == 5
