"""The recipe flags ``train`` and ``seeds`` share: each one overrides a field of the step's recipe."""

from __future__ import annotations

import argparse

from mnist_core.engine.config import ACTIVATIONS, SCHEDULERS, TrainConfig
from mnist_core.lesson.steps import STEP_ARGUMENT_HELP, get_step


def add_recipe_arguments(parser: argparse.ArgumentParser, seed: bool = True) -> None:
    """``--step`` and one flag per recipe field; a flag left out keeps the step's own value."""
    parser.add_argument("--step", type=int, required=True, help=STEP_ARGUMENT_HELP)
    parser.add_argument("--epochs", type=int)
    if seed:
        parser.add_argument("--seed", type=int)
    parser.add_argument("--batch-size", dest="batch_size", type=int)
    parser.add_argument("--lr", type=float, help="learning rate (the peak under OneCycle)")
    parser.add_argument("--dropout", type=float)
    parser.add_argument("--activation", choices=ACTIVATIONS, help="the nonlinearity of every block")
    parser.add_argument("--rotation", dest="rotation_degrees", type=float, help="random rotation, ±degrees")
    parser.add_argument("--scheduler", choices=SCHEDULERS)
    parser.add_argument("--warmup", dest="onecycle_warmup", type=float, help="OneCycle: fraction of batches rising")
    parser.add_argument("--translate", type=float, help="random shift, ± fraction of the image side")
    parser.add_argument("--scale", type=float, help="random zoom by a factor in 1 ± SCALE")
    parser.add_argument("--label-smoothing", dest="label_smoothing", type=float)
    parser.add_argument("--weight-decay", dest="weight_decay", type=float)
    parser.add_argument("--train-limit", dest="train_limit", type=int, help="train on the first N images only")
    parser.add_argument("--test-limit", dest="test_limit", type=int, help="evaluate on the first N test images only")
    parser.add_argument("--device", help="auto (default), cpu, cuda or mps")


_RECIPE_FLAGS = ("epochs", "seed", "batch_size", "lr", "dropout", "activation", "rotation_degrees", "scheduler",
                 "onecycle_warmup", "translate", "scale", "label_smoothing", "weight_decay", "train_limit",
                 "test_limit", "device")


def recipe_from_args(args: argparse.Namespace) -> TrainConfig:
    """The recipe of ``args.step`` with every flag given on the command line applied."""
    overrides = {name: getattr(args, name) for name in _RECIPE_FLAGS if getattr(args, name, None) is not None}
    return get_step(args.step).recipe.with_(**overrides)
