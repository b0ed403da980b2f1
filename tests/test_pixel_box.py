"""Tests for ui/pixel_box.py: every image comes out as the same square, aspect kept, pixels as solid blocks."""

from __future__ import annotations

import numpy as np
import pytest

from ui.pixel_box import BOX_FILL, square_box


@pytest.mark.parametrize("shape, inner", [
    ((28, 28), (168, 168)),  # 6x
    ((20, 4), (160, 32)),  # a fitted 1: 8x, grey either side
    ((101, 22), (101, 22)),  # a thin crop at canvas size: less than twice fits, so shown at its own size
    ((400, 100), (168, 42)),  # larger than the box: shrunk to fit
    ((280, 280, 3), (168, 168)),
])
def test_any_shape_fits_one_square_with_its_aspect_kept(shape, inner):
    image = np.ones(shape, dtype=np.float32)
    box = square_box(image, 168)
    assert box.shape[:2] == (168, 168) and box.shape[2:] == shape[2:]
    inked = np.argwhere(box.reshape(168, 168, -1)[:, :, 0] == 1.0)
    assert tuple(inked.max(0) - inked.min(0) + 1) == inner
    assert (box == BOX_FILL).any() == (inner != (168, 168))


def test_enlarging_shows_each_pixel_as_a_solid_block():
    image = np.arange(12, dtype=np.float32).reshape(3, 4) / 12
    box = square_box(image, 40)  # 10x: 30 x 40, centred with 5 grey rows above and below
    assert np.array_equal(box[5:35], np.kron(image, np.ones((10, 10), dtype=np.float32)))
    assert np.all(box[:5] == BOX_FILL) and np.all(box[35:] == BOX_FILL)
