"""``bench``'s report: it names the machine and the device, and its verdicts follow the measured figures.

The timings themselves take minutes (``bench --full`` is run by hand for the README); here the two
timing functions are replaced by fixed figures so that only the report's logic is under test.
"""

from __future__ import annotations

import argparse
import os

import pytest

from mnist_core.commands import bench
from mnist_core.engine.device import describe_device, pick_device


@pytest.fixture()
def figures(monkeypatch):
    """naive: 16 s at 97.70%; ours: 5 s per epoch at 98.35% and 12,000 images/s, 75 s for 15 epochs at 99.45%."""
    monkeypatch.setattr(bench, "load_mnist", lambda: None)
    monkeypatch.setattr(bench, "naive_epoch_seconds", lambda: (16.0, 97.70))
    monkeypatch.setattr(bench, "ours_seconds", lambda epochs: (5.0, 98.35, 12_000.0) if epochs == 1
                        else (75.0, 99.45, 12_500.0))


def test_the_report_names_the_machine_and_the_device_and_gives_each_verdict(figures, capsys):
    assert bench.cmd_bench(argparse.Namespace(full=True, skip_naive=False)) == 0
    out = capsys.readouterr().out
    assert f"{os.cpu_count()} cores" in out and describe_device(pick_device()) in out
    assert "speed-up: 3.20x (meets the 3x target); accuracies 0.65 points apart (NOT within 0.3 points)" in out
    assert "12,000 images/s" in out
    assert "measured: 75 s, final test acc 99.45%, training 12,500 images/s; meets the 90 s target" in out


def test_without_full_the_15_epoch_figure_is_labelled_as_extrapolated(figures, capsys):
    assert bench.cmd_bench(argparse.Namespace(full=False, skip_naive=True)) == 0
    out = capsys.readouterr().out
    assert "speed-up" not in out
    assert "extrapolated from one epoch: 15 x 5.0 s = 75 s (run with --full to measure); meets the 90 s target" in out
