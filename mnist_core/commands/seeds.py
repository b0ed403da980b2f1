"""``python -m mnist_core seeds --step N --seeds 1 2 3``: one recipe, several seeds, one table.

A single run can be lucky. This command trains a step's recipe (changed by any of
``train``'s recipe flags, such as ``--activation relu``, or ``--design FILE`` for a network of
one's own) once per seed, each into
its own run folder (``DIR/seed<S>/``, with ``DIR`` defaulting to ``runs/step<N>-seeds``),
and writes ``DIR/seeds.md`` and ``DIR/seeds.json``: per seed the best and the final test
accuracy, then their mean and the lowest final one. A seed whose folder already holds a
finished run of exactly this recipe is read back instead of trained again, so an
interrupted table can be completed and a table can be rebuilt without training.

With ``--parallel N`` the seeds still to train run N at a time, each in a process of its own
with its share of the cores (all of them divided by N, at least one thread): on a machine
with many cores a five-seed study takes about the time of one run. Each seed's numbers are
exactly those a lone run of it would give on the same number of threads.

With ``MNIST_RAY_ADDRESS`` set, the seeds go to the Ray cluster instead, through the same job
interface as the dashboard (backends.py): all at once, as many as the cluster holds (or N at a
time with ``--parallel N``), each where Ray places it, and the command names the nodes.
"""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

from mnist_core.classroom.backend_choice import ray_requested
from mnist_core.commands.backend_runs import announce, nodes_line, train_all
from mnist_core.commands.out_paths import folder_to_write
from mnist_core.commands.progress_bar import EpochBar
from mnist_core.commands.recipe_args import add_recipe_arguments, recipe_from_args
from mnist_core.common.wording import count
from mnist_core.engine.data import load_mnist
from mnist_core.lesson.report import images_scored, summarize
from mnist_core.lesson.steps import get_step
from mnist_core.lesson.target import mean_percent, percent_text, recipe_verdict, seed_floor
from mnist_core.runs.store import default_runs_dir, finished_run, read_run, train_run, write_json


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
        "mean_best_test_acc": round(mean_percent([r["best_test_acc"] for r in rows]), 2),
        "mean_final_test_acc": round(mean_percent(finals), 2),
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
                 f"| **{percent_text(mean_percent([r['final_test_acc'] for r in rows]))}%** "
                 f"(lowest {summary['min_final_test_acc']:.2f}%) | | |")
    return "\n".join(lines) + "\n"


def _train_one_seed(path: Path, config, threads: int) -> None:
    """One seed in a worker process of its own (``--parallel``): its share of the cores, one line per epoch."""
    import torch

    torch.set_num_threads(threads)
    data = load_mnist()

    def say(record) -> None:
        print(f"seed {config.seed}: epoch {record.epoch}/{config.epochs}, test {record.test_acc:.2f}%", flush=True)

    train_run(path, config, data, on_epoch=say)


def _usable_cores() -> int:
    """The cores this process may run on (a container's or taskset's share), not the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity call
        return os.cpu_count() or 1


def _train_in_parallel(todo: dict[int, tuple[Path, object]], parallel: int) -> list[str]:
    """Train every seed of ``todo`` (seed -> (folder, config)), ``parallel`` at a time; what failed, as sentences."""
    threads = max(1, _usable_cores() // parallel)
    print(f"Training {count(len(todo), 'seed')}, {parallel} at a time, {count(threads, 'thread')} each")
    failures = []
    # "spawn": a fresh interpreter per worker, so no thread pool or lock of this process is copied mid-use.
    with ProcessPoolExecutor(max_workers=parallel, mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(_train_one_seed, path, config, threads): seed for seed, (path, config) in todo.items()}
        for future in as_completed(futures):
            seed = futures[future]
            try:
                future.result()
                print(f"seed {seed}: finished")
            except Exception as exc:  # a diverged or broken run: the others go on, the table is not written
                failures.append(f"seed {seed} did not finish: {exc}")
    return failures


def _train_on_ray(step, todo: dict[int, tuple[Path, object]], parallel: int) -> None:
    """Every seed of ``todo`` as a Ray job, side by side (``parallel`` > 1 caps how many at once)."""
    backend = announce()
    data = load_mnist(progress=lambda message, _: print(f"[data] {message}", file=sys.stderr))
    jobs = [(f"Step {step.number}, seed {seed}", path, config) for seed, (path, config) in todo.items()]
    print(nodes_line(train_all(backend, jobs, data, at_once=parallel if parallel > 1 else None)))


def cmd_seeds(args: argparse.Namespace) -> int:
    recipe = recipe_from_args(args)
    step = get_step(recipe.step)
    if args.parallel < 1:
        raise ValueError("--parallel must be at least 1")
    out = folder_to_write(Path(args.out) if args.out else default_runs_dir() / f"step{step.number}-seeds")
    todo = {}
    for seed in args.seeds:
        config, path = recipe.with_(seed=seed), out / f"seed{seed}"
        if finished_run(path, config) is None:
            todo[seed] = (path, config)
        else:
            print(f"Seed {seed}: finished run of this recipe found in {path}, not trained again")
    if todo and ray_requested():
        _train_on_ray(step, todo, args.parallel)
    elif args.parallel > 1 and len(todo) > 1:
        failures = _train_in_parallel(todo, min(args.parallel, len(todo)))
        if failures:
            raise RuntimeError("; ".join(failures) + "; the table was not written (run again to train what is missing)")
    else:
        data = None
        for seed, (path, config) in todo.items():
            print(f"\n=== Step {step.number}, seed {seed} -> {path} ===")
            data = data or load_mnist(progress=lambda message, _: print(f"[data] {message}", file=sys.stderr))
            bar = EpochBar(stream=sys.stdout)
            train_run(path, config, data, on_batch=bar.update, on_epoch=bar.epoch_done)
    runs = {seed: read_run(out / f"seed{seed}") for seed in args.seeds}
    rows = seed_rows(runs)
    table = seeds_markdown(rows)
    (out / "seeds.md").write_text(table)
    write_json(out / "seeds.json", {"step": step.number, "recipe": recipe.to_dict(), "rows": rows,
                                    "summary": seeds_summary(rows)})
    print(f"\nStep {step.number}: {step.title}, {count(len(rows), 'seed')}; table in {out / 'seeds.md'}\n")
    print(table)
    verdict = recipe_verdict([r["final_test_acc"] for r in rows], seed_floor(step.number), images_scored(recipe))
    print(f"Target over seeds {verdict.why}.")
    return 0


def register(subparsers) -> None:
    """Add the ``seeds`` command to the CLI's subparsers."""
    parser = subparsers.add_parser("seeds", help="train a step's recipe with several seeds and tabulate them",
                                   description=__doc__.splitlines()[0])
    add_recipe_arguments(parser, seed=False, design=True)  # the step's recipe, any field changed for a trial
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3], help="seeds to train (default 1 2 3)")
    parser.add_argument("--out", help="folder for the runs and the table (default runs/step<N>-seeds)")
    parser.add_argument("--parallel", type=int, default=1, metavar="N",
                        help="train N seeds at a time, each in its own process with 1/N of the cores (default 1)")
    parser.set_defaults(func=cmd_seeds)
