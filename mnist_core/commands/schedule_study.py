"""``python -m mnist_core schedules``: which learning-rate schedule Step 4 should use, measured.

Step 4 keeps Step 3's network, dropout and rotation and changes only the schedule. This
command trains that setup for 15 epochs under each candidate schedule and several seeds,
and writes a table of best and final test accuracy per run and the mean per schedule.
Each run lands in its own folder (``DIR/<schedule>-seed<S>/``); a folder that already
holds a finished run of exactly that config is read back instead of trained again, so
the study can be resumed or its table rebuilt.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from mnist_core.commands.backend_runs import announce, nodes_line, train_all
from mnist_core.commands.out_paths import folder_to_write
from mnist_core.engine.data import load_mnist
from mnist_core.lesson.report import ASSETS_DIR, summarize
from mnist_core.lesson.schedules import CANDIDATES, candidate_config
from mnist_core.runs.store import default_runs_dir, finished_run, read_run, write_json


def _slug(name: str) -> str:
    return "".join(c for c in name.split(" ")[0].lower() if c.isalnum())


def run_study(seeds: list[int], folder: Path) -> list[dict]:
    plan = [(name, seed, candidate_config(name, seed), folder / f"{_slug(name)}-seed{seed}")
            for name in CANDIDATES for seed in seeds]
    todo = [(f"{name}, seed {seed}", path, config) for name, seed, config, path in plan
            if finished_run(path, config) is None]
    if todo:  # through the backend: on Ray, the runs train side by side
        backend = announce()
        print(nodes_line(train_all(backend, todo, load_mnist())))
    rows = []
    for name, seed, _, path in plan:
        summary = summarize(read_run(path).history)
        rows.append({"schedule": name, "seed": seed, "best_test_acc": round(summary.best_test_acc, 2),
                     "best_epoch": summary.best_epoch, "final_test_acc": round(summary.final_test_acc, 2)})
    return rows


def study_markdown(rows: list[dict]) -> str:
    seeds = sorted({r["seed"] for r in rows})
    lines = ["| schedule | " + " | ".join(f"seed {s}: final (best)" for s in seeds) + " | mean final |",
             "|---|" + "---|" * (len(seeds) + 1)]
    for name in dict.fromkeys(r["schedule"] for r in rows):
        mine = {r["seed"]: r for r in rows if r["schedule"] == name}
        cells = [f"{mine[s]['final_test_acc']:.2f}% ({mine[s]['best_test_acc']:.2f}%)" for s in seeds]
        mean = statistics.fmean(r["final_test_acc"] for r in mine.values())
        lines.append(f"| {name} | " + " | ".join(cells) + f" | **{mean:.2f}%** |")
    return "\n".join(lines) + "\n"


def cmd_schedules(args: argparse.Namespace) -> int:
    folder = folder_to_write(Path(args.out) if args.out else default_runs_dir() / "schedule-study")
    rows = run_study(args.seeds, folder)
    table = study_markdown(rows)
    (ASSETS_DIR / "schedule_study.md").write_text(table)
    write_json(ASSETS_DIR / "schedule_study.json", rows)
    print(f"\n{table}\nWritten to {ASSETS_DIR / 'schedule_study.md'} and .json")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("schedules", help="compare learning-rate schedules for Step 4 over seeds")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--out", help="folder for the runs (default: runs/schedule-study)")
    parser.set_defaults(func=cmd_schedules)
