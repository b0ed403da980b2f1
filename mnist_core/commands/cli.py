"""The command line: ``python -m mnist_core <command>``.

Every command turns the errors a user can cause (an unknown step, a missing or foreign
checkpoint, data that cannot be had, a bad image) into one line on stderr and a non-zero
exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

from mnist_core.classroom.backend_choice import backend_from_env
from mnist_core.commands import (
    bench,
    classroom_bench,
    design_cli,
    export_cli,
    inside_cli,
    predict_cli,
    preprocess_check,
    rehearse,
    rf_cli,
    schedule_study,
    seeds,
    watch_cost,
)
from mnist_core.commands.out_paths import replace_problem, run_folder_problem
from mnist_core.commands.progress_bar import EpochBar
from mnist_core.commands.recipe_args import add_recipe_arguments, recipe_from_args
from mnist_core.common.atomic import replace_folder
from mnist_core.common.paths import shipped_run_path
from mnist_core.common.wording import count
from mnist_core.engine.checkpoints import CheckpointError, load_checkpoint
from mnist_core.engine.data import MnistUnavailable, load_mnist
from mnist_core.engine.device import device_problem
from mnist_core.engine.evaluate import evaluate
from mnist_core.engine.models import count_parameters
from mnist_core.engine.train import TrainingDiverged
from mnist_core.lesson import report
from mnist_core.lesson.results_table import write_results
from mnist_core.lesson.run_labels import run_label
from mnist_core.lesson.steps import STEPS, UnknownStep, get_step
from mnist_core.lesson.target import run_verdict
from mnist_core.runs.store import ACTIVE_STATES, RunStore, inspect_run, read_run

EXIT_USAGE = 2


class CliError(Exception):
    """An error whose message is the whole story for the user."""


class StoppedByUser(Exception):
    """Ctrl-C ended a training: what it had trained is saved (or the older run kept), and the command ends."""


@contextlib.contextmanager
def _first_ctrl_c_stops(stop: threading.Event):
    """The first Ctrl-C sets ``stop`` (the run ends after its batch, is evaluated and saved); a second one quits."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_sigint(signum, frame) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        print("\nStopping after this batch and saving what was trained (Ctrl-C again to quit at once).",
              file=sys.stderr, flush=True)

    previous = signal.signal(signal.SIGINT, on_sigint)  # also where SIGINT was ignored (a background job)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _data_progress(message: str, fraction: float | None) -> None:
    print(f"[data] {message}", file=sys.stderr, flush=True)


def _load_data():
    return load_mnist(progress=_data_progress)


def _train_one(config, out: Path, data) -> dict:
    """Train into the run folder ``out``; raises StoppedByUser when Ctrl-C ended the run early."""
    backend = backend_from_env()  # this machine, or Ray when MNIST_RAY_ADDRESS is set
    bar = EpochBar(stream=sys.stdout)
    stop = threading.Event()
    with _first_ctrl_c_stops(stop):
        result = backend.train_into(out, config, data, on_batch=bar.update, on_epoch=bar.epoch_done, stop=stop)
    if result.stopped:
        raise StoppedByUser(f"stopped after {count(result.epochs, 'full epoch')}")
    print(f"Saved to {out} ({result.params:,} parameters, {result.device}; backend {backend.name}, "
          f"node {result.node})")
    run = read_run(out)
    if run is not None and run.history:  # the verdict Home and the step pages give, from the one definition
        verdict = run_verdict(run.history[-1]["test_acc"], report.images_scored(config))
        print(f"Target {verdict.why} (one seed).")
    return {"params": result.params, "device": result.device}


def _train_in_place_of(config, target: Path, data) -> dict:
    """Train beside ``target`` and put the run there in one rename, only once it finished.

    A run that fails or is stopped never replaces a folder that was there before (the
    shipped results, an earlier run): it is removed, and the old folder is kept. Where no
    folder was there, a stopped run is kept, so the epochs it trained are not lost.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        outcome = _train_one(config, staging, data)
    except StoppedByUser as stopped:
        if target.exists():
            shutil.rmtree(staging, ignore_errors=True)
            raise StoppedByUser(f"{stopped}; {target} was left as it was") from None
        replace_folder(staging, target)
        raise StoppedByUser(f"{stopped}; saved to {target}") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    problem = replace_problem(target)  # the dashboard may have started (or given an owner to) a run there since
    if problem:
        kept = target.with_name(f"{target.name}-command-line-{time.strftime('%Y%m%d-%H%M%S')}")
        os.rename(staging, kept)
        raise CliError(f"{problem}. The run just trained was kept in {kept}")
    replace_folder(staging, target)
    print(f"Moved into place: {target}")
    return outcome


def _remove_dead_staging(folder: Path) -> None:
    """Half-trained folders that a killed ``reproduce`` left in ``folder``; one still training is left alone."""
    for staging in folder.glob(".*.partial-*"):
        run = inspect_run(staging) if staging.is_dir() else None
        if run is None or run.state not in ACTIVE_STATES:  # a stale heartbeat reads as interrupted
            shutil.rmtree(staging, ignore_errors=True)


def _check_device(config) -> None:
    problem = device_problem(config.device)
    if problem:
        raise CliError(problem)


def cmd_train(args: argparse.Namespace) -> int:
    config = recipe_from_args(args)  # a bad design stops here, before any data is read or folder made
    _check_device(config)  # before anything is written: a bad device leaves no run folder behind
    problem = run_folder_problem(Path(args.out)) if args.out else None
    if problem:  # before minutes of training, not when the run is put in place
        raise CliError(problem)
    data = _load_data()
    step = get_step(config.step)
    what = f"Your design, with Step {step.number}'s recipe" if config.design else f"Step {step.number}: {step.title}"
    print(f"{what}. {config.epochs} epochs, batch {config.batch_size}, lr {config.lr}, "
          f"scheduler {config.scheduler}, seed {config.seed}")
    if args.out:
        _train_in_place_of(config, Path(args.out), data)
    else:
        # Named as the dashboard names its runs (when, and how the recipe differs), so that two command-line
        # runs of a step read apart in every list of models.
        label = f"{run_label(config, {'created': time.time()})} (command line)"
        _train_one(config, RunStore().create(config, label=label).path, data)
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    changes = {} if args.epochs is None else {"epochs": args.epochs}  # 0 is a value to refuse, not "not given"
    configs = {number: get_step(number).recipe.with_(**changes) for number in args.steps or list(STEPS)}
    for config in configs.values():
        _check_device(config)
    _remove_dead_staging(report.ASSETS_DIR)
    data = _load_data()
    for number, config in configs.items():
        step = get_step(number)
        print(f"\n=== Step {step.number}: {step.title} ===")
        _train_in_place_of(config, shipped_run_path(number), data)
        write_results(report.ASSETS_DIR)  # after every step, so the table always matches the runs beside it
    md_path, json_path = write_results(report.ASSETS_DIR)
    print(f"\nResults table: {md_path} and {json_path}")
    print(md_path.read_text())
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    path = Path(args.checkpoint) if args.checkpoint else shipped_run_path(get_step(args.step).number) / "model.pt"
    model, config = load_checkpoint(path)
    data = _load_data()
    result = evaluate(model, data.test_images, data.test_labels)
    network = "Design" if config.design else f"Step {config.step}"
    print(f"{network} checkpoint {path} ({count_parameters(model):,} parameters)")
    print(f"Test set: Average loss: {result.loss:.4f}, Accuracy: {result.correct}/{result.total} "
          f"({result.accuracy:.2f}%)")
    print(f"Target {run_verdict(result.accuracy, result.total).why}.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mnist_core", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train one step (or a design), with a progress bar per epoch")
    add_recipe_arguments(train, design=True)
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

    # Commands that live in their own modules.
    for module in (bench, rf_cli, predict_cli, seeds, schedule_study, inside_cli, design_cli, export_cli,
                   watch_cost, classroom_bench, rehearse, preprocess_check):
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
    except RuntimeError as exc:  # from PyTorch (a device, memory): its first line says it
        print(f"error: {str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__}", file=sys.stderr)
        return 1
    except StoppedByUser as exc:
        print(f"\n{exc}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
