"""Batched image augmentation: a random rotation (and optionally a shift and a zoom) per image.

One ``affine_grid`` + ``grid_sample`` call moves every image in the batch by its own
transform, so augmentation costs a fraction of a second per epoch instead of the seconds
a per-image PIL pipeline spends. ``random_affine`` with no shift and no zoom is exactly
``random_rotation``: it draws the same random numbers, so the seeded runs of Steps 1-4
are unchanged by the options Step 5 added. ``augment_batch`` applies a whole recipe:
the affine transform to a share of the images (``augment_fraction``) and a random
brightness/contrast change; with the defaults (every image, no jitter) it is
``random_affine`` itself and draws nothing more, so the earlier steps stay as they were.

The random numbers come from ``generator`` on the generator's own device, and the images
stay where they are: on a GPU the whole augmentation runs there with no copy to or from
the host, and on the CPU it draws exactly what it always drew.
"""

from __future__ import annotations

import math

import torch

from mnist_core.engine.config import TrainConfig
from mnist_core.engine.pixels import MNIST_MEAN, MNIST_STD, warp


def random_rotation(images: torch.Tensor, max_degrees: float, generator: torch.Generator) -> torch.Tensor:
    """Rotate each image of (B, 1, H, W) by an angle drawn uniformly from ±max_degrees."""
    if max_degrees <= 0:
        return images
    batch, device = images.shape[0], generator.device
    angles = (torch.rand(batch, generator=generator, device=device) * 2 - 1) * math.radians(max_degrees)
    cos, sin = torch.cos(angles), torch.sin(angles)
    zeros = torch.zeros_like(cos)
    theta = torch.stack([torch.stack([cos, -sin, zeros], 1), torch.stack([sin, cos, zeros], 1)], 1)  # (B, 2, 3)
    return warp(images, theta)


def random_affine(images: torch.Tensor, max_degrees: float, translate: float, scale: float,
                  generator: torch.Generator) -> torch.Tensor:
    """Rotate by ±max_degrees, zoom by a factor in 1 ± scale and shift by ± translate of the side, per image.

    Each part draws its random numbers only when it is on, and with neither shift nor zoom
    this is ``random_rotation`` itself.
    """
    if translate <= 0 and scale <= 0:
        return random_rotation(images, max_degrees, generator)
    batch, device = images.shape[0], generator.device
    angles = (torch.rand(batch, generator=generator, device=device) * 2 - 1) * math.radians(max_degrees) \
        if max_degrees > 0 else torch.zeros(batch, device=device)
    zoom = 1 + (torch.rand(batch, generator=generator, device=device) * 2 - 1) * scale if scale > 0 \
        else torch.ones(batch, device=device)
    # The grid spans [-1, 1], two units per side, so a shift of ``translate`` sides is 2 * translate units.
    shift = (torch.rand(batch, 2, generator=generator, device=device) * 2 - 1) * 2 * translate if translate > 0 \
        else torch.zeros(batch, 2, device=device)
    # theta says where each output pixel samples the input: dividing by zoom samples a smaller
    # area, so the digit comes out zoom times as large.
    cos, sin = torch.cos(angles) / zoom, torch.sin(angles) / zoom
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    return warp(images, theta)


def random_jitter(images: torch.Tensor, brightness: float, contrast: float, generator: torch.Generator) -> torch.Tensor:
    """Change each image's contrast (pixels times 1 ± contrast) and brightness (plus ± brightness), per image.

    On pixel values in [0, 1], clipped back into that range, then normalised again: the
    brightness/contrast change of common augmentation libraries, batched.
    """
    batch, device = images.shape[0], generator.device
    factor = 1 + (torch.rand(batch, 1, 1, 1, generator=generator, device=device) * 2 - 1) * contrast
    offset = (torch.rand(batch, 1, 1, 1, generator=generator, device=device) * 2 - 1) * brightness
    pixels = images * MNIST_STD + MNIST_MEAN
    pixels = (pixels * factor + offset).clamp(0.0, 1.0)
    return (pixels - MNIST_MEAN) / MNIST_STD


def _some(images: torch.Tensor, fraction: float, generator: torch.Generator, change) -> torch.Tensor:
    """``change`` applied to a random ``fraction`` of the images (each drawn on its own), the rest unchanged.

    Every image is changed and the chosen ones kept with ``torch.where``: choosing by a
    boolean index would make the host wait for the device once per batch.
    """
    if fraction >= 1:
        return change(images)
    chosen = torch.rand(images.shape[0], generator=generator, device=generator.device) < fraction
    return torch.where(chosen.view(-1, 1, 1, 1).to(images.device), change(images), images)


def augment_batch(images: torch.Tensor, config: TrainConfig, generator: torch.Generator) -> torch.Tensor:
    """The recipe's augmentation of one training batch (B, 1, H, W): affine, then jitter, each on its share."""
    if config.rotation_degrees > 0 or config.translate > 0 or config.scale > 0:
        images = _some(images, config.augment_fraction, generator, lambda x: random_affine(
            x, config.rotation_degrees, config.translate, config.scale, generator))
    if config.brightness > 0 or config.contrast > 0:
        images = _some(images, config.augment_fraction, generator,
                       lambda x: random_jitter(x, config.brightness, config.contrast, generator))
    return images
