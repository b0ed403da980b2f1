"""The batched shift-and-zoom augmentation Step 5 added, against hand-placed digits."""

from __future__ import annotations

import torch

from mnist_core.engine.augment import BACKGROUND, random_affine, random_rotation


def _blob(row: int, col: int, size: int = 4) -> torch.Tensor:
    image = torch.full((1, 1, 28, 28), BACKGROUND)
    image[0, 0, row:row + size, col:col + size] = 2.0
    return image


def _centre(images: torch.Tensor) -> torch.Tensor:
    """Centre of mass (row, col) of each image's ink, in pixels."""
    ink = (images - BACKGROUND).clamp(min=0)[:, 0]
    grid = torch.arange(28, dtype=torch.float32)
    mass = ink.sum((1, 2))
    return torch.stack([(ink.sum(2) * grid).sum(1) / mass, (ink.sum(1) * grid).sum(1) / mass], 1)


def test_without_shift_or_zoom_it_is_the_rotation_with_the_same_random_numbers():
    images = _blob(10, 12).repeat(16, 1, 1, 1)
    ours, theirs = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert torch.equal(random_affine(images, 7.0, 0.0, 0.0, ours), random_rotation(images, 7.0, theirs))
    assert torch.equal(torch.rand(3, generator=ours), torch.rand(3, generator=theirs))  # nothing extra drawn
    assert random_affine(images, 0.0, 0.0, 0.0, ours) is images


def test_shift_moves_the_digit_by_at_most_the_fraction_of_its_side():
    images = _blob(12, 12).repeat(64, 1, 1, 1)
    moved = random_affine(images, 0.0, 0.1, 0.0, torch.Generator().manual_seed(0))
    offsets = _centre(moved) - _centre(images)
    assert offsets.abs().max() <= 2.8 + 0.05  # 0.1 of 28 pixels
    assert offsets.abs().max() > 1.5  # and it does move them, both ways
    assert (offsets[:, 1] > 0.5).any() and (offsets[:, 1] < -0.5).any()


def test_zoom_grows_and_shrinks_the_ink_about_the_centre():
    image = torch.full((1, 1, 28, 28), BACKGROUND)
    image[0, 0, 9:19, 9:19] = 2.0  # a 10x10 square around the centre
    zoomed = random_affine(image.repeat(64, 1, 1, 1), 0.0, 0.0, 0.2, torch.Generator().manual_seed(0))
    area = ((zoomed - BACKGROUND) > 1.0).sum((1, 2, 3)).float()
    assert area.min() >= 0.8**2 * 100 - 20 and area.max() <= 1.2**2 * 100 + 20
    assert area.min() < 90 and area.max() > 110
    assert torch.allclose(_centre(zoomed), torch.full((64, 2), 13.5), atol=0.05)  # no shift without translate
