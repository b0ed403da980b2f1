"""The ``rf`` command: ``python -m mnist_core rf --step N`` prints a step's receptive-field table.

It lives apart from ``cli.py`` so that the command line only needs one line to know about it
(``register`` is appended to ``cli._EXTRA_COMMANDS``).
"""

from __future__ import annotations

import argparse

from mnist_core.engine.fields import model_table
from mnist_core.engine.specs import INPUT_SIZE
from mnist_core.explain.rf import format_table
from mnist_core.lesson.steps import STEP_ARGUMENT_HELP, get_step


def cmd_rf(args: argparse.Namespace) -> int:
    step = get_step(args.step)
    if args.input_size < 1:
        raise ValueError(f"--input-size must be at least 1 (got {args.input_size})")
    table = model_table(step.build_model(), input_size=args.input_size)
    print(f"Step {step.number}: {step.title}. Receptive field, layer by layer"
          f"{'' if args.all_layers else ' (activations, BatchNorm, dropout hidden: they change no geometry)'}:\n")
    print(format_table(table, pointwise=args.all_layers))
    return 0


def register(subparsers) -> None:
    """Add the ``rf`` subcommand to ``python -m mnist_core``."""
    rf = subparsers.add_parser("rf", help="a step's receptive field, layer by layer")
    rf.add_argument("--step", type=int, required=True, help=STEP_ARGUMENT_HELP)
    rf.add_argument("--all-layers", action="store_true", help="also show activation, BatchNorm and dropout rows")
    rf.add_argument("--input-size", type=int, default=INPUT_SIZE, help="side of the square input, in pixels")
    rf.set_defaults(func=cmd_rf)
