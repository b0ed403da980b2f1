"""The live card's JavaScript (ui/live_card.js), where Node is installed: it parses as a module, and it
computes a panel's signature exactly as the server does, or every feed would look like a change."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ui.live_card import panel_signature

CARD = Path(__file__).resolve().parent.parent / "ui" / "live_card.js"
pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="Node is not installed")


def _run(tmp_path: Path, script: str) -> str:
    module = tmp_path / "live_card.mjs"  # Node reads .mjs as an ES module, as the browser reads the card
    module.write_text(CARD.read_text())
    runner = tmp_path / "run.mjs"
    runner.write_text(f"import * as card from './live_card.mjs';\n{script}\n")
    return subprocess.run(["node", str(runner)], capture_output=True, text=True, check=True, timeout=60).stdout


def test_the_card_computes_a_panel_s_signature_as_the_server_does(tmp_path):
    views = [{"run_id": "20260101-000002-step2-b", "stage": "queued"},
             {"run_id": "20260101-000001-step2-a", "stage": "active"}]
    out = _run(tmp_path, f"console.log(JSON.stringify([card.signatureOf({json.dumps(views)}), "
                         f"card.signatureOf([])]));")
    assert json.loads(out) == [panel_signature(views), panel_signature([])]
    assert panel_signature([]) == ""  # an emptied panel: the card must still see it as a change (see asked)


def test_accuracy_ticks_are_round_numbers(tmp_path):
    out = _run(tmp_path, "console.log(JSON.stringify([card.linearTicks(20.1, 100), card.linearTicks(97.3, 100)]));")
    assert json.loads(out) == [[40, 60, 80, 100], [98, 99, 100]]


def test_no_accuracy_chart_before_the_first_epoch_and_one_that_fits_the_first(tmp_path):
    """Issue 29: during epoch 1 the chart was fixed at 99.4-100 and empty."""
    out = _run(tmp_path, "console.log(JSON.stringify([card.accuracyRange([], 99.4), "
                         "card.accuracyRange([{epoch: 1, train_acc: 71.0, test_acc: 80.0}], 99.4)]));")
    empty, first = json.loads(out)
    assert empty is None
    assert first[0] < 71.0 and first[1] == 100


def test_train_dots_are_hollow_so_one_epoch_shows_two_dots():
    """Issue 29: with one epoch done, the test and train dots could not be told apart."""
    css = (CARD.parent / "live_card.css").read_text()
    assert ".live-card .plot circle.train { fill: #fff;" in css
