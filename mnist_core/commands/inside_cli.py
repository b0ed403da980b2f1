"""``python -m mnist_core inside --step N (--test-index I | --image FILE) --out sheet.png``.

Writes the one-page sheet of ``mnist_core.explain.sheet`` for a test digit (read from the MNIST
test set when it is on disk, else from the bundled sample or the step's saved mistakes) or for a
picture file (put through the same preprocessing as *Draw a digit*). Bad input gets one line on
stderr (through ``cli.main``), never a traceback.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mnist_core.common.paths import shipped_run_path
from mnist_core.engine.checkpoints import load_checkpoint
from mnist_core.explain import inference
from mnist_core.explain.digits import FULL_TEST_SET, test_digits
from mnist_core.explain.inference import preprocess, read_image_bytes
from mnist_core.explain.named_blocks import named_blocks
from mnist_core.explain.sheet import SHEET_SIZE, write_sheet
from mnist_core.lesson.steps import STEP_ARGUMENT_HELP, get_step
from mnist_core.runs.store import read_run

DEFAULT_STEP = 4


def _test_digit(step: int, index: int):
    """(pixels, true digit) of test digit ``index``; ValueError when it cannot be had without the data set."""
    if not 0 <= index < FULL_TEST_SET:
        raise ValueError(f"--test-index must be from 0 to {FULL_TEST_SET - 1} (got {index})")
    collection = test_digits()
    position = collection.position(index)
    if position is not None:
        return collection.pixels(position), int(collection.labels[position])
    run = read_run(shipped_run_path(step))
    found = run.mistakes() if run else None
    for k, mistake in enumerate(found.mistakes if found else []):
        if mistake.index == index:
            return found.images[k].astype("float32") / 255.0, mistake.true
    raise ValueError(f"test digit {index} needs the MNIST data set, which is not on disk (`python -m mnist_core "
                     f"train` downloads it); without it: {', '.join(map(str, collection.indices))}, or one of "
                     f"Step {step}'s mistakes")


def cmd_inside(args: argparse.Namespace) -> int:
    step = get_step(args.step).number
    path = Path(args.checkpoint) if args.checkpoint else shipped_run_path(step) / "model.pt"
    model, config = load_checkpoint(path)
    model = named_blocks(model)  # a design's layers, grouped into the named blocks the sheet reads
    if args.image:
        with open(args.image, "rb") as file:
            pipeline = preprocess(read_image_bytes(file.read(inference.MAX_UPLOAD_BYTES + 1)))
        if pipeline.nothing_drawn:
            raise ValueError(f"{args.image}: no digit found (no ink stands out from the background)")
        pixels, true, what = pipeline.centred, None, Path(args.image).name
    else:
        pixels, true = _test_digit(config.step, args.test_index)
        what = f"test digit #{args.test_index} (a {true})"
    out = write_sheet(model, pixels, f"Step {config.step} on {what}", args.out, true)
    print(f"Wrote {out} ({SHEET_SIZE[0]}x{SHEET_SIZE[1]} pixels)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("inside", help="one PNG of what every layer makes of a digit, the read-out and Grad-CAM")
    parser.add_argument("--step", type=int, default=DEFAULT_STEP, help=STEP_ARGUMENT_HELP)
    parser.add_argument("--checkpoint", help="a checkpoint file instead of the step's shipped one")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--test-index", type=int, help="a digit of the MNIST test set, 0-9999")
    source.add_argument("--image", help="a picture of a digit (PNG or JPEG)")
    parser.add_argument("--out", required=True, help="the PNG to write")
    parser.set_defaults(func=cmd_inside)
