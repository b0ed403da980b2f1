"""Run labels and the recipe values that tell runs apart: a design is named by its size, never its JSON."""

from __future__ import annotations

from mnist_core.engine.design import parse_design
from mnist_core.engine.recipes import design_from_step
from mnist_core.lesson.run_labels import differing_fields, format_value, run_label
from mnist_core.lesson.steps import get_step


def test_a_design_run_is_labelled_by_its_recipe_step_and_never_by_its_json():
    design = design_from_step(5).to_json()
    config = get_step(4).recipe.with_(design=design, epochs=2)
    label = run_label(config, {"created": 1_800_000_000})
    assert label.startswith("Design · Step 4's recipe · ")
    assert label.endswith("· 2 epochs")
    assert "{" not in label and "layers" not in label


def test_the_design_is_a_value_that_differs_between_runs_and_reads_as_its_size():
    design = design_from_step(5).to_json()
    own, designed = get_step(4).recipe, get_step(4).recipe.with_(design=design)
    assert differing_fields([own, designed]) == ["design"]
    assert format_value("design", design) == f"a design of {parse_design(design).params:,} parameters"
    assert format_value("design", "") == "the step's own network"
    assert differing_fields([own, own.with_(lr=0.02)]) == ["lr"]



def test_runs_with_one_label_get_names_apart_and_the_first_keeps_its_own():
    from types import SimpleNamespace

    from mnist_core.lesson.run_labels import unique_labels

    runs = [SimpleNamespace(run_id=f"20260101-00000{i}-step4-{tail}", label=label)
            for i, (tail, label) in enumerate([("aaaa1111", "Step 4 (command line)"), ("bbbb2222", "mine"),
                                               ("cccc3333", "Step 4 (command line)")])]
    assert unique_labels(runs) == {runs[0].run_id: "Step 4 (command line)", runs[1].run_id: "mine",
                                   runs[2].run_id: "Step 4 (command line) · 3333"}
