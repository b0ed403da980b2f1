"""Step 6, beyond the lesson: depthwise-separable blocks. Its parameter count by hand against
the 5,000 budget, what its depthwise convolutions do, and its story. (The shipped checkpoint
is held to the README's claim in tests/test_step5.py, with Step 5's.)"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from mnist_core import report
from mnist_core.models import FastDropout, count_parameters
from mnist_core.report import ASSETS_DIR, shipped_run_path
from mnist_core.steps import BEYOND_LESSON_PARAM_BUDGET, EPOCH_BUDGET, get_step, trials_markdown
from mnist_core.summary import summarize

# Step 6 by hand: (layer, output shape, params); a 3x3 conv has 9 * c_in * c_out weights, a
# depthwise 3x3 9 * c, a 1x1 conv c_in * c_out, a BatchNorm 2 per channel.
HAND_SUMMARY = [
    ("Conv2d-1", (10, 26, 26), 9 * 1 * 10), ("BatchNorm2d-2", (10, 26, 26), 20), ("ReLU-3", (10, 26, 26), 0),
    ("Conv2d-4", (16, 24, 24), 9 * 10 * 16), ("BatchNorm2d-5", (16, 24, 24), 32), ("ReLU-6", (16, 24, 24), 0),
    ("MaxPool2d-7", (16, 12, 12), 0),
    ("Conv2d-8", (16, 10, 10), 9 * 16), ("Conv2d-9", (24, 10, 10), 16 * 24),
    ("BatchNorm2d-10", (24, 10, 10), 48), ("ReLU-11", (24, 10, 10), 0),
    ("Conv2d-12", (24, 8, 8), 9 * 24), ("Conv2d-13", (24, 8, 8), 24 * 24),
    ("BatchNorm2d-14", (24, 8, 8), 48), ("ReLU-15", (24, 8, 8), 0),
    ("Conv2d-16", (24, 6, 6), 9 * 24), ("Conv2d-17", (24, 6, 6), 24 * 24),
    ("BatchNorm2d-18", (24, 6, 6), 48), ("ReLU-19", (24, 6, 6), 0),
    ("Conv2d-20", (24, 4, 4), 9 * 24), ("Conv2d-21", (24, 4, 4), 24 * 24),
    ("BatchNorm2d-22", (24, 4, 4), 48), ("ReLU-23", (24, 4, 4), 0),
    ("AvgPool2d-24", (24, 1, 1), 0), ("Conv2d-25", (10, 1, 1), 24 * 10),
]


def test_parameter_count_matches_the_hand_count_and_is_within_the_5000_budget():
    model = get_step(6).build_model()
    rows = summarize(model)
    assert [(r.layer, r.output_shape, r.params) for r in rows] == HAND_SUMMARY
    assert count_parameters(model) == sum(p for *_, p in HAND_SUMMARY) == 4_918
    assert get_step(6).param_budget == BEYOND_LESSON_PARAM_BUDGET == 5_000
    assert count_parameters(model) <= BEYOND_LESSON_PARAM_BUDGET


def test_depthwise_convolutions_see_each_channel_alone():
    block = get_step(6).build_model().block4
    depthwise, pointwise = block[0], block[1]
    assert depthwise.groups == depthwise.in_channels == depthwise.out_channels == 24
    assert pointwise.kernel_size == (1, 1)
    x = torch.zeros(1, 24, 8, 8)
    x[0, 3] = torch.randn(8, 8)  # only channel 3 carries a signal
    out = depthwise(x)
    assert out[0, 3].abs().sum() > 0 and out[0, [c for c in range(24) if c != 3]].abs().sum() == 0


def test_dropout_is_off_in_the_recipe_but_can_be_turned_on():
    assert get_step(6).recipe.dropout == 0
    assert not any(isinstance(m, FastDropout) for m in get_step(6).build_model().modules())
    with_dropout = get_step(6).build_model(get_step(6).recipe.with_(dropout=0.05))
    assert sum(isinstance(m, FastDropout) for m in with_dropout.modules()) == 4  # one per separable block
    assert count_parameters(with_dropout) == 4_918


def test_recipe_is_step4s_without_dropout_within_the_lesson_epochs_and_the_story_is_complete():
    step = get_step(6)
    assert step.recipe == get_step(4).recipe.with_(step=6, dropout=0.0) and step.recipe.epochs <= EPOCH_BUDGET
    assert step.source is None
    assert step.target and step.results and step.analysis and step.evidence and step.trials
    assert (shipped_run_path(5).parent / step.evidence.table).is_file()
    assert trials_markdown(step.trials).count("\n") == len(step.trials) + 2  # header, rule, one row each


def test_trials_of_the_shipped_recipes_are_the_shipped_runs():
    """A trial made by plain ``train --step N`` (seed 1, the step's recipe) is that step's shipped run."""
    plain = {t.command: t for t in get_step(6).trials if t.command in ("train --step 5", "train --step 6")}
    assert len(plain) == 2
    for command, trial in plain.items():
        run = report.shipped_run(int(command.split()[-1]))
        summary = report.summarize(run.history)
        assert trial.seed == run.config.seed == 1 and trial.params == run.status["params"]
        assert (trial.final_test_acc, trial.best_test_acc) == (round(summary.final_test_acc, 2),
                                                               round(summary.best_test_acc, 2))


def test_readme_quotes_the_measured_tables_as_the_commands_wrote_them():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for table in ("results.md", "step5-seeds/seeds.md", "step6-seeds/seeds.md"):
        assert (ASSETS_DIR / table).read_text() in readme, f"README's copy of assets/{table} is out of date"
    assert trials_markdown(get_step(6).trials) in readme


def test_the_analysis_quotes_the_shipped_seed_table():
    """The Analysis words the six-seed result; hold its figures to the table the command wrote."""
    table = json.loads((ASSETS_DIR / "step6-seeds" / "seeds.json").read_text())
    finals = [row["final_test_acc"] for row in table["rows"]]
    verdict = next(line for line in get_step(6).analysis if "short of the line" in line)
    for figure in (min(finals), max(finals), table["summary"]["mean_final_test_acc"]):
        assert f"{figure:.2f}%" in verdict
