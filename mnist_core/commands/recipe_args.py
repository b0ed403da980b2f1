"""The recipe flags ``train`` and ``seeds`` share: each one overrides a field of the step's recipe."""

from __future__ import annotations

import argparse
from pathlib import Path

from mnist_core.engine.config import ACTIVATIONS, NETWORKS, OPTIMIZERS, SCHEDULERS, TrainConfig
from mnist_core.engine.design import DesignError, parse_design
from mnist_core.engine.recipes import RECIPES
from mnist_core.lesson.presets import PRESETS, preset_recipe
from mnist_core.lesson.steps import STEP_ARGUMENT_HELP, get_step

DESIGN_BASE_STEP = 4  # whose recipe a design trains with when no --step is given: the lesson's final one


def add_recipe_arguments(parser: argparse.ArgumentParser, seed: bool = True, design: bool = False) -> None:
    """``--step`` and one flag per recipe field; a flag left out keeps the step's own value.

    With ``design``, also ``--design FILE``: a network of one's own (design JSON) trained with
    the recipe of ``--step`` (default Step 4), which is then optional.
    """
    if design:
        parser.add_argument("--step", type=int, help=f"{STEP_ARGUMENT_HELP}; with --design, whose recipe to "
                                                     f"train it with (default {DESIGN_BASE_STEP})")
        parser.add_argument("--design", metavar="FILE",
                            help="train this design (JSON, as `design --from-step N` prints) instead of a step's "
                                 "network")
    else:
        parser.add_argument("--step", type=int, required=True, help=STEP_ARGUMENT_HELP)
    parser.add_argument("--preset", choices=PRESETS, default="full",
                        help="the step's full lesson run (default), its class run (all images, a few epochs, the "
                             "schedule compressed to them) or its quick demo (2,560 images an epoch)")
    parser.add_argument("--epochs", type=int, help="with --preset class, the schedule is compressed to these")
    if seed:
        parser.add_argument("--seed", type=int)
    parser.add_argument("--batch-size", dest="batch_size", type=int)
    parser.add_argument("--optimizer", choices=OPTIMIZERS, help="SGD with momentum (every step's) or Adam")
    parser.add_argument("--lr", type=float, help="learning rate (the peak under OneCycle)")
    parser.add_argument("--dropout", type=float)
    parser.add_argument("--activation", choices=ACTIVATIONS, help="the nonlinearity of every block")
    parser.add_argument("--rotation", dest="rotation_degrees", type=float, help="random rotation, ±degrees")
    parser.add_argument("--scheduler", choices=SCHEDULERS)
    parser.add_argument("--warmup", dest="onecycle_warmup", type=float, help="OneCycle: fraction of batches rising")
    parser.add_argument("--translate", type=float, help="random shift, ± fraction of the image side")
    parser.add_argument("--scale", type=float, help="random zoom by a factor in 1 ± SCALE")
    parser.add_argument("--lr-points", dest="lr_points", type=_lr_point, nargs="+", metavar="EPOCH:LR",
                        help="piecewise: the lr line's corners, e.g. 0:0.05 2:0.1 8:0.01 15:0")
    parser.add_argument("--momentum", type=float, help="SGD momentum (0 = plain SGD)")
    parser.add_argument("--augment-fraction", dest="augment_fraction", type=float,
                        help="share of training images augmented (default: every one)")
    parser.add_argument("--clean-epochs", dest="clean_epochs", type=int, metavar="N",
                        help="train the last N epochs on the images unaugmented (default 0)")
    parser.add_argument("--brightness", type=float, help="random brightness change, ± this on 0-1 pixels")
    parser.add_argument("--contrast", type=float, help="random contrast change, pixels times 1 ± CONTRAST")
    parser.add_argument("--ema-decay", dest="ema_decay", type=float,
                        help="evaluate and keep an average of the weights (e.g. 0.999; 0 = off)")
    parser.add_argument("--bn-recalibrate", dest="bn_recalibrate", type=_yes_no, nargs="?", const=True,
                        metavar="yes|no", help="before the last test pass, recompute BatchNorm's statistics on the "
                        "clean training images (alone: yes; 'no' turns off a recipe's own)")
    parser.add_argument("--deskew", type=_yes_no, nargs="?", const=True, metavar="yes|no",
                        help="straighten and centre each digit before the network's first layer (alone: yes; 'no' "
                        "turns off a recipe's own)")
    parser.add_argument("--network", choices=[n for n in NETWORKS if n],
                        help="train another of our networks with the step's recipe (a trial)")
    parser.add_argument("--distill-from", dest="distill_from", type=int, choices=sorted(RECIPES), metavar="STEP",
                        help="also learn from the answers of this step's shipped network (knowledge distillation)")
    parser.add_argument("--distill-weight", dest="distill_weight", type=float,
                        help="with --distill-from: the teacher's share of the loss (default 0.9)")
    parser.add_argument("--distill-temperature", dest="distill_temperature", type=float,
                        help="with --distill-from: how much both answers are softened (default 4)")
    parser.add_argument("--label-smoothing", dest="label_smoothing", type=float)
    parser.add_argument("--weight-decay", dest="weight_decay", type=float)
    parser.add_argument("--train-limit", dest="train_limit", type=int, help="train on the first N images only")
    parser.add_argument("--test-limit", dest="test_limit", type=int, help="evaluate on the first N test images only")
    parser.add_argument("--device", help="auto (default), cpu, cuda or mps")


_RECIPE_FLAGS = ("epochs", "seed", "batch_size", "optimizer", "lr", "dropout", "activation", "rotation_degrees",
                 "scheduler", "onecycle_warmup", "translate", "scale", "label_smoothing", "weight_decay", "train_limit",
                 "test_limit", "device", "lr_points", "momentum", "augment_fraction", "clean_epochs", "brightness",
                 "contrast", "deskew", "network", "ema_decay", "bn_recalibrate", "distill_from", "distill_weight",
                 "distill_temperature")


def _yes_no(text: str) -> bool:
    answers = {"yes": True, "no": False}
    if text.lower() not in answers:
        raise argparse.ArgumentTypeError(f"{text!r} is not yes or no")
    return answers[text.lower()]


def _lr_point(text: str) -> tuple[float, float]:
    """``EPOCH:LR`` from the command line, as a pair of numbers."""
    try:
        epoch, lr = text.split(":")
        return float(epoch), float(lr)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not EPOCH:LR (for example 2:0.1)") from None


def recipe_from_args(args: argparse.Namespace) -> TrainConfig:
    """The recipe of ``args.step`` with every flag given on the command line applied, and the
    design of ``args.design`` (read as JSON data and checked; DesignError says what is wrong)."""
    overrides = {name: getattr(args, name) for name in _RECIPE_FLAGS if getattr(args, name, None) is not None}
    design_file = getattr(args, "design", None)
    if design_file is None:
        if args.step is None:
            raise ValueError("give --step N, or --design FILE")
        return _base_recipe(args.step, args, overrides).with_(**overrides)
    if "activation" in overrides:
        raise DesignError("--activation does not apply to a design: its relu and silu rows name the activation")
    try:
        text = Path(design_file).read_bytes()
    except OSError as exc:
        raise DesignError(f"cannot read the design {design_file}: {exc.strerror or exc}") from None
    design = parse_design(text)
    step = DESIGN_BASE_STEP if args.step is None else args.step
    return _base_recipe(step, args, overrides).with_(**overrides, design=design.to_json())


def _base_recipe(step: int, args: argparse.Namespace, overrides: dict) -> TrainConfig:
    """Step ``step``'s recipe for ``--preset``; a class run given ``--epochs`` has its schedule compressed to them
    (and ``overrides`` loses its epochs: they are in the recipe returned)."""
    get_step(step)  # an unknown step is refused by its own message first
    return preset_recipe(step, getattr(args, "preset", "full"), epochs=overrides.pop("epochs", None))
