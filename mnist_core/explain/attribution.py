"""Where the model looks: Grad-CAM on the last block, gradient x input, and occlusion, all in raw units.

Grad-CAM and occlusion come from Captum (the PyTorch team's attribution library):
``LayerGradCam`` weights each channel of a layer by the mean gradient of the class's logit
over that channel's map and sums the weighted maps; ``Occlusion`` slides a patch of
background over the input and records how much the output drops. We keep Captum's raw
numbers and never rescale them to [0, 1]: Grad-CAM is in logit units (the sign kept, so
evidence against the class shows too), occlusion is in points of the class's probability,
gradient x input (``inference.saliency``) in units of the class score per unit of ink.
The targets are the logits (the classifier's output before ``log_softmax``), which do not
saturate as probabilities do. No Streamlit here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mnist_core.explain.activations import LayerView, layer_views
from mnist_core.explain.inference import Pipeline, normalize_field, saliency, straightened

OCCLUSION_PATCH = 7  # pixels: wide enough to hide a stroke; with a stride of 3 the 8x8 patches tile 0..27 exactly
OCCLUSION_STRIDE = 3  # 64 forward passes, about a tenth of a second here
# A black pixel normalised exactly as the input's pixels are (float32), so covering blank with it changes nothing.
BLANK = float(normalize_field(np.zeros((1, 1), dtype=np.float32))[0, 0, 0])


class Logits(nn.Module):
    """``model``'s logits: the output of its ``classifier`` before the ``log_softmax``.

    Wraps without copying; the hook lives only for one forward pass.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kept: list[torch.Tensor] = []
        handle = self.model.classifier.register_forward_hook(lambda module, inputs, output: kept.append(output))
        try:
            self.model(x)
        finally:
            handle.remove()
        return kept[0].flatten(1)  # (B, 10)


def last_block(views: Sequence[LayerView]) -> str:
    """The name of the last block among a model's ``layer_views``, before its pool and read-out: the layer
    Grad-CAM looks at. Every lesson network calls it ``block6``; others do not (the public reference's is
    ``stage3``)."""
    return [view.name for view in views if view.kind == "block"][-1]


def grad_cam(forward: nn.Module, layer: nn.Module, image: torch.Tensor, target: int) -> tuple[np.ndarray, np.ndarray]:
    """Grad-CAM of class ``target`` at ``layer``: (the layer's own H x W map, the map upsampled to the input).

    ``forward`` returns (B, classes) scores for (B, 1, H, W) inputs. No ReLU is applied, so a
    negative value marks where the layer's evidence argues against the class.
    """
    from captum.attr import LayerAttribution, LayerGradCam

    batch = image.reshape(1, 1, *image.shape[-2:])
    cam = LayerGradCam(forward, layer).attribute(batch, target=target, relu_attributions=False).detach()
    upsampled = LayerAttribution.interpolate(cam, tuple(batch.shape[-2:]), interpolate_mode="bilinear")
    return cam[0].sum(0).numpy().astype(np.float32), upsampled[0, 0].detach().numpy().astype(np.float32)


def occlusion(model: nn.Module, image: torch.Tensor, target: int, patch: int = OCCLUSION_PATCH,
              stride: int = OCCLUSION_STRIDE) -> np.ndarray:
    """(H, W) drop in ``target``'s probability when a blank patch covers each pixel (mean over the patches
    that cover it). Positive: hiding this part lowers the class's probability; zero where no patch mattered."""
    from captum.attr import Occlusion

    def probabilities(x: torch.Tensor) -> torch.Tensor:
        return F.softmax(Logits(model)(x), dim=1)

    model.eval()
    batch = image.reshape(1, 1, *image.shape[-2:])
    with torch.no_grad():
        drop = Occlusion(probabilities).attribute(batch, target=target, sliding_window_shapes=(1, patch, patch),
                                                  strides=(1, stride, stride), baselines=BLANK,
                                                  perturbations_per_eval=64)
    return drop[0, 0].numpy().astype(np.float32)


def gradient_x_input(model: nn.Module, pixels: np.ndarray, target: int) -> np.ndarray:
    """(28, 28) gradient x input for ``target`` on ink ``pixels`` in [0, 1] (``inference.saliency``)."""
    field = np.asarray(pixels, dtype=np.float32)
    return saliency(model, Pipeline(ink=field, inverted=False, centred=field, input=normalize_field(field)), target)


@dataclass(frozen=True)
class Attributions:
    target: int
    layer: str  # the block Grad-CAM looked at (``last_block``)
    grad_cam_layer: np.ndarray  # (h, w) at the last block's resolution, logit units
    grad_cam: np.ndarray  # (28, 28) the same, bilinearly upsampled
    gradient_x_input: np.ndarray  # (28, 28)
    occlusion: np.ndarray  # (28, 28) drop in probability
    # For a network that deskews: the straightened digit (pixels in [0, 1]). Grad-CAM's map lies on it, since the
    # block it reads works on that image; gradient x input and occlusion lie on the digit as drawn.
    straightened: np.ndarray | None = None


def attributions(model: nn.Module, pixels: np.ndarray, target: int, layer: str | None = None) -> Attributions:
    """All three maps for one digit (ink in [0, 1], 28 x 28) and one class; Grad-CAM on ``layer`` (default: the
    model's last block)."""
    image = normalize_field(pixels)
    model.eval()
    layer = layer or last_block(layer_views(model))
    layer_map, upsampled = grad_cam(Logits(model), model.get_submodule(layer), image, target)
    return Attributions(target, layer, layer_map, upsampled, gradient_x_input(model, pixels, target),
                        occlusion(model, image, target), straightened(model, pixels))
