"""A PNG grid of misclassified digits, each captioned "true -> predicted (confidence)"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from mnist_core.common.atomic import atomic_path
from mnist_core.engine.evaluate import Mistake

CELL = 84  # each 28x28 digit drawn 3x
CAPTION = 14  # pixels of caption under each digit


def mistake_grid_image(mistakes: list[Mistake], pixels: np.ndarray, columns: int = 10, limit: int = 40) -> Image.Image:
    """The first ``limit`` mistakes (most confident first) as one image."""
    count = min(limit, len(mistakes))
    rows = max(1, -(-count // columns))
    grid = Image.new("L", (columns * CELL, rows * (CELL + CAPTION)), color=255)
    draw = ImageDraw.Draw(grid)
    for k in range(count):
        x, y = (k % columns) * CELL, (k // columns) * (CELL + CAPTION)
        digit = Image.fromarray(pixels[k]).resize((CELL, CELL), Image.NEAREST)
        grid.paste(digit, (x, y))
        m = mistakes[k]
        draw.text((x + 3, y + CELL + 1), f"{m.true}->{m.predicted} ({m.confidence:.0%})", fill=0)
    return grid


def save_mistake_grid(path: Path, mistakes: list[Mistake], pixels: np.ndarray) -> None:
    with atomic_path(path, suffix=".png") as tmp:
        mistake_grid_image(mistakes, pixels).save(tmp)
