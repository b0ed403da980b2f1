"""No file in runs/ or assets/ breaks a page: damaged runs are named as damaged, and can be deleted.

Every damage case of test_run_files.py, in user runs and in the shipped runs, through AppTest
of the pages that read runs; then a fuzz test that writes random JSON values of every type
into every run file and opens every page.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mnist_core.lesson.steps import STEPS
from mnist_core.runs.store import RunStore, inspect_run
from tests.conftest import use_assets
from tests.test_run_files import DAMAGE, ROOT, copy_of_a_finished_run, damage

RUN_PAGES = ["pages/home.py", "pages/step_1.py", "pages/compare_runs.py", "pages/draw_digit.py"]
EVERY_PAGE = ["pages/home.py", *(f"pages/step_{n}.py" for n in STEPS), "pages/compare_runs.py",
              "pages/receptive_field.py", "pages/draw_digit.py"]
JSON_FILES = ("config.json", "status.json", "history.json", "evaluation.json")


@pytest.fixture()
def assets(tmp_path, monkeypatch):
    """A copy of the shipped runs that a test may damage; the pages read it instead of assets/."""
    copy = tmp_path / "assets"
    shutil.copytree(ROOT / "assets", copy)
    use_assets(monkeypatch, copy)
    return copy


def open_pages(pages: list[str]) -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.run()
    for page in pages:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
    return at


def warnings_of(at: AppTest) -> str:
    return " ".join(w.value for w in at.warning)


def test_every_damaged_user_run_is_named_on_compare_runs_and_no_page_breaks(runs_dir, assets):
    store = RunStore(runs_dir)
    healthy = copy_of_a_finished_run(runs_dir / "20260101-000000-step1-0000good")
    for k, (name, content, _) in enumerate(DAMAGE):
        damage(copy_of_a_finished_run(runs_dir / f"20260101-000000-step1-{k:04d}bad"), name, content)
    at = open_pages(RUN_PAGES)  # ends on Draw a digit, which offers the healthy run's model
    assert any(healthy.name[-4:] in label for label in at.selectbox(key="draw_model").options)

    at.switch_page("pages/compare_runs.py").run()
    shown = warnings_of(at)
    for k, (_, _, words) in enumerate(DAMAGE):
        problem = inspect_run(runs_dir / f"20260101-000000-step1-{k:04d}bad").problem
        assert f"{k:04d}bad`: damaged: {problem}" in shown and words in problem
    assert len(at.dataframe[0].value) == len(STEPS) + 1  # the shipped runs and the healthy one

    # A damaged run can be deleted like any other.
    victim = "20260101-000000-step1-0000bad"
    at.selectbox(key="compare_delete_pick").select(f"{victim} (damaged)").run()
    at.checkbox(key="compare_delete_confirm").check().run()
    at.button(key="compare_delete").click().run()
    assert not at.exception
    assert not (runs_dir / victim).exists() and len(store.damaged()) == len(DAMAGE) - 1


@pytest.mark.parametrize("name, content, words", [
    ("config.json", "[1]", "must be a JSON object"),
    ("status.json", '"x"', "must be a JSON object"),
    ("history.json", "[1, 2]", "entry 1 must be an object"),
    ("evaluation.json", '{"confusion": "x"}', "test_loss must be a number"),
    ("mistakes.npz", "TRUNCATE", "not a readable .npz archive"),
])
def test_a_damaged_shipped_run_is_named_on_every_page_that_shows_it(runs_dir, assets, name, content, words):
    damage(assets / "step1", name, content)
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.run()
    for page in ("pages/home.py", "pages/step_1.py", "pages/compare_runs.py"):
        at.switch_page(page).run()
        assert not at.exception, page
        assert f"Step 1 (`assets/step1`) is damaged: {name}: " in warnings_of(at) and words in warnings_of(at), page
    at.switch_page("pages/draw_digit.py").run()
    assert not at.exception


def test_a_shipped_run_left_running_by_a_killed_reproduce_is_not_shown_as_the_steps_result(runs_dir, assets):
    status = json.loads((assets / "step1" / "status.json").read_text())
    history = json.loads((assets / "step1" / "history.json").read_text())
    old = time.time() - 3600
    (assets / "step1" / "status.json").write_text(json.dumps({**status, "state": "running", "updated": old,
                                                              "heartbeat": old}))
    (assets / "step1" / "history.json").write_text(json.dumps(history[:2]))
    at = open_pages(["pages/home.py"])
    assert "Step 1 (`assets/step1`) is interrupted, not finished: 2 of 15 epochs" in warnings_of(at)
    assert at.dataframe[0].value["Our final %"][0] == "—"  # no "final test" from two epochs


# ---- fuzz -------------------------------------------------------------------------------------------------

def random_value(rng: random.Random, depth: int = 0):
    """A JSON value of any type: null, booleans, integers, floats (NaN and infinities too), text, lists, objects."""
    kinds = ["null", "bool", "int", "float", "text"] + (["list", "object"] if depth < 3 else [])
    kind = rng.choice(kinds)
    if kind == "null":
        return None
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "int":
        return rng.choice([0, 1, -1, 15, 2**31, -(2**63), 10**30, rng.randint(-1000, 1000)])
    if kind == "float":
        return rng.choice([0.0, -0.0, 0.5, 99.9, 1e308, -1e-308, math.nan, math.inf, -math.inf, rng.uniform(-1e3, 1e3)])
    if kind == "text":
        return rng.choice(["", "x", "finished", "running", "99.5", "ünïcødé ✓", "<script>", "a" * 300])
    if kind == "list":
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(["state", "epoch", "test_acc", "confusion", "step", "params", "label", "x"]):
            random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def mutate(rng: random.Random, value):
    """The real value with one node somewhere inside it replaced by a random value (or the whole of it)."""
    if rng.random() < 0.25 or not isinstance(value, (list, dict)) or not value:
        return random_value(rng)
    if isinstance(value, list):
        k = rng.randrange(len(value))
        return value[:k] + [mutate(rng, value[k])] + value[k + 1:]
    key = rng.choice(list(value))
    return {**value, key: mutate(rng, value[key])}


def fuzz_run(rng: random.Random, folder: Path) -> None:
    for name in rng.sample(JSON_FILES, rng.randint(1, len(JSON_FILES))):
        path = folder / name
        original = json.loads(path.read_text()) if path.exists() else None
        path.write_text(json.dumps(mutate(rng, original)))
    if rng.random() < 0.3:
        npz = folder / "mistakes.npz"
        data = npz.read_bytes()
        npz.write_bytes(data[: rng.randrange(len(data))] if rng.random() < 0.5 else rng.randbytes(rng.randrange(64)))


@pytest.mark.parametrize("seed", range(int(os.environ.get("MNIST_FUZZ_ROUNDS", "3"))))  # more: set it
def test_random_values_in_every_run_file_break_no_page(runs_dir, assets, seed):
    rng = random.Random(seed)
    for k in range(4):  # user runs of several steps, each damaged its own way
        step = rng.choice(list(STEPS))
        folder = copy_of_a_finished_run(runs_dir / f"20260101-00000{k}-step{step}-fuzz{k:04d}")
        config = json.loads((folder / "config.json").read_text())
        (folder / "config.json").write_text(json.dumps({**config, "step": step}))
        fuzz_run(rng, folder)
    for number in STEPS:  # and every shipped run
        fuzz_run(rng, assets / f"step{number}")
    open_pages(EVERY_PAGE)


def test_every_status_field_fuzzed_breaks_no_page_and_each_damaged_run_can_be_deleted(runs_dir, assets):
    """Issue 27: "created": 1e308 broke Compare runs (OverflowError) and "owner": ["a"] its delete panel
    (nobody could delete anything). One run folder per status field, each holding a value of another type or
    out of range; every page opens, and each damaged folder can be deleted."""
    from tests.test_run_files import NASTY, STATUS_FIELDS

    rng = random.Random(27)
    planted = {"created": 1e308, "owner": ["a"]}  # the two
    for k, field in enumerate(STATUS_FIELDS):
        folder = copy_of_a_finished_run(runs_dir / f"20260101-000000-step1-{k:04d}fuzz")
        status = json.loads((folder / "status.json").read_text())
        (folder / "status.json").write_text(json.dumps({**status, field: planted.get(field, rng.choice(NASTY))}))
    at = open_pages(EVERY_PAGE)
    at.switch_page("pages/compare_runs.py").run()
    damaged = RunStore(runs_dir).damaged()
    assert {"20260101-000000-step1-0006fuzz", "20260101-000000-step1-0013fuzz"} <= {r.run_id for r in damaged}
    for run in damaged:
        at.selectbox(key="compare_delete_pick").select(run.label).run()
        at.checkbox(key="compare_delete_confirm").check().run()
        at.button(key="compare_delete").click().run()
        assert not at.exception
        assert not run.path.exists()


def test_deleting_a_linked_run_on_compare_runs_removes_it_from_the_list(runs_dir, assets, tmp_path):
    elsewhere = copy_of_a_finished_run(tmp_path / "kept-elsewhere")
    runs_dir.mkdir(parents=True, exist_ok=True)
    (runs_dir / "20260101-000000-step1-linked00").symlink_to(elsewhere, target_is_directory=True)
    at = open_pages(["pages/compare_runs.py"])
    (label,) = at.selectbox(key="compare_delete_pick").options  # the only run of this runs folder
    at.selectbox(key="compare_delete_pick").select(label).run()
    at.checkbox(key="compare_delete_confirm").check().run()
    at.button(key="compare_delete").click().run()
    assert not at.exception
    assert any("Deleted" in s.value for s in at.success)
    assert RunStore(runs_dir).list() == [] and (elsewhere / "status.json").is_file()
