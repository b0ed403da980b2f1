"""The validating reader of run folders: every damaged file makes a DamagedRun naming it, never an exception.

Each case is one a careless edit, a full disk or a killed writer really produces; the
expected message part is written by hand from what the file holds.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from mnist_core.engine.config import TrainConfig
from mnist_core.runs import store as runs
from mnist_core.runs.store import DamagedRun, Run, RunStore, inspect_run, read_run

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_STEP1 = ROOT / "assets" / "step1"

# (file, what is written there, words the message must hold)
DAMAGE = [
    ("config.json", "[1]", "must be a JSON object"),
    ("config.json", '"x"', "must be a JSON object"),
    ("config.json", '{"step": 1, "epochs": "15"}', "epochs must be a whole number"),
    ("config.json", '{"step": 99}', "step 99 is not a step"),
    ("config.json", '{"step": 1, "lr": 1e999}', "lr must be a finite number"),
    ("config.json", '{"step": 1, "epo', "not valid JSON"),
    ("status.json", '"x"', "must be a JSON object"),
    ("status.json", "[]", "must be a JSON object"),
    ("status.json", '{"state": "sleeping"}', "state 'sleeping' is not one of"),
    ("status.json", '{"state": "finished", "params": "abc"}', "params must be a whole number"),
    ("status.json", '{"state": "finished", "label": 5}', "label must be text"),
    ("status.json", "", "empty"),
    ("history.json", '{"a": 1}', "must be a list of epochs"),
    ("history.json", "[{}]", "entry 1 should be epoch 1"),
    ("history.json", "[1, 2]", "entry 1 must be an object"),
    ("history.json", '[{"epoch": 1, "train_loss": 1, "train_acc": 50, "test_loss": 1, "test_acc": "99", "lr": 0.1, '
                     '"seconds": 1}]', "test_acc must be a number"),
    ("history.json", "[", "not valid JSON"),
    ("history.json", "[]", "0 of 15 epochs recorded, but status.json says the run finished"),
    ("evaluation.json", '{"confusion": "x"}', "test_loss must be a number"),
    ("evaluation.json", '{"test_loss": 0.1, "test_acc": 98, "correct": 1, "total": 2, "confusion": "x"}',
     "confusion must be a 10x10 table"),
    ("evaluation.json", "null", "must be a JSON object"),
    ("mistakes.npz", "", "not a readable .npz archive"),
    ("mistakes.npz", "TRUNCATE", "not a readable .npz archive"),
    ("mistakes.npz", "PK\x03\x04 not really a zip", "not a readable .npz archive"),
]


def copy_of_a_finished_run(folder: Path) -> Path:
    """A real finished run (the shipped Step 1) that a test may damage."""
    shutil.copytree(SHIPPED_STEP1, folder)
    return folder


def damage(folder: Path, name: str, content: str) -> None:
    path = folder / name
    if content == "TRUNCATE":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:
        path.write_text(content)


def test_the_shipped_runs_read_as_whole_runs():
    for folder in sorted((ROOT / "assets").glob("step[0-9]")):
        assert isinstance(inspect_run(folder), Run), folder


@pytest.mark.parametrize("name, content, words", DAMAGE)
def test_each_damaged_file_makes_a_damaged_run_that_says_which_file_and_what(tmp_path, name, content, words):
    folder = copy_of_a_finished_run(tmp_path / "run")
    damage(folder, name, content)
    run = inspect_run(folder)
    assert isinstance(run, DamagedRun)
    assert run.problem.startswith(f"{name}: ") and words in run.problem, run.problem
    assert read_run(folder) is None


def test_a_missing_optional_file_is_no_damage_but_a_missing_config_is(tmp_path):
    folder = copy_of_a_finished_run(tmp_path / "run")
    (folder / "mistakes.npz").unlink()
    assert isinstance(inspect_run(folder), Run)
    (folder / "config.json").unlink()
    assert inspect_run(folder).problem == "config.json: missing"
    assert inspect_run(tmp_path) is None  # a folder without any run file is not a run


def test_the_store_lists_damaged_folders_apart_and_deletes_them(tmp_path):
    store = RunStore(tmp_path / "runs")
    good = copy_of_a_finished_run(store.root / "good")
    bad = copy_of_a_finished_run(store.root / "bad")
    damage(bad, "status.json", '"x"')
    healthy, damaged = store.scan()
    assert [r.run_id for r in healthy] == ["good"] and [r.run_id for r in damaged] == ["bad"]
    assert store.list()[0].path == good
    store.delete("bad")
    assert not bad.exists() and store.damaged() == []


@pytest.mark.parametrize("run_id", ["", ".", "..", "../x", "/tmp", "a/b", "a\\b", ".hidden", "x\0y"])
def test_run_ids_that_would_leave_the_runs_folder_are_refused(tmp_path, run_id):
    store = RunStore(tmp_path / "runs")
    copy_of_a_finished_run(store.root / "keep")
    with pytest.raises(ValueError, match="not a run id"):
        store.delete(run_id)
    assert (store.root / "keep" / "config.json").is_file()


def test_two_runs_made_in_the_same_second_with_the_same_random_part_both_get_a_folder(tmp_path, monkeypatch):
    tokens = iter(["aaaa0000", "aaaa0000", "bbbb1111"])
    monkeypatch.setattr(runs.secrets, "token_hex", lambda n: next(tokens))
    monkeypatch.setattr(runs.time, "strftime", lambda fmt: "20260101-000000")
    store = RunStore(tmp_path / "runs")
    first, second = store.create(TrainConfig(step=1)), store.create(TrainConfig(step=1))
    assert first.run_id != second.run_id and second.run_id.endswith("bbbb1111")


def test_mistakes_arrays_of_the_wrong_shape_are_damage(tmp_path):
    folder = copy_of_a_finished_run(tmp_path / "run")
    np.savez(folder / "mistakes.npz", index=np.arange(3), true=np.arange(3), predicted=np.arange(3),
             confidence=np.ones(3, dtype=np.float32), images=np.zeros((2, 28, 28), dtype=np.uint8))
    assert "images must be 3 28x28 bytes" in inspect_run(folder).problem


def test_a_history_longer_than_the_run_is_damage(tmp_path):
    folder = copy_of_a_finished_run(tmp_path / "run")
    history = json.loads((folder / "history.json").read_text())
    (folder / "history.json").write_text(json.dumps(history + [{**history[-1], "epoch": len(history) + 1}]))
    assert "16 epochs recorded, but the run has only 15" in inspect_run(folder).problem


# ---- every field of status.json, fuzzed (issue 27: "created": 1e308 and "owner": ["a"] broke Compare runs) ----

STATUS_FIELDS = ("state", "label", "message", "device", "backend", "node", "created", "started", "ended", "updated",
                 "heartbeat", "params", "pid", "owner", "owner_name", "by_teacher")
NASTY = [None, True, False, 0, -1, 1.5, 2**63, -(2**63), 1e308, -1e308, float("nan"), float("inf"), "", "x" * 10_000,
         "line\nbreak\x00", "finished", "0123456789abcdef", ["a"], {"a": 1}, [], {}]
SOURCES = [*ROOT.glob("mnist_core/**/*.py"), *ROOT.glob("ui/*.py"), *ROOT.glob("pages/*.py")]


def test_the_fuzz_covers_every_status_field_the_code_reads():
    import re

    read = {key for path in SOURCES
            for key in re.findall(r"status(?:\.get\(|\[)[\"']([a-z_]+)[\"']", path.read_text())}
    assert read <= set(STATUS_FIELDS), read - set(STATUS_FIELDS)


@pytest.mark.parametrize("field", STATUS_FIELDS)
def test_any_value_of_any_status_field_is_damage_or_a_run_every_page_helper_can_show(tmp_path, field):
    from mnist_core.classroom.identity import Actor
    from mnist_core.lesson.run_labels import run_label, unique_labels
    from ui.compare_views import runs_table

    folder = copy_of_a_finished_run(tmp_path / "run")
    original = json.loads((folder / "status.json").read_text())
    for value in NASTY:
        (folder / "status.json").write_text(json.dumps({**original, field: value}))
        run = inspect_run(folder)
        if isinstance(run, DamagedRun):
            assert run.problem.startswith("status.json: "), run.problem
            continue
        # What the pages do with a run's status: its name, the runs table, who may delete it, its age.
        names = unique_labels([run], lambda r: run_label(r.config, r.status))
        runs_table({names[run.run_id]: run})
        Actor("a" * 16, "Ada").may_manage(run.status.get("owner"))
        assert isinstance(run.status.get("owner", ""), str) and isinstance(run.status.get("owner_name", ""), str)
        assert len(run.status.get("owner_name", "")) <= 40


def test_deleting_a_run_that_is_a_link_removes_the_link_and_leaves_what_it_points_to(tmp_path):
    """Issue 27: a symlinked run said "Deleted" and removed nothing (rmtree refuses links, and its error was
    ignored). The link goes; the folder it points to (a shipped run, say) stays."""
    store = RunStore(tmp_path / "runs")
    elsewhere = copy_of_a_finished_run(tmp_path / "elsewhere")
    store.root.mkdir()
    (store.root / "linked").symlink_to(elsewhere, target_is_directory=True)
    assert [r.run_id for r in store.list()] == ["linked"]
    store.delete("linked")
    assert not (store.root / "linked").exists() and store.list() == []
    assert (elsewhere / "status.json").is_file()


def test_a_run_that_cannot_be_deleted_says_so(tmp_path, monkeypatch):
    store = RunStore(tmp_path / "runs")
    copy_of_a_finished_run(store.root / "stuck")
    monkeypatch.setattr(runs.shutil, "rmtree", lambda path, ignore_errors=False: None)  # as a read-only folder
    with pytest.raises(OSError, match="stuck could not be deleted"):
        store.delete("stuck")


# ---- 900 runs (issue 27: 94% of a scan decoded mistakes.npz, and every page scanned every run) ----------------

def test_reading_a_run_decodes_none_of_its_mistake_images(tmp_path, monkeypatch):
    from mnist_core.runs import run_files

    folder = copy_of_a_finished_run(tmp_path / "run")
    monkeypatch.setattr(run_files, "_read_mistakes_cached", lambda *a: pytest.fail("the images were decoded"))
    assert isinstance(inspect_run(folder), Run)


@pytest.mark.parametrize("arrays, words", [
    ({"images": np.zeros((3, 28, 28), dtype=np.float32)}, "images holds float32"),
    ({"true": np.zeros(4, dtype=np.int64)}, "must be lists of one length"),
    ({"confidence": np.zeros(3, dtype=np.int64)}, "confidence holds int64"),
])
def test_the_cheap_check_still_finds_arrays_of_the_wrong_kind_or_length(tmp_path, arrays, words):
    folder = copy_of_a_finished_run(tmp_path / "run")
    good = {"index": np.arange(3), "true": np.arange(3), "predicted": np.arange(3),
            "confidence": np.ones(3, dtype=np.float32), "images": np.zeros((3, 28, 28), dtype=np.uint8)}
    np.savez_compressed(folder / "mistakes.npz", **{**good, **arrays})
    assert words in inspect_run(folder).problem


def test_an_unchanged_run_is_read_once_and_a_changed_one_again(tmp_path, monkeypatch):
    folder = copy_of_a_finished_run(tmp_path / "run")
    reads = []
    real = runs.read_config
    monkeypatch.setattr(runs, "read_config", lambda path: reads.append(path) or real(path))
    first = inspect_run(folder)
    assert [inspect_run(folder).run_id for _ in range(5)] == [first.run_id] * 5
    assert len(reads) == 1
    runs.update_status(folder, label="renamed")  # a new file renamed over status.json: a new stamp
    assert inspect_run(folder).status["label"] == "renamed" and len(reads) == 2
    mine = inspect_run(folder)
    mine.status["label"] = "changed by a caller"  # a caller's copy: the next reader is not affected
    assert inspect_run(folder).status["label"] == "renamed"


def test_mistakes_with_values_out_of_range_are_found_when_shown_and_show_none(tmp_path):
    """The scan checks the archive's shape only; a digit 11 or a confidence of 2 is found when the mistakes are
    read to be shown, and the run then shows none rather than breaking its page."""
    folder = copy_of_a_finished_run(tmp_path / "run")
    np.savez_compressed(folder / "mistakes.npz", index=np.arange(3), true=np.array([1, 2, 11]),
                        predicted=np.arange(3), confidence=np.ones(3, dtype=np.float32),
                        images=np.zeros((3, 28, 28), dtype=np.uint8))
    run = inspect_run(folder)
    assert isinstance(run, Run) and run.mistakes() is None
