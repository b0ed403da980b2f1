"""Where the shipped runs live is defined once (mnist_core/common/paths.py), and a test can move it whole."""

from __future__ import annotations

from mnist_core.common import paths
from mnist_core.lesson import report
from tests.conftest import use_assets


def test_every_reader_of_the_shipped_runs_follows_a_test_to_its_copy(tmp_path, monkeypatch):
    use_assets(monkeypatch, tmp_path / "assets")
    assert paths.shipped_run_path(4) == report.shipped_run_path(4) == tmp_path / "assets" / "step4"
    assert report.shipped_run(4) is None  # nothing there: the real assets/step4 is not read
