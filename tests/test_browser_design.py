"""Design it, train it, rank it, in a real browser: edit the Step 4 design on the Receptive field page
(insert a row, change a cell), train it for one epoch on 2,560 images with the page's own form, and
find it on Compare runs' frontier chart beside the lesson's steps. Screenshots at 1400x900."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import wait_for_app

pytestmark = pytest.mark.browser

# Step 4's design plus a copy of its last row (a 1x1 conv from 10 to 10 channels, 100 weights).
EDITED_PARAMS = 9_436 + 100


def _frontier_traces(page) -> dict[str, list[float]]:
    """name -> x values of every trace of the chart that has a Pareto frontier (plotly keeps them on the div)."""
    return page.evaluate("""() => {
        for (const div of document.querySelectorAll('.js-plotly-plot')) {
            if (!div.data || !div.data.some(t => t.name === 'Pareto frontier')) continue;
            return Object.fromEntries(div.data.map(t => [t.name, Array.from(t.x)]));
        }
        return {};
    }""")


@pytest.mark.journey
def test_edit_train_and_find_a_design_on_the_frontier(page, app_url, screenshot_dir):
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{app_url}/receptive_field")
    wait_for_app(page)
    expect(page.get_by_role("heading", name="2 · Design your own")).to_be_visible(timeout=60_000)

    # Edit: insert a copy of the last row (row 26, the 1x1 conv to the ten digits) under it.
    expect(page.get_by_role("combobox", name="Insert a row after")).to_have_value("row 26 (conv)", timeout=60_000)
    page.get_by_role("button", name="Insert", exact=True).click()
    wait_for_app(page)
    expect(page.get_by_text(f"PASS · {EDITED_PARAMS:,} parameters: within the budget")).to_be_visible(timeout=60_000)
    assert "design=" in page.url  # the link now holds the edited design
    wait_for_app(page)
    page.get_by_role("heading", name="2 · Design your own").scroll_into_view_if_needed()
    page.screenshot(path=screenshot_dir / "design-editor.png")
    page.get_by_text(f"PASS · {EDITED_PARAMS:,} parameters").scroll_into_view_if_needed()
    page.mouse.wheel(0, -500)  # the bottom of the check table above the verdicts
    page.screenshot(path=screenshot_dir / "design-checks.png")
    expect(page.get_by_test_id("stException")).to_have_count(0)

    # Train it: the form's Epochs to 1; the server's default is 2,560 images per epoch.
    form = page.locator(".st-key-rf_design_form")  # the recipe's widgets (a keyed container, not a form)
    form.scroll_into_view_if_needed()
    epochs = form.get_by_role("spinbutton", name="Epochs")
    epochs.fill("1")
    epochs.press("Tab")
    expect(form.get_by_role("combobox", name="Images per epoch")).to_have_value("2,560 (demo)")
    # A quick test pass, as a teacher may choose: the journey tests the page, not the grade.
    test_images = form.get_by_role("combobox", name="Test images per evaluation")
    test_images.click()
    page.get_by_role("option", name=re.compile("first 2,000")).click()
    expect(test_images).to_have_value(re.compile("first 2,000"))
    form.get_by_role("button", name="Start training").click()
    # Progress, or (on a fast machine) the run already over: waited for, however long a busy machine takes.
    progress = page.get_by_text(re.compile(r"Epoch 1/1: batch \d+/20")).or_(page.get_by_text("Design runs"))
    expect(progress.first).to_be_visible(timeout=900_000)
    page.screenshot(path=screenshot_dir / "design-training.png")
    # The live panel reruns the page when the run ends; the run is then listed under the form.
    expect(page.get_by_text("Design runs")).to_be_visible(timeout=900_000)  # a loaded 2-core CPU is slow
    wait_for_app(page)
    expect(page.get_by_test_id("stException")).to_have_count(0)

    # Rank it: Compare runs draws it beside the shipped steps.
    page.goto(f"{app_url}/compare_runs")  # a new session: the run is found on disk, as after a reload
    wait_for_app(page)
    chart = page.locator(".js-plotly-plot").filter(has_text="Pareto frontier")
    expect(chart).to_be_visible(timeout=30_000)
    chart.scroll_into_view_if_needed()
    traces = _frontier_traces(page)
    assert traces["your designs (not ranked)"] == [EDITED_PARAMS]  # 2,560 images: a demo run, drawn open
    assert 9_436 in traces["shipped steps"] and 4_918 in traces["shipped steps"]
    expect(chart).to_contain_text("your designs (not ranked)")
    page.wait_for_timeout(500)  # let plotly finish drawing before the picture
    page.screenshot(path=screenshot_dir / "design-on-frontier.png")
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_a_design_run_on_disk_is_on_the_frontier_chart(page, tmp_path, screenshot_dir):
    """The chart half on its own, with a finished design run already on disk (no training to wait for)."""
    from mnist_core.engine.recipes import design_from_step
    from mnist_core.lesson.steps import STEPS
    from mnist_core.runs.store import RunStore, update_status, write_history, write_json
    from tests.conftest import _streamlit_server

    store = RunStore(tmp_path / "runs")
    run = store.create(STEPS[4].recipe.with_(design=design_from_step(4).to_json(), epochs=1, train_limit=2560))
    write_history(run.path, [{"epoch": 1, "train_loss": 1.0, "train_acc": 60.0, "test_loss": 1.2, "test_acc": 97.1,
                              "lr": 0.05, "seconds": 30.0}])
    # A finished run holds its evaluation too (else it reads as damaged).
    write_json(run.path / "evaluation.json", {"test_loss": 1.2, "test_acc": 97.1, "correct": 9710, "total": 10_000,
                                              "confusion": [[0] * 10 for _ in range(10)]})
    update_status(run.path, state="finished", params=EDITED_PARAMS, device="CPU")
    page.set_viewport_size({"width": 1400, "height": 900})
    with _streamlit_server(tmp_path / "runs") as url:
        page.goto(f"{url}/compare_runs")
        wait_for_app(page)
        chart = page.locator(".js-plotly-plot").filter(has_text="Pareto frontier")
        expect(chart).to_be_visible(timeout=60_000)
        chart.scroll_into_view_if_needed()
        traces = _frontier_traces(page)
        assert traces["your designs (not ranked)"] == [EDITED_PARAMS]
        assert 9_436 in traces["shipped steps"] and 4_918 in traces["shipped steps"]
        page.wait_for_timeout(500)
        page.screenshot(path=screenshot_dir / "design-on-frontier.png")
        expect(page.get_by_test_id("stException")).to_have_count(0)
