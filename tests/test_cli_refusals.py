"""What a user can get wrong on the command line ends in one line and exit 1, and leaves no run folder behind;
Ctrl-C stops a run and says so; ``reproduce`` never replaces a shipped run with an unfinished one."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from mnist_core.commands import cli
from mnist_core.commands.cli import main
from mnist_core.commands.out_paths import run_folder_problem
from mnist_core.commands.progress_bar import EpochBar
from mnist_core.common.wording import count
from mnist_core.engine.checkpoints import CHECKPOINT_FORMAT
from mnist_core.engine.data import MnistTensors
from mnist_core.lesson import report
from tests.conftest import use_assets

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("flags, message", [
    (["--device", "foo"], "device must be auto, cpu, cuda, cuda:N or mps, not 'foo'"),
    (["--lr", "inf"], "lr must be a finite number"),
    (["--lr", "nan"], "lr must be a finite number"),
    (["--lr", "-0.1"], "learning rate must be positive"),
    (["--lr", "50"], "learning rate must be positive and at most 10"),
    (["--rotation", "inf"], "rotation_degrees must be a finite number"),
    (["--rotation", "-3"], "rotation must be in [0, 180] degrees"),
    (["--warmup", "-5"], "warmup must be in (0, 1)"),
    (["--warmup", "1"], "warmup must be in (0, 1)"),
    (["--weight-decay", "-1"], "weight decay must be in [0, 1)"),
    (["--weight-decay", "inf"], "weight_decay must be a finite number"),
    (["--dropout", "nan"], "dropout must be a finite number"),
    (["--translate", "1.5"], "translate must be in [0, 1)"),
    (["--epochs", "-2"], "epochs must be at least 1"),
    (["--batch-size", "0"], "batch size must be at least 1"),
    (["--seed", "-1"], "seed must be a non-negative whole number"),
])
def test_a_bad_recipe_flag_is_one_line_exit_1_and_no_run_folder(runs_dir, capsys, flags, message):
    assert main(["train", "--step", "1", *flags]) == 1
    stderr = capsys.readouterr().err
    assert stderr.startswith("error: ") and message in stderr and len(stderr.strip().splitlines()) == 1
    assert not runs_dir.exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_is_refused_before_a_run_folder_is_made(runs_dir, capsys):
    assert main(["train", "--step", "1", "--device", "cuda"]) == 1
    assert capsys.readouterr().err.strip() == "error: device 'cuda' asked for, but no CUDA GPU is available here"
    assert not runs_dir.exists()


def test_out_never_replaces_a_file_or_a_folder_of_other_files(tmp_path, capsys, monkeypatch):
    """The finished run replaces what --out names: a typo must not cost a user a file or a folder, and it is said
    before any data is read or minutes trained."""
    monkeypatch.setattr(cli, "_load_data", lambda: pytest.fail("refused only after reading the data"))
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "cat.jpg").write_bytes(b"jpeg")
    for target, message in ((notes, "is a file, not a folder"), (folder, "holds files that are not a run's")):
        assert main(["train", "--step", "1", "--out", str(target)]) == 1
        stderr = capsys.readouterr().err
        assert stderr.startswith(f"error: --out {target} ") and message in stderr
    assert notes.read_text() == "mine" and (folder / "cat.jpg").read_bytes() == b"jpeg"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "photos"]  # no half-made run beside them
    assert run_folder_problem(tmp_path / "new") is None
    assert "reproduce" in run_folder_problem(report.shipped_run_path(4))  # issue 27: a shipped run is not --out's


def _finished_run_at(folder: Path, **status) -> Path:
    shutil.copytree(ROOT / "assets" / "step1", folder)
    saved = json.loads((folder / "status.json").read_text())
    (folder / "status.json").write_text(json.dumps({**saved, **status}))
    return folder


def test_out_refuses_a_live_run_a_shipped_run_and_a_students_run(tmp_path, capsys, monkeypatch):
    """Issue 27: --out at a training run mixed the two; at assets/step4 it replaced the shipped Step 4 with a demo
    the pages then showed as Step 4's result; at a student's finished run it replaced it and cleared its owner."""
    monkeypatch.setattr(cli, "_load_data", lambda: pytest.fail("refused only after reading the data"))
    assets = tmp_path / "assets"
    shutil.copytree(ROOT / "assets", assets)
    use_assets(monkeypatch, assets)
    now = time.time()
    live = _finished_run_at(tmp_path / "runs" / "live", state="running", heartbeat=now, updated=now)
    owned = _finished_run_at(tmp_path / "runs" / "adas", owner="a" * 16, owner_name="Ada")
    for target, message in ((live, "is a run that is training right now"),
                            (assets / "step4", "`python -m mnist_core reproduce` replaces those"),
                            (tmp_path / "assets" / "step4" / ".." / "step2", "among the shipped runs"),
                            (owned, "is a run of Ada made on the dashboard")):
        before = {p.name: p.read_bytes() for p in target.iterdir()}
        assert main(["train", "--step", "2", "--epochs", "1", "--out", str(target)]) == 1
        stderr = capsys.readouterr().err
        assert stderr.startswith(f"error: --out {target} ") and message in stderr, stderr
        assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    ended = _finished_run_at(tmp_path / "runs" / "mine")  # the command line's own earlier run: may be replaced
    assert run_folder_problem(ended) is None


def test_a_run_that_became_live_while_training_is_not_replaced_and_the_new_one_is_kept(tmp_path, monkeypatch):
    """The check is made again before the rename: the dashboard may have started a run there meanwhile."""
    target = tmp_path / "runs" / "shared"

    def train_while_a_student_starts_there(config, out, data):
        now = time.time()
        _finished_run_at(target, state="running", heartbeat=now, updated=now, owner="b" * 16, owner_name="Bob")
        (out / "config.json").write_text("{}")
        return {}

    monkeypatch.setattr(cli, "_train_one", train_while_a_student_starts_there)
    with pytest.raises(cli.CliError, match="training right now.*kept in"):
        cli._train_in_place_of(None, target, None)
    assert json.loads((target / "status.json").read_text())["owner_name"] == "Bob"  # untouched
    (kept,) = [p for p in target.parent.iterdir() if p.name.startswith("shared-command-line-")]
    assert (kept / "config.json").read_text() == "{}"


@pytest.mark.parametrize("command", [["seeds", "--step", "1", "--seeds", "1"], ["schedules", "--seeds", "1"]])
def test_seeds_and_schedules_say_when_out_is_a_file(tmp_path, capsys, monkeypatch, command):
    for module in ("seeds", "schedule_study"):  # refused before any data is read
        monkeypatch.setattr(f"mnist_core.commands.{module}.load_mnist", lambda *a, **k: pytest.fail("read the data"))
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    assert main([*command, "--out", str(notes)]) == 1
    said = capsys.readouterr().err.strip()
    assert said == f"error: --out {notes} is a file, not a folder: give a folder for the runs"
    assert notes.read_text() == "mine"

@pytest.mark.parametrize("config", [[1, 2], "step 4", 7, None, {"step": "four"}])
def test_a_checkpoint_with_our_tag_but_a_config_that_is_no_config_is_refused(tmp_path, capsys, config):
    path = tmp_path / "tagged.pt"
    torch.save({"format": CHECKPOINT_FORMAT, "config": config, "state_dict": {}}, path)
    assert main(["evaluate", "--checkpoint", str(path)]) == 1
    stderr = capsys.readouterr().err
    assert stderr.startswith(f"error: {path} does not fit the lesson's networks") and len(stderr.splitlines()) == 1


@pytest.mark.real_data
def test_ctrl_c_stops_a_command_line_run_and_records_it_as_stopped(tmp_path, mnist):
    runs = tmp_path / "runs"
    env = {**os.environ, "MNIST_RUNS_DIR": str(runs)}
    process = subprocess.Popen(
        [sys.executable, "-m", "mnist_core", "train", "--step", "1", "--epochs", "30", "--train-limit", "640",
         "--test-limit", "500"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    try:
        deadline = time.time() + 240
        while not (histories := list(runs.glob("*/history.json"))) or not json.loads(histories[0].read_text()):
            assert process.poll() is None and time.time() < deadline, process.communicate()
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    assert "Traceback" not in err and "stopped after" in err
    run = histories[0].parent
    status = json.loads((run / "status.json").read_text())
    epochs = len(json.loads((run / "history.json").read_text()))
    assert status["state"] == "stopped" and f"Stopped after {count(epochs, 'full epoch')}." in status["message"]
    assert 1 <= epochs < 30
    assert (run / "evaluation.json").is_file() and (run / "model.pt").is_file()  # what was trained is scored


# ---- reproduce ------------------------------------------------------------------------------------------

@pytest.fixture()
def assets(tmp_path, monkeypatch):
    """A copy of assets/ for reproduce to write into; the real one is never touched."""
    copy = tmp_path / "assets"
    shutil.copytree(ROOT / "assets", copy)
    use_assets(monkeypatch, copy)
    return copy


@pytest.fixture()
def small_data(mnist, monkeypatch):
    """512 training and 200 test images, so a reproduce epoch takes a second or two."""
    small = MnistTensors(mnist.train_images[:512], mnist.train_labels[:512], mnist.test_images[:200],
                         mnist.test_labels[:200])
    monkeypatch.setattr(cli, "_load_data", lambda: small)
    return small


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def leftovers(assets: Path) -> list[str]:
    return [p.name for p in assets.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("epochs", ["0", "-1"])
def test_reproduce_refuses_zero_and_negative_epochs_before_training(assets, capsys, monkeypatch, epochs):
    monkeypatch.setattr(cli, "_load_data", lambda: pytest.fail("nothing may be loaded or trained"))
    before = snapshot(assets / "step1")
    assert main(["reproduce", "--steps", "1", "--epochs", epochs]) == 1
    assert capsys.readouterr().err.strip() == "error: epochs must be at least 1"
    assert snapshot(assets / "step1") == before


@pytest.mark.real_data
@pytest.mark.parametrize("how", ["ctrl-c once", "ctrl-c twice"])
def test_an_interrupted_reproduce_leaves_the_shipped_run_as_it_was(assets, small_data, monkeypatch, capsys, how):
    before = snapshot(assets / "step1")

    def interrupt(self, record):
        if how == "ctrl-c once":
            os.kill(os.getpid(), signal.SIGINT)  # as the terminal does: the run stops after this batch
        else:
            raise KeyboardInterrupt  # what a second Ctrl-C raises

    monkeypatch.setattr(EpochBar, "epoch_done", interrupt)
    assert main(["reproduce", "--steps", "1", "--epochs", "3"]) == 130
    assert snapshot(assets / "step1") == before
    assert leftovers(assets) == []
    assert report.shipped_run_problem(1) is None


@pytest.mark.real_data
def test_a_finished_reproduce_replaces_the_shipped_run_whole(assets, small_data, capsys):
    from mnist_core.runs.store import update_status

    killed, live = assets / ".step2.partial-killed", assets / ".step3.partial-live"  # left by other reproduces
    for folder, stamp in ((killed, time.time() - 3600), (live, time.time())):
        shutil.copytree(assets / "step1", folder)
        update_status(folder, state="running")
        (folder / "status.json").write_text(json.dumps({**json.loads((folder / "status.json").read_text()),
                                                        "updated": stamp, "heartbeat": stamp}))
    assert main(["reproduce", "--steps", "1", "--epochs", "1"]) == 0
    run = report.shipped_run(1)
    assert run.state == "finished" and run.config.epochs == 1 and len(run.history) == 1
    assert run.mistakes() is not None and leftovers(assets) == [live.name]  # the killed one is cleared away
    step1_row = next(line for line in (assets / "results.md").read_text().splitlines() if line.startswith("| 1 "))
    assert f"**{run.history[-1]['test_acc']:.2f}%**" in step1_row  # the table was rewritten from the new run
