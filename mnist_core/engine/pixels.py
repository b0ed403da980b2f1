"""How an image's numbers are scaled, and how an image is moved without losing its background.

The networks see normalised pixels: ``(pixel / 255 - MNIST_MEAN) / MNIST_STD``, so blank paper
is ``BACKGROUND`` (about -0.42), not zero. Anything that resamples an image (the augmentation's
rotations, the deskewing layer) must pad with that value, or it draws a grey frame around the
digit. Kept below both ``data`` and ``models`` so each can use it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

MNIST_MEAN = 0.1307  # mean pixel of the 60k training images, scaled to [0, 1]
MNIST_STD = 0.3081  # their standard deviation

# The value a blank (black) pixel has after normalisation: rotated-in corners get it.
BACKGROUND = -MNIST_MEAN / MNIST_STD


def warp(images: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Resample each image of (B, 1, H, W) through its (2, 3) matrix of normalised coordinates."""
    grid = F.affine_grid(theta.to(images.device, images.dtype), list(images.shape), align_corners=False)
    # Sample the shifted image so the padding is the background value, not zero.
    shifted = images - BACKGROUND
    return F.grid_sample(shifted, grid, mode="bilinear", padding_mode="zeros", align_corners=False) + BACKGROUND
