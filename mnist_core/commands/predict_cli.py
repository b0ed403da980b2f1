"""``python -m mnist_core predict IMAGE [IMAGE ...]``: classify image files as the Draw page does.

Each file goes through ``inference.read_image_bytes`` and ``inference.preprocess``, the
same steps as a drawing on the page, so a file and the same picture drawn by hand get
the same answer. One line per file (one JSON object per line with ``--json``); a file
that cannot be read, or that has no digit in it, gets its own error line and the
others still run, and the exit status is 1 if any file failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mnist_core.common.paths import shipped_run_path
from mnist_core.engine.checkpoints import CheckpointError, load_checkpoint
from mnist_core.explain import inference
from mnist_core.explain.inference import ImageError, predict, preprocess, read_image_bytes

DEFAULT_STEP = 4  # the lesson's best network


def _checkpoint_path(args: argparse.Namespace) -> Path:
    if args.checkpoint:
        return Path(args.checkpoint)
    step = DEFAULT_STEP if args.step is None else args.step
    path = shipped_run_path(step) / "model.pt"
    if not path.is_file():
        raise CheckpointError(f"Step {step} has no shipped checkpoint at {path}; make it with "
                              f"`python -m mnist_core reproduce --steps {step}` or pass --checkpoint")
    return path


def _classify(model, path: Path) -> dict:
    """{"file", "digit", "confidence", "probabilities"}, or {"file", "error"}."""
    try:
        with open(path, "rb") as file:
            # Never more than one byte past the limit: enough for read_image_bytes to refuse a huge file.
            pixels = read_image_bytes(file.read(inference.MAX_UPLOAD_BYTES + 1))
    except (ImageError, OSError) as exc:
        message = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return {"file": str(path), "error": message}
    prediction = predict(model, preprocess(pixels))
    if prediction is None:
        return {"file": str(path), "error": "nothing drawn: no ink stands out from the background"}
    return {
        "file": str(path),
        "digit": prediction.digit,
        "confidence": round(prediction.confidence, 6),
        "probabilities": [round(float(p), 6) for p in prediction.probabilities],
    }


def cmd_predict(args: argparse.Namespace) -> int:
    path = _checkpoint_path(args)
    model, config = load_checkpoint(path)
    if not args.json:
        print(f"{'Design' if config.design else f'Step {config.step}'} checkpoint {path}")
    failed = 0
    for image in args.images:
        result = _classify(model, Path(image))
        failed += "error" in result
        if args.json:
            print(json.dumps(result), flush=True)
        elif "error" in result:
            print(f"{result['file']}: error: {result['error']}", file=sys.stderr, flush=True)
        else:
            probabilities = "  ".join(f"{d}:{p:.3f}" for d, p in enumerate(result["probabilities"]))
            print(f"{result['file']}: {result['digit']} ({result['confidence']:.1%})  {probabilities}", flush=True)
    return 1 if failed else 0


def register(subparsers) -> None:
    """Add the ``predict`` command to the CLI's subparsers."""
    parser = subparsers.add_parser("predict", help="classify image files of handwritten digits",
                                   description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="PNG or JPEG files, either polarity, any size")
    which = parser.add_mutually_exclusive_group()
    # No argparse default: a default would let "--step 4 --checkpoint X" slip past the exclusive group.
    which.add_argument("--step", type=int, help=f"use this step's shipped checkpoint (default {DEFAULT_STEP})")
    which.add_argument("--checkpoint", help="a checkpoint file instead")
    parser.add_argument("--json", action="store_true", help="one JSON object per file and line")
    parser.set_defaults(func=cmd_predict)
