"""``python -m mnist_core export (--step N | --checkpoint PATH) --out model.onnx``: a trained network as ONNX.

A step's shipped checkpoint or any run's (a design run's included) is loaded with
``weights_only=True`` and written with input ``image`` (N x 1 x 28 x 28) and output
``log_probs`` (N x 10); see ``engine/onnx_export.py``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mnist_core.common.paths import shipped_run_path
from mnist_core.engine.checkpoints import CheckpointError, load_checkpoint
from mnist_core.engine.models import count_parameters
from mnist_core.engine.onnx_export import INPUT_NAME, OUTPUT_NAME, export_onnx
from mnist_core.lesson.steps import STEP_ARGUMENT_HELP, get_step


def cmd_export(args: argparse.Namespace) -> int:
    if args.checkpoint:
        path = Path(args.checkpoint)
    else:
        path = shipped_run_path(get_step(args.step).number) / "model.pt"
        if not path.is_file():
            raise CheckpointError(f"Step {args.step} has no shipped checkpoint at {path}; make it with "
                                  f"`python -m mnist_core reproduce --steps {args.step}` or pass --checkpoint")
    model, config = load_checkpoint(path)
    out = export_onnx(model, args.out)
    network = "design" if config.design else f"Step {config.step}"
    print(f"Wrote {out} ({out.stat().st_size:,} bytes): the {network} network of {path}, "
          f"{count_parameters(model):,} parameters; input '{INPUT_NAME}' (N x 1 x 28 x 28, normalised), "
          f"output '{OUTPUT_NAME}' (N x 10).")
    return 0


def register(subparsers) -> None:
    """Add the ``export`` command to the CLI's subparsers."""
    parser = subparsers.add_parser("export", help="write a trained network as ONNX",
                                   description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--step", type=int, help=f"this step's shipped checkpoint ({STEP_ARGUMENT_HELP})")
    which.add_argument("--checkpoint", help="a run's checkpoint (model.pt)")
    parser.add_argument("--out", required=True, help="the .onnx file to write")
    parser.set_defaults(func=cmd_export)
