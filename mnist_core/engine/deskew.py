"""Deskewing: each digit straightened and centred by its own ink before the network looks at it.

People slant their digits by different amounts, and a small network spends part of its few
weights learning every slant of every digit. Deskewing, a classic step for MNIST (LeCun et al.
list it beside their results), measures the slant from the image's own second moments and
shears it away: the ink's centre goes to the image's centre, and the line through the ink's
mass becomes vertical. It has no weights and learns nothing; as a layer of the network it runs
on every image the network sees, a drawn digit or a photograph as much as a test image.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mnist_core.engine.pixels import BACKGROUND

# A slant is at most one column across per row down (45 degrees): a digit lying on its side
# (a "1" drawn flat) has almost no height to measure a slant against, and must not be sheared off the image.
MAX_SLANT = 1.0


def ink_moments(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Each image's ink centre (row, column) and slant, in pixels from the image's centre.

    The slant is the covariance of the ink's rows and columns over the variance of its rows:
    how many columns the ink moves right for each row it goes down. A blank image has its centre
    at the centre and no slant.
    """
    ink = (images - BACKGROUND).clamp(min=0)[:, 0]  # (B, H, W), paper at zero
    height, width = ink.shape[-2:]
    rows = torch.arange(height, device=ink.device, dtype=ink.dtype) - (height - 1) / 2
    columns = torch.arange(width, device=ink.device, dtype=ink.dtype) - (width - 1) / 2
    mass = ink.sum((1, 2)).clamp(min=1e-6)
    row_weights, column_weights = ink.sum(2), ink.sum(1)  # (B, H), (B, W)
    centre_row = (row_weights * rows).sum(1) / mass
    centre_column = (column_weights * columns).sum(1) / mass
    drow = rows[None, :] - centre_row[:, None]  # (B, H)
    dcolumn = columns[None, :] - centre_column[:, None]  # (B, W)
    row_variance = (row_weights * drow ** 2).sum(1) / mass
    covariance = (ink * drow[:, :, None] * dcolumn[:, None, :]).sum((1, 2)) / mass
    slant = (covariance / row_variance.clamp(min=1e-6)).clamp(-MAX_SLANT, MAX_SLANT)
    return centre_row, centre_column, slant


class Deskew(nn.Module):
    """Shear each image of (B, 1, H, W) upright and move its ink's centre to the middle; no weights."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        height, width = images.shape[-2:]
        centre_row, centre_column, slant = ink_moments(images)
        # Where each output pixel samples the input, in grid_sample's coordinates (-1 to 1 across the image):
        # column_in = column_out + slant * row_out + centre_column, row_in = row_out + centre_row.
        # Built by hand rather than with affine_grid, which ONNX's opset 17 (our export) does not have.
        xs = (torch.arange(width, device=images.device, dtype=images.dtype) * 2 + 1) / width - 1
        ys = (torch.arange(height, device=images.device, dtype=images.dtype) * 2 + 1) / height - 1
        sample_x = (xs[None, None, :] + (slant * height / width)[:, None, None] * ys[None, :, None]
                    + (centre_column / (width / 2))[:, None, None])
        sample_y = (ys[None, :, None] + (centre_row / (height / 2))[:, None, None]).expand_as(sample_x)
        grid = torch.stack([sample_x, sample_y], dim=-1)  # (B, H, W, 2)
        ink = images - BACKGROUND  # paper at zero, so the zeros padded in from outside are paper too
        return F.grid_sample(ink, grid, mode="bilinear", padding_mode="zeros", align_corners=False) + BACKGROUND


def deskew_layer(model: nn.Module) -> Deskew | None:
    """The model's deskewing layer, if it has one (it can only be the first: ``fields`` refuses it elsewhere).

    The explainers draw a map computed after the deskew (a unit's field, Grad-CAM) on its output, the digit
    straightened, since on the digit as drawn it would sit where the straightening moved the strokes from.
    """
    return next((module for module in model.modules() if isinstance(module, Deskew)), None)
