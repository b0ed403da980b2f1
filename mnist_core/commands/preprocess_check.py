"""``python -m mnist_core preprocess-check``: how well a checkpoint reads digits from outside MNIST.

Builds the four sets of ``mnist_core.explain.handwriting_sets`` (font-rendered digits
photographed small and enlarged; UCI's 8x8 handwritten digits enlarged the same way; MNIST
test digits photographed the same way; MNIST test digits re-drawn on the canvas), then
prints, for the pipeline as it was, as it is, and each alternative that was measured, the
accuracy on each set through ``preprocess`` and the share of MNIST's own digits that pass
through it unchanged. Also prints MNIST's stroke widths and slants, which ``inference``
takes its ranges from. The table is Markdown, for docs/dashboard.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import torch

from mnist_core.commands.predict_cli import DEFAULT_STEP
from mnist_core.common.paths import shipped_run_path
from mnist_core.engine.checkpoints import load_checkpoint
from mnist_core.engine.data import load_mnist
from mnist_core.explain import handwriting_sets
from mnist_core.explain.inference import BEFORE_STROKES, Preparation

ADOPTED = Preparation()
# (name, preparation): the pipeline before, the adopted one, then each alternative alone and in pairs.
VARIANTS = [
    ("before: no stroke step (main)", BEFORE_STROKES),
    ("**adopted: stroke into MNIST's 5-95% range**", ADOPTED),
    ("stroke to MNIST's median width", Preparation(stroke="median")),
    ("deskew to 0 (MNIST-style), no stroke step", Preparation(stroke="none", deskew="full")),
    ("deskew to MNIST's median slant, no stroke step", Preparation(stroke="none", deskew="median")),
    ("deskew into MNIST's 5-95% slant range, no stroke step", Preparation(stroke="none", deskew="range")),
    ("sharpen: stretch 0.25..0.75, no stroke step", Preparation(stroke="none", sharpen="stretch")),
    ("sharpen: threshold at 0.5, no stroke step", Preparation(stroke="none", sharpen="threshold")),
    ("adopted + deskew into MNIST's range", Preparation(deskew="range")),
    ("adopted + deskew to 0", Preparation(deskew="full")),
    ("stroke to median + deskew to 0", Preparation(stroke="median", deskew="full")),
    ("stroke to median + deskew to median slant", Preparation(stroke="median", deskew="median")),
    ("adopted + sharpen: stretch", Preparation(sharpen="stretch")),
]


def cmd_preprocess_check(args: argparse.Namespace) -> int:
    if args.count < 1 or args.per_font < 1:
        raise ValueError(f"--count and --per-font must be at least 1 (got {args.count} and {args.per_font})")
    path = shipped_run_path(DEFAULT_STEP) / "model.pt" if args.checkpoint is None else args.checkpoint
    model, _ = load_checkpoint(path)
    torch.set_num_threads(max(1, min(torch.get_num_threads(), os.cpu_count() or 1)))
    print(f"Checkpoint {path}; {platform.machine()} CPU, {os.cpu_count()} cores, torch {torch.__version__}")
    start = time.perf_counter()
    mnist = load_mnist()
    shapes = handwriting_sets.mnist_shapes(mnist)
    for what, values in shapes.items():
        low, middle, high = np.percentile(values, [5, 50, 95])
        print(f"MNIST {what} over the first {len(values):,} training digits: 5th percentile {low:.3f}, "
              f"median {middle:.3f}, 95th {high:.3f}")
    fonts = handwriting_sets.digit_fonts()
    sets = [handwriting_sets.font_digits(seed=args.seed, per_digit=args.per_font, fonts=fonts),
            handwriting_sets.uci_digits(seed=args.seed),
            handwriting_sets.mnist_photographed(mnist, args.count, seed=args.seed),
            handwriting_sets.canvas_redrawn(mnist, args.count, seed=args.seed)]
    print(f"{len(fonts)} fonts draw all ten digits: {', '.join(p.stem for p in fonts)}")
    print(f"Sets built in {time.perf_counter() - start:.0f} s (seed {args.seed}).\n")
    header = [f"{s.name} ({len(s.labels):,})" for s in sets] + ["MNIST passes unchanged (500)"]
    print("| Preparation | " + " | ".join(header) + " |")
    print("|---|" + "---:|" * len(header))
    variants = VARIANTS if args.all else VARIANTS[:2]
    for name, preparation in variants:
        scores = [handwriting_sets.accuracy(model, s, preparation) for s in sets]
        unchanged = handwriting_sets.passes_through(mnist, preparation)
        print(f"| {name} | " + " | ".join(f"{score:.2%}" for score in scores) + f" | {unchanged:.1%} |", flush=True)
    print(f"\nTotal {time.perf_counter() - start:.0f} s.")
    return 0


def register(subparsers) -> None:
    """Add the ``preprocess-check`` command to the CLI's subparsers."""
    parser = subparsers.add_parser("preprocess-check", help="accuracy on digits from outside MNIST, by preprocessing",
                                   description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", help=f"a checkpoint file (default: Step {DEFAULT_STEP}'s shipped one)")
    parser.add_argument("--count", type=int, default=1000, help="MNIST test digits in each MNIST-derived set")
    parser.add_argument("--per-font", type=int, default=5, help="pictures of each digit in each font")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--all", action="store_true", help="every alternative measured, not only before and after")
    parser.set_defaults(func=cmd_preprocess_check)
