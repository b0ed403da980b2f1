"""The batched shift-and-zoom augmentation Step 5 added, against hand-placed digits."""

from __future__ import annotations

import torch

from mnist_core.engine.augment import random_affine, random_rotation
from mnist_core.engine.pixels import BACKGROUND


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


# --- augment_batch: the whole recipe's augmentation (Step 6 and the 3,762-parameter reference) ---

def test_a_recipe_with_the_defaults_augments_exactly_as_before():
    """Steps 1-5 keep their seeded runs: every image, no jitter, is ``random_affine`` with the same draws."""
    from mnist_core.engine.augment import augment_batch
    from mnist_core.engine.config import TrainConfig

    images = _blob(10, 12).repeat(16, 1, 1, 1)
    for config in (TrainConfig(step=4, rotation_degrees=7.0), TrainConfig(step=5, rotation_degrees=7.0,
                                                                           translate=0.05, scale=0.05)):
        ours, theirs = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
        expected = random_affine(images, config.rotation_degrees, config.translate, config.scale, theirs)
        assert torch.equal(augment_batch(images, config, ours), expected)
        assert torch.equal(torch.rand(3, generator=ours), torch.rand(3, generator=theirs))
    assert augment_batch(images, TrainConfig(step=1), torch.Generator()) is images


def test_augment_fraction_leaves_the_other_images_untouched():
    from mnist_core.engine.augment import augment_batch
    from mnist_core.engine.config import TrainConfig

    images = _blob(12, 12).repeat(400, 1, 1, 1)
    config = TrainConfig(translate=0.2, augment_fraction=0.5)
    out = augment_batch(images, config, torch.Generator().manual_seed(0))
    unchanged = (out == images).flatten(1).all(1)
    assert 0.4 < unchanged.float().mean() < 0.6  # about half, each image drawn on its own


def test_jitter_scales_and_offsets_the_pixels_within_its_limits():
    from mnist_core.engine.augment import random_jitter
    from mnist_core.engine.data import MNIST_MEAN, MNIST_STD

    pixels = torch.full((200, 1, 28, 28), 0.5)
    pixels[:, :, :, :14] = 0.25
    images = (pixels - MNIST_MEAN) / MNIST_STD
    contrast_only = random_jitter(images, 0.0, 0.2, torch.Generator().manual_seed(0)) * MNIST_STD + MNIST_MEAN
    factor = contrast_only[:, 0, 0, 20] / 0.5
    assert torch.allclose(contrast_only[:, 0, 0, 0], 0.25 * factor, atol=1e-5)  # one factor per image
    assert factor.min() >= 0.8 - 1e-5 and factor.max() <= 1.2 + 1e-5 and factor.std() > 0.05
    brightness_only = random_jitter(images, 0.1, 0.0, torch.Generator().manual_seed(0)) * MNIST_STD + MNIST_MEAN
    offset = brightness_only[:, 0, 0, 20] - 0.5
    assert torch.allclose(brightness_only[:, 0, 0, 0] - 0.25, offset, atol=1e-5)
    assert offset.abs().max() <= 0.1 + 1e-5 and offset.std() > 0.02
    black = torch.full((50, 1, 28, 28), -MNIST_MEAN / MNIST_STD)
    assert (random_jitter(black, 0.3, 0.3, torch.Generator().manual_seed(1)) * MNIST_STD + MNIST_MEAN).min() >= -1e-6
