"""The command line as a user types it: results on success, one-line errors on bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from mnist_core.commands.cli import main
from mnist_core.common.paths import shipped_run_path
from mnist_core.lesson.steps import STEPS
from mnist_core.lesson.target import run_meets_target, run_verdict


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mnist_core", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.real_data
def test_train_writes_a_run_folder_and_prints_the_epoch_log(tmp_path, capsys, mnist):
    out = tmp_path / "run"
    args = ["train", "--step", "3", "--epochs", "2", "--train-limit", "256", "--test-limit", "500", "--out", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert printed.count("EPOCH:") == 2 and printed.count("Test set: Average loss:") == 2
    assert "Batch_id=2 " in printed and "100%|##########| 2/2" in printed
    # Scored on 500 test images: whatever its figure, the verdict is the one function's, and a demo cannot claim it
    final = json.loads((out / "history.json").read_text())[-1]["test_acc"]
    assert f"Target {run_verdict(final, 500).why} (one seed)." in printed and "cannot claim the target" in printed
    history = json.loads((out / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2]
    assert json.loads((out / "status.json").read_text())["state"] == "finished"
    assert (out / "model.pt").is_file() and (out / "mistakes.png").is_file()

    assert main(["evaluate", "--checkpoint", str(out / "model.pt")]) == 0
    printed = capsys.readouterr().out
    assert "Accuracy:" in printed and "Target not met:" in printed  # 256 training images: far from the bar


@pytest.mark.parametrize("args, message", [
    (["train", "--step", "9"], "unknown step 9"),
    (["evaluate", "--step", "8"], "unknown step 8"),
    (["evaluate", "--checkpoint", "no/such/file.pt"], "no checkpoint at"),
    (["train", "--step", "2", "--epochs", "0"], "epochs must be at least 1"),
])
def test_bad_input_is_one_line_and_a_nonzero_exit(args, message, capsys):
    assert main(args) == 1
    stderr = capsys.readouterr().err
    assert message in stderr and len(stderr.strip().splitlines()) == 1


def test_the_real_entry_point_prints_no_traceback():
    result = run_cli("train", "--step", "9")
    assert result.returncode == 1
    assert result.stderr.strip() == "error: unknown step 9; choose one of " + ", ".join(map(str, STEPS))


def test_foreign_and_corrupt_checkpoints_are_refused(tmp_path, capsys):
    foreign = tmp_path / "foreign.pt"
    torch.save({"conv.weight": torch.zeros(3)}, foreign)
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"not a checkpoint at all")
    for path, message in ((foreign, "was not saved by this project"), (corrupt, "not a readable PyTorch checkpoint")):
        assert main(["evaluate", "--checkpoint", str(path)]) == 1
        assert message in capsys.readouterr().err


def test_a_checkpoint_of_the_wrong_shape_is_refused(tmp_path):
    from mnist_core.engine.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
    from mnist_core.lesson.steps import get_step

    path = tmp_path / "wrong.pt"
    save_checkpoint(path, get_step(1).build_model(), get_step(4).recipe)  # Step 1 weights labelled Step 4
    with pytest.raises(CheckpointError, match="does not fit"):
        load_checkpoint(path)


@pytest.mark.real_data
def test_the_shipped_step4_checkpoint_beats_the_target_on_all_10000_test_images(mnist, capsys):
    assert main(["evaluate", "--step", "4"]) == 0
    printed = capsys.readouterr().out
    accuracy = float(printed.split("Accuracy: ")[1].split("(")[1].split("%")[0])
    assert run_meets_target(accuracy)
    assert f"Target {run_verdict(accuracy).why}." in printed  # the CLI says the verdict the pages give
    assert "9,436 parameters" in printed
    history = json.loads((shipped_run_path(4) / "history.json").read_text())
    assert len(history) <= 15 and history[-1]["test_acc"] == pytest.approx(accuracy, abs=0.005)
