"""``python -m mnist_core design``: a step's network as design JSON, or a design file checked.

``design --from-step N`` prints the JSON that ``train --design FILE`` trains (and the
Receptive field page downloads and uploads); ``design --check FILE`` reads one back and
prints its receptive-field table and parameter count, or every row that is wrong.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mnist_core.engine.design import DesignError, parse_design
from mnist_core.engine.recipes import design_from_step
from mnist_core.explain.rf import format_table
from mnist_core.lesson.steps import STEP_ARGUMENT_HELP, get_step


def cmd_design(args: argparse.Namespace) -> int:
    if args.from_step is not None:
        get_step(args.from_step)  # an unknown step gets the registry's own message
        print(design_from_step(args.from_step).to_json(pretty=True), end="")
        return 0
    try:
        text = Path(args.check).read_bytes()
    except OSError as exc:
        raise DesignError(f"cannot read the design {args.check}: {exc.strerror or exc}") from None
    design = parse_design(text)
    print(format_table(design.table(), pointwise=True))
    print(f"\n{args.check}: a trainable design of {design.params:,} parameters ({len(design.layers)} layers).")
    return 0


def register(subparsers) -> None:
    """Add the ``design`` command to the CLI's subparsers."""
    parser = subparsers.add_parser("design", help="a step's network as design JSON, or check a design file",
                                   description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--from-step", dest="from_step", type=int, metavar="N", help=STEP_ARGUMENT_HELP)
    which.add_argument("--check", metavar="FILE", help="read a design file and print its table, or its problems")
    parser.set_defaults(func=cmd_design)
