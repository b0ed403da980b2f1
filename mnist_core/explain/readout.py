"""How the answer is read out: pooled vector → 1x1 classifier weights → ten logits → softmax.

Both of the lesson's networks end the same way: a global average pool turns the last block's
C maps into C numbers, and a 1x1 convolution without bias (a 10 x C matrix) turns those into
ten logits, which ``log_softmax`` makes into log-probabilities. So each logit is a plain sum of
C terms, weight x pooled value, and a student can read which channels vote for which digit.
No Streamlit here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from mnist_core.explain.activations import capture

POOL_LAYER = "gap"
CLASSIFIER_LAYER = "classifier"


@dataclass(frozen=True)
class Readout:
    pooled: np.ndarray  # (C,) the global-average-pooled last block
    weights: np.ndarray  # (10, C) the classifier's 1x1 weights
    bias: np.ndarray  # (10,) zeros for the lesson's networks, which have no bias
    logits: np.ndarray  # (10,) weights @ pooled + bias
    probabilities: np.ndarray  # (10,) softmax of the logits

    @property
    def predicted(self) -> int:
        return int(self.logits.argmax())

    def contributions(self, digit: int) -> np.ndarray:
        """(C,) each channel's vote for ``digit``: weight x pooled value; they sum to its logit (less any bias)."""
        return self.weights[digit] * self.pooled


def classifier_matrix(model: nn.Module) -> tuple[np.ndarray, np.ndarray]:
    """The 1x1 classifier as a (10, C) matrix and a (10,) bias."""
    classifier = getattr(model, CLASSIFIER_LAYER, None)
    if not isinstance(classifier, nn.Conv2d) or classifier.kernel_size != (1, 1):
        raise ValueError("this model does not end in a 1x1 convolution named 'classifier'")
    weights = classifier.weight.detach()[:, :, 0, 0].numpy().astype(np.float64)
    bias = (classifier.bias.detach().numpy().astype(np.float64) if classifier.bias is not None
            else np.zeros(weights.shape[0]))
    return weights, bias


def readout(model: nn.Module, image: torch.Tensor) -> Readout:
    """The readout for one normalised input (1, 28, 28) or (1, 1, 28, 28), computed from the pooled vector."""
    outputs, _ = capture(model, image.reshape(1, 1, *image.shape[-2:]), [POOL_LAYER])
    pooled = outputs[POOL_LAYER][0].flatten().numpy().astype(np.float64)
    weights, bias = classifier_matrix(model)
    logits = weights @ pooled + bias
    shifted = np.exp(logits - logits.max())
    return Readout(pooled, weights, bias, logits, shifted / shifted.sum())
