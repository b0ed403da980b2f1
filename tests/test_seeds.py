"""The ``seeds`` command: one run per seed, a table of best and final accuracy, finished runs reused."""

from __future__ import annotations

import json

import pytest

from mnist_core.commands.cli import main
from mnist_core.commands.seeds import seeds_markdown, seeds_summary
from mnist_core.lesson.target import recipe_verdict, seed_floor

ROWS = [
    {"seed": 1, "params": 4_720, "best_test_acc": 99.46, "best_epoch": 14, "final_test_acc": 99.41,
     "epochs": 15, "seconds_per_epoch": 8.0, "device": "CPU (2 threads)"},
    {"seed": 2, "params": 4_720, "best_test_acc": 99.50, "best_epoch": 15, "final_test_acc": 99.50,
     "epochs": 15, "seconds_per_epoch": 8.2, "device": "CPU (2 threads)"},
    {"seed": 3, "params": 4_720, "best_test_acc": 99.40, "best_epoch": 12, "final_test_acc": 99.33,
     "epochs": 15, "seconds_per_epoch": 8.1, "device": "CPU (2 threads)"},
]


def test_summary_is_the_mean_of_best_and_final_and_the_lowest_final():
    # Hand-computed: (99.46 + 99.50 + 99.40) / 3 = 99.4533, (99.41 + 99.50 + 99.33) / 3 = 99.4133.
    assert seeds_summary(ROWS) == {"mean_best_test_acc": 99.45, "mean_final_test_acc": 99.41,
                                   "min_final_test_acc": 99.33, "seeds": 3}


def test_table_has_a_row_per_seed_and_the_mean():
    lines = seeds_markdown(ROWS).splitlines()
    assert len(lines) == 2 + 3 + 1
    assert lines[2] == "| 1 | 4,720 | 99.46% (14) | **99.41%** | 8.0 | CPU (2 threads) |"
    assert lines[-1] == "| mean of 3 | | 99.45% | **99.41%** (lowest 99.33%) | | |"


def test_the_mean_row_prints_the_figure_the_verdict_gives():
    # fmean(99.32, 99.27) is 99.29499..., which printed 99.29 above a verdict of 99.30 (19,859 of 20,000 right).
    rows = [{**ROWS[0], "final_test_acc": 99.32}, {**ROWS[1], "final_test_acc": 99.27}]
    verdict = recipe_verdict([99.32, 99.27])
    assert "the mean is 99.30%" in verdict.reason
    assert "| **99.30%** (lowest 99.27%) |" in seeds_markdown(rows).splitlines()[-1]
    assert seeds_summary(rows)["mean_final_test_acc"] == 99.3
    # A mean one image over the bar keeps the decimals that say so, as the verdict does.
    over = [{**row, "final_test_acc": acc} for row, acc in zip(ROWS, (99.41, 99.40, 99.40), strict=True)]
    assert "| **99.403%** (lowest 99.40%) |" in seeds_markdown(over).splitlines()[-1]


@pytest.mark.real_data
def test_seeds_trains_each_seed_once_and_writes_the_table(tmp_path, capsys, mnist):
    args = ["seeds", "--step", "5", "--seeds", "1", "2", "--epochs", "1", "--train-limit", "256",
            "--test-limit", "200", "--out", str(tmp_path)]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert first.count("EPOCH:") == 2 and "| mean of 2 |" in first
    table = json.loads((tmp_path / "seeds.json").read_text())
    assert [r["seed"] for r in table["rows"]] == [1, 2]
    assert table["recipe"]["step"] == 5 and table["recipe"]["train_limit"] == 256
    assert (tmp_path / "seed2" / "model.pt").is_file()
    assert (tmp_path / "seeds.md").read_text() in first
    verdict = recipe_verdict([r["final_test_acc"] for r in table["rows"]], seed_floor(5), test_images=200)
    assert f"Target over seeds {verdict.why}." in first and "not met" in first  # the pages' verdict, in words

    assert main(args) == 0  # the same recipe again: read back, not retrained
    second = capsys.readouterr().out
    assert "EPOCH:" not in second and second.count("not trained again") == 2
    assert json.loads((tmp_path / "seeds.json").read_text())["rows"] == table["rows"]


@pytest.mark.real_data
def test_parallel_seeds_give_the_numbers_of_lone_runs(tmp_path, capsys, mnist, monkeypatch):
    """--parallel 2 trains each seed in its own process; each gets what a lone run on as many threads gets."""
    import torch

    common = ["--step", "5", "--seeds", "1", "2", "--epochs", "1", "--train-limit", "256",
              "--test-limit", "200", "--device", "cpu"]
    monkeypatch.setattr("mnist_core.commands.seeds._usable_cores", lambda: 2)  # one thread per worker
    assert main(["seeds", *common, "--parallel", "2", "--out", str(tmp_path / "parallel")]) == 0
    out = capsys.readouterr().out
    assert "2 seeds, 2 at a time, 1 thread each" in out and out.count("finished") == 2

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert main(["seeds", *common, "--out", str(tmp_path / "lone")]) == 0
    finally:
        torch.set_num_threads(threads)

    def numbers(folder):
        rows = json.loads((tmp_path / folder / "seeds.json").read_text())["rows"]
        return [{k: v for k, v in row.items() if k != "seconds_per_epoch"} for row in rows]

    assert numbers("parallel") == numbers("lone")
    assert {row["device"] for row in numbers("parallel")} == {"CPU (1 thread)"}
