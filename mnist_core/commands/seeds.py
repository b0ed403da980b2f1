"""``python -m mnist_core seeds --step N --seeds 1 2 3``: one recipe, several seeds, one table.

A single run can be lucky. This command trains a step's recipe (changed by any of
``train``'s recipe flags, such as ``--activation relu``) once per seed, each into
its own run folder (``DIR/seed<S>/``, with ``DIR`` defaulting to ``runs/step<N>-seeds``),
and writes ``DIR/seeds.md`` and ``DIR/seeds.json``: per seed the best and the final test
accuracy, then their mean and the lowest final one. A seed whose folder already holds a
finished run of exactly this recipe is read back instead of trained again, so an
interrupted table can be completed and a table can be rebuilt without training.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from mnist_core.commands.recipe_args import add_recipe_arguments, recipe_from_args
from mnist_core.engine.data import load_mnist
from mnist_core.engine.runs import default_runs_dir, finished_run, read_run, write_json
from mnist_core.lesson.report import summarize
from mnist_core.lesson.steps import get_step


def seed_rows(runs: dict[int, object]) -> list[dict]:
    """One row per seed (a finished Run each): params, best and final test accuracy, device."""
    rows = []
    for seed, run in runs.items():
        summary = summarize(run.history)
        rows.append({
            "seed": seed,
            "params": run.status.get("params"),
            "best_test_acc": round(summary.best_test_acc, 2),
            "best_epoch": summary.best_epoch,
            "final_test_acc": round(summary.final_test_acc, 2),
            "epochs": summary.epochs,
            "seconds_per_epoch": round(summary.seconds_per_epoch, 1),
            "device": run.status.get("device", "?"),
        })
    return rows


def seeds_summary(rows: list[dict]) -> dict:
    """Mean best, mean final and lowest final test accuracy over the rows."""
    finals = [r["final_test_acc"] for r in rows]
    return {
        "mean_best_test_acc": round(statistics.fmean(r["best_test_acc"] for r in rows), 2),
        "mean_final_test_acc": round(statistics.fmean(finals), 2),
        "min_final_test_acc": min(finals),
        "seeds": len(rows),
    }


def seeds_markdown(rows: list[dict]) -> str:
    summary = seeds_summary(rows)
    lines = ["| seed | params | best test (epoch) | final test | s / epoch | device |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['seed']} | {r['params']:,} | {r['best_test_acc']:.2f}% ({r['best_epoch']}) "
                     f"| **{r['final_test_acc']:.2f}%** | {r['seconds_per_epoch']:.1f} | {r['device']} |")
    lines.append(f"| mean of {summary['seeds']} | | {summary['mean_best_test_acc']:.2f}% "
                 f"| **{summary['mean_final_test_acc']:.2f}%** (lowest {summary['min_final_test_acc']:.2f}%) | | |")
    return "\n".join(lines) + "\n"


def cmd_seeds(args: argparse.Namespace) -> int:
    from mnist_core.commands.backend_runs import announce, nodes_line, train_all

    step = get_step(args.step)
    recipe = recipe_from_args(args)
    out = Path(args.out) if args.out else default_runs_dir() / f"step{step.number}-seeds"
    out.mkdir(parents=True, exist_ok=True)
    todo = []
    for seed in args.seeds:
        config = recipe.with_(seed=seed)
        path = out / f"seed{seed}"
        if finished_run(path, config) is None:
            todo.append((f"Step {step.number}, seed {seed}", path, config))
        else:
            print(f"Seed {seed}: finished run of this recipe found in {path}, not trained again")
    if todo:
        backend = announce()  # on Ray, the seeds train side by side across the cluster
        data = load_mnist(progress=lambda message, _: print(f"[data] {message}", file=sys.stderr))
        print(nodes_line(train_all(backend, todo, data)))
    runs = {seed: read_run(out / f"seed{seed}") for seed in args.seeds}
    rows = seed_rows(runs)
    table = seeds_markdown(rows)
    (out / "seeds.md").write_text(table)
    write_json(out / "seeds.json", {"step": step.number, "recipe": recipe.to_dict(), "rows": rows,
                                    "summary": seeds_summary(rows)})
    print(f"\nStep {step.number}: {step.title}, {len(rows)} seed(s); table in {out / 'seeds.md'}\n")
    print(table)
    return 0


def register(subparsers) -> None:
    """Add the ``seeds`` command to the CLI's subparsers."""
    parser = subparsers.add_parser("seeds", help="train a step's recipe with several seeds and tabulate them",
                                   description=__doc__.splitlines()[0])
    add_recipe_arguments(parser, seed=False)  # the step's recipe, with any field changed for a trial
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3], help="seeds to train (default 1 2 3)")
    parser.add_argument("--out", help="folder for the runs and the table (default runs/step<N>-seeds)")
    parser.set_defaults(func=cmd_seeds)
