"""How much memory training a layer list needs, estimated from its table before any tensor is made.

Parameters, values and map sides are capped elsewhere (design.py), but none of those bounds memory:
a 1x1 convolution to 96 channels padded by 114 has 96 weights and a 256x256 output, and at a batch
of 128 each such map holds 128 x 96 x 256 x 256 x 4 bytes = 3.2 GB. Training keeps every layer's
output for the backward pass, so a handful of those layers asks for tens of gigabytes and takes the
whole server down with it. The estimate here counts, per image of the batch, the input and every
layer's output (kept for backward), a max pool's indices (8 bytes each), and the gradient buffers
the backward pass holds at its peak (twice the largest map), and adds the parameters four times
over (weights, gradients and up to two optimizer states). A design whose estimate is over
``TRAINING_MEMORY_BUDGET`` is refused, with both numbers in the message.
"""

from __future__ import annotations

from mnist_core.engine.fields import RFTable

BYTES_PER_VALUE = 4  # float32
BYTES_PER_INDEX = 8  # a max pool's argmax, int64
# What one design may ask for while it trains, at its batch size. The lesson's networks need well
# under 1% of it at batch 128 (and under 10% at the page's largest batch, 1024); a classroom server
# trains a few runs at once beside the dashboard, so no one run may take gigabytes.
TRAINING_MEMORY_BUDGET = 2 * 1024**3
# The batch a design is checked at before a recipe is chosen: the lesson's (TrainConfig's default).
LESSON_BATCH_SIZE = 128


def training_bytes(table: RFTable, batch_size: int) -> int | None:
    """Bytes that training the table's layers takes at ``batch_size``; None while a row is invalid."""
    if not table.ok:
        return None
    maps = [table.in_channels * table.input_size**2] + [row.out_channels * row.out_size**2 for row in table.rows]
    per_image = BYTES_PER_VALUE * (sum(maps) + 2 * max(maps))
    per_image += sum(BYTES_PER_INDEX * row.out_channels * row.out_size**2 for row in table.rows
                     if row.kind == "maxpool")
    return batch_size * per_image + 4 * BYTES_PER_VALUE * table.total_params


def describe_bytes(n: int) -> str:
    """``n`` bytes in a person's unit: "830 MB", "22.6 GB" (powers of 1024, as memory is sold)."""
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("kB", 1024)):
        if n >= size:
            value = n / size
            return f"{value:.1f} {unit}" if value < 100 else f"{value:,.0f} {unit}"
    return f"{n} bytes"


def memory_problem(table: RFTable, batch_size: int = LESSON_BATCH_SIZE) -> str | None:
    """Why training the table's layers at ``batch_size`` is refused (over the budget), or None."""
    needed = training_bytes(table, batch_size)
    if needed is None or needed <= TRAINING_MEMORY_BUDGET:
        return None
    largest = max(table.rows, key=lambda row: row.out_channels * row.out_size**2)
    return (f"training it at batch size {batch_size} needs about {describe_bytes(needed)} of memory, more than the "
            f"{describe_bytes(TRAINING_MEMORY_BUDGET)} one run may use (its largest layer, {largest.name}, gives "
            f"{largest.out_channels} channels of {largest.out_size}x{largest.out_size} for every image: use fewer "
            "channels, less padding or an earlier stride)")
