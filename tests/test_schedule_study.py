"""The schedule study: finished runs are read back, and the table averages the final epochs."""

from __future__ import annotations

from mnist_core.commands import schedule_study
from mnist_core.lesson.steps import get_step
from mnist_core.runs.store import update_status, write_history, write_json


def fake_finished_run(path, config, final_acc):
    path.mkdir(parents=True)
    write_json(path / "config.json", config.to_dict())
    # A finished run holds every epoch of its config and its evaluation (else it reads as damaged).
    epochs = range(1, config.epochs + 1)
    write_history(path, [{"epoch": e, "train_loss": 0.1, "train_acc": 99.0, "test_loss": 0.02,
                          "test_acc": final_acc - 0.1 * (config.epochs - e), "lr": 0.01, "seconds": 1.0}
                         for e in epochs])
    write_json(path / "evaluation.json", {"test_loss": 0.02, "test_acc": final_acc, "correct": round(final_acc * 100),
                                          "total": 10_000, "confusion": [[0] * 10 for _ in range(10)]})
    update_status(path, state="finished", params=9_436)


def test_the_study_reads_finished_runs_back_and_tabulates_the_mean_final_accuracy(tmp_path, monkeypatch):
    monkeypatch.setattr(schedule_study, "load_mnist", lambda: (_ for _ in ()).throw(AssertionError("trained")))
    finals = {"constant": (99.30, 99.40), "steplr": (99.50, 99.52), "onecycle": (99.47, 99.49)}
    for name in schedule_study.CANDIDATES:
        slug = schedule_study._slug(name)
        for seed, acc in zip((1, 2), finals[slug], strict=True):
            fake_finished_run(tmp_path / f"{slug}-seed{seed}", schedule_study.candidate_config(name, seed), acc)
    rows = schedule_study.run_study([1, 2], tmp_path)
    assert len(rows) == 6
    table = schedule_study.study_markdown(rows)
    assert "| StepLR 0.05, x0.1 every 5 epochs (Step 4) | 99.50% (99.50%) | 99.52% (99.52%) | **99.51%** |" in table
    assert "**99.35%**" in table  # the constant rate's mean


def test_the_step4_recipe_is_the_studys_steplr_candidate():
    steplr = next(name for name in schedule_study.CANDIDATES if name.startswith("StepLR"))
    assert schedule_study.candidate_config(steplr, 1) == get_step(4).recipe
