"""BatchNorm recalibration: the statistics a network is graded with, recomputed on clean images.

During training every BatchNorm layer keeps running averages of its inputs' mean and variance,
and evaluation normalises with them. Those averages are collected on augmented images (rotated,
for the recipes here) and weighted towards the last few hundred batches. Recalibrating computes
them again, averaged over batches of the training images as they are, with the weights frozen:
the test images are not rotated, so these are the statistics they will meet. It changes no
weight and reads no test image.
"""

from __future__ import annotations

import torch
from torch import nn

RECALIBRATION_BATCH = 1000


def batchnorm_layers(model: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    return [module for module in model.modules() if isinstance(module, nn.modules.batchnorm._BatchNorm)]


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, images: torch.Tensor, batch_size: int = RECALIBRATION_BATCH) -> int:
    """Recompute every BatchNorm layer's running mean and variance over ``images``; returns how many layers.

    Only the BatchNorm layers are put in training mode (a dropout layer stays off, so no random
    number is drawn and a seeded run stays the same); the model is left in evaluation mode.
    """
    layers = batchnorm_layers(model)
    if not layers:
        return 0
    model.eval()
    momenta = [layer.momentum for layer in layers]
    for layer in layers:
        layer.reset_running_stats()
        layer.train()
    try:
        device = next(model.parameters()).device
        for batch, start in enumerate(range(0, len(images), batch_size)):
            # A cumulative average, every batch counting the same: the factor BatchNorm uses with
            # momentum=None, 1 / batches so far, but given as a number, where momentum=None reads
            # its batch counter back from the device (a GPU would wait once per layer and batch).
            for layer in layers:
                layer.momentum = 1.0 / (batch + 1)
            model(images[start:start + batch_size].to(device))
    finally:
        for layer, momentum in zip(layers, momenta, strict=True):
            layer.momentum = momentum
        model.eval()
    return len(layers)
