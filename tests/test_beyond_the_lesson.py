"""Steps 5 to 7, beyond the lesson: each story complete, every figure it quotes held to the table the
``seeds`` command wrote, the README and docs/research.md quoting those tables, and each shipped checkpoint
scoring on the 10,000 test images exactly what docs/research.md says."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mnist_core.common.paths import ASSETS_DIR, shipped_run_path
from mnist_core.engine.checkpoints import load_checkpoint
from mnist_core.engine.config import TrainConfig
from mnist_core.engine.design import build_design
from mnist_core.engine.evaluate import evaluate
from mnist_core.engine.models import count_parameters
from mnist_core.engine.recipes import EPOCH_BUDGET
from mnist_core.engine.summary import summarize
from mnist_core.lesson import report
from mnist_core.lesson.steps import get_step, trials_markdown
from mnist_core.lesson.target import run_meets_target

README = Path(__file__).resolve().parent.parent / "README.md"
RESEARCH = README.parent / "docs" / "research.md"  # the steps' research, moved out of the README
BEYOND_THE_LESSON = [5, 6, 7]


@pytest.mark.parametrize("step", BEYOND_THE_LESSON)
def test_the_story_is_complete_and_within_the_budgets(step):
    story = get_step(step)
    assert story.recipe.epochs <= EPOCH_BUDGET and story.source is None
    assert story.target and story.results and story.analysis and story.evidence and story.trials
    assert (ASSETS_DIR / story.evidence.table).is_file()
    assert count_parameters(story.build_model()) <= story.param_budget
    assert trials_markdown(story.trials).count("\n") == len(story.trials) + 2  # header, rule, one row each


@pytest.mark.parametrize("step", BEYOND_THE_LESSON)
def test_trials_over_several_seeds_are_their_tables(step):
    """A trial over several seeds quotes the mean the seeds command wrote to its table."""
    several = [t for t in get_step(step).trials if len(t.seeds) > 1]
    assert several and all(t.table for t in several)
    for trial in several:
        table = json.loads((ASSETS_DIR / trial.table).with_suffix(".json").read_text())
        assert [row["seed"] for row in table["rows"]] == list(trial.seeds)
        assert {row["params"] for row in table["rows"]} == {trial.params}
        assert (trial.final_test_acc, trial.best_test_acc) == (table["summary"]["mean_final_test_acc"],
                                                               table["summary"]["mean_best_test_acc"])


@pytest.mark.parametrize("step", BEYOND_THE_LESSON)
def test_the_recipe_trial_is_the_shipped_seed_table_and_the_recipe_s_seed_the_shipped_run(step):
    """Step 5 ships seed 1; Step 6 seed 5, the seed that ends at its mean. Either way, a row of the table."""
    recipe_trial = next(t for t in get_step(step).trials if t.table == get_step(step).evidence.table)
    run = report.shipped_run(step)
    table = json.loads((ASSETS_DIR / recipe_trial.table).with_suffix(".json").read_text())
    shipped = next(row for row in table["rows"] if row["seed"] == get_step(step).recipe.seed)
    assert run.config == get_step(step).recipe
    assert round(report.summarize(run.history).final_test_acc, 2) == shipped["final_test_acc"]


def _layers(model) -> list[tuple[tuple[int, ...], int]]:
    """Output shape and parameters of every layer that has parameters or pools: what makes two networks the same."""
    return [(row.output_shape, row.params) for row in summarize(model) if row.params or "Pool" in row.layer]


@pytest.mark.parametrize(("step", "design"), [(6, "separable2880.json"), (7, "separable1916.json")])
def test_the_network_is_the_trial_design_it_was_measured_as(step, design):
    """Steps 6 and 7 were first measured as design JSON (their trials); each step builds the same layers."""
    assert _layers(build_design((ASSETS_DIR / "trials" / design).read_text())) == _layers(get_step(step).build_model())


@pytest.mark.parametrize("step", [6, 7])
def test_the_seed_table_holds_the_steps_recipe(step):
    """The table was written by ``seeds --step N`` with the recipe the registry gives (only the seed differs)."""
    recipe = get_step(step).recipe
    table = json.loads((ASSETS_DIR / get_step(step).evidence.table).with_suffix(".json").read_text())
    assert table["step"] == step and [row["seed"] for row in table["rows"]] == [1, 2, 3, 4, 5]
    # Read as a saved run's config is: a recipe field added after the table was written holds its default there,
    # which is what that run trained with.
    written = TrainConfig.from_dict(table["recipe"])
    assert written.with_(seed=recipe.seed, device=recipe.device) == recipe


@pytest.mark.parametrize("step", BEYOND_THE_LESSON)
def test_readme_quotes_the_measured_tables_as_the_commands_wrote_them(step):
    assert (ASSETS_DIR / "results.md").read_text() in README.read_text(), "README's results table is out of date"
    research = RESEARCH.read_text()
    tables = [get_step(step).evidence.table, *(t.table for t in get_step(step).trials if t.table)]
    for table in dict.fromkeys(tables):
        assert (ASSETS_DIR / table).read_text() in research, f"docs/research.md's copy of assets/{table} is out of date"
    assert trials_markdown(get_step(step).trials) in research


@pytest.mark.parametrize("step", BEYOND_THE_LESSON)
def test_the_analysis_quotes_the_seed_tables(step):
    """The Analysis and its search word the seed results; hold their figures to the tables the command wrote."""
    for trial in (t for t in get_step(step).trials if t.table):
        table = json.loads((ASSETS_DIR / trial.table).with_suffix(".json").read_text())
        finals = [row["final_test_acc"] for row in table["rows"]]
        figures = [f"{f:.2f}%" for f in (min(finals), max(finals), table["summary"]["mean_final_test_acc"])]
        assert any(all(f in line for f in figures) for line in (*get_step(step).analysis, *get_step(step).search)), (
            trial.change)


def _readme_section(step: int) -> str:
    return RESEARCH.read_text().split(f"## Step {step}", 1)[1].split("\n## ", 1)[0]


def _readme_claim(step: int) -> tuple[int, float]:
    """The (correct, percent) the README's section on ``step`` says ``evaluate --step N`` prints."""
    match = re.search(r"Accuracy: (\d+)/10000 \((\d+\.\d+)%\)", _readme_section(step))
    assert match, f"the README's Step {step} section quotes what `evaluate --step {step}` prints"
    return int(match.group(1)), float(match.group(2))


@pytest.mark.parametrize("step", BEYOND_THE_LESSON)
@pytest.mark.real_data
def test_shipped_checkpoint_scores_what_the_readme_claims(step, mnist):
    model, config = load_checkpoint(shipped_run_path(step) / "model.pt")
    assert config.step == step and count_parameters(model) == count_parameters(get_step(step).build_model())
    result = evaluate(model, mnist.test_images, mnist.test_labels)
    correct, percent = _readme_claim(step)
    assert result.total == 10_000
    assert result.correct == correct and f"{result.accuracy:.2f}" == f"{percent:.2f}"
    history = json.loads((shipped_run_path(step) / "history.json").read_text())
    assert len(history) <= EPOCH_BUDGET and history[-1]["test_acc"] == pytest.approx(result.accuracy, abs=0.005)
    # The page says whether the shipped checkpoint meets the target, higher than 99.40%; hold it to the number.
    met = "meets the target" in _readme_section(step)
    assert met == run_meets_target(result.accuracy, result.total)


@pytest.mark.parametrize("step", BEYOND_THE_LESSON)
def test_the_page_tells_why_a_trial_was_or_was_not_adopted_in_words_not_commit_hashes(step):
    """Issue 12: one-seed results above the recipe stood unexplained, and the page cited commit hashes."""
    table = trials_markdown(get_step(step).trials)
    assert not re.search(r"\b[0-9a-f]{7}\b", table)
    recipe = next(t for t in get_step(step).trials if t.table == get_step(step).evidence.table)
    for trial in get_step(step).trials:
        assert trial.verdict
        if len(trial.seeds) == 1 and trial.final_test_acc > recipe.final_test_acc:
            assert trial.verdict.startswith("Not adopted") and "one seed" in trial.verdict
