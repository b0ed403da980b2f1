"""The command line: ``python -m mnist_core <command>``.

Every command turns the errors a user can cause (an unknown step, a missing or foreign
checkpoint, data that cannot be had, a bad image) into one line on stderr and a non-zero
exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from mnist_core.commands import bench, predict_cli, rf_cli, schedule_study, seeds
from mnist_core.commands.progress_bar import EpochBar
from mnist_core.commands.recipe_args import add_recipe_arguments, recipe_from_args
from mnist_core.engine.checkpoints import CheckpointError
from mnist_core.engine.data import MnistUnavailable, load_mnist
from mnist_core.engine.train import TrainingDiverged
from mnist_core.lesson.steps import STEPS, UnknownStep, get_step

EXIT_USAGE = 2


class CliError(Exception):
    """An error whose message is the whole story for the user."""


def _data_progress(message: str, fraction: float | None) -> None:
    print(f"[data] {message}", file=sys.stderr, flush=True)


def _load_data():
    return load_mnist(progress=_data_progress)


def _train_one(config, out: Path, data) -> dict:
    from mnist_core.engine.runs import train_run

    bar = EpochBar(stream=sys.stdout)
    stop = threading.Event()
    try:
        result = train_run(out, config, data, on_batch=bar.update, on_epoch=bar.epoch_done, stop=stop)
    except KeyboardInterrupt:
        stop.set()
        raise
    print(f"Saved to {out} ({result.params:,} parameters, {result.device})")
    return {"params": result.params, "device": result.device}


def cmd_train(args: argparse.Namespace) -> int:
    from mnist_core.engine.runs import RunStore

    config = recipe_from_args(args)
    data = _load_data()
    out = Path(args.out) if args.out else RunStore().create(config, label=f"Step {config.step} (command line)").path
    step = get_step(config.step)
    print(f"Step {step.number}: {step.title}. {config.epochs} epochs, batch {config.batch_size}, lr {config.lr}, "
          f"scheduler {config.scheduler}, seed {config.seed}")
    _train_one(config, out, data)
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from mnist_core.lesson.report import ASSETS_DIR, shipped_run_path
    from mnist_core.lesson.results_table import write_results

    data = _load_data()
    steps = args.steps or list(STEPS)
    for number in steps:
        step = get_step(number)
        config = step.recipe.with_(**({"epochs": args.epochs} if args.epochs else {}))
        print(f"\n=== Step {step.number}: {step.title} ===")
        _train_one(config, shipped_run_path(number), data)
    md_path, json_path = write_results(ASSETS_DIR)
    print(f"\nResults table: {md_path} and {json_path}")
    print(md_path.read_text())
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from mnist_core.engine.checkpoints import load_checkpoint
    from mnist_core.engine.evaluate import evaluate
    from mnist_core.engine.models import count_parameters
    from mnist_core.lesson.report import shipped_run_path

    path = Path(args.checkpoint) if args.checkpoint else shipped_run_path(get_step(args.step).number) / "model.pt"
    model, config = load_checkpoint(path)
    data = _load_data()
    result = evaluate(model, data.test_images, data.test_labels)
    print(f"Step {config.step} checkpoint {path} ({count_parameters(model):,} parameters)")
    print(f"Test set: Average loss: {result.loss:.4f}, Accuracy: {result.correct}/{result.total} "
          f"({result.accuracy:.2f}%)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mnist_core", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train one step, with a progress bar per epoch")
    add_recipe_arguments(train)
    train.add_argument("--out", help="run folder to write (default: a new folder under runs/)")
    train.set_defaults(func=cmd_train)

    reproduce = sub.add_parser("reproduce", help="train every step into assets/ and write the results table")
    reproduce.add_argument("--steps", type=int, nargs="+", help="only these steps")
    reproduce.add_argument("--epochs", type=int, help="fewer epochs, for a quick look")
    reproduce.set_defaults(func=cmd_reproduce)

    evaluate = sub.add_parser("evaluate", help="test loss and accuracy of a checkpoint")
    evaluate.add_argument("--step", type=int, default=4, help="evaluate this step's shipped checkpoint")
    evaluate.add_argument("--checkpoint", help="a checkpoint file instead")
    evaluate.set_defaults(func=cmd_evaluate)

    for module in (bench, rf_cli, predict_cli, seeds, schedule_study):  # commands that live in their own modules
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (CliError, CheckpointError, MnistUnavailable, UnknownStep, TrainingDiverged, ValueError,
            OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
