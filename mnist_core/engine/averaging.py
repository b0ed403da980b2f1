"""Weight averaging: an exponential moving average (EMA) of a network's weights as it trains.

SGD's last weights wander around the minimum by about the step size; an average of the recent
weights sits nearer its middle. After every optimiser step the average moves a share
``1 - decay`` of the way to the trained weights (0.999: about the last thousand steps count),
BatchNorm's running statistics included, so the averaged network can be evaluated and saved as
it is. Early on the share is larger, ``(1 + n) / (10 + n)`` after n steps when that is smaller
than ``decay``, so the first epochs' average is not held back by the random starting weights.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class WeightAverage:
    """An averaged copy of ``model``; call ``update()`` after each optimiser step."""

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.model = copy.deepcopy(model).requires_grad_(False)
        self.decay = decay
        self.steps = 0
        self._sources = [t for t in model.state_dict().values() if t.is_floating_point()]
        self._targets = [t for t in self.model.state_dict().values() if t.is_floating_point()]
        # Counters (BatchNorm's num_batches_tracked) are copied, not averaged.
        self._counters = [(t, s) for t, s in zip(self.model.state_dict().values(), model.state_dict().values(),
                                                  strict=True) if not t.is_floating_point()]

    @torch.no_grad()
    def update(self) -> None:
        self.steps += 1
        decay = min(self.decay, (1 + self.steps) / (10 + self.steps))
        torch._foreach_lerp_(self._targets, self._sources, 1.0 - decay)
        for target, source in self._counters:
            target.copy_(source)
